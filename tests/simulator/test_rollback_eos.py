"""The rollback with the REAL napalm eos driver against the in-process EOS simulator (lab/simulator:
imported as it is, so a broken simulator fails here): push with deploy(), record the point as the note
does, roll back. The pure functions are tested in tests/unit (test_rollback.py)."""

from __future__ import annotations

import pytest

from ansible_collections.sotsync.nautobot.plugins.module_utils import rollback as rb
from ansible_collections.sotsync.nautobot.plugins.module_utils.deploy import deploy, make_driver
from ansible_collections.sotsync.nautobot.plugins.module_utils.provision import (
    note_text,
    redact_config_secrets,
)
from lab.simulator import eos_sim

USERNAME, PASSWORD = "netops", "sim-password-123"
RESTORE = "flash:rollback-0 (the startup-config copied before the commit)"


def legacy_before_section(before_masked):
    """The section notes of earlier versions ended with: the configuration before the push (masked)."""
    body = "\n".join(rb.config_lines(before_masked))
    return rb.BEFORE_TITLE + f" (secrets masked)\n\n```text\n{body}\n```"


START = """hostname access1
username admin privilege 15 role network-admin secret sha512 $6$topsecret
!
interface Ethernet1
   description uplink
!
end
"""
INTENT = """hostname access-switch-1
!
interface Ethernet1
   description uplink to dist1
!
vlan 10
   name users
!
end
"""


@pytest.fixture
def pushed():
    """A device pushed live once by deploy(); its rollback point as the note records it."""
    simulator = eos_sim.EosSimulator(username=USERNAME, password=PASSWORD)
    dev = simulator.add_device("rb", "127.0.0.1", 0, START)
    simulator.start()

    def driver():
        return make_driver("eos", "127.0.0.1", USERNAME, PASSWORD, 5, {"transport": "http", "port": dev.port})

    result = deploy(driver(), INTENT, dry_run=False, commit_confirm_seconds=30, host="127.0.0.1")
    assert result.committed and result.verified
    note = "[success] " + note_text(
        "rb",
        "commit",
        result.msg,
        "manual",
        "regenerate",
        result.diff,
        extra={
            "rollback point": rb.point_line(result.before_running, result.after_running)[len(rb.MARK) :],
            "device restore point": RESTORE,
        },
        platform="eos",
    )
    point = rb.latest_point([{"id": "n1", "created": "2026-11-25T12:00:00Z", "note": note}])
    yield dev, driver, point
    simulator.stop()


def test_dry_run_shows_the_push_undone_and_changes_nothing(pushed):
    dev, driver, point = pushed
    before = dev.running_config
    result = rb.rollback(driver(), point, True, platform="eos", host="127.0.0.1")
    assert result["changed"] and not result["committed"] and result["msg"].startswith("DRY RUN")
    assert RESTORE in result["msg"] and point["before"] in result["msg"] and point["after"] in result["msg"]
    assert result["restore_point"] == RESTORE
    diff = result["config_diff"].splitlines()
    assert "-hostname access-switch-1" in diff and "+hostname access1" in diff and "-vlan 10" in diff
    assert "$6$topsecret" not in result["config_diff"]
    assert dev.running_config == before


def test_dry_run_from_a_note_of_an_earlier_version_diffs_against_its_copy(pushed):
    """Notes written before the copy was dropped: no diff section needed, the kept copy (masked) is used."""
    dev, driver, point = pushed
    legacy = dict(point, diff=None, before_config=rb.config_lines(redact_config_secrets(START, "eos")))
    legacy["before_config"] = "\n".join(legacy["before_config"])
    result = rb.rollback(driver(), legacy, True, redact_config_secrets, host="127.0.0.1")
    diff = result["config_diff"].splitlines()
    assert "-hostname access-switch-1" in diff and "+hostname access1" in diff
    assert "$6$topsecret" not in result["config_diff"]
    section = legacy_before_section(redact_config_secrets(START))
    parsed = rb.parse_point(
        f"[success] pushed\n- rollback point: before {point['before']}, after {point['after']}\n\n{section}"
    )
    assert "hostname access1" in parsed["before_config"] and "$6$topsecret" not in parsed["before_config"]


def test_dry_run_without_diff_or_copy_names_the_restore_point(pushed):
    _dev, driver, point = pushed
    bare = dict(point, diff=None, before_config=None)
    result = rb.rollback(driver(), bare, True, platform="eos", host="127.0.0.1")
    assert result["changed"] and result["config_diff"] == "" and RESTORE in result["msg"]


def test_live_rollback_restores_and_verifies_then_there_is_nothing_left(pushed):
    dev, driver, point = pushed
    result = rb.rollback(driver(), point, False, redact_config_secrets, host="127.0.0.1")
    assert (result["committed"], result["verified"]) == (True, True)
    assert rb.fingerprint(dev.running_config) == rb.fingerprint(START)
    assert "secret sha512 $6$topsecret" in dev.running_config  # the real secret is back, from the device
    again = rb.rollback(driver(), point, False, redact_config_secrets, host="127.0.0.1")
    assert (again["changed"], again["committed"]) == (False, False) and again["msg"].startswith("Nothing to roll back")


def test_rollback_refused_when_something_else_changed_the_device(pushed):
    dev, driver, point = pushed
    other = driver()
    other.open()
    other.load_merge_candidate(config="ntp server 10.9.9.9\n")
    other.commit_config()
    other.close()
    changed = dev.running_config
    with pytest.raises(rb.RollbackRefused):
        rb.rollback(driver(), point, False, redact_config_secrets, host="127.0.0.1")
    assert dev.running_config == changed
