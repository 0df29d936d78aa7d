"""Management re-addressing: where a device answers (object-change records) and the deploy that
moves it, with the REAL napalm eos driver against the in-process simulator, which answers on the
address of its committed Management1 interface (``follow_management_address``)."""

from __future__ import annotations

import time

import pytest

from ansible_collections.sotsync.nautobot.plugins.module_utils import messages
from ansible_collections.sotsync.nautobot.plugins.module_utils.deploy import deploy, make_driver
from ansible_collections.sotsync.nautobot.plugins.module_utils.errors import CommitFailed, CommitVerificationFailed
from ansible_collections.sotsync.nautobot.plugins.module_utils.readdress import previous_hosts

# The simulator (lab/simulator) is the checkout's, not shipped in the collection: skip where it is absent.
eos_sim = pytest.importorskip("lab.simulator.eos_sim", reason="the EOS simulator (lab/simulator/) is missing")

USERNAME, PASSWORD = "netops", "sim-password-123"


def device_change(time_, host):
    primary = {"id": "ip-" + host, "host": host, "address": host + "/24"} if host else None
    return {"time": time_, "changed_object_type": "dcim.device", "object_data_v2": {"primary_ip4": primary}}


def ip_change(time_, host):
    return {"time": time_, "changed_object_type": "ipam.ipaddress", "object_data_v2": {"host": host}}


def test_previous_hosts_newest_first_without_the_current_one_or_repeats():
    changes = [
        device_change("2026-11-25T10:00:00Z", "10.0.0.1"),
        device_change("2026-11-25T12:00:00.5Z", "10.0.0.3"),  # newest: the current primary
        device_change("2026-11-25T11:00:00+00:00", "10.0.0.2"),
        device_change("2026-11-25T11:30:00+01:00", "10.0.0.1"),  # 10:30 UTC: compared as a time
        device_change("2026-11-25T09:00:00Z", None),
    ]
    assert previous_hosts(changes, "10.0.0.3") == ["10.0.0.2", "10.0.0.1"]
    assert previous_hosts(changes, "10.0.0.3", limit=1) == ["10.0.0.2"]


def test_previous_hosts_from_an_address_edited_in_place():
    changes = [
        ip_change("2026-11-25T12:00:00Z", "10.9.0.2"),
        ip_change("2026-11-25T11:00:00Z", "10.9.0.1"),
        {"time": "2026-11-25T13:00:00Z", "changed_object_type": "dcim.interface", "object_data_v2": {}},
    ]
    assert previous_hosts(changes, "10.9.0.2") == ["10.9.0.1"]
    assert previous_hosts([], "10.9.0.2") == []


START = """hostname mover
!
interface Management1
   ip address {old}/24
!
end
"""
INTENT = """hostname mover
!
interface Management1
   ip address {new}/24
!
end
"""


@pytest.fixture
def sim():
    simulator = eos_sim.EosSimulator(username=USERNAME, password=PASSWORD, follow_management_address=True)
    simulator.start()
    yield simulator
    simulator.stop()


def at(dev, host):
    return make_driver("eos", host, USERNAME, PASSWORD, 2, {"transport": "http", "port": dev.port})


def wait_until(predicate, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not predicate():
        time.sleep(0.05)
    return predicate()


def test_live_move_is_verified_and_confirmed_at_the_new_address(sim):
    old, new = "127.0.2.41", "127.0.2.42"
    dev = sim.add_device("mover", old, 0, START.format(old=old))
    result = deploy(
        at(dev, old),
        INTENT.format(new=new),
        dry_run=False,
        commit_confirm_seconds=6,
        host=old,
        moved_to=new,
        reconnect=lambda: at(dev, new),
    )
    assert (result.msg, result.committed, result.verified) == (messages.COMMITTED, True, True)
    assert f"+   ip address {new}/24" in result.diff.splitlines()
    assert any("moved to its new management address" in w for w in result.warnings)
    time.sleep(6.5)  # past the timer: confirmed, so nothing reverts
    assert dev.address == new and f"{new}/24" in dev.startup_config
    assert dev.pending_commit is None and dev.open_sessions == []


def test_a_move_to_an_address_the_device_does_not_answer_at_reverts_by_itself(sim):
    old, new, wrong = "127.0.2.51", "127.0.2.52", "127.0.2.59"
    dev = sim.add_device("lost", old, 0, START.format(old=old))
    with pytest.raises(CommitVerificationFailed) as info:
        deploy(
            at(dev, old),
            INTENT.format(new=new),
            dry_run=False,
            commit_confirm_seconds=3,
            host=old,
            moved_to=wrong,  # Nautobot says .59, the intent says .52: the device goes where the intent says
            reconnect=lambda: at(dev, wrong),
        )
    assert info.value.details["rolled_back"] == "timer"
    assert f"does not answer at its new management address {wrong}" in info.value.message
    assert wait_until(lambda: dev.address == old, timeout=6), dev.address
    assert f"{old}/24" in dev.running_config


def test_no_move_without_commit_confirm(sim):
    old, new = "127.0.2.61", "127.0.2.62"
    dev = sim.add_device("noconfirm", old, 0, START.format(old=old))
    with pytest.raises(CommitFailed, match="without commit-confirm"):
        deploy(
            at(dev, old),
            INTENT.format(new=new),
            dry_run=False,
            commit_confirm_seconds=0,
            host=old,
            moved_to=new,
            reconnect=lambda: at(dev, new),
        )
    assert dev.address == old and f"{old}/24" in dev.running_config and dev.open_sessions == []
