"""Remediation config plans (module_utils/remediation.py and the remediation path of plan_deploy.py): filed from
Golden Config's compliance after a dry run, never deployed unless approved and still current, verified once
deployed (the removed lines gone)."""

from __future__ import annotations

import pytest

from ansible_collections.sotsync.nautobot.plugins.module_utils import config_plan as cp
from ansible_collections.sotsync.nautobot.plugins.module_utils import platforms, remediation
from ansible_collections.sotsync.nautobot.plugins.module_utils.errors import (
    CommitVerificationFailed,
    PlanNotApproved,
    PlanStale,
)
from ansible_collections.sotsync.nautobot.plugins.module_utils.plan_deploy import deploy_plan

from tests.unit.plugins.module_utils.conftest import DriverFactory, batch_device
from tests.unit.plugins.module_utils.plan_fakes import (
    EOS_PLATFORM,
    FEATURE_IDS,
    RemediationNautobot,
    approve,
    compliance_row,
    deploy_params,
    params,
)

EXTRA = "ntp server 192.0.2.99"
REMOVE = "no ntp server 192.0.2.99"
DRY_DIFF = "-ntp server 192.0.2.99"


def eos_device(index=1):
    return batch_device(index)  # its platform: Arista EOS


def drifted_rows(device_id, remediation_text=REMOVE):
    return [
        compliance_row(device_id, "system", extra=EXTRA, remediation=remediation_text),
        compliance_row(device_id, "interfaces"),
    ]


def nautobot_for(device, rows=None, settings=True, remediating=True, **kwargs):
    return RemediationNautobot(
        inventory=[device],
        rows={device["id"]: drifted_rows(device["id"]) if rows is None else rows},
        remediation_platforms=[EOS_PLATFORM["name"]] if settings else [],
        remediating={(EOS_PLATFORM["name"], f) for f in FEATURE_IDS} if remediating else set(),
        **kwargs,
    )


def file(nautobot, device, check_mode=False, factory=None):
    factory = factory or DriverFactory(diff=DRY_DIFF)
    return remediation.file_plans(params(devices=[device["name"]]), check_mode, nautobot, factory), factory


# --- which features a plan can remediate --------------------------------------------------------------------
def test_plannable_takes_the_features_with_extra_lines_golden_config_made_a_remediation_for():
    rows = {
        "system": compliance_row("d", "system", extra=EXTRA, remediation=REMOVE),
        "interfaces": compliance_row("d", "interfaces"),  # compliant
        "vlans": compliance_row("d", "vlans", missing="vlan 30", remediation="vlan 30"),  # nothing extra
    }
    settings = {EOS_PLATFORM["name"]: "hierconfig"}
    on = {(EOS_PLATFORM["name"], "system"): True}
    features, skipped = remediation.plannable(rows, EOS_PLATFORM, settings, on)
    assert features == [("system", FEATURE_IDS["system"], REMOVE)] and skipped == {}

    features, skipped = remediation.plannable(rows, EOS_PLATFORM, {}, on)
    assert features == [] and "no remediation settings for its platform Arista EOS" in skipped["system"]

    features, skipped = remediation.plannable(rows, EOS_PLATFORM, settings, {})
    assert features == [] and skipped == {"system": remediation.RULE_OFF}

    rows["system"]["remediation"] = ""
    features, skipped = remediation.plannable(rows, EOS_PLATFORM, settings, on)
    assert features == [] and skipped == {"system": remediation.NONE_MADE}


# --- filing ---------------------------------------------------------------------------------------------
def test_a_device_with_extra_lines_gets_a_remediation_plan_after_a_dry_run_noted_on_the_plan():
    device = eos_device()
    nautobot = nautobot_for(device)
    out, factory = file(nautobot, device)

    (result,) = out["results"]
    assert result["filed"] is True and out["filed"] == 1
    plan = nautobot.plans[result["plan_id"]]
    assert plan["plan_type"] == cp.REMEDIATION and plan["config_set"] == REMOVE
    assert cp.plan_features(nautobot, result["plan_id"]) == ["system"] and result["features"] == ["system"]
    (job,) = [j for j in nautobot.jobs if j["name"] == cp.PLAN_JOB]
    assert job["data"]["feature"] == [FEATURE_IDS["system"]] and job["devices"] == [device["id"]]
    assert nautobot.status(result["plan_id"]) == cp.NOT_APPROVED
    # the dry run: the commands loaded, compared and discarded, nothing committed
    driver = factory.drivers["127.0.2.1"]
    assert "compare_config" in driver.calls and "discard_config" in driver.calls and not driver.committed
    (note,) = nautobot.plan_notes(result["plan_id"])
    assert EXTRA in note["note"] and REMOVE in note["note"] and DRY_DIFF in note["note"]
    assert "Approve this plan" in note["note"]
    assert result["msg"].startswith(f"remediation config plan {result['plan_id']} filed for system (Not Approved")
    # no note on the device: the drift check wrote one
    assert [n for n in nautobot.object_notes if n["type"] == "dcim.device"] == []


def test_check_mode_makes_the_dry_run_and_files_nothing():
    device = eos_device()
    nautobot = nautobot_for(device)
    out, factory = file(nautobot, device, check_mode=True)
    (result,) = out["results"]
    assert result["filed"] is False and result["would_file"] is True and nautobot.plans == {}
    assert result["config_diff"] == DRY_DIFF and not factory.drivers["127.0.2.1"].committed


@pytest.mark.parametrize(
    "kwargs, why",
    [
        ({"settings": False}, "no remediation settings for its platform Arista EOS"),
        ({"remediating": False}, remediation.RULE_OFF),
        ({"rows": []}, "Golden Config has no compliance of it"),
    ],
)
def test_no_plan_without_what_golden_config_needs_and_the_run_says_why(kwargs, why):
    device = eos_device()
    if kwargs.get("rows") == []:
        kwargs = {"rows": []}
    nautobot = nautobot_for(device, **kwargs)
    out, factory = file(nautobot, device)
    (result,) = out["results"]
    assert result["filed"] is False and why in result["why"] and why in result["msg"]
    assert nautobot.plans == {} and factory.drivers == {}  # no plan, no session


def test_a_device_without_extra_lines_gets_no_plan():
    device = eos_device()
    nautobot = nautobot_for(device, rows=[compliance_row(device["id"], "system")])
    out, _factory = file(nautobot, device)
    assert out["results"][0]["why"] == "no extra lines in its compliance features" and nautobot.plans == {}


def test_a_dry_run_that_changes_nothing_files_no_plan():
    device = eos_device()
    nautobot = nautobot_for(device)
    out, _factory = file(nautobot, device, factory=DriverFactory(diff=""))
    assert out["results"][0]["filed"] is False and "changes nothing" in out["results"][0]["why"]
    assert nautobot.plans == {}


def test_an_unknown_device_fails_its_entry():
    device = eos_device()
    nautobot = nautobot_for(device)
    out = remediation.file_plans(params(devices=["nope"]), False, nautobot, DriverFactory())
    (result,) = out["results"]
    assert result["failed"] is True and result["error"] == "device_not_found"


# --- deploying --------------------------------------------------------------------------------------------
def filed_plan(device, **kwargs):
    nautobot = nautobot_for(device, **kwargs)
    out, _factory = file(nautobot, device)
    nautobot.object_notes.clear()
    return nautobot, out["results"][0]["plan_id"]


def test_an_approved_current_remediation_plan_is_deployed_verified_and_completed():
    device = eos_device()
    # Golden Config's jobs find the line still there: the same remediation
    nautobot, plan_id = filed_plan(device, after_jobs={device["id"]: drifted_rows(device["id"])})
    approve(nautobot, plan_id)
    factory = DriverFactory(diff=DRY_DIFF, running=f"hostname dev1\n{EXTRA}\n", running_after_commit="hostname dev1\n")
    result = deploy_plan(deploy_params(plan_id, dry_run=False), False, nautobot, factory)
    assert result["committed"] is True and result["verified"] is True and result["plan_status"] == cp.COMPLETED
    assert "commit_config(revert_in)" in factory.drivers["127.0.2.1"].calls
    assert result["remediated_features"] == {"system": True}
    assert result["msg"].endswith("now compliant in system"), result["msg"]


def test_a_remediation_plan_not_approved_is_never_deployed():
    device = eos_device()
    nautobot, plan_id = filed_plan(device)
    factory = DriverFactory()
    with pytest.raises(PlanNotApproved):
        deploy_plan(deploy_params(plan_id, dry_run=False), False, nautobot, factory)
    assert factory.drivers == {} and nautobot.status(plan_id) == cp.NOT_APPROVED


def test_a_stale_remediation_plan_is_failed_with_a_note_and_nothing_deployed():
    device = eos_device()
    # meanwhile the line went: Golden Config's jobs find the device compliant
    compliant = [compliance_row(device["id"], "system"), compliance_row(device["id"], "interfaces")]
    nautobot, plan_id = filed_plan(device, after_jobs={device["id"]: compliant})
    approve(nautobot, plan_id)
    factory = DriverFactory()
    with pytest.raises(PlanStale, match="no longer has the lines it removes") as caught:
        deploy_plan(deploy_params(plan_id, dry_run=False), False, nautobot, factory)
    assert caught.value.details["fresh_plan_id"] is None and nautobot.status(plan_id) == cp.FAILED
    (note,) = nautobot.plan_notes(plan_id)
    assert note["note"].startswith(cp.REMEDIATION_STALE_NOTE)
    assert factory.drivers == {}
    assert any(j["name"] != cp.PLAN_JOB for j in nautobot.jobs)  # Golden Config checked the device again


def test_a_stale_remediation_plan_in_a_dry_run_keeps_its_status():
    device = eos_device()
    other = drifted_rows(device["id"], remediation_text="no ntp server 192.0.2.99\nno ntp server 192.0.2.98")
    nautobot, plan_id = filed_plan(device, after_jobs={device["id"]: other})
    approve(nautobot, plan_id)
    with pytest.raises(PlanStale, match="is other commands now.*Dry run"):
        deploy_plan(deploy_params(plan_id), False, nautobot, DriverFactory())
    assert nautobot.status(plan_id) == cp.APPROVED


def test_a_removed_line_still_there_after_the_commit_fails_verification_and_rolls_back():
    device = eos_device()
    nautobot, plan_id = filed_plan(device, after_jobs={device["id"]: drifted_rows(device["id"])})
    approve(nautobot, plan_id)
    factory = DriverFactory(diff=DRY_DIFF, running_after_commit=f"hostname dev1\n{EXTRA}\n")
    with pytest.raises(CommitVerificationFailed, match="still has 1 line") as caught:
        deploy_plan(deploy_params(plan_id, dry_run=False), False, nautobot, factory)
    assert caught.value.details["still_present_lines"] == [EXTRA]
    assert "rollback" in factory.drivers["127.0.2.1"].calls and nautobot.status(plan_id) == cp.FAILED


# --- verification of "no" lines -------------------------------------------------------------------------
def test_still_present_names_the_lines_a_no_line_removes_that_are_still_there():
    eos = platforms.for_driver("eos")
    generic = platforms.for_driver(None)
    assert generic.still_present("no ntp server 192.0.2.99", "ntp server 192.0.2.99") == ["ntp server 192.0.2.99"]
    intent = "no ntp server 192.0.2.99\ninterface Ethernet1\n   no description\nno aaa new-model\n"
    running = "ntp server 192.0.2.99\ninterface Ethernet1\n   description x\nno aaa new-model\n"
    assert eos.still_present(intent, running) == ["ntp server 192.0.2.99"]
    assert eos.still_present(intent, "interface Ethernet1\n") == []
    assert eos.still_present("hostname a\n", running) == []  # no "no" line: nothing to look for
