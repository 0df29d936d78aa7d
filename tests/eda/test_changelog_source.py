"""The real ``sotsync.nautobot.changelog`` source (``main(queue, args)``) over real HTTP and real files.

The source is loaded the way ansible-rulebook loads it: ``runpy.run_path`` on the file inside the
``ansible_collections/sotsync/nautobot`` link tree. Nautobot's object-change list is played by
``nautobot_changelog.FakeNautobot``, a small aiohttp server on a free port: a unit-test fixture of the
API's filtering, paging and failures. It is not Nautobot: the lab tests are the lead's.
"""

import asyncio
import json
import logging
import runpy
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from tests.eda.nautobot_changelog import TOKEN, FakeNautobot, device, now, object_change, parse
from tests.support import nautobot_webhooks as nw
from tests.support.net import free_port

ROOT = Path(__file__).resolve().parents[2]
PLUGINS = ROOT / ".build/collections/ansible_collections/sotsync/nautobot/extensions/eda/plugins/event_source"
PACKAGE = "ansible_collections.sotsync.nautobot.plugins.plugin_utils"
# the event contract (docs/event.md), as the source queues it: tests/support's one list
EVENT_KEYS = nw.EVENT_KEYS | nw.RECEIVER_KEYS


@pytest.fixture(scope="module")
def source():
    return runpy.run_path(str(PLUGINS / "changelog.py"))


@pytest.fixture
async def nautobot():
    server = FakeNautobot(free_port())
    yield server
    await server.stop()


class Running:
    def __init__(self, task, queue):
        self.task, self.queue = task, queue

    async def take(self, count, timeout=10.0):
        events = []
        async with asyncio.timeout(timeout):
            while len(events) < count:
                events.append(await self.queue.get())
        return events

    async def nothing_more(self, seconds):
        await asyncio.sleep(seconds)
        return self.queue.empty()

    async def stop(self):
        self.task.cancel()
        try:
            await self.task
        except asyncio.CancelledError:
            pass


@pytest.fixture
async def run(source, tmp_path):
    running = []

    async def _run(server, **args):
        queue = asyncio.Queue()
        args = {
            "nautobot_url": server.url,
            "nautobot_token": TOKEN,
            "cursor_file": str(tmp_path / "state" / "cursor.json"),
            "poll_interval": 0.2,
            "max_events_per_second": 0,
            "models": ["device"],
            **args,
        }
        item = Running(asyncio.create_task(source["main"](queue, args)), queue)
        running.append(item)
        return item

    yield _run
    for item in running:
        await item.stop()


async def test_three_pages_delivered_in_order(nautobot, run, tmp_path):
    await nautobot.start()
    base = now() - timedelta(minutes=5)
    nautobot.changes = [object_change(base + timedelta(seconds=i), device(f"d{i:03d}")) for i in range(250)]
    running = await run(nautobot, since=3600, page_size=100)
    events = await running.take(250)
    assert [e["nautobot"]["object_name"] for e in events] == [f"d{i:03d}" for i in range(250)]
    for event in (events[0], events[-1]):
        assert set(event) == {"nautobot", "meta"} and set(event["nautobot"]) == EVENT_KEYS
        assert event["meta"] == {"endpoint": "changelog", "headers": {}}
        json.dumps(event)
    reads = [q for q in nautobot.queries if q.get("sort") == "time,id"]
    assert [q.get("offset") for q in reads[:3]] == [None, "100", "200"]
    saved = json.loads((tmp_path / "state" / "cursor.json").read_text())
    assert parse(saved["time"]) == parse(nautobot.changes[-1]["time"])
    assert TOKEN not in (tmp_path / "state" / "cursor.json").read_text()


async def test_restart_from_the_persisted_cursor_delivers_only_new_changes(nautobot, run):
    await nautobot.start()
    start = now() - timedelta(seconds=30)
    nautobot.changes = [object_change(start + timedelta(seconds=i), device(f"before{i}")) for i in range(3)]
    first = await run(nautobot, since=60)
    assert len(await first.take(3)) == 3
    assert await first.nothing_more(0.6)  # three more polls: nothing again
    await first.stop()
    # While the daemon is down: two changes, one at the very time of the last one delivered (a tie).
    tie = parse(nautobot.changes[-1]["time"])
    nautobot.changes += [object_change(tie, device("tie")), object_change(now(), device("after"))]
    second = await run(nautobot, since=3600)  # since is ignored once a cursor exists
    events = await second.take(2)
    assert sorted(e["nautobot"]["object_name"] for e in events) == ["after", "tie"]
    assert await second.nothing_more(0.6)


async def test_nautobot_down_at_start_then_up(nautobot, run, caplog):
    caplog.set_level(logging.INFO)
    running = await run(nautobot, since=600, retry_max_seconds=1)  # nothing listens on the port yet
    await asyncio.sleep(1.5)
    assert not running.task.done()
    assert "connection refused" in caplog.text and TOKEN not in caplog.text
    nautobot.changes = [object_change(now() - timedelta(seconds=10), device("while-down"))]
    await nautobot.start()
    (event,) = await running.take(1, timeout=10)
    assert event["nautobot"]["object_name"] == "while-down"
    nautobot.status = 503  # and a failing Nautobot later on does not end the source either
    await asyncio.sleep(1.5)
    assert not running.task.done() and "HTTP 503" in caplog.text
    nautobot.status = 200
    nautobot.changes.append(object_change(now(), device("back")))
    (event,) = await running.take(1, timeout=10)
    assert event["nautobot"]["object_name"] == "back"
    assert "answers again" in caplog.text


async def test_bad_arguments_and_a_foreign_cursor_stop_at_start(source, nautobot, tmp_path):
    with pytest.raises(ValueError, match="nautobot_token"):
        await source["main"](asyncio.Queue(), {"nautobot_url": nautobot.url, "nautobot_token": ""})
    cursor = tmp_path / "cursor.json"
    cursor.write_text(json.dumps({"version": 1, "nautobot_url": "http://other:8080", "time": "2026-11-25T00:00:00Z"}))
    args = {"nautobot_url": nautobot.url, "nautobot_token": TOKEN, "cursor_file": str(cursor)}
    with pytest.raises(ValueError, match="belongs to http://other:8080"):
        await source["main"](asyncio.Queue(), args)


def test_both_sources_share_one_registry_module(source):
    """ansible-rulebook runs every source with runpy.run_path in one process: imports go through
    sys.modules, so the webhook and change-log sources get the same logic and registry modules."""
    webhook = runpy.run_path(str(PLUGINS / "webhook.py"))
    again = runpy.run_path(str(PLUGINS / "changelog.py"))
    registry_module = sys.modules[f"{PACKAGE}.delivered"]
    assert source["logic"].delivered is again["logic"].delivered is registry_module
    # the webhook source delivers through Delivery, which checks the same registry
    assert sys.modules[webhook["Delivery"].__module__].delivered is registry_module
    assert sys.modules[source["logic"].validate_payload.__module__] is webhook["req"]


def test_documentation_matches_arguments(source, tmp_path):
    import yaml

    logic = source["logic"]
    doc = yaml.safe_load(source["DOCUMENTATION"])
    assert sorted(doc["options"]) == sorted(logic.ARGUMENTS)
    defaults = logic.validate_args({}, {"NAUTOBOT_URL": "http://nb", "NAUTOBOT_TOKEN": "t"})
    for name, option in doc["options"].items():
        if "default" in option:
            expected = getattr(defaults, name)
            if name == "models":
                expected = [logic.SHORT_NAMES[m] for m in expected]
            if isinstance(expected, tuple):
                expected = list(expected)
            assert option["default"] == expected, name
    for play in yaml.safe_load(source["EXAMPLES"]):
        args = dict(play["sources"][1]["sotsync.nautobot.changelog"])
        args = {k: ("x" if isinstance(v, str) and "{{" in v else v) for k, v in args.items()}
        args["cursor_file"] = str(tmp_path / "example.json")
        logic.validate_args(args, {})
