"""Rollback points: pure functions (the rollback itself, with the REAL napalm eos driver against the
EOS simulator, is tests/simulator/test_rollback_eos.py)."""

from __future__ import annotations

import pytest

from ansible_collections.sotsync.nautobot.plugins.module_utils import rollback as rb
from ansible_collections.sotsync.nautobot.plugins.module_utils.provision import note_text

RESTORE = "flash:rollback-0 (the startup-config copied before the commit)"


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


def test_fingerprint_ignores_the_line_napalms_ios_driver_keeps_for_its_session_only():
    # read within the push's session (verification) and after it closed (a rollback's check)
    in_session = "hostname r1\n!\nfile prompt quiet\n!\nvlan 20\n name servers\n"
    after_close = "hostname r1\n!\nvlan 20\n name servers\n"
    assert rb.fingerprint(in_session) == rb.fingerprint(after_close)
    assert rb.fingerprint(in_session) != rb.fingerprint(after_close.replace("vlan 20", "vlan 30"))


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
