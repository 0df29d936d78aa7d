"""The sources' side of the ledger (plugin_utils/owed.py): each hand-over recorded before the event is put,
what is owed handed over again (said once), what is given up said once, the ledger rewritten."""

from __future__ import annotations

import asyncio
import logging

from ansible_collections.sotsync.nautobot.plugins.module_utils import ledger
from ansible_collections.sotsync.nautobot.plugins.plugin_utils import owed
from ansible_collections.sotsync.nautobot.plugins.plugin_utils import request as req
from ansible_collections.sotsync.nautobot.plugins.plugin_utils.dispatch import Dispatcher
from tests.support import nautobot_webhooks as nw

DAEMON = "100:5000"


def event(device_id="d1", name="access1", action="updated", model="dcim.device"):
    return {"nautobot": {"model": model, "action": action, "object_id": device_id, "object_name": name, "burst": False}}


class Clock:
    def __init__(self, now=1000.0):
        self.now = now

    def __call__(self):
        return self.now


def keeper(tmp_path, clock=None, alive=lambda _run: False, **limits):
    keep = owed.Keeper(clock=clock or Clock(), alive=alive, log=logging.getLogger("test.owed"))
    environ = {}
    keep.bind(str(tmp_path / "ledger.jsonl"), DAEMON, environ=environ, **limits)
    assert environ == {ledger.ENV: str(tmp_path / "ledger.jsonl")}  # the runs of the daemon write in it
    return keep


def test_a_hand_over_is_recorded_before_the_event_is_put(tmp_path):
    keep = keeper(tmp_path)
    seen = []

    async def put(item):
        seen.append([e["op"] for e in keep.ledger.read()])  # what the ledger held when the event went

    asyncio.run(keep.recording(put)(event()))
    asyncio.run(keep.recording(put)(event(model="configplan")))  # not a device provisioning event
    assert seen == [["owed"], ["owed"]]


def test_hand_overs_before_the_ledger_is_bound_are_written_when_it_is(tmp_path, caplog):
    keep = owed.Keeper(clock=Clock(), log=logging.getLogger("test.owed"))
    keep.record([event("d1"), event("d2", "access2")])
    assert not keep.bound and len(keep.waiting) == 2
    with caplog.at_level(logging.INFO, "test.owed"):
        keep.bind(str(tmp_path / "ledger.jsonl"), DAEMON, environ={})
    assert [e["device"] for e in keep.ledger.read()] == ["d1", "d2"] and keep.waiting == []
    assert "2 device(s) owed a run from before this start: access1, access2" in caplog.text


def test_a_cut_hand_over_of_a_stopped_daemon_is_handed_over_again_once(tmp_path, caplog):
    book = ledger.Ledger(str(tmp_path / "ledger.jsonl"))
    book.append([ledger.owed_entry(event(), "99:1", 900.0)])  # the daemon before this one
    keep = keeper(tmp_path)
    with caplog.at_level(logging.WARNING, "test.owed"):
        (again,) = keep.check()
    replayed, why, attempt = again
    assert attempt == 2 and "daemon that stopped" in why
    assert replayed["nautobot"]["replay"] == {"attempt": 2, "why": why} and replayed["nautobot"]["burst"] is True
    assert "Device access1 is owed a run: handed over to a daemon that stopped" in caplog.text
    # its new hand-over is this daemon's: not again until a run or the settle time says otherwise
    assert keep.check() == []
    assert [e["daemon"] for e in book.read() if e["op"] == "owed"] == ["99:1", DAEMON]


def test_a_retry_waits_its_backoff_is_said_once_then_goes(tmp_path, caplog):
    clock = Clock(1000.0)
    keep = keeper(tmp_path, clock, retry_first=30, retry_max=600, max_attempts=3)
    keep.record([event()])
    keep.ledger.append(
        [
            ledger.claim_entry("200:1", ["d1"], 1001.0),
            {"op": "done", "run": "200:1", "device": "d1", "at": 1010.0, "error": "device_unreachable", "retry": True},
        ]
    )
    with caplog.at_level(logging.WARNING, "test.owed"):
        clock.now = 1011.0
        assert keep.check() == []
        clock.now = 1012.0
        assert keep.check() == []
    assert caplog.text.count("Device access1: its run failed; try 2 in") == 1
    clock.now = 1040.0
    ((replayed, why, attempt),) = keep.check()
    assert attempt == 2 and why.startswith("try 2 of 3: the last failed (device_unreachable")


def test_a_device_given_up_is_said_once_and_the_ledger_rewritten(tmp_path, caplog):
    clock = Clock(1000.0)
    keep = keeper(tmp_path, clock, max_attempts=1)
    keep.record([event()])
    keep.ledger.append(
        [
            ledger.claim_entry("200:1", ["d1"], 1001.0),
            {"op": "done", "run": "200:1", "device": "d1", "at": 1010.0, "error": "device_unreachable", "retry": True},
        ]
    )
    clock.now = 1100.0
    with caplog.at_level(logging.ERROR, "test.owed"):
        assert keep.check() == []
    assert "Device access1: still failing after 1 tries" in caplog.text and "given up" in caplog.text
    assert keep.ledger.read() == []  # rewritten: nothing owed


def test_the_check_loop_puts_what_is_owed_and_survives_a_failing_check(tmp_path, caplog):
    ledger.Ledger(str(tmp_path / "ledger.jsonl")).append([ledger.owed_entry(event(), "99:1", 900.0)])
    keep = keeper(tmp_path)
    put_events, calls = [], []
    original = keep.check

    def flaky_check():
        calls.append(1)
        if len(calls) == 1:
            raise OSError("disk full")
        return original()

    keep.check = flaky_check

    async def main():
        async def put(item):
            put_events.append(item)

        async def sleep(_seconds):
            if len(calls) >= 3:
                raise asyncio.CancelledError

        try:
            await keep.run(put, sleep=sleep)
        except asyncio.CancelledError:
            pass

    with caplog.at_level(logging.ERROR, "test.owed"):
        asyncio.run(main())
    assert "Ledger check failed" in caplog.text
    assert [e["nautobot"]["object_id"] for e in put_events] == ["d1"]


def test_the_default_path_is_one_per_daemon_port():
    assert owed.default_path(5000, {"XDG_STATE_HOME": "/var/state"}) == "/var/state/sotsync.nautobot/ledger-5000.jsonl"


def test_the_events_the_sources_make_are_recorded_and_a_config_plan_is_not(tmp_path):
    """Real events, made by the webhook side from Nautobot's bodies (not this file's literals)."""
    dispatcher = Dispatcher()

    def events_of(body):
        hook = req.validate_payload(body)
        return dispatcher.events(hook, dispatcher.route(hook), "/", {})[0]

    keep = keeper(tmp_path)
    keep.record(events_of(nw.rename()) + events_of(nw.create()))
    assert [(e["op"], e["action"]) for e in keep.ledger.read()] == [("owed", "updated"), ("owed", "created")]
    keep.record(events_of(nw.body("deleted", "device", nw.device())))
    assert len(keep.ledger.read()) == 2  # a deleted device is owed nothing


def test_a_device_changed_again_and_again_keeps_the_ledger_bounded(tmp_path):
    """A change every few seconds that the rulebook never runs (a field it ignores): each is a line, none settles
    while the next comes; the ledger is rewritten once it holds many more lines than devices owed."""
    clock = Clock(1000.0)
    keep = keeper(tmp_path, clock)
    for step in range(ledger.COMPACT_LINES + 10):
        clock.now = 1000.0 + step
        keep.record([event()])
    clock.now += 1
    keep.check()
    assert [e["op"] for e in keep.ledger.read()] == ["owed"]  # the latest hand-over of the one device
