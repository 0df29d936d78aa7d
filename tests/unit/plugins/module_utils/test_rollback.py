"""Rollback points and the rollback: pure functions, then the REAL napalm eos driver against the
in-process EOS simulator (push with deploy(), record the point as the note does, roll back)."""

from __future__ import annotations


import pytest

from ansible_collections.sotsync.nautobot.plugins.module_utils import rollback as rb
from ansible_collections.sotsync.nautobot.plugins.module_utils.deploy import deploy, make_driver
from ansible_collections.sotsync.nautobot.plugins.module_utils.provision import (
    note_text,
    redact_config_secrets,
)

# The simulator (lab/simulator) is the checkout's, not shipped in the collection: skip where it is absent.
eos_sim = pytest.importorskip("lab.simulator.eos_sim", reason="the EOS simulator (lab/simulator/) is missing")

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


def test_fingerprint_ignores_comments_blank_lines_and_spacing():
    a = "! Command: show running-config\n! Time: Mon\nhostname a\n!\ninterface E1\n   description x\nend\n"
    b = "! Time: Tue\n\nhostname  a\ninterface E1\n description   x\n"
    assert rb.fingerprint(a) == rb.fingerprint(b)
    assert rb.fingerprint(a) != rb.fingerprint(a.replace("description x", "description y"))


def test_fingerprint_ignores_the_junos_commit_stamp_that_the_confirming_commit_rewrites():
    pushed = "## Last changed: 2026-12-07 10:07:16 UTC\nsystem {\n    host-name r1;\n}\n"
    confirmed = "## Last changed: 2026-12-07 10:07:19 UTC\nsystem {\n    host-name r1;\n}\n"
    assert rb.fingerprint(pushed) == rb.fingerprint(confirmed)
    assert rb.fingerprint(pushed) != rb.fingerprint(pushed.replace("r1", "r2"))


def test_the_point_is_read_back_from_the_note_it_is_written_in():
    note = note_text(
        "access1",
        "commit",
        "Configuration committed successfully",
        "manual",
        "regenerate",
        "-hostname a\n+hostname b",
        extra={
            "rollback point": rb.point_line("hostname a\n", "hostname b\n")[len(rb.MARK) :],
            "device restore point": RESTORE,
        },
        platform="eos",
    )
    notes = [
        {"id": "n1", "created": "2026-11-25T10:00:00Z", "note": "[info] dry run, no point"},
        {"id": "n2", "created": "2026-11-25T11:00:00Z", "note": "[success] " + note},
    ]
    point = rb.latest_point(notes)
    assert (point["note_id"], point["before"], point["after"]) == (
        "n2",
        rb.fingerprint("hostname a"),
        rb.fingerprint("hostname b"),
    )
    assert point["restore"] == RESTORE and point["diff"] == "-hostname a\n+hostname b"
    assert point["before_config"] is None and "Running configuration" not in note
    with pytest.raises(rb.NoRollbackPoint):
        rb.require_point(notes[:1], "access1")


def test_plan_refuses_a_device_changed_since_the_push():
    point = {"before": rb.fingerprint("a"), "after": rb.fingerprint("b"), "when": "T", "note_id": "n"}
    assert rb.plan(point, "b") == "rollback"
    assert rb.plan(point, "a") == "nothing"
    with pytest.raises(rb.RollbackRefused, match="changed since the push of T"):
        rb.plan(point, "c")


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


def test_reverse_diff_swaps_sides_and_keeps_secret_changes():
    diff = "\n".join(
        [
            "--- a",
            "+++ b",
            "@@ -1,3 +1,4 @@",
            " hostname x",
            "-ntp server 1",
            "+ntp server 2",
            "~snmp-server community <removed> ro  (secret changed)",
        ]
    )
    assert rb.reverse_diff(diff).splitlines() == [
        "--- b",
        "+++ a",
        "@@ -1,4 +1,3 @@",
        " hostname x",
        "+ntp server 1",
        "-ntp server 2",
        "~snmp-server community <removed> ro  (secret changed)",
    ]


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
