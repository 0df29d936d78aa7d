"""Fakes for the provisioning logic's unit tests: a NAPALM-like driver and a Nautobot-like client.

They record what was called, so tests assert on behaviour (what reached the device) rather than on
how the code is written. No mock library: plain objects with the same methods.
"""

from __future__ import annotations

import pytest

INTENT = """! intended configuration for access1
hostname access1
!
interface Management1
   description management
   ip address 127.0.1.11/24
!
end
"""
RUNNING = INTENT.replace("hostname access1", "hostname old-name")
DIFF = "-hostname old-name\n+hostname access1"


class FakeDriver:
    """A NAPALM driver double: ``fail={"method": exc}`` raises from that method."""

    def __init__(self, diff=DIFF, running=RUNNING, fail=None, running_after_commit=None, fail_once=None):
        self.diff = diff
        self.running = running
        self.fail = dict(fail or {})
        self.fail_once = dict(fail_once or {})
        self.running_after_commit = running_after_commit
        self.calls: list[str] = []
        self.candidate = None
        self.pending = False
        self.revert_in = None

    def _enter(self, name):
        self.calls.append(name)
        if name in self.fail_once:
            raise self.fail_once.pop(name)
        if name in self.fail:
            raise self.fail[name]

    def open(self):
        self._enter("open")

    def load_merge_candidate(self, filename=None, config=None):
        self._enter("load_merge_candidate")
        self.candidate = config

    def compare_config(self):
        self._enter("compare_config")
        return self.diff

    def discard_config(self):
        self._enter("discard_config")
        self.candidate = None

    def commit_config(self, message="", revert_in=None):
        self._enter("commit_config" if revert_in is None else "commit_config(revert_in)")
        self.revert_in = revert_in
        self.pending = revert_in is not None
        self.running = self.running_after_commit if self.running_after_commit is not None else self.candidate
        self.candidate = None

    def has_pending_commit(self):
        self._enter("has_pending_commit")
        return self.pending

    def confirm_commit(self):
        self._enter("confirm_commit")
        self.pending = False

    def rollback(self):
        self._enter("rollback")
        self.pending = False
        self.running = RUNNING

    def get_config(self, retrieve="all", full=False, sanitized=False, format="text"):
        self._enter("get_config")
        return {"startup": "", "running": self.running, "candidate": ""}

    def close(self):
        self._enter("close")


class NoConfirmDriver(FakeDriver):
    """A driver without commit-confirm (no has_pending_commit / confirm_commit)."""

    has_pending_commit = None
    confirm_commit = None


class FakeNautobot:
    """The three calls the flow makes to Nautobot, with canned answers."""

    def __init__(self, device, render=(200, {"intended_config": INTENT}), stored=None, journal_error=None):
        self.device = device
        self.render = render
        self.stored = stored
        self.journal_error = journal_error
        self.calls: list[tuple] = []
        self.journal: list[dict] = []

    def get_device(self, ident):
        self.calls.append(("get_device", ident))
        return self.device

    def get_json(self, path, params=None):
        self.calls.append(("get_json", path, params))
        return self.stored if "golden-config/golden-config" in path else self.render

    def create_journal_entry(self, device_id, kind, comments):
        self.calls.append(("journal", kind))
        if self.journal_error:
            raise self.journal_error
        self.journal.append({"device_id": device_id, "kind": kind, "comments": comments})
        return f"journal-{len(self.journal)}"


def ready_device(**overrides):
    device = {
        "id": "0b0e6c0e-1111-4222-8333-444455556666",
        "name": "access1",
        "platform": {
            "name": "Arista EOS",
            "napalm_driver": "",
            "network_driver": "arista_eos",
            "network_driver_mappings": {"napalm": "eos", "netmiko": "arista_eos"},
        },
        "primary_ip4": {"address": "127.0.1.11/24"},
        "status": {"name": "Active"},
        "config_context": {"napalm": {"optional_args": {"transport": "http", "port": 9080}}},
    }
    device.update(overrides)
    return device


@pytest.fixture
def fakes():
    """The fake classes and data, as one namespace."""

    class Namespace:
        pass

    ns = Namespace()
    ns.FakeDriver = FakeDriver
    ns.NoConfirmDriver = NoConfirmDriver
    ns.FakeNautobot = FakeNautobot
    ns.ready_device = ready_device
    ns.INTENT = INTENT
    ns.RUNNING = RUNNING
    ns.DIFF = DIFF
    return ns
