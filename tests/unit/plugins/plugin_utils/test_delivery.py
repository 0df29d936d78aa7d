"""Unit tests of plugin_utils/delivery.py: merging, coalescing, burst marking, pacing, on a fake clock."""

import asyncio
import json
import time
import logging

import pytest

from ansible_collections.sotsync.nautobot.plugins.plugin_utils.delivered import DeliveredRegistry

from ansible_collections.sotsync.nautobot.plugins.plugin_utils import delivery as dl
from ansible_collections.sotsync.nautobot.plugins.plugin_utils import device_event as de
from ansible_collections.sotsync.nautobot.plugins.plugin_utils import request as req
from tests.support import nautobot_webhooks as nw


# --- coalescing -----------------------------------------------------------------------------------
def _ev(action="updated", fields=("name",), name="access1", device_id=nw.DEVICE_ID, count=1, source="dcim.device"):
    return {
        "nautobot": {
            "action": action,
            "model": "dcim.device",
            "source_model": source,
            "object_id": device_id,
            "object_name": name,
            "changed_fields": list(fields),
            "events_coalesced": count,
            "device": {"id": device_id, "name": name},
        },
        "meta": {"endpoint": "/", "headers": {}},
    }


@pytest.mark.parametrize(
    ("first", "later", "action"),
    [
        ("updated", "updated", "updated"),
        ("created", "updated", "created"),
        ("updated", "created", "created"),
        ("created", "deleted", "deleted"),
        ("updated", "deleted", "deleted"),
        ("deleted", "updated", "updated"),
    ],
)
def test_merge_action(first, later, action):
    assert dl.merge_events(_ev(first), _ev(later))["nautobot"]["action"] == action


def test_merge_keeps_order_and_latest_data():
    first = _ev(fields=["name", "role"], name="a")
    later = _ev(fields=["primary_ip4", "name"], name="b", source="ipam.ipaddress", count=2)
    merged = dl.merge_events(first, later)
    nb = merged["nautobot"]
    assert nb["changed_fields"] == ["name", "role", "primary_ip4"]
    assert nb["changes"] == [{"field": "name"}, {"field": "role"}, {"field": "primary_ip4"}]
    assert nb["object_name"] == "b" and nb["device"]["name"] == "b"
    assert nb["source_model"] == "ipam.ipaddress"
    assert nb["events_coalesced"] == 3
    assert first["nautobot"]["changed_fields"] == ["name", "role"]  # inputs untouched


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_burst_marker_tells_a_lone_change_from_a_burst():
    clock = Clock()
    marker = dl.BurstMarker(2.0, clock=clock)

    def mark():
        return marker.mark({"nautobot": {}})["nautobot"]["burst"]

    assert mark() is False  # the first event: lone
    clock.now += 0.5
    assert mark() is True  # 0.5 s later: a burst
    clock.now += 1.9
    assert mark() is True  # still within 2 s of the previous one
    clock.now += 2.0
    assert mark() is False  # 2 s of quiet: lone again
    assert dl.BurstMarker(0, clock=clock).mark({"nautobot": {}})["nautobot"]["burst"] is False


def test_a_coalesced_event_is_a_burst():
    one = de.normalize_device_event(req.validate_payload(nw.rename()))
    merged = dl.merge_events(one, json.loads(json.dumps(one)))
    assert merged["nautobot"]["burst"] is True


async def test_pacer_keeps_order_and_rate():
    clock = Clock()
    slept = []

    async def sleep(seconds):
        slept.append(round(seconds, 3))
        clock.now += seconds

    out = []

    async def put(event):
        out.append((event, round(clock.now, 3)))

    pacer = dl.Pacer(10, put, clock=clock, sleep=sleep)
    await asyncio.gather(*(pacer(n) for n in range(4)))
    assert [event for event, _when in out] == [0, 1, 2, 3]
    assert [when for _event, when in out] == [100.0, 100.1, 100.2, 100.3]  # 10 a second, the first at once
    clock.now += 5
    await pacer("later")
    assert out[-1] == ("later", 105.3) and slept == [0.1, 0.1, 0.1]  # after a pause: at once


async def test_pacer_zero_rate_passes_through():
    out = []

    async def put(event):
        out.append(event)

    pacer = dl.Pacer(0, put)
    await pacer("a")
    assert out == ["a"] and pacer.interval == 0.0


# --- the coalescer, on a fake clock ----------------------------------------------------------------
class Emitted:
    def __init__(self):
        self.events = []

    async def __call__(self, event):
        self.events.append(event)


async def test_coalescer_passes_through_without_window():
    out = Emitted()
    coalescer = dl.Coalescer(0, out)
    await coalescer.add(_ev())
    await coalescer.add(_ev(fields=["role"]))
    assert [e["nautobot"]["changed_fields"] for e in out.events] == [["name"], ["role"]]


async def test_coalescer_merges_a_device_within_its_window(caplog):
    caplog.set_level(logging.INFO)
    clock, out = Clock(), Emitted()
    coalescer = dl.Coalescer(10, out, clock=clock)
    await coalescer.add(_ev(fields=["name"], name="a"))
    clock.now += 3
    await coalescer.add(_ev(fields=["role"], name="b"))
    await coalescer.add(_ev(fields=["primary_ip4"], name="other", device_id=nw.DEVICE2_ID))
    await coalescer.add(_ev(action="created", fields=["name"], name="c"))
    assert coalescer.pending == 2 and coalescer.next_due() == 113.0  # 10 s after the device's last event
    clock.now = 112.9
    assert await coalescer.flush_due() == 0 and out.events == []
    clock.now = 113.0
    assert await coalescer.flush_due() == 2 and coalescer.pending == 0
    by_id = {e["nautobot"]["object_id"]: e["nautobot"] for e in out.events}
    assert by_id[nw.DEVICE_ID]["changed_fields"] == ["name", "role"]
    assert by_id[nw.DEVICE_ID]["events_coalesced"] == 3
    assert by_id[nw.DEVICE_ID]["action"] == "created"
    assert by_id[nw.DEVICE_ID]["object_name"] == "c"
    assert by_id[nw.DEVICE2_ID]["events_coalesced"] == 1
    assert any("Coalesced 3 events into one" in r.getMessage() for r in caplog.records)
    await coalescer.add(_ev(fields=["status"]))  # a later event opens a new window
    assert coalescer.next_due() == 123.0


async def test_coalescer_waits_for_a_quiet_period_but_never_past_max_hold():
    clock, out = Clock(), Emitted()
    coalescer = dl.Coalescer(1.5, out, max_hold=5, clock=clock)
    for second in range(8):  # one event a second: never 1.5 s of quiet
        clock.now = 100.0 + second
        await coalescer.flush_due()
        await coalescer.add(_ev(fields=[f"f{second}"]))
    assert [e["nautobot"]["events_coalesced"] for e in out.events] == [5]  # cut at first + 5 s
    assert out.events[0]["nautobot"]["changed_fields"] == ["f0", "f1", "f2", "f3", "f4"]
    clock.now = 108.5  # the rest: 1.5 s after the last
    await coalescer.flush_due()
    assert [e["nautobot"]["events_coalesced"] for e in out.events] == [5, 3]


async def test_coalescer_run_sleeps_until_the_earliest_due_time():
    clock, out, slept = Clock(), Emitted(), []

    async def sleep(seconds):
        slept.append(seconds)
        clock.now += seconds

    coalescer = dl.Coalescer(2, out, clock=clock, sleep=sleep)
    task = asyncio.create_task(coalescer.run())
    await coalescer.add(_ev())
    clock.now += 0.5
    await coalescer.add(_ev(fields=["other"], device_id=nw.DEVICE2_ID))
    for _tick in range(10):
        await asyncio.sleep(0)
    task.cancel()
    assert slept == [1.5, 0.5] and len(out.events) == 2 and coalescer.pending == 0


async def test_coalescer_close_returns_pending():
    out = Emitted()
    coalescer = dl.Coalescer(10, out, clock=Clock())
    await coalescer.add(_ev())
    dropped = coalescer.close()
    assert len(dropped) == 1 and out.events == [] and coalescer.pending == 0


async def test_coalescer_survives_failing_emit(caplog):
    clock = Clock()

    async def emit(event):
        raise RuntimeError("queue gone")

    coalescer = dl.Coalescer(1, emit, clock=clock)
    await coalescer.add(_ev())
    await coalescer.add(_ev(device_id=nw.DEVICE2_ID))
    clock.now += 1
    assert await coalescer.flush_due() == 2
    assert sum("Could not queue" in r.getMessage() for r in caplog.records) == 2


async def test_delivery_puts_readiness_and_burst_on_the_event(caplog):
    caplog.set_level(logging.INFO)
    queued = []

    async def put(event):
        queued.append(event)

    delivery = dl.Delivery(
        put,
        ("Active",),
        lone_event_seconds=2,
        coalesce_seconds=0,
        max_events_per_second=0,
        registry=DeliveredRegistry(),
    )
    event = de.normalize_device_event(req.validate_payload(nw.rename()))
    await delivery.accept(event)
    again = json.loads(json.dumps(event))
    again["nautobot"]["request_id"] = "22222222-2222-4222-8222-222222222222"  # another change of the device
    await delivery.accept(again, via="a test")
    await delivery.accept(json.loads(json.dumps(event)))  # the first change again (another source had it)
    assert [e["nautobot"]["readiness"]["ready"] for e in queued] == [True, True]
    assert [e["nautobot"]["burst"] for e in queued] == [False, True]
    assert "Accepted device updated access-switch-1: changed ['name'] (burst) (via a test)" in caplog.text
    assert "Already delivered by another source: device updated access-switch-1" in caplog.text
    await delivery.close()


async def test_pacers_sharing_slots_stay_within_the_rate_together():
    """The webhook and change-log sources of one rulebook share the hand-over slots: two pacers at 10
    a second hand over 10 a second together, not 20."""
    now = [0.0]
    handed = []

    async def sleep(seconds):
        now[0] += seconds

    async def put(event):
        handed.append((event, now[0]))

    slots = dl._Slots()
    first = dl.Pacer(10, put, clock=lambda: now[0], sleep=sleep, slots=slots)
    second = dl.Pacer(10, put, clock=lambda: now[0], sleep=sleep, slots=slots)
    for i in range(5):
        await first(f"a{i}")
        await second(f"b{i}")
    times = [t for _e, t in handed]
    assert len(handed) == 10 and all(b - a >= 0.1 - 1e-9 for a, b in zip(times, times[1:], strict=False))
    assert dl.Pacer(10, put).slots is dl.PROCESS_SLOTS
    assert dl.Pacer(10, put, clock=time.monotonic).slots is dl.PROCESS_SLOTS  # the change-log source's
