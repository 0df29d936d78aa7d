# -*- coding: utf-8 -*-
# Copyright: sotsync team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How accepted device events reach the rulebook over time: burst marking, coalescing, pacing.

- ``BurstMarker``: a lone change (``burst: false``) or one of a burst (``true``), by arrival time;
- ``Coalescer`` / ``merge_events``: a device's events within a quiet period -> one event;
- ``Pacer``: at most N events a second handed over, in order;
- ``Delivery``: the chain the source runs for each accepted event (readiness, burst, log, coalesce,
  pace, queue).

Time is injected (``clock``, ``sleep``): the unit tests run on a fake clock.
"""

from __future__ import annotations

import asyncio
import logging
import time

from ansible_collections.sotsync.nautobot.plugins.plugin_utils import delivered
from ansible_collections.sotsync.nautobot.plugins.plugin_utils.device_event import (
    add_readiness,
    describe,
    field_objects,
    is_plan_event,
    ordered_union,
)

logger = logging.getLogger(__name__)


class BurstMarker:
    """Tells a lone change from one of a burst, by arrival time.

    ``mark(event)`` sets ``event["nautobot"]["burst"]``: ``False`` when no other event arrived in the
    ``quiet`` seconds before it (a lone change: the rulebook provisions it at once), ``True`` otherwise
    (the rulebook gathers such events into one batch). ``quiet <= 0`` marks every event lone.
    """

    def __init__(self, quiet, clock=None):
        self.quiet = float(quiet)
        self.clock = clock or time.monotonic
        self.last = None

    def mark(self, event):
        if is_plan_event(event):
            return event  # a config plan's status is not a device change: never batched, never a burst
        now = self.clock()
        burst = self.quiet > 0 and self.last is not None and now - self.last < self.quiet
        self.last = now
        event["nautobot"]["burst"] = bool(burst) or bool(event["nautobot"].get("burst"))
        return event


class _Slots:
    """When the next event may be handed over (shared by the pacers that use it)."""

    def __init__(self):
        self.next_at = 0.0


PROCESS_SLOTS = _Slots()


class Pacer:
    """Hands events over in order, at most ``rate`` a second (``rate <= 0``: at once).

    ansible-rulebook delivers a throttle window's events to Python in one message, which drools_jpy
    0.4.1 reads with a single ``read()``: a message over 64 KiB breaks that channel for good and every
    later window is lost. Pacing bounds how many events a 5-second window can hold.
    """

    def __init__(self, rate, put, clock=None, sleep=None, slots=None):
        """``slots`` holds ``next_at``, the earliest time of the next hand-over. Pacers on the real clock
        share one per process (``PROCESS_SLOTS``): the webhook and change-log sources of one rulebook
        feed the same throttle window, so together they stay within ``rate``."""
        self.interval = 1.0 / rate if rate and rate > 0 else 0.0
        self.put = put
        self.clock = clock or time.monotonic
        self.sleep = sleep or asyncio.sleep
        if slots is None:
            slots = PROCESS_SLOTS if clock in (None, time.monotonic) else _Slots()
        self.slots = slots
        self._lock = asyncio.Lock()

    async def __call__(self, event):
        if not self.interval:
            await self.put(event)
            return
        async with self._lock:  # FIFO: events keep their order
            now = self.clock()
            at = max(now, self.slots.next_at)
            self.slots.next_at = at + self.interval  # reserved before sleeping: other pacers queue behind
            if at > now:
                await self.sleep(at - now)
            await self.put(event)


def merge_events(first, later):
    """Two events for one device -> one: union of changed fields (order kept), the later data.

    The action is ``deleted`` if the later event deletes, else ``created`` if either created.
    """
    a, b = first["nautobot"], later["nautobot"]
    merged_nb = dict(b)
    merged_nb["changed_fields"] = ordered_union(a.get("changed_fields") or [], b.get("changed_fields") or [])
    merged_nb["changes"] = field_objects(merged_nb["changed_fields"])
    if b["action"] == "deleted":
        merged_nb["action"] = "deleted"
    elif "created" in (a["action"], b["action"]):
        merged_nb["action"] = "created"
    else:
        merged_nb["action"] = b["action"]
    merged_nb["events_coalesced"] = int(a.get("events_coalesced") or 1) + int(b.get("events_coalesced") or 1)
    merged_nb["burst"] = not is_plan_event(later)  # several device events: not a lone change
    merged = dict(later)
    merged["nautobot"] = merged_nb
    return merged


class Coalescer:
    """Merges a burst of events for one device into one event.

    A device's events are held until ``window`` seconds pass with no new event for it (a burst such
    as create device, add interface, add IP, set primary IP ends as one event on the latest state),
    but never longer than ``max_hold`` seconds after the first (default ``5 * window``), so a device
    that changes without pause is still provisioned. ``emit`` is a coroutine function that receives
    the merged event. ``window <= 0`` passes events straight through.

    ``flush_due()`` emits what is due at ``clock()``; ``run()`` (one task) calls it on time.
    """

    def __init__(self, window, emit, log=None, max_hold=None, clock=None, sleep=None):
        self.window = float(window)
        self.max_hold = float(max_hold) if max_hold is not None else 5 * self.window
        self.emit = emit
        self.log = log or logger
        self.clock = clock or time.monotonic
        self.sleep = sleep or asyncio.sleep
        self._pending = {}  # object_id -> [event, first_seen, last_seen]
        self._added = asyncio.Event()

    @property
    def pending(self):
        return len(self._pending)

    async def add(self, event):
        if self.window <= 0:
            await self.emit(event)
            return
        key = event["nautobot"]["object_id"]
        now = self.clock()
        entry = self._pending.get(key)
        if entry is None:
            self._pending[key] = [event, now, now]
            self._added.set()
            return
        entry[0] = merge_events(entry[0], event)
        entry[2] = now
        self.log.info(
            "Coalescing %s into the pending event (%d events so far, quiet period %.1f s)",
            describe(event),
            entry[0]["nautobot"]["events_coalesced"],
            self.window,
        )

    def due_at(self, key):
        _event, first, last = self._pending[key]
        return min(last + self.window, first + self.max_hold)

    def next_due(self):
        """When the next pending event is due, or None."""
        return min((self.due_at(key) for key in self._pending), default=None)

    async def flush_due(self):
        """Emit every pending event that is due now; return how many."""
        now = self.clock()
        due = [key for key in self._pending if self.due_at(key) <= now]
        for key in due:
            event = self._pending.pop(key)[0]
            count = event["nautobot"]["events_coalesced"]
            if count > 1:
                self.log.info("Coalesced %d events into one: %s", count, describe(event))
            try:
                await self.emit(event)
            except Exception:  # noqa: BLE001 - one failed hand-over must not stop the others
                self.log.exception("Could not queue the event for %s", event["nautobot"].get("object_name"))
        return len(due)

    async def run(self):
        """Flush events when they are due, until cancelled. A new device's event is never due before
        the ones already pending, so sleeping until the earliest due time is enough."""
        while True:
            due = self.next_due()
            if due is None:
                self._added.clear()
                await self._added.wait()
                continue
            delay = due - self.clock()
            if delay > 0:
                await self.sleep(delay)
            await self.flush_due()

    def close(self):
        """Forget the events still waiting and return them (they are not emitted)."""
        dropped = [entry[0] for entry in self._pending.values()]
        self._pending.clear()
        return dropped


class Delivery:
    """What happens to each accepted device event, in order: the readiness verdict, the burst mark, an
    ``Accepted`` log line, coalescing, pacing, ``put`` (the rulebook's queue)."""

    def __init__(
        self, put, ready_statuses, lone_event_seconds, coalesce_seconds, max_events_per_second, log=None, registry=None
    ):
        """``registry``: the changes already delivered in this process (default: the one the change-log
        source shares, ``delivered.REGISTRY``); a change it has seen is not delivered again."""
        self.put = put
        self.registry = registry if registry is not None else delivered.REGISTRY
        self.ready_statuses = ready_statuses
        self.log = log or logger
        self.pacer = Pacer(max_events_per_second, put)
        self.bursts = BurstMarker(lone_event_seconds)
        self.coalescer = Coalescer(coalesce_seconds, self._paced, self.log)
        self._paced_tasks = set()
        self._timer = None

    def start(self):
        if self.coalescer.window > 0 and self._timer is None:
            self._timer = asyncio.create_task(self.coalescer.run())

    async def _paced(self, event):
        """Hand the event to the pacer without holding up the HTTP answer."""
        if self.pacer.interval:
            task = asyncio.create_task(self.pacer(event))
            self._paced_tasks.add(task)
            task.add_done_callback(self._paced_tasks.discard)
        else:
            await self.put(event)

    async def accept(self, event, via=None):
        if not self.registry.first_delivery(delivered.event_key(event)):
            # The change-log source (same process, same registry) delivered this change already.
            self.log.info(
                "Already delivered by another source: %s (request %s)", describe(event), event["nautobot"]["request_id"]
            )
            return
        add_readiness(event, self.ready_statuses)
        self.bursts.mark(event)
        self.log.info(
            "Accepted %s%s%s",
            describe(event),
            " (burst)" if event["nautobot"]["burst"] else "",
            f" (via {via})" if via else "",
        )
        await self.coalescer.add(event)

    async def close(self):
        if self._paced_tasks:
            self.log.warning("Stopping: %d paced event(s) were not queued", len(self._paced_tasks))
        tasks = list(self._paced_tasks) + ([self._timer] if self._timer else [])
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        dropped = self.coalescer.close()
        if dropped:
            self.log.warning(
                "Stopping: %d event(s) still in their coalescing window were not queued: %s",
                len(dropped),
                ", ".join(describe(e) for e in dropped),
            )
