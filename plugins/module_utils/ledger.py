# -*- coding: utf-8 -*-
# Copyright: sotsync team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The daemon's ledger: the devices owed a run, until a run that covered them ends and says so.

A change is done when its run ends, not when it is handed over. The event sources write an ``owed`` line
when they hand a device's event to the rulebook; a provisioning run the daemon started writes a ``claim``
line when it begins (its devices) and a ``done`` line per device when it ends (its outcome, and whether a
retry can fix a failure). The webhook source reads the ledger and, for each device still owed:

- a run ended with a failure a retry can fix (``TRANSIENT``: Nautobot or Golden Config unreachable or
  failing, the device unreachable or locked, a commit the device's timer reverted, a run stopped): the
  event is handed over again after a backoff, up to ``max_attempts`` tries; then it is given up, said
  once;
- its run ended without a result (stopped, killed: its process is gone), or it was handed over to a
  daemon that stopped before a run took it: handed over again at once (at least once: a run pushes the
  current intent, so a repeat shows "already as intended");
- no run took it within ``settle_seconds`` of this daemon's life: the rulebook decided not to run it (not
  relevant, auto-provision off, not ready): done.

One JSON object a line, appended under an exclusive lock (``<file>.lock``) and fsynced; rewritten
atomically (temporary file, fsync, rename, fsync of the folder) when it grows, keeping only what is still
owed. A person can read it: ``jq . <file>`` shows each device, when and why it is owed.
Plain Python, no Ansible import (the sources and the runs share it).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import time

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX
    fcntl = None

ENV = "SOTSYNC_LEDGER"
OWED, CLAIM, DONE = "owed", "claim", "done"
DEVICE_MODEL = "dcim.device"
# Failures a retry can fix: Nautobot or Golden Config unreachable or failing, the device unreachable or
# locked, a commit whose verification could not reach the device (its timer reverted it), a run stopped.
TRANSIENT = frozenset(
    [
        "nautobot_unreachable",
        "nautobot_error",
        "intent_unavailable",
        "render_failed",
        "device_unreachable",
        "device_locked",
        "commit_failed",
        "run_stopped",
        "run_failed",
    ]
)
DEFAULT_SETTLE_SECONDS = 900.0
DEFAULT_MAX_ATTEMPTS = 6
DEFAULT_RETRY_FIRST_SECONDS = 30.0
DEFAULT_RETRY_MAX_SECONDS = 600.0
COMPACT_LINES = 2000


def retryable(outcome):
    """Whether a device's outcome (a batch result) is a failure a retry can fix."""
    if not outcome.get("failed"):
        return False
    code = outcome.get("error")
    if code == "commit_verification_failed":
        # the device stopped answering after the commit: its commit-confirm timer reverts it
        return outcome.get("rolled_back") == "timer"
    return code in TRANSIENT


def backoff(attempt, first=DEFAULT_RETRY_FIRST_SECONDS, maximum=DEFAULT_RETRY_MAX_SECONDS):
    """Seconds to wait before try ``attempt + 1`` (``attempt`` tries made): first, twice that, ... at most maximum."""
    return min(float(maximum), float(first) * (2 ** max(0, int(attempt) - 1)))


class Ledger(object):
    """The ledger file: append lines (locked, fsynced), read them, rewrite it."""

    def __init__(self, path):
        self.path = path

    def _lock(self):
        handle = open(self.path + ".lock", "a")
        if fcntl is not None:
            fcntl.flock(handle, fcntl.LOCK_EX)
        return handle

    def append(self, entries):
        """Append ``entries`` (dicts), one line each, in one locked write and one fsync."""
        if not entries:
            return
        data = "".join(json.dumps(entry, sort_keys=True, separators=(",", ":")) + "\n" for entry in entries)
        folder = os.path.dirname(self.path)
        if folder and not os.path.isdir(folder):
            os.makedirs(folder, mode=0o700)
        lock = self._lock()
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, data.encode("utf-8"))
                os.fsync(fd)
            finally:
                os.close(fd)
        finally:
            lock.close()

    def read(self):
        """Every complete line, decoded, in order (a line being written, or not JSON, is left out)."""
        try:
            with open(self.path, "rb") as handle:
                data = handle.read()
        except (IOError, OSError):
            return []
        entries = []
        for line in data.split(b"\n")[:-1]:
            try:
                entry = json.loads(line.decode("utf-8"))
            except ValueError:
                continue
            if isinstance(entry, dict):
                entries.append(entry)
        return entries

    def rewrite(self, keep):
        """Replace the file by the entries ``keep(entries)`` returns, read and written under the lock."""
        lock = self._lock()
        try:
            entries = keep(self.read())
            temporary = self.path + ".tmp"
            data = "".join(json.dumps(e, sort_keys=True, separators=(",", ":")) + "\n" for e in entries)
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                os.write(fd, data.encode("utf-8"))
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(temporary, self.path)
            folder = os.open(os.path.dirname(os.path.abspath(self.path)), os.O_RDONLY)
            try:
                os.fsync(folder)
            finally:
                os.close(folder)
            return entries
        finally:
            lock.close()


# --- the runs' side -----------------------------------------------------------------------------------
def from_environment(environ=None):
    """The ledger of the daemon that started this run (``SOTSYNC_LEDGER``), or None (a run by hand)."""
    path = (os.environ if environ is None else environ).get(ENV)
    return Ledger(path) if path else None


def claim_entry(run, device_ids, now=None):
    return {"op": CLAIM, "run": run, "devices": [str(d) for d in device_ids], "at": now or time.time()}


def done_entries(run, outcomes, now=None, run_error=None, device_ids=()):
    """A ``done`` line per device of the run: from each outcome (a batch result), or, when the whole run failed
    (``run_error``, a ``ProvisionError``), for each of ``device_ids`` with its code."""
    now = now or time.time()
    entries = []
    if run_error is not None:
        code = getattr(run_error, "code", "run_failed")
        for device_id in device_ids:
            entries.append(
                {
                    "op": DONE,
                    "run": run,
                    "device": str(device_id),
                    "at": now,
                    "error": code,
                    "retry": code in TRANSIENT,
                    "msg": str(getattr(run_error, "message", run_error))[:300],
                }
            )
        return entries
    for outcome in outcomes:
        device_id = outcome.get("device_id")
        if not device_id:
            continue
        entries.append(
            {
                "op": DONE,
                "run": run,
                "device": str(device_id),
                "at": now,
                "error": outcome.get("error") if outcome.get("failed") else None,
                "retry": retryable(outcome),
                "msg": str(outcome.get("msg") or "")[:300],
            }
        )
    return entries


# --- the source's side: what is owed, and what to do about it -----------------------------------------
class Owed(object):
    """One device owed a run: its latest hand-over (``owed``), the runs that claimed it since (``claims``) and
    the ``done`` line of one of them, if any."""

    def __init__(self, entry):
        self.entry = entry
        self.claims = []
        self.done = None

    @property
    def attempt(self):
        return int(self.entry.get("attempt") or 1)


def owed_devices(entries):
    """``{device id: Owed}`` from the ledger's lines in order. A claim or a done line counts for a device only
    after its latest hand-over (a run that began before it did not see that change)."""
    owed = {}
    for entry in entries:
        op = entry.get("op")
        if op == OWED:
            owed[str(entry.get("device"))] = Owed(entry)
        elif op == CLAIM:
            for device_id in entry.get("devices") or []:
                state = owed.get(str(device_id))
                if state is not None:
                    state.claims.append(entry)
        elif op == DONE:
            state = owed.get(str(entry.get("device")))
            if state is not None and any(c.get("run") == entry.get("run") for c in state.claims):
                state.done = entry
    return owed


class Verdict(object):
    """What to do about one owed device: ``action`` is ``settled``, ``wait``, ``again`` (hand the event over
    again now) or ``give_up``; ``why`` says it; ``at`` is when a ``wait`` ends (None: when a run ends)."""

    def __init__(self, action, why, at=None):
        self.action = action
        self.why = why
        self.at = at

    def __repr__(self):
        return "Verdict(%r, %r, %r)" % (self.action, self.why, self.at)


def verdict(
    state,
    now,
    daemon,
    alive,
    settle_seconds=DEFAULT_SETTLE_SECONDS,
    max_attempts=DEFAULT_MAX_ATTEMPTS,
    retry_first=DEFAULT_RETRY_FIRST_SECONDS,
    retry_max=DEFAULT_RETRY_MAX_SECONDS,
):
    """The ``Verdict`` on one ``Owed`` device at ``now``. ``daemon``: this daemon's token; ``alive(run)``:
    whether the process a claim names still runs."""
    done = state.done
    if done is not None:
        if not done.get("retry"):
            return Verdict("settled", "its run ended: {0}".format(done.get("error") or "done"))
        reason = "{0}: {1}".format(done.get("error"), done.get("msg") or "")
        if state.attempt >= max_attempts:
            return Verdict("give_up", "still failing after {0} tries (last: {1})".format(state.attempt, reason))
        # a run stopped before the device began (the daemon stopping): again at once, after the restart
        pause = 0 if done.get("error") == "run_stopped" else backoff(state.attempt, retry_first, retry_max)
        due = float(done.get("at") or now) + pause
        if now < due:
            return Verdict("wait", "try {0} in {1:.0f} s ({2})".format(state.attempt + 1, due - now, reason), due)
        return Verdict("again", "try {0} of {1}: the last failed ({2})".format(state.attempt + 1, max_attempts, reason))
    if state.claims:
        if any(alive(claim.get("run")) for claim in state.claims):
            return Verdict("wait", "its run is in progress")
        if state.attempt >= max_attempts:
            return Verdict("give_up", "its runs ended without a result {0} times".format(state.attempt))
        return Verdict("again", "its run ended without a result (stopped or killed)")
    if state.entry.get("daemon") != daemon:
        return Verdict("again", "handed over to a daemon that stopped before a run took it")
    waited = now - float(state.entry.get("at") or now)
    if waited >= settle_seconds:
        return Verdict("settled", "no run took it within {0:.0f} s: the rulebook did not run it".format(settle_seconds))
    return Verdict(
        "wait", "handed over {0:.0f} s ago, no run yet".format(waited), float(state.entry.get("at")) + settle_seconds
    )


def owed_entry(event, daemon, now=None, attempt=1, why=None):
    """The line for a device event handed over to the rulebook (the event itself, to hand it over again)."""
    nautobot = event.get("nautobot") or {}
    entry = {
        "op": OWED,
        "device": str(nautobot.get("object_id")),
        "name": nautobot.get("object_name"),
        "action": nautobot.get("action"),
        "at": now or time.time(),
        "daemon": daemon,
        "attempt": int(attempt),
        "event": event,
    }
    if why:
        entry["why"] = why
    return entry


def provisioning_event(event):
    """Whether an event is one the ledger tracks: a device created or updated (a run may follow)."""
    nautobot = (event or {}).get("nautobot") if isinstance(event, dict) else None
    # every device event's model is the device's (docs/event.md); a config plan's is "configplan"
    return bool(nautobot) and nautobot.get("model") == DEVICE_MODEL and nautobot.get("action") in ("created", "updated")


def still_owed(entries, daemon, alive, now, **limits):
    """The lines to keep when the ledger is rewritten: each device still owed (not settled or given up) with its
    hand-over, the claims on it and its done line."""
    keep = []
    for device_id, state in owed_devices(entries).items():
        if verdict(state, now, daemon, alive, **limits).action in ("settled", "give_up"):
            continue
        keep.append(state.entry)
        for claim in state.claims:
            keep.append(dict(claim, devices=[device_id]))
        if state.done is not None:
            keep.append(state.done)
    return keep
