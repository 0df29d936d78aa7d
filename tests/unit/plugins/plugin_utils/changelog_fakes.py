"""Fakes for the change-log source's unit tests: Nautobot's object-change list, in memory.

``FakeChangeLog`` answers ``/api/extras/object-changes/`` queries the way Nautobot 3.2 does (read in
``nautobot/extras/filters.py``, ``core/api/pagination.py`` and checked on the lab): one
``changed_object_type`` (the last one given wins), ``changed_object_id``, ``time__gte`` / ``time__lt``
compared as times, ``sort`` (``time,id`` or ``-time``; the default is ``-time``), ``limit``/``offset``
with a ``next`` link. ``FakeClient`` is the source's HTTP client over it, with injectable failures.
"""

from __future__ import annotations

import copy
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

from ansible_collections.sotsync.nautobot.plugins.plugin_utils import changelog as cl
from ansible_collections.sotsync.nautobot.plugins.plugin_utils.changelog_cursor import parse_time

FIXTURES = Path(__file__).resolve().parent / "fixtures"
BASE = "http://nautobot.test:8080"
TOKEN = "0123456789abcdef-secret-token-value"
T0 = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)


def fixture_page(name):
    """A real answer of the lab's Nautobot 3.2 (captured read-only; nothing secret in it)."""
    return json.loads((FIXTURES / name).read_text())


def device_data(name="access1", device_id=None, **extra):
    """A device as object_data_v2 carries it (REST at depth 1), trimmed to what the event reads."""
    device_id = device_id or str(uuid.uuid5(uuid.NAMESPACE_DNS, name))
    data = {
        "id": device_id,
        "object_type": "dcim.device",
        "display": name,
        "name": name,
        "status": {"id": "st-active", "object_type": "extras.status", "name": "Active"},
        "role": {"id": "role-access", "object_type": "extras.role", "name": "Access"},
        "location": {"id": "loc-a", "object_type": "dcim.location", "name": "Site A"},
        "platform": {
            "id": "pf-eos",
            "object_type": "dcim.platform",
            "name": "EOS",
            "network_driver": "arista_eos",
            "napalm_driver": "",
            "network_driver_mappings": {"napalm": "eos"},
        },
        "primary_ip4": {
            "id": "ip-11",
            "object_type": "ipam.ipaddress",
            "address": "172.20.20.11/24",
            "host": "172.20.20.11",
        },
        "comments": "",
        "last_updated": "2026-11-25T12:00:00Z",
    }
    data.update(extra)
    return data


def change(
    when,
    data,
    action="update",
    model="dcim.device",
    change_id=None,
    request_id=None,
    user="admin",
    time_text=None,
):
    """One object-change JSON object as ``/api/extras/object-changes/`` lists it."""
    return {
        "id": change_id or str(uuid.uuid4()),
        "object_type": "extras.objectchange",
        "action": {"value": action, "label": action.title() + "d"},
        "changed_object_type": model,
        "changed_object_id": data["id"],
        "time": time_text or when.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "user_name": user,
        "request_id": request_id or str(uuid.uuid4()),
        "change_context": "web",
        "object_repr": data.get("name") or data.get("address") or data["id"],
        "object_data": {k: v for k, v in data.items() if k not in ("id", "display", "object_type")},
        "object_data_v2": copy.deepcopy(data),
    }


def at(seconds):
    return T0 + timedelta(seconds=seconds)


class FakeChangeLog:
    """Nautobot's object-change list endpoint, in memory (see the module's docstring)."""

    def __init__(self, changes=(), base=BASE, max_page=1000):
        self.changes = list(changes)
        self.base = base
        self.max_page = max_page
        self.queries = []

    def add(self, *items):
        self.changes.extend(items)

    def answer(self, params):
        self.queries.append(dict(params))
        selected = list(self.changes)
        if params.get("changed_object_type"):
            selected = [c for c in selected if c["changed_object_type"] == params["changed_object_type"]]
        if params.get("changed_object_id"):  # one id or several (Nautobot's multi-value filter: any of them)
            wanted = params["changed_object_id"]
            wanted = {wanted} if isinstance(wanted, str) else set(wanted)
            selected = [c for c in selected if c["changed_object_id"] in wanted]
        if params.get("time__gte"):
            floor = parse_time(params["time__gte"])
            selected = [c for c in selected if parse_time(c["time"]) >= floor]
        if params.get("time__lt"):
            ceiling = parse_time(params["time__lt"])
            selected = [c for c in selected if parse_time(c["time"]) < ceiling]
        sort = params.get("sort") or "-time"
        if sort == "time,id":
            selected.sort(key=lambda c: (parse_time(c["time"]), c["id"]))
        else:
            selected.sort(key=lambda c: parse_time(c["time"]), reverse=True)
        limit = min(int(params.get("limit") or 50), self.max_page)
        offset = int(params.get("offset") or 0)
        page = selected[offset : offset + limit]
        following = None
        if offset + limit < len(selected):
            following = f"{self.base}/api/extras/object-changes/?" + urlencode(
                {**params, "offset": offset + limit}, doseq=True
            )
        return {"count": len(selected), "next": following, "previous": None, "results": copy.deepcopy(page)}


class FakeClient:
    """The source's HTTP client over a :class:`FakeChangeLog`; ``failures`` are raised first, in order."""

    def __init__(self, log, failures=(), date=None):
        self.log = log
        self.failures = list(failures)
        self.date = date or at(3600)
        self.urls = []

    def get(self, url, params=None):
        self.urls.append(url)
        if self.failures:
            raise self.failures.pop(0)
        split = urlsplit(url)
        query = {}
        for key, value in parse_qsl(split.query):  # a repeated key is a multi-value filter
            query[key] = (
                [*query[key], value]
                if isinstance(query.get(key), list)
                else ([query[key], value] if key in query else value)
            )
        query.update({k: (list(map(str, v)) if isinstance(v, list) else str(v)) for k, v in (params or {}).items()})
        return cl.Page(self.log.answer(query), self.date)


class Sleeps:
    """An injected ``asyncio.sleep``: records the waits, never waits."""

    def __init__(self):
        self.calls = []

    async def __call__(self, seconds):
        self.calls.append(seconds)
