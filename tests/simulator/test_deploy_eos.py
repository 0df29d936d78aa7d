"""The deploy flow with the REAL napalm ``eos`` driver against the in-process EOS eAPI simulator
(lab/simulator: imported as it is, so a broken simulator fails here instead of skipping).

No Nautobot here: the intended configuration is passed directly. Each test gets its own simulated
device on a free port, so tests are independent and fast (a NAPALM cycle takes milliseconds).
"""

from __future__ import annotations

import time

import pytest

from ansible_collections.sotsync.nautobot.plugins.module_utils import messages
from ansible_collections.sotsync.nautobot.plugins.module_utils.deploy import deploy, make_driver
from ansible_collections.sotsync.nautobot.plugins.module_utils.errors import (
    CommitVerificationFailed,
    ConfigRejected,
    DeviceAuthenticationFailed,
    DeviceUnreachable,
)

from lab.simulator import eos_sim
from tests.simulator.simhelpers import wait_until
from tests.support.net import free_port


USERNAME, PASSWORD = "netops", "sim-password-123"

START = """hostname access1
!
interface Management1
   description management
   ip address 127.0.1.11/24
!
vlan 10
   name users
!
"""
INTENT = """! intended configuration for access-switch-1 (rendered by Nautobot Golden Config)
hostname access-switch-1
ip domain-name site-a.lab.sotsync.test
!
interface Management1
   description management
   ip address 127.0.1.11/24
!
vlan 10
   name users
!
interface Ethernet1
   description uplink to distribution
   switchport mode trunk
!
end
"""


@pytest.fixture(scope="module")
def sim():
    simulator = eos_sim.EosSimulator(username=USERNAME, password=PASSWORD)
    simulator.start()
    yield simulator
    simulator.stop()


@pytest.fixture
def device(sim, request):
    name = "dev-" + request.node.name.replace("[", "-").replace("]", "")[:40]
    dev = sim.add_device(name, "127.0.0.1", 0, START)
    yield dev
    dev.set_faults(unresponsive=False, fail_after_commit=False)
    sim.remove_device(name)


def driver_for(dev, username=USERNAME, password=PASSWORD, timeout=5, port=None):
    return make_driver("eos", "127.0.0.1", username, password, timeout, {"transport": "http", "port": port or dev.port})


def test_dry_run_shows_the_diff_and_changes_nothing(device):
    before = device.running_config
    result = deploy(driver_for(device), INTENT, dry_run=True, host="127.0.0.1")
    assert result.msg == messages.DRY_RUN
    assert result.changed and not result.committed
    assert "-hostname access1" in result.diff.splitlines()
    assert "+hostname access-switch-1" in result.diff.splitlines()
    assert device.running_config == before
    assert device.open_sessions == [] and device.pending_commit is None


def test_live_commit_then_nothing_to_do(device):
    result = deploy(driver_for(device), INTENT, dry_run=False, commit_confirm_seconds=30, host="127.0.0.1")
    assert (result.msg, result.committed, result.commit_confirm, result.verified) == (
        messages.COMMITTED,
        True,
        True,
        True,
    )
    running = device.running_config
    assert "hostname access-switch-1" in running and "   switchport mode trunk" in running
    assert device.pending_commit is None and device.open_sessions == []
    assert "hostname access-switch-1" in device.startup_config  # confirm_commit wrote memory

    again = deploy(driver_for(device), INTENT, dry_run=False, host="127.0.0.1")
    assert (again.changed, again.committed, again.diff, again.msg) == (False, False, "", messages.NO_CHANGES)
    assert device.running_config == running


def test_live_commit_without_commit_confirm(device):
    result = deploy(driver_for(device), INTENT, dry_run=False, commit_confirm_seconds=0, host="127.0.0.1")
    assert result.committed and not result.commit_confirm and result.verified
    assert "hostname access-switch-1" in device.running_config


def test_rejected_line_is_named_and_nothing_is_applied(device):
    before = device.running_config
    bad = INTENT.replace("vlan 10\n", "frobnicate everything now\nvlan 10\n")
    with pytest.raises(ConfigRejected) as info:
        deploy(driver_for(device), bad, dry_run=False, host="127.0.0.1")
    assert info.value.details["line"] == "frobnicate everything now"
    assert "'frobnicate everything now'" in info.value.message
    assert device.running_config == before
    assert device.open_sessions == [] and device.pending_commit is None


def test_device_down_is_unreachable(device):
    with pytest.raises(DeviceUnreachable, match="is unreachable.*(refused|Errno 111)"):
        deploy(driver_for(device, port=free_port()), INTENT, dry_run=True, host="127.0.0.1")


def test_silent_device_times_out(device):
    device.set_faults(unresponsive=True)
    started = time.monotonic()
    with pytest.raises(DeviceUnreachable, match="timed out"):
        deploy(driver_for(device, timeout=1), INTENT, dry_run=True, host="127.0.0.1")
    assert time.monotonic() - started < 10


def test_wrong_credentials(device):
    with pytest.raises(DeviceAuthenticationFailed, match="refused the NAPALM credentials") as info:
        deploy(driver_for(device, password="wrong-password"), INTENT, dry_run=True, host="127.0.0.1")
    assert "wrong-password" not in info.value.message and PASSWORD not in info.value.message
    assert device.open_sessions == []


def test_device_silent_after_commit_is_reverted_by_its_timer(device):
    before = device.running_config
    device.set_faults(fail_after_commit=True)
    with pytest.raises(CommitVerificationFailed, match="commit-confirm timer reverts it") as info:
        deploy(driver_for(device, timeout=1), INTENT, dry_run=False, commit_confirm_seconds=2, host="127.0.0.1")
    assert info.value.details["rolled_back"] == "timer"
    assert "+hostname access-switch-1" in info.value.details["config_diff"]
    assert wait_until(lambda: device.pending_commit is None, timeout=10), device.pending_commit
    assert device.running_config == before  # the automatic revert
    assert device.unresponsive is False
    assert device.open_sessions == []
