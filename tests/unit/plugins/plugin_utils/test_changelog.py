"""Unit tests of the change-log source's logic: arguments, bodies from real object changes, paging,
backoff, and the poll (cursor, boundary ties, overlap, de-duplication) over an in-memory change log."""

import asyncio
import http.server
import json
import logging
import socket
import threading

import pytest
from changelog_fakes import BASE, TOKEN, FakeChangeLog, FakeClient, Sleeps, at, change, device_data, fixture_page

from ansible_collections.sotsync.nautobot.plugins.plugin_utils import changelog as cl
from tests.support import nautobot_webhooks as nw
from ansible_collections.sotsync.nautobot.plugins.plugin_utils import delivered
from ansible_collections.sotsync.nautobot.plugins.plugin_utils import device_event as wh
from ansible_collections.sotsync.nautobot.plugins.plugin_utils import request as wr
from ansible_collections.sotsync.nautobot.plugins.plugin_utils.changelog_cursor import load_cursor, parse_time
from ansible_collections.sotsync.nautobot.plugins.plugin_utils.nautobot_lookup import NautobotLookupError

# the event contract (docs/event.md), as the source queues it: tests/support's one list
EVENT_KEYS = nw.EVENT_KEYS | nw.RECEIVER_KEYS
LOGGER = "ansible_collections.sotsync.nautobot.plugins.plugin_utils.changelog"


@pytest.fixture
def sleeps():
    return Sleeps()


# --- arguments ------------------------------------------------------------------------------------
def test_arguments_defaults_and_environment(tmp_path):
    settings = cl.validate_args(
        {}, {"NAUTOBOT_URL": BASE + "/", "NAUTOBOT_TOKEN": TOKEN, "XDG_STATE_HOME": str(tmp_path)}
    )
    assert settings.nautobot_url == BASE
    assert settings.cursor_file == str(tmp_path / "sotsync.nautobot" / "changelog-nautobot.test_8080.json")
    assert (settings.since, settings.poll_interval, settings.overlap_seconds, settings.page_size) == (
        0.0,
        10.0,
        60.0,
        100,
    )
    assert settings.models == ("dcim.device", "ipam.ipaddress")
    assert TOKEN not in repr(settings)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param({"nautobot_token": TOKEN}, "nautobot_url", id="no-url"),
        pytest.param({"nautobot_url": BASE}, "nautobot_token", id="no-token"),
        pytest.param({"nautobot_url": "nautobot:8080", "nautobot_token": TOKEN}, "http://", id="scheme"),
        pytest.param({"nautobot_url": BASE, "nautobot_token": TOKEN, "page_size": 5000}, "page_size", id="page"),
        pytest.param({"nautobot_url": BASE, "nautobot_token": TOKEN, "since": -1}, "since", id="since"),
        pytest.param({"nautobot_url": BASE, "nautobot_token": TOKEN, "models": ["cable"]}, "cable", id="model"),
        pytest.param({"nautobot_url": BASE, "nautobot_token": TOKEN, "port": 5000}, "unknown", id="unknown"),
        pytest.param({"nautobot_url": BASE, "nautobot_token": TOKEN, "cursor_file": "/tmp"}, "folder", id="dir"),
    ],
)
def test_arguments_refused_clearly(args, message):
    with pytest.raises(ValueError, match=message):
        cl.validate_args(args, {})


# --- object changes -> webhook bodies -> the webhook source's events --------------------------------
DEVICE_PAGE = fixture_page("object_changes_device_page.json")
IP_PAGE = fixture_page("object_changes_ipaddress_page.json")


def test_real_object_changes_parse():
    created, primary, renamed = (cl.parse_change(item) for item in DEVICE_PAGE["results"])
    assert (created.action, primary.action, renamed.action) == ("create", "update", "update")
    assert created.content_type == "dcim.device" and created.object_id == created.data["id"]
    assert created.time == parse_time("2026-11-25T12:53:48.230098+00:00")
    assert created.time < primary.time < renamed.time
    assert renamed.request_id == DEVICE_PAGE["results"][2]["request_id"]


def test_rename_from_the_real_log_gives_the_webhook_event():
    _created, primary, renamed = (cl.parse_change(item) for item in DEVICE_PAGE["results"])
    body = cl.webhook_body(renamed, primary)
    assert set(body) == {"event", "timestamp", "model", "username", "request_id", "data", "snapshots"}
    assert (body["event"], body["model"], body["username"]) == ("updated", "device", "admin")
    # ObjectChange.get_snapshots: prechange = the previous change's object_data_v2, shallow diff without last_updated
    assert body["snapshots"]["prechange"] == primary.data and body["snapshots"]["postchange"] == renamed.data
    added = body["snapshots"]["differences"]["added"]
    assert set(added) == {"name", "display", "natural_slug"} and added["name"] == "access-switch-1"
    assert body["snapshots"]["differences"]["removed"]["name"] == "access1"
    hook = wr.validate_payload(json.loads(json.dumps(body)))  # what went over the wire is plain JSON
    event = wh.add_readiness(wh.normalize_device_event(hook, cl.ENDPOINT, {}))
    nb = event["nautobot"]
    assert set(nb) == EVENT_KEYS and set(event) == {"nautobot", "meta"}
    assert (nb["action"], nb["object_name"], nb["changed_fields"]) == ("updated", "access-switch-1", ["name"])
    assert nb["timestamp"] == "2026-11-25T12:54:30.466975+00:00"
    assert nb["request_id"] == renamed.request_id and nb["username"] == "admin"
    assert nb["device"]["platform"]["napalm_driver"] == "eos"
    assert nb["device"]["primary_ip4_host"] and nb["readiness"]["ready"] is True
    assert event["meta"] == {"endpoint": "changelog", "headers": {}}


def test_primary_ip_change_from_the_real_log():
    created, primary, _renamed = (cl.parse_change(item) for item in DEVICE_PAGE["results"])
    event = wh.normalize_device_event(wr.validate_payload(cl.webhook_body(primary, created)), cl.ENDPOINT, {})
    assert event["nautobot"]["changed_fields"] == ["primary_ip4"]


def test_create_and_delete_snapshots_as_nautobot_builds_them():
    created = cl.parse_change(DEVICE_PAGE["results"][0])
    body = cl.webhook_body(created)
    assert body["event"] == "created" and body["snapshots"]["prechange"] is None
    assert body["snapshots"]["differences"] == {"removed": None, "added": created.data}
    deleted = cl.parse_change({**DEVICE_PAGE["results"][2], "action": {"value": "delete", "label": "Deleted"}})
    snap = cl.snapshots(deleted, None)  # no previous change: the deleted object's own data
    assert snap == {
        "prechange": deleted.data,
        "postchange": None,
        "differences": {"removed": deleted.data, "added": None},
    }
    event = wh.normalize_device_event(wr.validate_payload(cl.webhook_body(deleted)), cl.ENDPOINT, {})
    assert event["nautobot"]["action"] == "deleted" and event["nautobot"]["changed_fields"] == []


def test_update_without_a_previous_change_lists_every_field_like_nautobot():
    renamed = cl.parse_change(DEVICE_PAGE["results"][2])
    snap = cl.snapshots(renamed, None)
    assert snap["prechange"] is None and snap["differences"] == {"removed": None, "added": renamed.data}


def test_real_ipaddress_update_names_its_device():
    created, updated, deleted = (cl.parse_change(item) for item in IP_PAGE["results"])
    assert (created.action, updated.action, deleted.action) == ("create", "update", "delete")
    hook = wr.validate_payload(cl.webhook_body(updated, created))
    assert hook.model == "ipam.ipaddress" and hook.action == "updated"
    assert wh.ip_candidate_devices(hook.data) == [updated.data["interfaces"][0]["device"]["id"]]
    assert wh.changed_fields(hook.action, hook.data, hook.snapshots)  # interfaces changed


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ({"id": "x", "action": "move"}, "action"),
        ({"action": "create"}, "id"),
        ({"id": "x", "action": "create", "changed_object_type": "device"}, "changed_object_type"),
        ({"id": "x", "action": "create", "changed_object_type": "dcim.device", "changed_object_id": "d"}, "date-time"),
    ],
)
def test_unreadable_object_changes_are_refused(item, message):
    with pytest.raises(ValueError, match=message):
        cl.parse_change(item)


# --- reading: paging, order, backoff --------------------------------------------------------------
def reader(log, failures=(), page_size=100, retry_max=60, sleep=None):
    return cl.ChangelogReader(FakeClient(log, failures), BASE, page_size, retry_max, sleep)


async def read_all(rdr, model="dcim.device", since=None):
    items = []
    async for page in rdr.changes(model, since or at(-1)):
        items.append(page)
    return items


async def test_every_page_is_read_in_time_order():
    log = FakeChangeLog([change(at(i / 10), device_data(f"d{i}")) for i in range(250)])
    rdr = reader(log, page_size=100)
    pages = await read_all(rdr)
    assert [len(page) for page in pages] == [100, 100, 50]
    times = [parse_time(item["time"]) for page in pages for item in page]
    assert times == sorted(times) and len(set(item["id"] for page in pages for item in page)) == 250
    assert [q.get("offset") for q in log.queries] == [None, "100", "200"]
    assert all(q["sort"] == "time,id" and q["changed_object_type"] == "dcim.device" for q in log.queries)


async def test_next_is_followed_on_the_configured_nautobot_only():
    log = FakeChangeLog([change(at(i), device_data(f"d{i}")) for i in range(3)], base="http://elsewhere.example")
    rdr = reader(log, page_size=1)
    assert len(await read_all(rdr)) == 3
    assert all(url.startswith(BASE + "/api/extras/object-changes/") for url in rdr.client.urls)


async def test_a_page_out_of_time_order_stops_the_read():
    class Unsorted(FakeChangeLog):
        def answer(self, params):
            return super().answer({**params, "sort": "-time"})  # as if Nautobot ignored sort

    rdr = reader(Unsorted([change(at(i), device_data(f"d{i}")) for i in range(3)]))
    with pytest.raises(cl.NautobotUnavailable, match="did not sort"):
        await read_all(rdr)


async def test_errors_are_retried_with_a_capped_backoff_one_line_each(sleeps, caplog):
    caplog.set_level(logging.INFO, logger=LOGGER)
    failures = [cl.NautobotUnavailable("connection refused (ConnectionError)")] * 4 + [
        cl.NautobotUnavailable("HTTP 503"),
        RuntimeError(f"token {TOKEN} in an unexpected error"),
    ]
    log = FakeChangeLog([change(at(1), device_data())])
    rdr = reader(log, failures, retry_max=5, sleep=sleeps)
    pages = await read_all(rdr)
    assert len(pages) == 1 and len(pages[0]) == 1
    assert sleeps.calls == [1, 2, 4, 5, 5, 5]
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 6
    assert "connection refused" in warnings[0].getMessage() and "HTTP 503" in warnings[4].getMessage()
    assert "unexpected RuntimeError" in warnings[5].getMessage()
    assert "answers again (after 6 failed attempt(s))" in caplog.text
    assert TOKEN not in caplog.text


class ErrorHandler(http.server.BaseHTTPRequestHandler):
    answers = {"/500": (500, b"oops"), "/401": (401, b'{"detail": "Invalid token"}'), "/html": (200, b"<html>")}

    def do_GET(self):  # noqa: N802 - http.server's name
        status, body = self.answers.get(self.path.split("?")[0], (404, b"{}"))
        self.send_response(status)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_http_client_names_each_problem_without_the_token():
    """A real local HTTP server (a unit-test fixture of Nautobot's failure answers) and a closed port."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), ErrorHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        client = cl.HttpClient(base, TOKEN, timeout=2)
        messages = {}
        for path in ("/500", "/401", "/html"):
            with pytest.raises(cl.NautobotUnavailable) as err:
                client.get(base + path)
            messages[path] = str(err.value)
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            closed = sock.getsockname()[1]
        with pytest.raises(cl.NautobotUnavailable) as err:
            client.get(f"http://127.0.0.1:{closed}/api/extras/object-changes/")
        messages["closed"] = str(err.value)
        client.close()
    finally:
        server.shutdown()
        server.server_close()
    assert messages["/500"] == "HTTP 500"
    assert messages["/401"] == "HTTP 401 (check nautobot_token and its permissions)"
    assert messages["/html"] == "HTTP 200 with a body that is not JSON"
    assert messages["closed"].startswith("connection refused")
    assert not any(TOKEN in m for m in messages.values())


# --- merging models -------------------------------------------------------------------------------
async def test_models_merge_in_time_order_across_zones_and_fractions():
    async def stream(*pages):
        for page in pages:
            yield page

    device = [
        change(at(0), device_data("a"), time_text="2026-11-25T13:00:00.5+01:00"),  # 12:00:00.5Z
        change(at(2), device_data("b"), time_text="2026-11-25T12:00:02Z"),
    ]
    ip = [
        change(
            at(0), {"id": "ip1", "address": "10.0.0.1/24"}, model="ipam.ipaddress", time_text="2026-11-25T12:00:00Z"
        ),
        change(
            at(1),
            {"id": "ip2", "address": "10.0.0.2/24"},
            model="ipam.ipaddress",
            time_text="2026-11-25T07:00:01.25-05:00",
        ),
    ]
    merged = [c.object_id async for c in cl.merge([stream(device[:1], device[1:]), stream(ip)])]
    assert merged == ["ip1", device[0]["changed_object_id"], "ip2", device[1]["changed_object_id"]]


# --- the poll -------------------------------------------------------------------------------------
class FakeLookup:
    """NautobotLookup's interface: the devices whose primary IPv4 is an IP."""

    def __init__(self, devices_by_ip=None):
        self.devices_by_ip = devices_by_ip or {}
        self.invalidated = []

    def devices_for_ip(self, ip_id):
        return [dict(d) for d in self.devices_by_ip.get(ip_id, [])]

    def get_object(self, _object_type, _object_id):
        return None

    def invalidate_device(self, device_id):
        self.invalidated.append(device_id)


class Harness:
    def __init__(self, tmp_path, sleeps, log=None, failures=(), registry=None, lookup=None, **args):
        self.log = log or FakeChangeLog()
        self.client = FakeClient(self.log, failures)
        self.queue = asyncio.Queue()
        self.saves = []
        self.path = str(tmp_path / "cursor.json")
        self.settings = cl.validate_args(
            {"cursor_file": self.path, "max_events_per_second": 0, "lone_event_seconds": 0, **args},
            {"NAUTOBOT_URL": BASE, "NAUTOBOT_TOKEN": TOKEN},
        )
        self.registry = registry or delivered.DeliveredRegistry()

        def save(path, cursor):
            self.saves.append((cursor.time, len(cursor.seen)))
            cl.save_cursor(path, cursor)

        self.source = cl.ChangelogSource(
            self.settings, self.queue.put, self.client, lookup or FakeLookup(), sleeps, self.registry, save
        )

    def events(self):
        out = []
        while not self.queue.empty():
            out.append(self.queue.get_nowait())
        return out


async def test_first_run_starts_at_nautobots_now_and_saves_the_cursor(tmp_path, sleeps):
    log = FakeChangeLog([change(at(3599), device_data("before")), change(at(3601), device_data("after"))])
    h = Harness(tmp_path, sleeps, log)  # FakeClient's Date header: at(3600)
    await h.source.start()
    assert await h.source.poll() == 2
    assert [e["nautobot"]["object_name"] for e in h.events()] == ["after"]
    saved = load_cursor(h.path, BASE)
    assert saved.start == at(3600) and saved.time == at(3601)
    assert log.queries[1]["time__gte"] == "2026-11-25T12:59:00.000000+00:00"  # start minus the 60 s overlap


async def test_since_replays_the_recent_past_on_first_run(tmp_path, sleeps):
    log = FakeChangeLog([change(at(100), device_data("old")), change(at(3000), device_data("recent"))])
    h = Harness(tmp_path, sleeps, log, since=900)
    await h.source.start()
    await h.source.poll()
    assert [e["nautobot"]["object_name"] for e in h.events()] == ["recent"]


async def test_boundary_ties_neither_lost_nor_duplicated(tmp_path, sleeps):
    tie = at(3700)
    first = change(tie, device_data("first"), change_id="00000000-0000-4000-8000-000000000001")
    log = FakeChangeLog([first])
    h = Harness(tmp_path, sleeps, log, overlap_seconds=0)
    await h.source.start()
    await h.source.poll()
    assert [e["nautobot"]["object_name"] for e in h.events()] == ["first"]
    # Another change with the very same time becomes visible after the poll (a later commit).
    log.add(change(tie, device_data("second"), change_id="00000000-0000-4000-8000-000000000000"))
    await h.source.poll()
    await h.source.poll()
    assert [e["nautobot"]["object_name"] for e in h.events()] == ["second"]
    assert set(load_cursor(h.path).seen) == {first["id"], "00000000-0000-4000-8000-000000000000"}


async def test_a_late_commit_inside_the_overlap_is_delivered_once(tmp_path, sleeps):
    log = FakeChangeLog([change(at(3700), device_data("seen"))])
    h = Harness(tmp_path, sleeps, log, overlap_seconds=60)
    await h.source.start()
    await h.source.poll()
    log.add(change(at(3650), device_data("late")))  # saved earlier, committed after the poll
    await h.source.poll()
    await h.source.poll()
    assert [e["nautobot"]["object_name"] for e in h.events()] == ["seen", "late"]


async def test_restart_resumes_from_the_saved_cursor(tmp_path, sleeps):
    log = FakeChangeLog([change(at(3601 + i), device_data(f"d{i}")) for i in range(3)])
    first = Harness(tmp_path, sleeps, log)
    await first.source.start()
    await first.source.poll()
    assert len(first.events()) == 3
    log.add(change(at(3700), device_data("while-down")))
    second = Harness(tmp_path, sleeps, log)
    await second.source.start()
    await second.source.poll()
    assert [e["nautobot"]["object_name"] for e in second.events()] == ["while-down"]


async def test_cursor_saved_after_each_batch(tmp_path, sleeps):
    log = FakeChangeLog([change(at(3601 + i), device_data(f"d{i}")) for i in range(5)])
    h = Harness(tmp_path, sleeps, log, page_size=2, models=["device"])
    await h.source.start()
    await h.source.poll()
    assert [save[0] for save in h.saves] == [at(3600), at(3602), at(3604), at(3605)]
    assert len(h.events()) == 5


async def test_nautobot_down_mid_poll_keeps_what_was_delivered(tmp_path, sleeps):
    log = FakeChangeLog([change(at(3601 + i), device_data(f"d{i}"), action="create") for i in range(4)])
    log.add(change(at(3601.5), {"id": "ip1", "address": "10.0.0.1/24"}, model="ipam.ipaddress", action="create"))
    h = Harness(tmp_path, sleeps, log, page_size=2)
    await h.source.start()
    h.saves.clear()
    real_get = h.client.get
    calls = []

    def flaky(url, params=None):
        calls.append(url)
        if len(calls) in (3, 4):  # device page 1, ipaddress page 1, then device page 2 fails twice
            raise cl.NautobotUnavailable("connection refused (ConnectionError)")
        return real_get(url, params)

    h.client.get = flaky
    await h.source.poll()
    assert [e["nautobot"]["object_name"] for e in h.events()] == ["d0", "d1", "d2", "d3"]
    assert sleeps.calls == [1, 2]
    # A batch of two (d0 and the ignored IP create); d1 is held (not queued) during the waits, so the
    # cursor is not saved past it there; then a batch of two (d1, d2), then the rest.
    assert h.saves == [(at(3601.5), 2), (at(3603), 4), (at(3604), 5)]


async def test_update_reads_the_previous_change_only_when_not_seen(tmp_path, sleeps):
    device = device_data("access1")
    renamed = dict(device, name="access-switch-1", display="access-switch-1")
    log = FakeChangeLog(
        [
            change(at(10), device, action="create"),  # long before the start: never emitted
            change(at(3601), renamed),
            change(at(3602), dict(renamed, comments="hi")),
        ]
    )
    h = Harness(tmp_path, sleeps, log)
    await h.source.start()
    await h.source.poll()
    events = h.events()
    # both updates in one poll: one event, the union of their fields, the latest state
    assert [e["nautobot"]["changed_fields"] for e in events] == [["name", "comments"]]
    previous_queries = [q for q in log.queries if q.get("changed_object_id")]
    assert len(previous_queries) == 1  # the second update's predecessor was in the stream
    assert previous_queries[0]["sort"] == "-time" and previous_queries[0]["time__lt"].startswith("2026-11-25T13:00:01")


async def test_a_change_the_webhook_delivered_is_not_queued_again(tmp_path, sleeps, caplog):
    caplog.set_level(logging.INFO, logger=LOGGER)
    registry = delivered.DeliveredRegistry()
    by_webhook = change(at(3601), device_data("hooked"), request_id="11111111-1111-4111-8111-111111111111")
    log = FakeChangeLog([by_webhook, change(at(3602), device_data("missed"))])
    # What the webhook source does when it queues its event for the same change: Nautobot's webhook
    # body for it (no earlier change of the object: every field counts as changed), normalised.
    body = cl.webhook_body(cl.parse_change(by_webhook))
    webhook_event = wh.normalize_device_event(wr.validate_payload(json.loads(json.dumps(body))), "/", {})
    assert registry.first_delivery(delivered.event_key(webhook_event))
    h = Harness(tmp_path, sleeps, log, registry=registry)
    await h.source.start()
    await h.source.poll()
    (event,) = h.events()
    assert event["nautobot"]["object_name"] == "missed"
    assert not registry.first_delivery(delivered.event_key(event))  # and the webhook would now skip it
    assert "Already delivered by another source: device updated hooked" in caplog.text
    assert h.source.stats == {"queued": 1, "duplicates": 1, "ignored": 0}


async def test_a_change_the_webhook_delivered_costs_no_look_up_of_the_change_before_it(tmp_path, sleeps):
    registry = delivered.DeliveredRegistry()
    request = "22222222-2222-4222-8222-222222222222"
    hooked = change(at(3601), device_data("hooked"), request_id=request)
    log = FakeChangeLog([hooked, change(at(3602), device_data("missed"))])
    # the webhook source, having queued its event for the same change, recorded the raw change
    # (its body's data is the change's object_data_v2)
    body = cl.webhook_body(cl.parse_change(hooked))
    registry.mark(delivered.change_key(request, "dcim.device", body["data"]["id"], "updated", body["data"]))
    h = Harness(tmp_path, sleeps, log, registry=registry)
    await h.source.start()
    await h.source.poll()
    assert [e["nautobot"]["object_name"] for e in h.events()] == ["missed"]
    looked_up = [q["changed_object_id"] for q in log.queries if q.get("changed_object_id")]
    assert looked_up == [[device_data("missed")["id"]]]  # no request for the change before "hooked"
    assert h.source.stats == {"queued": 1, "duplicates": 1, "ignored": 0}
    # and the change it delivered is recorded for the webhook source
    missed = cl.parse_change(log.changes[1])
    assert registry.seen(
        delivered.change_key(missed.request_id, "dcim.device", missed.object_id, "updated", missed.data)
    )


async def test_the_changes_before_a_pages_updates_are_read_in_one_request(tmp_path, sleeps):
    names = [f"sw{i}" for i in range(30)]
    earlier = [change(at(100 + i), device_data(name), action="create") for i, name in enumerate(names)]
    # a bulk rename: 30 updates in one request, long after each device's creation
    bulk = [change(at(3601), dict(device_data(name), name=f"{name}-r", display=f"{name}-r")) for name in names]
    log = FakeChangeLog(earlier + bulk)
    h = Harness(tmp_path, sleeps, log)
    await h.source.start()
    await h.source.poll()
    events = h.events()
    assert sorted(e["nautobot"]["object_name"] for e in events) == sorted(f"{name}-r" for name in names)
    assert {tuple(e["nautobot"]["changed_fields"]) for e in events} == {("name",)}  # each against its create
    before = [q for q in log.queries if q.get("changed_object_id")]
    assert len(before) == 1 and sorted(before[0]["changed_object_id"]) == sorted(device_data(n)["id"] for n in names)


async def test_the_batched_read_keeps_its_urls_short(tmp_path, sleeps, monkeypatch):
    monkeypatch.setattr(cl, "PREFETCH_IDS", 4)
    names = [f"sw{i}" for i in range(10)]
    earlier = [change(at(100 + i), device_data(name), action="create") for i, name in enumerate(names)]
    log = FakeChangeLog(earlier + [change(at(3601), dict(device_data(n), name=f"{n}-r")) for n in names])
    h = Harness(tmp_path, sleeps, log)
    await h.source.start()
    await h.source.poll()
    assert {tuple(e["nautobot"]["changed_fields"]) for e in h.events()} == {("name",)}
    assert [len(q["changed_object_id"]) for q in log.queries if q.get("changed_object_id")] == [4, 4, 2]


async def test_an_update_without_an_earlier_change_in_the_log_needs_no_request_of_its_own(tmp_path, sleeps):
    log = FakeChangeLog([change(at(3601), device_data("orphan")), change(at(3602), device_data("other"))])
    h = Harness(tmp_path, sleeps, log)
    await h.source.start()
    await h.source.poll()
    assert len([q for q in log.queries if q.get("changed_object_id")]) == 1  # the batched read, found nothing
    # no earlier change: every field counts as changed, as Nautobot's own fallback has it
    assert all("name" in e["nautobot"]["changed_fields"] for e in h.events())


async def test_long_histories_fall_back_to_one_request_per_object(tmp_path, sleeps, monkeypatch):
    monkeypatch.setattr(cl, "PREFETCH_MAX_PAGES", 1)
    busy = [change(at(100 + i), dict(device_data("busy"), comments=str(i))) for i in range(5)]
    quiet = change(at(50), device_data("quiet"), action="create")
    updates = [
        change(at(3601), dict(device_data("busy"), name="busy-r", comments="4")),
        change(at(3602), dict(device_data("quiet"), name="quiet-r")),
    ]
    log = FakeChangeLog([quiet, *busy, *updates], max_page=2)  # the batched read sees busy's changes only
    h = Harness(tmp_path, sleeps, log)
    await h.source.start()
    await h.source.poll()
    fields = {e["nautobot"]["object_name"]: e["nautobot"]["changed_fields"] for e in h.events()}
    assert fields == {"busy-r": ["name"], "quiet-r": ["name"]}
    single = [q for q in log.queries if isinstance(q.get("changed_object_id"), str)]
    assert [q["changed_object_id"] for q in single] == [device_data("quiet")["id"]]


async def test_ipaddress_update_becomes_the_device_event(tmp_path, sleeps):
    device = device_data("access1")
    ip = {
        "id": "ip-11",
        "address": "172.20.20.11/24",
        "dns_name": "new",
        "interfaces": [{"device": {"id": device["id"]}}],
    }
    log = FakeChangeLog(
        [
            change(at(3601), dict(ip, dns_name="old"), model="ipam.ipaddress"),
            change(at(3602), ip, model="ipam.ipaddress"),
            change(at(3603), dict(ip, interfaces=[]), model="ipam.ipaddress", action="delete"),
        ]
    )
    h = Harness(tmp_path, sleeps, log, lookup=FakeLookup({"ip-11": [device]}))
    await h.source.start()
    await h.source.poll()
    events = h.events()
    # both updates reach the same device in one poll: one event; the delete is ignored as the webhook
    # source ignores it
    assert len(events) == 1
    nb = events[0]["nautobot"]
    assert (nb["source_model"], nb["action"], nb["changed_fields"], nb["object_id"]) == (
        "ipam.ipaddress",
        "updated",
        ["primary_ip4"],
        device["id"],
    )
    assert set(nb) == EVENT_KEYS and h.source.stats["ignored"] == 1


class FailingLookup(FakeLookup):
    def __init__(self, failures, devices_by_ip):
        super().__init__(devices_by_ip)
        self.failures = failures

    def devices_for_ip(self, ip_id):
        if self.failures:
            self.failures -= 1
            raise NautobotLookupError("Nautobot at http://nb failed while looking up: unreachable (ConnectionError)")
        return super().devices_for_ip(ip_id)


@pytest.mark.parametrize(("failures", "delivered_names"), [(2, ["access1", "after"]), (5, ["after"])])
async def test_a_failing_device_look_up_is_retried_at_the_next_polls_then_dropped(
    tmp_path, sleeps, caplog, failures, delivered_names
):
    device = device_data("access1")
    ip = {"id": "ip-11", "address": "172.20.20.11/24", "interfaces": [{"device": {"id": device["id"]}}]}
    log = FakeChangeLog(
        [
            change(at(3601), ip, model="ipam.ipaddress", action="create"),
            change(at(3602), ip, model="ipam.ipaddress"),
            change(at(3603), device_data("after")),
        ]
    )
    h = Harness(tmp_path, sleeps, log, lookup=FailingLookup(failures, {"ip-11": [device]}))
    await h.source.start()
    for _poll in range(4):
        await h.source.poll()
    assert [e["nautobot"]["object_name"] for e in h.events()] == delivered_names
    if failures > 2:
        assert "Dropped ipam.ipaddress update" in caplog.text and "after 3 failed look-ups" in caplog.text
    assert "this poll stops here" in caplog.text


class RelatedLookup(FakeLookup):
    """Adds the related-object look-ups: devices by id, devices by scope filters."""

    def __init__(self, devices, scope_devices):
        super().__init__()
        self.devices = {d["id"]: d for d in devices}
        self.scope_devices = scope_devices  # location id -> devices
        self.queries = []

    def devices_by_id(self, ids):
        return [dict(self.devices[i]) for i in ids if i in self.devices]

    def devices_matching(self, queries, limit):
        self.queries.append(queries)
        found = {}
        for query in queries:
            for location in query.get("location", []):
                for device in self.scope_devices.get(location, []):
                    found[device["id"]] = dict(device)
        return list(found.values()), len(found)


async def test_config_context_and_interface_changes_reach_their_devices(tmp_path, sleeps):
    access1, access2 = device_data("access1"), device_data("access2")
    context = {
        "id": "cc-1",
        "name": "ntp",
        "is_active": True,
        "description": "",
        "locations": [{"id": "loc-a", "object_type": "dcim.location"}],
        "data": {"ntp": ["10.0.0.1"]},
    }
    moved = dict(context, locations=[{"id": "loc-b", "object_type": "dcim.location"}], data={"ntp": ["10.0.0.2"]})
    interface = {"id": "if-1", "name": "Ethernet1", "device": {"id": access2["id"], "object_type": "dcim.device"}}
    log = FakeChangeLog(
        [
            change(at(3601), context, model="extras.configcontext", action="create"),
            change(at(3602), moved, model="extras.configcontext"),
            change(at(3603), dict(moved, description="who owns it"), model="extras.configcontext"),
            change(at(3604), interface, model="dcim.interface", action="delete"),
        ]
    )
    lookup = RelatedLookup([access1, access2], {"loc-a": [access1], "loc-b": [access2]})
    h = Harness(tmp_path, sleeps, log, lookup=lookup, models=["configcontext", "interface"])
    await h.source.start()
    await h.source.poll()
    events = h.events()
    got = [
        (e["nautobot"]["object_name"], e["nautobot"]["source_model"], e["nautobot"]["changed_fields"]) for e in events
    ]
    # One event per device per poll (merged until the cursor is saved): access1 (the context created at
    # site A, then moved away), access2 (the context moved to site B, then its interface deleted); the
    # description-only edit reached nobody.
    assert got == [
        ("access1", "extras.configcontext", ["config_context"]),
        ("access2", "dcim.interface", ["config_context", "interfaces"]),
    ]
    assert [e["nautobot"]["events_coalesced"] for e in events] == [2, 2]
    assert lookup.queries == [[{"location": ["loc-a"]}], [{"location": ["loc-a"]}, {"location": ["loc-b"]}]]
    assert h.source.stats["ignored"] == 1


async def test_ip_attached_to_an_interface_reaches_its_device_with_interface_in_models(tmp_path, sleeps):
    access1 = device_data("access1")
    ip = {"id": "ip-lo", "address": "10.0.0.1/32", "interfaces": []}
    attached = dict(ip, interfaces=[{"id": "if-lo", "device": {"id": access1["id"]}}])
    log = FakeChangeLog(
        [change(at(3601), ip, model="ipam.ipaddress"), change(at(3602), attached, model="ipam.ipaddress")]
    )
    lookup = RelatedLookup([access1], {})
    h = Harness(tmp_path, sleeps, log, lookup=lookup, models=["ipaddress", "interface"])
    await h.source.start()
    await h.source.poll()
    (event,) = h.events()  # the first change (on no interface) reached nobody
    nb = event["nautobot"]
    assert (nb["object_name"], nb["source_model"], nb["changed_fields"]) == (
        "access1",
        "ipam.ipaddress",
        ["interfaces"],
    )
