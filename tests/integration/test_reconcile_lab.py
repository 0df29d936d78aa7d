"""Drift reconciliation on the live lab: ``ansible-playbook sotsync.nautobot.reconcile`` as users run it,
against real Nautobot + Golden Config and the simulated devices.

A seed device is made to drift on the simulator (a line changed by hand); the dry run reports it, with
its diff, and nothing else; ``remediate=true`` commits it; the next check finds no drift. Each test
restores the simulated devices it changed (``restored``) and deletes the notes it wrote (found by a
unique trigger text). Skips when the lab is not up (``scripts/lab up``).
"""

from __future__ import annotations

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


def line_counts(config):
    counts = {}
    for line in config.splitlines():
        if line.strip():
            counts[line] = counts.get(line, 0) + 1
    return counts


def test_extra_lines_are_removed_only_through_an_approved_remediation_plan(lab, trigger):
    """access2 (EOS: Golden Config has remediation settings for it) gets a remediation plan removing its extra
    ntp server line; ios1 (IOS: none) gets none, and the run says why. The plan removes nothing until it is
    approved; deployed, the line is gone and nothing else changed."""
    api = lab["api"]
    access2, ios1 = seeded_device(api, "access2"), seeded_device(api, "ios1")
    before = {d.id: set(plans_of(lab, d.id)) for d in (access2, ios1)}
    try:
        with restored(lab, "access2") as eos, restored(lab, "ios1") as ios:
            sim_set_running(
                lab, "access2", eos["running"].replace("ntp server", f"{PROBE}\n{EXTRA_NTP}\nntp server", 1)
            )
            sim_set_running(lab, "ios1", ios["running"].replace("ntp server", f"{EXTRA_NTP}\nntp server", 1))
            drifted = running(lab, "access2")

            run = reconcile(lab, trigger, "-e", "device=access2,ios1", "-e", "remediation_plans=true")
            assert run.returncode == 0, run
            assert run.shows(f"ios1:   extra [system] {EXTRA_NTP}"), run
            assert (
                "ios1: no remediation config plan filed: system: Golden Config has no remediation settings for its "
                "platform Cisco IOS" in run.stdout
            ), run
            ((name, plan_id, features),) = REMEDIATION_FILED.findall(run.stdout)
            assert (name, features) == ("access2", "system"), run
            assert "Remediation config plans: 1 filed (waiting for approval)" in run.stdout, run
            assert set(plans_of(lab, ios1.id)) == before[ios1.id]  # none for IOS

            filed = plan(lab, plan_id)
            assert filed["plan_type"] == "remediation" and filed["status"]["name"] == cp.NOT_APPROVED
            assert cp.normalised_lines(filed["config_set"]) == [f"no {EXTRA_NTP}"]
            (note,) = notes_on(lab, plan_id)
            assert EXTRA_NTP in note["note"] and f"-{EXTRA_NTP}" in note["note"], note["note"]  # the dry run's diff
            assert running(lab, "access2") == drifted, "filing a plan changed the device"

            # not approved: refused, the device untouched
            refused = run_playbook(lab, "", dry_run=False, extra={"plan": plan_id}, playbook=DEPLOY_PLAYBOOK)
            assert refused.returncode != 0 and "plan_not_approved" in refused.stdout, refused
            assert status_of(lab, plan_id) == cp.NOT_APPROVED and running(lab, "access2") == drifted

            # approved: deployed, checked still current by Golden Config first, verified, compliance up to date
            set_status(lab, plan_id, cp.APPROVED)
            deployed = run_playbook(lab, "", dry_run=False, extra={"plan": plan_id}, playbook=DEPLOY_PLAYBOOK)
            assert deployed.returncode == 0, deployed
            assert "Golden Config compliance now compliant in system" in deployed.stdout, deployed
            assert status_of(lab, plan_id) == cp.COMPLETED
            after = running(lab, "access2")
            gone = {k: v for k, v in line_counts(drifted).items() if line_counts(after).get(k, 0) < v}
            added = {k: v for k, v in line_counts(after).items() if line_counts(drifted).get(k, 0) < v}
            assert gone == {EXTRA_NTP: 1} and added == {}, (gone, added)  # the probe, in no feature, stays
    finally:
        for device in (access2, ios1):
            delete_plans_since(lab, device.id, before[device.id])
        delete_notes(api, trigger)
