"""Drift reconciliation on the live lab: ``ansible-playbook sotsync.nautobot.reconcile`` as users run it,
against real Nautobot + Golden Config and the simulated devices.

A seed device is made to drift on the simulator (a line changed by hand); the dry run reports it, with
its diff, and nothing else; ``remediate=true`` commits it; the next check finds no drift. Each test
restores the simulated devices it changed (``restored``) and deletes the notes it wrote (found by a
unique trigger text). Skips when the lab is not up (``scripts/lab up``).
"""

from __future__ import annotations

import contextlib
import json
import re
import subprocess
import time

import pytest

from ansible_collections.sotsync.nautobot.plugins.module_utils import config_plan as cp
from lab import seed
from tests.integration.provision_helpers import (
    ROOT,
    PlaybookRun,
    delete_notes,
    notes_with,
    playbook_env,
    restored,
    run_playbook,
    seeded_device,
    sim_device,
    sim_set_running,
)
from tests.integration.plan_helpers import (
    DEPLOY_PLAYBOOK,
    delete_plans_since,
    notes_on,
    plan,
    plans_of,
    set_status,
    status_of,
)

pytestmark = pytest.mark.lab

RECONCILE = "sotsync.nautobot.reconcile"
DRY_RUN = "DRY RUN mode: Discarding configuration changes"
COMMITTED = "Configuration committed successfully"
# A line of access2's intent (lab/templates/access.j2) and what "someone" changed it to on the device.
INTENDED = "   description user access port"
BY_HAND = "   description changed by hand"
# As users write it: -e 'filter={"location":"Lab Site A"}' (JSON without spaces outside quotes).
SITE_A = "filter=" + json.dumps({"location": seed.SITE_A}, separators=(",", ":"))
# The devices the site A filter selects (the mixed fleet's NX-OS and Junos devices are at site B).
AT_SITE_A = [name for name, spec in seed.DEVICES.items() if spec[1] == seed.SITE_A]
READY_AT_SITE_A = [name for name in seed.READY_DEVICES if name in AT_SITE_A]
OTHERS = [name for name in READY_AT_SITE_A if name != "access2"]
UNREADY_SELECTED = sorted(name for name in AT_SITE_A if name not in seed.READY_DEVICES)
REPORT_LINE = re.compile(r'^\s*"(drifted|skipped \(not ready\)|failed): (.*)",?$', re.M)
SUMMARY_LINE = re.compile(r'^\s*"(Drift (?:check \(dry run\)|remediation) of \d+ device\(s\): [^"]*)",?$', re.M)


def reconcile(lab, trigger, *args, timeout=600):
    """``ansible-playbook sotsync.nautobot.reconcile <args>`` from a neutral folder, with the test's trigger."""
    argv = [str(ROOT / ".venv" / "bin" / "ansible-playbook"), RECONCILE, *args, "-e", json.dumps({"trigger": trigger})]
    started = time.monotonic()
    proc = subprocess.run(
        argv, capture_output=True, text=True, env=playbook_env(lab), timeout=timeout, cwd="/", check=False
    )
    return PlaybookRun(argv, proc.returncode, proc.stdout + proc.stderr, time.monotonic() - started)


def report(run):
    """The drift summary the playbook printed: its first line, and the names per list (``none`` is [])."""
    (summary,) = SUMMARY_LINE.findall(run.stdout) or [None]
    assert summary, f"no drift summary in:\n{run!r}"
    lists = {}
    for key, names in REPORT_LINE.findall(run.stdout):
        lists[key.split(" ")[0]] = [] if names == "none" else names.split(", ")
    assert set(lists) == {"drifted", "skipped", "failed"}, run
    return summary, lists


def running(lab, name):
    return sim_device(lab, name)["running_config"]


def test_reconcile_reports_the_drifted_device_with_its_diff_and_remediate_fixes_it(lab, trigger):
    api = lab["api"]
    others_before = {name: running(lab, name) for name in OTHERS}
    with restored(lab, "access2") as ctx:
        assert INTENDED in ctx["running"].splitlines(), "access2 is not in its seed state: run scripts/lab reset"
        sim_set_running(lab, "access2", ctx["running"].replace(INTENDED, BY_HAND))
        drifted = running(lab, "access2")
        assert BY_HAND in drifted.splitlines() and INTENDED not in drifted.splitlines()

        # The dry run: access2 is reported with its diff, the other ready devices are in sync.
        check = reconcile(lab, trigger, "-e", SITE_A)
        assert check.returncode == 0, check  # drift is a finding, not a failure, by default
        assert check.recap("access2") == {"failed": 0, "changed": 1}, check
        assert check.shows(f"access2: {DRY_RUN}"), check
        assert check.shows(f"-{BY_HAND}") and check.shows(f"+{INTENDED}"), check
        for name in OTHERS:
            assert check.recap(name) == {"failed": 0, "changed": 0}, check
        summary, lists = report(check)
        assert lists == {"drifted": ["access2"], "skipped": UNREADY_SELECTED, "failed": []}, check
        assert summary.startswith(f"Drift check (dry run) of {len(AT_SITE_A)} device(s): 1 differ from their")
        assert f"{len(OTHERS)} in sync" in summary, summary
        assert running(lab, "access2") == drifted  # a dry run changes nothing
        state = sim_device(lab, "access2")
        assert state["open_sessions"] == [] and state["pending_commit"] is None

        # One note, on the drifted device only, saying it is a drift check, with the diff.
        notes = notes_with(api, trigger)
        assert len(notes) == 1, [n.note for n in notes]
        (note,) = notes
        assert str(note.assigned_object_id) == str(seeded_device(api, "access2").id)
        assert note.note.startswith("[info]") and "- mode: dry run" in note.note
        assert f"- trigger: drift check: {trigger}" in note.note
        assert f"-{BY_HAND}" in note.note and f"+{INTENDED}" in note.note

        # fail_on_drift: the same finding fails the run (for cron), naming the device.
        strict = reconcile(lab, trigger, "-e", SITE_A, "-e", "fail_on_drift=true")
        assert strict.returncode != 0, strict
        assert "Drift: 1 device(s) differ from their intended configuration: access2" in strict.stdout, strict
        assert running(lab, "access2") == drifted

        # remediate=true commits the difference (commit-confirm, verified), and only there.
        fix = reconcile(lab, trigger, "-e", SITE_A, "-e", "remediate=true")
        assert fix.returncode == 0, fix
        assert fix.recap("access2") == {"failed": 0, "changed": 1} and fix.shows(f"access2: {COMMITTED}"), fix
        assert fix.shows(f"-{BY_HAND}") and fix.shows(f"+{INTENDED}"), fix
        summary, lists = report(fix)
        assert summary.startswith("Drift remediation of") and "(1 committed)" in summary, summary
        assert lists["drifted"] == ["access2"] and lists["failed"] == [], fix
        state = sim_device(lab, "access2")
        assert INTENDED in state["running_config"].splitlines() and BY_HAND not in state["running_config"]
        assert state["open_sessions"] == [] and state["pending_commit"] is None  # confirmed
        for name in OTHERS:
            assert running(lab, name) == others_before[name], f"{name} was changed by the remediation"
        committed = [n.note for n in notes_with(api, trigger) if n.note.startswith("[success]")]
        assert len(committed) == 1 and f"- trigger: drift check and remediation: {trigger}" in committed[0]
        assert "- rollback point: before sha256:" in committed[0]

        # Checked again, strictly: no drift left, no new note.
        again = reconcile(lab, trigger, "-e", SITE_A, "-e", "fail_on_drift=true")
        assert again.returncode == 0, again
        summary, lists = report(again)
        assert lists == {"drifted": [], "skipped": UNREADY_SELECTED, "failed": []}, again
        assert f"{len(READY_AT_SITE_A)} in sync" in summary, summary
        assert again.recap("access2") == {"failed": 0, "changed": 0}, again
        assert len(notes_with(api, trigger)) == 3  # dry run, strict dry run, commit: none for devices in sync
    for name in OTHERS:
        assert running(lab, name) == others_before[name]


def test_reconcile_without_a_filter_compares_the_devices_with_a_ready_status(lab, trigger):
    """No filter: every device whose status is one of ready_statuses (Nautobot's status filter). The seed's
    ready devices are in sync, those with a ready status that fail another check are skipped, and the
    Offline one is not selected at all. Check mode: nothing is written to Nautobot."""
    run = reconcile(lab, trigger, "--check")
    for name in seed.READY_DEVICES:
        assert run.recap(name) == {"failed": 0, "changed": 0}, run
    _summary, lists = report(run)
    # Devices other tests or the benchmark's fleet left in Nautobot are compared too: only a failed one
    # fails the run, and none of the seed's may fail.
    assert not set(lists["failed"]) & set(seed.DEVICES), run
    assert (run.returncode == 0) == (lists["failed"] == []), run
    assert not set(seed.READY_DEVICES) & set(lists["drifted"]), run
    assert {"unready-no-platform", "unready-no-driver", "unready-no-ip"} <= set(lists["skipped"]), run
    assert "unready-offline" not in run.stdout, run
    assert notes_with(lab["api"], trigger) == []


# Lines added on the device out of band, which a merge dry run cannot see: one inside a Golden Config
# compliance feature ("system": its rule covers "ntp server"), one in no feature (no rule covers "ip host").
EXTRA_NTP = "ntp server 192.0.2.99"
PROBE = "ip host drift-probe 192.0.2.77"


def test_lines_the_intent_does_not_have_are_reported_by_feature_or_as_not_covered_never_removed(lab, trigger):
    api = lab["api"]
    with restored(lab, "access2") as ctx:
        sim_set_running(lab, "access2", ctx["running"].replace("ntp server", f"{PROBE}\n{EXTRA_NTP}\nntp server", 1))
        drifted = running(lab, "access2")

        check = reconcile(lab, trigger, "-e", "device=access2")
        assert check.returncode == 0, check
        # the merge would add nothing: access2 has every intended line
        assert check.recap("access2") == {"failed": 0, "changed": 0} and check.shows("(no differences)"), check
        assert check.shows(f"access2:   extra [system] {EXTRA_NTP}"), check
        assert check.shows(f"access2:   not covered: {PROBE}"), check
        assert "Golden Config compliance of 1 compared device(s) brought up to date" in check.stdout, check
        summary, lists = report(check)
        assert lists["drifted"] == [] and "1 with extra lines, 1 with lines in no compliance feature" in summary
        assert "extra lines are reported, never removed" in check.stdout, check
        assert running(lab, "access2") == drifted

        # its note says both, a device in sync with its intent otherwise
        (note,) = notes_with(api, trigger)
        assert note.note.startswith("[info]") and EXTRA_NTP in note.note and PROBE in note.note, note.note

        # fail_on_drift counts extra lines; lines in no feature only with fail_on_not_covered
        strict = reconcile(lab, trigger, "-e", "device=access2", "-e", "fail_on_drift=true")
        assert strict.returncode != 0, strict
        # remediate merges what is missing (nothing here) and never removes a line
        fix = reconcile(lab, trigger, "-e", "device=access2", "-e", "remediate=true")
        assert fix.returncode == 0 and fix.recap("access2") == {"failed": 0, "changed": 0}, fix
        assert running(lab, "access2") == drifted, "a remediation removed a line"


REMEDIATION_FILED = re.compile(r"(\w[\w-]*): remediation config plan ([0-9a-f-]{36}) filed for (\S+) \(Not Approved")


def config_lines(config):
    """A configuration's lines and how often each shows, its ``!`` comments (NX-OS and IOS time stamps) left out."""
    counts = {}
    for line in config.splitlines():
        if line.strip() and not line.lstrip().startswith("!"):
            counts[line] = counts.get(line, 0) + 1
    return counts


def changed_lines(before, after):
    """``(gone, added)``: the lines ``after`` has fewer (more) of than ``before``."""
    one, other = config_lines(before), config_lines(after)
    gone = {k: v - other.get(k, 0) for k, v in one.items() if other.get(k, 0) < v}
    added = {k: v - one.get(k, 0) for k, v in other.items() if one.get(k, 0) < v}
    return gone, added


# The CLI platforms Golden Config has remediation settings for on the lab (lab/seed.py), and Junos, which has none.
REMEDIATED = ("access2", "nxos1", "ios1")
JUNOS_NTP = "    ntp {\n        server 192.0.2.99;\n    }\n"


def test_extra_lines_are_removed_only_through_an_approved_remediation_plan(lab, trigger):
    """An extra ntp server line on access2 (EOS), nxos1 and ios1: each gets Golden Config's remediation plan, with
    the dry run's diff in its note; junos1 (no remediation settings) gets none, and the run says why. A plan
    removes nothing until it is approved; deployed, the line is gone and nothing else changed."""
    api = lab["api"]
    devices = {name: seeded_device(api, name) for name in REMEDIATED + ("junos1",)}
    before = {name: set(plans_of(lab, d.id)) for name, d in devices.items()}
    try:
        with contextlib.ExitStack() as stack:
            ctx = {name: stack.enter_context(restored(lab, name)) for name in devices}
            drifted = {}
            for name in REMEDIATED:
                extra = f"{PROBE}\n{EXTRA_NTP}\n" if name == "access2" else f"{EXTRA_NTP}\n"
                sim_set_running(lab, name, ctx[name]["running"].replace("ntp server", extra + "ntp server", 1))
                drifted[name] = running(lab, name)
            junos = ctx["junos1"]["running"].replace("    services {\n", JUNOS_NTP + "    services {\n", 1)
            sim_set_running(lab, "junos1", junos)

            run = reconcile(lab, trigger, "-e", "device=" + ",".join(devices), "-e", "remediation_plans=true")
            assert run.returncode == 0, run
            assert run.shows("junos1:   extra [system]         server 192.0.2.99;"), run
            assert (
                "junos1: no remediation config plan filed: system: Golden Config has no remediation settings for "
                "its platform Juniper Junos" in run.stdout
            ), run
            filed = {name: (plan_id, features) for name, plan_id, features in REMEDIATION_FILED.findall(run.stdout)}
            assert set(filed) == set(REMEDIATED) and {f for _p, f in filed.values()} == {"system"}, run
            assert "Remediation config plans: 3 filed (waiting for approval), 1 device(s) without one" in run.stdout
            assert set(plans_of(lab, devices["junos1"].id)) == before["junos1"]  # none for Junos

            for name, (plan_id, _features) in filed.items():
                made = plan(lab, plan_id)
                assert made["plan_type"] == "remediation" and made["status"]["name"] == cp.NOT_APPROVED
                assert cp.normalised_lines(made["config_set"]) == [f"no {EXTRA_NTP}"], made["config_set"]
                (note,) = notes_on(lab, plan_id)
                assert EXTRA_NTP in note["note"] and "```diff" in note["note"], note["note"]  # the dry run's diff
                assert "error 5" not in note["note"], note["note"]
                # (the IOS session's "file prompt quiet" moves its last-change stamp, a comment)
                assert changed_lines(drifted[name], running(lab, name)) == ({}, {}), f"filing a plan changed {name}"

            # not approved: refused, the device untouched
            plan_id = filed["access2"][0]
            refused = run_playbook(lab, "", dry_run=False, extra={"plan": plan_id}, playbook=DEPLOY_PLAYBOOK)
            assert refused.returncode != 0 and "plan_not_approved" in refused.stdout, refused
            assert status_of(lab, plan_id) == cp.NOT_APPROVED
            assert changed_lines(drifted["access2"], running(lab, "access2")) == ({}, {})

            # approved: checked still current by Golden Config's jobs, deployed, verified, compliance up to date
            for name, (plan_id, _features) in filed.items():
                set_status(lab, plan_id, cp.APPROVED)
                deployed = run_playbook(lab, "", dry_run=False, extra={"plan": plan_id}, playbook=DEPLOY_PLAYBOOK)
                assert deployed.returncode == 0, deployed
                assert "Golden Config compliance now compliant in system" in deployed.stdout, deployed
                assert status_of(lab, plan_id) == cp.COMPLETED
                gone, added = changed_lines(drifted[name], running(lab, name))
                assert gone == {EXTRA_NTP: 1} and added == {}, (name, gone, added)  # access2's probe stays
    finally:
        for name, device in devices.items():
            delete_plans_since(lab, device.id, before[name])
        delete_notes(api, trigger)
