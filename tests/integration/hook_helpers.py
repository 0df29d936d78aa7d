"""Helpers for the lab tests that go through the real rulebook daemon (``lab/hookrun.py``): a window
on what the daemon printed, and a Nautobot change made and put back with its runs counted."""

from __future__ import annotations

import re

from lab import hookrun

RUN_SUMMARY = re.compile(r"^\d+ device\(s\): .* failed \(devices read in ", re.M)


class Window:
    """What the daemon printed from now on."""

    def __init__(self, daemon: hookrun.RulebookDaemon):
        self.daemon = daemon
        self.start = daemon.mark()

    def text(self) -> str:
        return self.daemon.text(self.start)

    def wait(self, needle: str, timeout: float = 60) -> str:
        return self.daemon.wait_for(lambda _: needle in self.text(), timeout, repr(needle))

    def runs(self) -> int:
        """Provisioning runs finished: each prints its summary line when its last device is done."""
        return len(RUN_SUMMARY.findall(self.text()))

    def wait_runs(self, n: int, timeout: float = 90) -> str:
        """Wait for ``n`` runs, then for the definite end: what ``runs()`` counts after is final."""
        self.daemon.wait_for(lambda _: self.runs() >= n, timeout, f"{n} provisioning run(s)")
        return self.settle()

    def settle(self) -> str:
        return self.daemon.settle(self.start)


def save(obj, data: dict) -> None:
    """PATCH ``data`` onto a record, read fresh first: pynautobot's Record.update() sends only what
    differs from the record as it was fetched, so restoring a field to its fetched value would send
    nothing."""
    obj.endpoint.get(obj.id).update(data)


def change_and_restore(
    daemon, obj, change: dict, restore: dict, expect_runs: int, decision: str, at_most: int | None = None
) -> str:
    """Apply ``change`` to a Nautobot record, wait for ``decision`` and ``expect_runs`` runs, check no
    more than ``at_most`` (default ``expect_runs``) come, then restore and wait for the restore's
    decision. Returns the change's output."""
    window = Window(daemon)
    save(obj, change)
    try:
        window.wait(decision)
        if expect_runs:
            window.wait_runs(expect_runs)
        else:
            window.settle()
        runs = window.runs()
        assert expect_runs <= runs <= (at_most or expect_runs), f"{runs} run(s):\n{window.text()[-4000:]}"
        return window.text()
    finally:
        after = Window(daemon)
        save(obj, restore)
        after.daemon.wait_for(lambda _: "Device " in after.text(), 60, "the restore's decision")
        after.settle()
