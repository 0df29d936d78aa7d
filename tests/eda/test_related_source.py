"""Related objects through the real ``sotsync.nautobot.webhook`` source: signed bodies over real HTTP, a
fake Nautobot REST API (real HTTP, read with pynautobot) that filters and pages devices as Nautobot does."""

import asyncio
import logging
import runpy
import uuid
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from tests.support import nautobot_webhooks as nw
from tests.support.net import free_port, wait_for_port

ROOT = Path(__file__).resolve().parents[2]
LINKED_SOURCE = (
    ROOT / ".build/collections/ansible_collections/sotsync/nautobot/extensions/eda/plugins/event_source/webhook.py"
)
TOKEN = "0123456789abcdef0123456789abcdef01234567"
SITE_A, SITE_B, SITE_C = (f"c3c3c3c3-0000-4000-8000-0000000000a{i}" for i in (1, 2, 3))
DEVICE3_ID = "4b1c7c10-8d5e-4e63-9a3c-0c2f6a1d9e03"
CONTROL = ("limit", "offset", "depth")


@pytest.fixture(scope="module")
def source():
    return runpy.run_path(str(LINKED_SOURCE))


@pytest.fixture
async def fake_nautobot():
    """``/api/dcim/devices/``: ``id``, scope filters (any value matches; ``tags``: all must), ``limit``,
    ``offset`` and ``next`` as Nautobot pages them."""
    seen = []
    devices = []  # (device data, {filter name: {ids}})

    def matches(attrs, data, name, values):
        if name == "id":
            return data["id"] in values
        if name == "tags":
            return set(values) <= attrs.get("tags", set())
        return bool(set(values) & attrs.get(name, set()))

    async def handler(request):
        seen.append(request.path_qs)
        if request.headers.get("Authorization") != f"Token {TOKEN}":
            return web.json_response({"detail": "Invalid token."}, status=403)
        if request.path.rstrip("/") != "/api/dcim/devices":
            return web.json_response({"detail": "Not found."}, status=404)
        filters = {}
        for name, value in request.query.items():
            if name not in CONTROL:
                filters.setdefault(name, []).append(value)
        found = [d for d, attrs in devices if all(matches(attrs, d, n, v) for n, v in filters.items())]
        limit, offset = int(request.query.get("limit", 50)), int(request.query.get("offset", 0))
        page = found[offset : offset + limit]
        next_url = None
        if offset + limit < len(found):
            query = request.rel_url.query.copy()
            query["offset"] = str(offset + limit)
            next_url = str(request.url.with_query(query))
        return web.json_response({"count": len(found), "next": next_url, "previous": None, "results": page})

    app = web.Application()
    app.router.add_get("/{tail:.*}", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield {"url": f"http://127.0.0.1:{port}", "seen": seen, "devices": devices}
    await runner.cleanup()


@pytest.fixture
async def start(source, fake_nautobot):
    tasks = []

    async def _start(**args):
        port = free_port()
        queue = asyncio.Queue()
        args = {
            "port": port,
            "host": "127.0.0.1",
            "secret": nw.SECRET,
            "max_events_per_second": 0,
            "models": ["device", "interface", "configcontext"],
            "nautobot_url": fake_nautobot["url"],
            "nautobot_token": TOKEN,
            **args,
        }
        task = asyncio.create_task(source["main"](queue, args))
        tasks.append(task)
        await wait_for_port(port)
        return port, queue

    yield _start
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def lab_of_three(fake_nautobot):
    """access1 at site A, access2 at site B, access3 at site C (all role Access)."""
    for name, device_id, site in (("access1", nw.DEVICE_ID, SITE_A), ("access2", nw.DEVICE2_ID, SITE_B)) + (
        ("access3", DEVICE3_ID, SITE_C),
    ):
        fake_nautobot["devices"].append(
            (nw.device(name, device_id=device_id), {"location": {site}, "role": {nw.ROLE_IDS["Access"]}})
        )


async def post(port, payload):
    raw = nw.encode(dict(payload, request_id=str(uuid.uuid4())))
    async with aiohttp.ClientSession() as session:
        async with session.post(f"http://127.0.0.1:{port}/", data=raw, headers=nw.headers(raw)) as response:
            return response.status


async def drain(queue, count, timeout=5.0):
    events = [await asyncio.wait_for(queue.get(), timeout) for _ in range(count)]
    await asyncio.sleep(0.2)
    assert queue.empty(), "more events than expected"
    return events


def assert_device_event(event, source_model, changed):
    nb = event["nautobot"]
    assert set(nb) == nw.EVENT_KEYS | nw.RECEIVER_KEYS and set(nb["device"]) == nw.DEVICE_KEYS
    assert (nb["model"], nb["source_model"], nb["action"]) == ("dcim.device", source_model, "updated")
    assert nb["changed_fields"] == changed and nb["changes"] == [{"field": f} for f in changed]
    assert nb["readiness"]["ready"] is True and nb["device"]["platform"]["napalm_driver"] == "eos"
    assert event["meta"]["endpoint"] == "/" and "X-Hook-Signature" not in event["meta"]["headers"]


async def test_config_context_moved_between_sites_reaches_both_sites_devices(start, fake_nautobot, caplog):
    caplog.set_level(logging.INFO, logger="sotsync.nautobot.webhook")
    lab_of_three(fake_nautobot)
    port, queue = await start()
    payload = nw.config_context_update(before_scope={"locations": [SITE_A]}, after_scope={"locations": [SITE_B]})
    assert await post(port, payload) == 202
    events = await drain(queue, 2)
    assert sorted(e["nautobot"]["object_name"] for e in events) == ["access1", "access2"]  # not access3
    for event in events:
        assert_device_event(event, "extras.configcontext", ["config_context"])
    queries = [q for q in fake_nautobot["seen"] if "location=" in q]
    assert len(queries) == 4  # per scope: one count (limit=1), one page at depth 1
    assert "(via configcontext updated ntp)" in caplog.text
    # the same scope again within the cache's life: no new request
    before = len(fake_nautobot["seen"])
    assert await post(port, nw.config_context_update(before_scope={"locations": [SITE_A]})) == 202
    assert [e["nautobot"]["object_name"] for e in await drain(queue, 1)] == ["access1"]
    assert len(fake_nautobot["seen"]) == before


async def test_config_context_without_scope_reaches_every_device_paged(start, fake_nautobot):
    lab_of_three(fake_nautobot)
    port, queue = await start()
    source_lookup_page = 100
    assert await post(port, nw.config_context_update()) == 202
    events = await drain(queue, 3)
    assert sorted(e["nautobot"]["object_name"] for e in events) == ["access1", "access2", "access3"]
    assert any(f"limit={source_lookup_page}" in q for q in fake_nautobot["seen"])


async def test_config_context_over_the_bound_warns_and_queues_nothing(start, fake_nautobot, caplog):
    caplog.set_level(logging.INFO, logger="sotsync.nautobot.webhook")
    lab_of_three(fake_nautobot)
    port, queue = await start(max_related_devices=2)
    assert await post(port, nw.config_context_update(before_scope={"roles": [nw.ROLE_IDS["Access"]]})) == 202
    for _ in range(50):
        if "over max_related_devices" in caplog.text:
            break
        await asyncio.sleep(0.05)
    assert "Skipped configcontext updated ntp: its scope holds 3 devices, over max_related_devices (2)" in caplog.text
    assert queue.empty()
    assert all("depth=1" not in q for q in fake_nautobot["seen"])  # counted, never read


async def test_interface_edit_reaches_its_device_and_a_move_both(start, fake_nautobot):
    lab_of_three(fake_nautobot)
    port, queue = await start()
    assert await post(port, nw.interface_edit()) == 202
    (event,) = await drain(queue, 1)
    assert_device_event(event, "dcim.interface", ["interfaces"])
    assert event["nautobot"]["object_id"] == nw.DEVICE_ID
    assert await post(port, nw.interface_edit(device_id=nw.DEVICE2_ID, previous_device_id=nw.DEVICE_ID)) == 202
    events = await drain(queue, 2)
    assert sorted(e["nautobot"]["object_name"] for e in events) == ["access1", "access2"]
    by_id = [q for q in fake_nautobot["seen"] if "id=" in q and "location" not in q]
    assert len(by_id) == 2  # one request per change, both devices in one


async def test_ip_attached_to_an_interface_reaches_its_device(start, fake_nautobot):
    lab_of_three(fake_nautobot)
    port, queue = await start(models=["device", "ipaddress", "interface"])
    assert await post(port, nw.ip_attach(after_device_ids=(DEVICE3_ID,))) == 202
    (event,) = await drain(queue, 1)
    assert_device_event(event, "ipam.ipaddress", ["interfaces"])
    assert event["nautobot"]["object_name"] == "access3"


async def test_related_models_refused_unless_listed(start, fake_nautobot):
    port, queue = await start(models=["device"])
    assert await post(port, nw.interface_edit()) == 422
    assert await post(port, nw.config_context_update()) == 422
    assert queue.empty() and fake_nautobot["seen"] == []
