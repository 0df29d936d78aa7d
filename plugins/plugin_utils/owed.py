# -*- coding: utf-8 -*-
# Copyright: sotsync team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The event sources' side of the ledger (``module_utils/ledger.py``): record each device event handed to the
rulebook, and hand over again what is still owed (a run cut by a stop, a failure a retry can fix).

One ``Keeper`` per daemon process, bound by the webhook source to its ledger file (``bind``); the change-log
source's hand-overs go through it too (``record``: kept until it is bound). The keeper exports the file's
path to the runs the daemon starts (``SOTSYNC_LEDGER``), which write their claims and outcomes in it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time

from ansible_collections.sotsync.nautobot.plugins.module_utils import ledger, lifeline

LOGGER = logging.getLogger("sotsync.nautobot.ledger")
POLL_SECONDS = 2.0
WAITING = 1000  # hand-overs kept until the ledger is bound (the change-log source may start first)


def default_path(port, environ=None):
    """``$XDG_STATE_HOME/sotsync.nautobot/ledger-<port>.jsonl`` (``~/.local/state`` by default): one per daemon
    (its webhook port)."""
    environ = os.environ if environ is None else environ
    state = environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return os.path.join(state, "sotsync.nautobot", f"ledger-{port}.jsonl")


def _alive(run):
    token = lifeline.parse_token(run)
    return token is not None and lifeline.alive(token)


class Keeper:
    """Records hand-overs in the ledger and hands over again what is owed (``check``, every ``POLL_SECONDS``)."""

    def __init__(self, clock=time.time, alive=_alive, log=LOGGER):
        self.clock = clock
        self.alive = alive
        self.log = log
        self.ledger = None
        self.daemon = None
        self.limits = {}
        self.waiting = []  # hand-overs recorded before the ledger was bound
        self.announced = {}  # device id -> the last verdict said, so that each is said once
        self.compacted = 0.0

    @property
    def bound(self):
        return self.ledger is not None

    def bind(
        self,
        path,
        daemon,
        settle_seconds=ledger.DEFAULT_SETTLE_SECONDS,
        max_attempts=ledger.DEFAULT_MAX_ATTEMPTS,
        retry_first=ledger.DEFAULT_RETRY_FIRST_SECONDS,
        retry_max=ledger.DEFAULT_RETRY_MAX_SECONDS,
        environ=None,
    ):
        """Keep the ledger at ``path`` for the daemon ``daemon`` (its token); export it to the runs."""
        self.ledger = ledger.Ledger(path)
        self.daemon = daemon
        self.limits = {
            "settle_seconds": settle_seconds,
            "max_attempts": max_attempts,
            "retry_first": retry_first,
            "retry_max": retry_max,
        }
        (os.environ if environ is None else environ)[ledger.ENV] = path
        waiting, self.waiting = self.waiting, []
        self.record(waiting)
        owed = ledger.owed_devices(self.ledger.read())
        self.log.info(
            "Ledger %s: %d device(s) owed a run from before this start%s",
            path,
            len(owed),
            "" if not owed else ": " + ", ".join(sorted(str(s.entry.get("name") or d) for d, s in owed.items())[:20]),
        )

    def record(self, events):
        """Write an ``owed`` line for each device event a run may follow (before it is handed over)."""
        events = [e for e in events if ledger.provisioning_event(e)]
        if not events:
            return
        if not self.bound:  # the webhook source binds it at its start; without it, none is kept
            self.waiting = (self.waiting + events)[-WAITING:]
            return
        now = self.clock()
        self.ledger.append([ledger.owed_entry(event, self.daemon, now) for event in events])
        for event in events:
            self.announced.pop(str(event["nautobot"]["object_id"]), None)

    def recording(self, put):
        """``put`` that records each event first: a stop between the two hands it over again after a restart."""

        async def put_recorded(event):
            if ledger.provisioning_event(event):
                await asyncio.to_thread(self.record, [event])  # its fsync off the event loop, before the put
            await put(event)

        return put_recorded

    def check(self, now=None):
        """The events to hand over again now, ``[(event, why, attempt)]`` (their ``owed`` lines written); logs each
        hand-over again, and each waiting retry and each give-up once."""
        if not self.bound:
            return []
        now = self.clock() if now is None else now
        again, finished = [], 0
        entries = self.ledger.read()
        owed_now = ledger.owed_devices(entries)
        for device_id, state in owed_now.items():
            verdict = ledger.verdict(state, now, self.daemon, self.alive, **self.limits)
            name = state.entry.get("name") or device_id
            if verdict.action == "again":
                event = dict(state.entry.get("event") or {})
                nautobot = dict(event.get("nautobot") or {})
                nautobot["burst"] = True  # handed over with the others due now, in one run
                nautobot["replay"] = {"attempt": state.attempt + 1, "why": verdict.why}
                event["nautobot"] = nautobot
                again.append((event, verdict.why, state.attempt + 1))
                self.log.warning("Device %s is owed a run: %s; handing it over again", name, verdict.why)
            elif verdict.action == "give_up":
                finished += 1
                if self.announced.get(device_id) != "give_up":
                    self.log.error(
                        "Device %s: %s: given up; provision it by hand (ansible-playbook "
                        "sotsync.nautobot.provision_device -e device=%s)",
                        name,
                        verdict.why,
                        name,
                    )
                    self.announced[device_id] = "give_up"
            elif verdict.action == "settled":
                finished += 1
            elif state.done is not None and self.announced.get(device_id) != ("retry", state.attempt):
                self.log.warning("Device %s: its run failed; %s", name, verdict.why)  # a retry waits: said once
                self.announced[device_id] = ("retry", state.attempt)
        if again:
            self.ledger.append(
                [ledger.owed_entry(event, self.daemon, now, attempt, why) for event, why, attempt in again]
            )
        # rewritten once things settle, or once it holds many more lines than devices owed (a device changed
        # again and again, each change a line): it stays bounded by the devices owed, not by the changes
        crowded = len(entries) > max(ledger.COMPACT_LINES, 4 * len(owed_now))
        if (finished or crowded) and (now - self.compacted > 60 or finished > ledger.COMPACT_LINES):
            self.compact(now)
        return again

    def compact(self, now=None):
        """Rewrite the ledger with what is still owed."""
        now = self.clock() if now is None else now
        self.ledger.rewrite(lambda entries: ledger.still_owed(entries, self.daemon, self.alive, now, **self.limits))
        self.compacted = now

    async def run(self, put, poll=POLL_SECONDS, sleep=asyncio.sleep):
        """Every ``poll`` seconds, hand over again what is owed (``check``) with ``put``."""
        while True:
            try:
                for event, _why, _attempt in await asyncio.to_thread(self.check):
                    await put(event)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - the ledger must never end the source
                self.log.exception("Ledger check failed; trying again in %s s", poll)
            await sleep(poll)


KEEPER = Keeper()
