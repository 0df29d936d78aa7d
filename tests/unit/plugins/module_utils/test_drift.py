"""Unit tests of module_utils/drift.py: the lines a device has that its intent does not, by Golden Config
compliance feature (extra) and outside every feature (not covered), masked, and how they are reported."""

from __future__ import annotations

import pytest

from ansible_collections.sotsync.nautobot.plugins.module_utils import drift, platforms
from ansible_collections.sotsync.nautobot.plugins.module_utils.errors import NautobotError
from tests.unit.plugins.module_utils.conftest import INTENT

EOS = platforms.for_driver("eos")
JUNOS = platforms.for_driver("junos")
COMMUNITY = "s3cret-community"
RUNNING = (
    INTENT.replace("end\n", "")
    + "ip host drift-probe 192.0.2.77\n!\nsnmp-server community "
    + COMMUNITY
    + " ro\n!\ninterface Ethernet1\n   shutdown\n!\nend\n"
).replace("   description management\n", "   description management\n   mtu 9000\n")
RULES = [
    {"feature": {"name": "system"}, "config_type": "cli", "match_config": "hostname\nsnmp-server"},
    {"feature": {"name": "interfaces"}, "config_type": "cli", "match_config": "interface Management"},
    {"feature": {"name": "json-thing"}, "config_type": "json", "match_config": "ip"},
]


# --- Golden Config's compliance records -----------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "lines"),
    [
        (None, []),
        ("", []),
        ("interface Ethernet1\n   shutdown\n\n", ["interface Ethernet1", "   shutdown"]),  # CLI: text, indented
        (["root['ntp']['servers'][1]", {"k": 1}], ["root['ntp']['servers'][1]", '{"k": 1}']),  # JSON: paths
        ({"b": 1}, ["{", ' "b": 1', "}"]),
    ],
)
def test_config_lines_of_cli_text_and_json_paths(value, lines):
    assert drift.config_lines(value) == lines


def test_feature_findings_keep_the_lines_of_the_features_that_are_not_compliant_masked():
    rows = {
        "system": {
            "compliance": False,
            "ordered": False,
            "extra": f"ip host drift-probe 192.0.2.77\nsnmp-server community {COMMUNITY} ro",
            "missing": "",
            "remediation": f"no snmp-server community {COMMUNITY} ro",
        },
        "interfaces": {"compliance": True, "ordered": True, "extra": "", "missing": "", "remediation": ""},
    }
    found = drift.feature_findings(rows, "eos")
    assert found["interfaces"] == {"compliant": True, "ordered": True}
    assert found["system"]["extra"] == ["ip host drift-probe 192.0.2.77", "snmp-server community <removed> ro"]
    assert found["system"]["missing"] == []
    assert found["system"]["remediation"] == "no snmp-server community <removed> ro"  # kept for remediation plans
    assert COMMUNITY not in str(found)


# --- lines in no compliance feature ---------------------------------------------------------------------
def test_rule_sections_are_the_lines_of_each_cli_rules_match_config():
    assert drift.rule_sections(RULES) == [
        ("system", "hostname"),
        ("system", "snmp-server"),
        ("interfaces", "interface Management"),
    ]
    assert drift.rule_sections([{"feature": "f", "match_config": "ntp"}]) == [("f", "ntp")]  # cli by default


@pytest.mark.parametrize(
    ("path", "feature"),
    [
        (("hostname access1",), "system"),
        (("snmp-server community x ro",), "system"),
        (("interface Management1", "mtu 9000"), "interfaces"),  # a child is in its parent's section
        (("interface Ethernet1", "shutdown"), None),
        (("ip host drift-probe 192.0.2.77",), None),
        (("router bgp 65000", "interface Management1"), None),  # sections begin top-level lines only
    ],
)
def test_covering_cuts_as_golden_config_does(path, feature):
    assert drift.covering(path, drift.rule_sections(RULES)) == feature


def test_a_set_form_section_matches_the_set_form_of_a_line():
    sections = [("system", "set system"), ("snmp", "snmp")]
    assert drift.covering(("system", "host-name r1"), sections) == "system"
    assert drift.covering(("snmp", "community public"), sections) == "snmp"
    assert drift.covering(("interfaces", "ge-0/0/0", "mtu 9000"), sections) is None


def test_extra_paths_are_the_running_lines_not_in_the_intent_in_the_running_order():
    assert drift.extra_paths(EOS, INTENT, RUNNING) == [
        ("interface Management1", "mtu 9000"),
        ("ip host drift-probe 192.0.2.77",),
        (f"snmp-server community {COMMUNITY} ro",),
        ("interface Ethernet1",),
        ("interface Ethernet1", "shutdown"),
    ]
    assert drift.extra_paths(EOS, INTENT, INTENT) == []


def test_a_set_form_intent_is_compared_with_the_running_configuration_in_braces():
    running = "system {\n    host-name r1;\n    time-zone UTC;\n}\n"
    assert drift.extra_paths(JUNOS, "set system host-name r1\n", running) == [("system", "time-zone UTC")]


def test_not_covered_counts_the_extra_lines_in_no_feature_shows_the_first_masked():
    found = drift.not_covered(EOS, INTENT, RUNNING, RULES, "eos")
    assert found == {
        "count": 3,
        "lines": ["ip host drift-probe 192.0.2.77", "interface Ethernet1", "interface Ethernet1 > shutdown"],
        "more": 0,
    }
    everything = drift.not_covered(EOS, INTENT, RUNNING, [], "eos", shown=2)  # no rule: nothing is covered
    assert everything == {
        "count": 5,
        "lines": ["interface Management1 > mtu 9000", "ip host drift-probe 192.0.2.77"],
        "more": 3,
    }
    secret = drift.not_covered(EOS, INTENT, RUNNING, [], "eos")["lines"]
    assert "snmp-server community <removed> ro" in secret and COMMUNITY not in str(secret)


# --- one device's report ----------------------------------------------------------------------------
ROWS = {
    "system": {"compliance": False, "ordered": False, "extra": "ip host drift-probe 192.0.2.77", "missing": ""},
    "interfaces": {"compliance": True, "ordered": True, "extra": "", "missing": ""},
}


def test_a_checked_device_reports_its_extra_lines_by_feature_and_the_lines_in_no_feature():
    state = {"golden_config": "fresh", "checked_at": "2026-12-06T10:00:06Z", "job_results": ["j1"], "rows": ROWS}
    report = drift.device_drift(state, EOS, INTENT, RUNNING, RULES, "eos")
    assert report["golden_config"] == "fresh" and report["job_results"] == ["j1"]
    assert report["extra"] == {"system": ["ip host drift-probe 192.0.2.77"]}
    assert report["compliant"] is False and report["noncompliant_features"] == ["system"]
    assert report["not_covered"]["count"] == 3
    assert report["msg"] == (
        "Golden Config compliance (fresh): extra lines in system (1 line(s)); 3 line(s) not covered by any "
        "Golden Config compliance feature"
    )
    assert drift.findings(report)


def test_a_stored_compliance_says_its_age_and_a_clean_device_says_so():
    state = {
        "golden_config": "stored",
        "age_seconds": 240,
        "why_stored": "compliance_max_age 3600 s",
        "rows": {"interfaces": ROWS["interfaces"]},
    }
    report = drift.device_drift(state, EOS, INTENT, INTENT, RULES, "eos")
    assert report["extra"] == {} and report["not_covered"] == {"count": 0, "lines": [], "more": 0}
    assert report["msg"] == (
        "Golden Config compliance (stored, 240 s old (compliance_max_age 3600 s)): no extra lines in its 1 "
        "feature(s); no line outside the compliance features"
    )
    assert not drift.findings(report)


def test_a_device_golden_config_could_not_check_is_never_one_without_extra_lines():
    state = {"error": "Golden Config's job did not back up dev1", "job_results": ["j1"]}
    report = drift.device_drift(state, EOS, INTENT, INTENT, RULES, "eos")
    assert report["golden_config"] == "not checked" and "extra" not in report and "compliant" not in report
    assert report["msg"].startswith("Golden Config could NOT check it: Golden Config's job did not back up dev1")
    assert "no extra lines" not in report["msg"] and "no extra lines" not in drift.note_section(report)


@pytest.mark.parametrize(
    ("intent", "running", "rules", "why"),
    [
        (INTENT, None, RULES, "its running configuration was not read"),
        (INTENT, OSError(f"refused 'snmp-server community {COMMUNITY} ro'"), RULES, "could not be read: refused"),
        (None, RUNNING, RULES, "its intent is not known"),
        (
            INTENT,
            RUNNING,
            NautobotError("HTTP 500"),
            "Golden Config's compliance rules could not be read: HTTP 500",
        ),
    ],
)
def test_lines_in_no_feature_that_cannot_be_told_are_said_not_known(intent, running, rules, why):
    report = drift.device_drift({"golden_config": "fresh", "rows": ROWS}, EOS, intent, running, rules, "eos")
    assert why in report["not_covered"]["error"] and COMMUNITY not in str(report)
    assert "lines in no compliance feature not known" in report["msg"]


def test_printed_lines_and_the_note_show_the_lines_capped():
    state = {"golden_config": "fresh", "rows": {"system": dict(ROWS["system"], extra="\n".join(map(str, range(25))))}}
    report = drift.device_drift(state, EOS, INTENT, RUNNING, RULES, "eos")
    printed = drift.printed_lines("dev1", report, shown=3)
    assert printed[0] == "dev1: " + report["msg"]
    assert printed[1:5] == ["dev1:   extra [system] 0", "dev1:   extra [system] 1", "dev1:   extra [system] 2"] + [
        "dev1:   extra [system] ... 22 more line(s)"
    ]
    assert "dev1:   not covered: ip host drift-probe 192.0.2.77" in printed
    note = drift.note_section(report, shown=3)
    assert note.startswith("**Beyond the merge**: the lines the device has that its intent does not. Extra lines are")
    assert "- extra lines in `system` (25 line(s)):" in note and "... 22 more line(s)" in note
    assert "- not covered by any Golden Config compliance feature (3 line(s)):" in note
    assert "interface Ethernet1 > shutdown" in note


# --- the run's summary -------------------------------------------------------------------------------
def test_summary_says_which_is_which():
    fresh = drift.device_drift({"golden_config": "fresh", "rows": ROWS}, EOS, INTENT, RUNNING, RULES, "eos")
    stored = drift.device_drift(
        {"golden_config": "stored", "age_seconds": 60, "rows": {"interfaces": ROWS["interfaces"]}},
        EOS,
        INTENT,
        INTENT,
        RULES,
        "eos",
    )
    failed_job = drift.device_drift({"error": "its job failed", "job_results": ["j1"]}, EOS, INTENT, INTENT, RULES)
    unread = drift.device_drift({"golden_config": "fresh", "rows": ROWS}, EOS, INTENT, None, RULES, "eos")
    results = [
        {"device": "a", "drift": fresh},
        {"device": "b", "drift": stored},
        {"device": "c", "drift": failed_job},
        {"device": "d", "drift": unread},
        {"device": "e"},  # not compared (failed or skipped)
    ]
    out = drift.summary(results, shown=1)
    assert out["updated"] == 2 and out["stored"] == {"b": 60}
    assert out["not_updated"] == ["c"] and out["noncompliant"] == ["a", "d"]
    assert out["extra"] == {"a": {"system": ["ip host drift-probe 192.0.2.77"]}, "d": out["extra"]["d"]}
    assert out["not_covered"] == {"a": fresh["not_covered"]}
    assert out["not_checked"] == {
        "c": "its job failed",
        "d": "lines in no compliance feature not known: its running configuration was not read",
    }
    assert out["msg"].startswith(
        "Drift beyond the merge, 4 device(s) (2 checked by Golden Config now, 1 from its stored compliance): 2 with "
        "extra lines, 1 with lines in no compliance feature, 2 not checked; extra lines are reported, never removed"
    )


def test_capped():
    assert drift.capped(["a", "b"], 2) == ["a", "b"]
    assert drift.capped(["a", "b", "c"], 2) == ["a", "b", "... 1 more line(s)"]


def test_a_feature_not_compliant_without_extra_lines_is_said_so():
    rows = {"ntp": {"compliance": False, "ordered": False, "extra": "", "missing": "ntp server 10.0.0.1"}}
    report = drift.device_drift({"golden_config": "fresh", "rows": rows}, EOS, INTENT, INTENT, RULES, "eos")
    assert report["extra"] == {} and report["features"]["ntp"]["missing"] == ["ntp server 10.0.0.1"]
    assert "no extra lines in its 1 feature(s) (not compliant in ntp, without extra lines)" in report["msg"]
    assert not drift.findings(report)


def test_a_line_the_driver_adds_for_its_session_is_not_the_devices():
    ios = platforms.for_driver("ios")
    running = "hostname ios1\nfile prompt quiet\nip host probe 192.0.2.7\n"
    assert drift.extra_paths(ios, "hostname ios1\n", running) == [("ip host probe 192.0.2.7",)]
