"""Management re-addressing: the deploy that moves a device, with the REAL napalm eos driver against the
in-process EOS simulator (lab/simulator: imported as it is, so a broken simulator fails here), which
answers on the address of its committed Management1 interface (``follow_management_address``)."""

from __future__ import annotations

import pytest

from ansible_collections.sotsync.nautobot.plugins.module_utils import messages
from ansible_collections.sotsync.nautobot.plugins.module_utils.deploy import deploy, make_driver
from ansible_collections.sotsync.nautobot.plugins.module_utils.errors import CommitFailed, CommitVerificationFailed
from lab.simulator import eos_sim
from tests.simulator.simhelpers import wait_until

USERNAME, PASSWORD = "netops", "sim-password-123"


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
    # Confirmed: no commit timer runs, and the simulator reverts only a commit whose timer still runs
    # (Device._timer_expired in lab/simulator/eos_sim.py), so nothing can revert it: no need to sit the
    # timer out.
    assert dev.pending_commit is None and dev.open_sessions == []
    assert dev.address == new and f"{new}/24" in dev.startup_config


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
