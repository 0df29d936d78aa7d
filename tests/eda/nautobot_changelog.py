"""A stand-in for Nautobot's object-change list, for the change-log source's tests.

``FakeNautobot`` is a small aiohttp server on a free port: a unit-test fixture of the API's filtering,
paging and failures, as read in Nautobot 3.2's code (``extras/filters.py``, ``core/api/pagination.py``,
``REST_FRAMEWORK["ORDERING_PARAM"] = "sort"``) and checked read-only on the lab: one
``changed_object_type`` (the last value wins), ``changed_object_id``, ``time__gte``/``time__lt``
compared as times, ``sort`` (``time,id``; anything else: the default ``-time``), ``limit``/``offset``
with an absolute ``next`` link, a token check, and aiohttp's ``Date`` header (Nautobot's clock).
"""

import copy
import uuid
from datetime import UTC, datetime
from urllib.parse import urlencode

from aiohttp import web

TOKEN = "feedfacefeedfacefeedfacefeedfacefeedface"


def now():
    return datetime.now(UTC)


def parse(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def device(name, device_id=None):
    return {
        "id": device_id or str(uuid.uuid5(uuid.NAMESPACE_DNS, name)),
        "object_type": "dcim.device",
        "display": name,
        "name": name,
        "status": {"id": "s1", "object_type": "extras.status", "name": "Active"},
        "role": {"id": "r1", "object_type": "extras.role", "name": "Access"},
        "location": {"id": "l1", "object_type": "dcim.location", "name": "Site A"},
        "platform": {"id": "p1", "object_type": "dcim.platform", "name": "EOS", "network_driver": "arista_eos"},
        "primary_ip4": {"id": "i1", "object_type": "ipam.ipaddress", "address": "172.20.20.11/24"},
    }


def object_change(when, data, action="update"):
    return {
        "id": str(uuid.uuid4()),
        "action": {"value": action, "label": action.title() + "d"},
        "changed_object_type": "dcim.device",
        "changed_object_id": data["id"],
        "time": when.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "user_name": "admin",
        "request_id": str(uuid.uuid4()),
        "object_data": None,
        "object_data_v2": copy.deepcopy(data),
    }


class FakeNautobot:
    """See the module's docstring. ``status`` other than 200 answers every request with that status."""

    def __init__(self, port):
        self.port = port
        self.changes = []
        self.queries = []
        self.status = 200
        self.runner = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    async def handle(self, request):
        if request.headers.get("Authorization") != f"Token {TOKEN}":
            return web.json_response({"detail": "Invalid token."}, status=403)
        if self.status != 200:
            return web.json_response({"detail": "down"}, status=self.status)
        query = {key: request.query.getall(key)[-1] for key in request.query}
        self.queries.append(query)
        rows = list(self.changes)
        for key in ("changed_object_type", "changed_object_id"):
            if key in query:
                rows = [c for c in rows if c[key] == query[key]]
        if "time__gte" in query:
            rows = [c for c in rows if parse(c["time"]) >= parse(query["time__gte"])]
        if "time__lt" in query:
            rows = [c for c in rows if parse(c["time"]) < parse(query["time__lt"])]
        if query.get("sort") == "time,id":
            rows.sort(key=lambda c: (parse(c["time"]), c["id"]))
        else:
            rows.sort(key=lambda c: parse(c["time"]), reverse=True)
        limit, offset = int(query.get("limit", 50)), int(query.get("offset", 0))
        following = None
        if offset + limit < len(rows):
            following = f"{self.url}{request.path}?" + urlencode({**query, "offset": offset + limit})
        body = {"count": len(rows), "next": following, "previous": None, "results": rows[offset : offset + limit]}
        return web.json_response(body)

    async def start(self):
        app = web.Application()
        app.router.add_get("/api/extras/object-changes/", self.handle)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    async def stop(self):
        if self.runner is not None:
            await self.runner.cleanup()
