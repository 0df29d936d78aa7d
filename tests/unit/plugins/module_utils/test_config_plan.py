"""The approval gate: config plans filed by the batch (``plan``), and an approved plan deployed (``plan_deploy``).

``PlanNautobot`` is the batch's Nautobot double plus Golden Config's config plans: its "Generate Config
Plans" job renders the manual commands with Jinja as Golden Config does (the device as ``obj``), plans and
their statuses are kept, PATCHes and notes recorded. The devices are the conftest's ``FakeDriver``s.
"""

from __future__ import annotations


import jinja2
import pytest

from ansible_collections.sotsync.nautobot.plugins.module_utils import config_plan as cp
from ansible_collections.sotsync.nautobot.plugins.module_utils import batch
from ansible_collections.sotsync.nautobot.plugins.module_utils.batch import format_outcome, summarise
from ansible_collections.sotsync.nautobot.plugins.module_utils.errors import (
    CommitVerificationFailed,
    InvalidParameter,
    PlanError,
    PlanNotApproved,
    PlanNotFound,
    PlanStale,
    ProvisionError,
)
from ansible_collections.sotsync.nautobot.plugins.module_utils.plan_deploy import PlanDeployment, deploy_plan

from tests.unit.plugins.module_utils.conftest import INTENT, DriverFactory, batch_device
from tests.unit.plugins.module_utils.plan_fakes import (
    PASSWORD,
    TOKEN,
    PlanNautobot,
    approve,
    deploy_params,
    params,
)


def run(params_, client, factory, check_mode=False):
    return batch.run_batch(params_, check_mode=check_mode, client=client, driver_factory=factory)


# --- pure helpers -------------------------------------------------------------------------------------
def test_normalised_comparison_ignores_spacing_blank_lines_comments_and_the_final_newline():
    assert cp.same_config(
        "hostname a\n!\ninterface E1\n   description x\nend\n", "hostname  a\ninterface E1\n description x"
    )
    assert not cp.same_config("hostname a\n", "hostname b\n")
    assert not cp.same_config("a\nb\n", "b\na\n")  # order counts: a config set is replayed in order


@pytest.mark.parametrize("config", [INTENT, "banner motd\n{{ not jinja }} {% if %}\nEOF\n", "x {% endraw %} y\n"])
def test_manual_commands_render_to_the_config_itself(config):
    rendered = jinja2.Environment().from_string(cp.manual_commands(config)).render(obj={"name": "x"})
    assert rendered.rstrip("\n") == config.rstrip("\n")


# --- planning: golden_config_deploy with plan -------------------------------------------------------
def test_a_device_with_differences_gets_a_plan_and_one_without_gets_none():
    changed, same = batch_device(1), batch_device(2)
    nautobot = PlanNautobot(inventory=[changed, same])
    factory = DriverFactory(per_host={"127.0.2.2": {"diff": ""}})
    result = run(params(devices=["dev1", "dev2"], plan=True), nautobot, factory)
    outcomes = {r["device"]: r for r in result["results"]}

    (plan,) = list(nautobot.plans.values())
    assert plan["device"]["id"] == changed["id"] and nautobot.status(plan["id"]) == cp.NOT_APPROVED
    assert cp.same_config(plan["config_set"], INTENT)  # the full intent, what a live merge loads
    assert outcomes["dev1"]["plan_id"] == plan["id"]
    assert outcomes["dev1"]["msg"] == f"PLANNED (config plan {plan['id']}, waiting for approval)"
    assert format_outcome(outcomes["dev1"])[0] == f"dev1: PLANNED (config plan {plan['id']}, waiting for approval)"
    assert "plan_id" not in outcomes["dev2"]
    # Nothing committed: a plan is a dry run.
    assert factory.drivers["127.0.2.1"].committed is False and "discard_config" in factory.drivers["127.0.2.1"].calls
    (note,) = nautobot.plan_notes(plan["id"])
    assert "```diff\n-hostname old-name\n+hostname access1\n```" in note["note"]
    assert "trigger: rulebook: 1 device change(s) (updated) by admin" in note["note"]
    assert PASSWORD not in note["note"] and TOKEN not in note["note"]
    summary = result["summary"]
    assert (summary["planned"], summary["dry_run"], summary["unchanged"]) == (1, 0, 1)
    assert summary["planned_devices"] == ["dev1"] and summary["drifted"] == ["dev1"]
    assert summary["msg"].endswith(", 1 planned (config plans waiting for approval)")


def test_plan_refuses_dry_run_false_before_anything():
    nautobot = PlanNautobot(inventory=[batch_device(1)])
    with pytest.raises(InvalidParameter, match="cannot be combined with dry_run: false"):
        run(params(devices=["dev1"], plan=True, dry_run=False), nautobot, DriverFactory())
    assert nautobot.calls == [] and nautobot.plans == {}


def test_check_mode_files_no_plan():
    nautobot = PlanNautobot(inventory=[batch_device(1)])
    result = run(params(devices=["dev1"], plan=True), nautobot, DriverFactory(), check_mode=True)
    assert nautobot.plans == {} and "plan_id" not in result["results"][0]
    assert result["summary"]["dry_run"] == 1


def test_a_plan_job_that_fails_fails_its_device():
    nautobot = PlanNautobot(inventory=[batch_device(1)], plan_job_status="FAILURE")
    (outcome,) = run(params(devices=["dev1"], plan=True), nautobot, DriverFactory())["results"]
    assert outcome["failed"] and outcome["error"] == "plan_error" and "ended FAILURE" in outcome["msg"]
    assert outcome["config_diff"]  # the diff is still shown


def test_a_plan_golden_config_rendered_otherwise_is_failed_and_reported():
    nautobot = PlanNautobot(inventory=[batch_device(1)], render_plan=lambda obj: "hostname something-else")
    (outcome,) = run(params(devices=["dev1"], plan=True), nautobot, DriverFactory())["results"]
    assert outcome["error"] == "plan_error" and "does not hold the intended configuration" in outcome["msg"]
    (plan,) = list(nautobot.plans.values())
    assert nautobot.status(plan["id"]) == cp.FAILED  # nobody can approve it


def test_summary_counts_planned_apart_from_dry_run():
    summary = summarise(
        [
            {"device": "a", "changed": True, "plan_id": "p"},
            {"device": "b", "changed": True},
            {"device": "c", "changed": False},
        ]
    )
    assert (summary["planned"], summary["dry_run"], summary["unchanged"]) == (1, 1, 1)
    assert summary["drifted"] == ["a", "b"]
    without = summarise([{"device": "b", "changed": True}])
    assert "planned" not in without["msg"] and without["planned"] == 0


# --- deploying a plan -------------------------------------------------------------------------------
def planned(device=None, **nautobot_kwargs):
    """A Nautobot with one device and the plan the batch filed for it; returns ``(nautobot, plan_id)``."""
    device = device or batch_device(1)
    nautobot = PlanNautobot(inventory=[device], **nautobot_kwargs)
    (outcome,) = run(params(devices=[device["name"]], plan=True), nautobot, DriverFactory())["results"]
    nautobot.object_notes.clear()
    return nautobot, outcome["plan_id"]


def test_an_approved_plan_is_deployed_exactly_and_completed():
    nautobot, plan_id = planned()
    approve(nautobot, plan_id)
    nautobot.plans[plan_id]["config_set"] += "\n"  # the same once normalised
    factory = DriverFactory()
    result = deploy_plan(deploy_params(plan_id, dry_run=False), False, nautobot, factory)

    driver = factory.drivers["127.0.2.1"]
    assert driver.committed and driver.candidate is None
    assert driver.running == nautobot.plans[plan_id]["config_set"]  # exactly the config set
    assert "commit_config(revert_in)" in driver.calls and "confirm_commit" in driver.calls  # commit-confirm
    assert result["verified"] is True and result["committed"] is True
    assert [name for pid, name in nautobot.patches if pid == plan_id] == [cp.IN_PROGRESS, cp.COMPLETED]
    assert result["plan_status"] == cp.COMPLETED and result["plan_id"] == plan_id
    assert result["msg"].startswith(f"Config plan {plan_id} for dev1: ")
    device_notes = [n for n in nautobot.object_notes if n["type"] == "dcim.device"]
    assert len(device_notes) == 1 and "rollback point" in device_notes[0]["note"]
    assert f"intent source: config plan {plan_id}" in device_notes[0]["note"]
    (plan_note,) = nautobot.plan_notes(plan_id)
    assert plan_note["kind"] == "success"


@pytest.mark.parametrize("status", [cp.NOT_APPROVED, cp.FAILED, cp.COMPLETED, cp.IN_PROGRESS, "Rejected"])
def test_a_plan_that_is_not_approved_is_never_deployed(status):
    nautobot, plan_id = planned()
    nautobot.plans[plan_id]["status"] = {"id": "x", "name": status}
    factory = DriverFactory()
    with pytest.raises(PlanNotApproved, match=f"is {status}, not Approved: it is not deployed") as caught:
        deploy_plan(deploy_params(plan_id, dry_run=False), False, nautobot, factory)
    assert caught.value.details["plan_status"] == status
    assert factory.drivers == {} and nautobot.patches == [] and nautobot.object_notes == []


def test_a_stale_plan_is_failed_noted_and_planned_afresh():
    device = batch_device(1)
    nautobot, plan_id = planned(device)
    approve(nautobot, plan_id)
    newer = INTENT.replace("description management", "description management (moved)")
    nautobot.render[device["id"]] = (200, {"intended_config": newer})  # the device's intent changed since
    factory = DriverFactory()
    with pytest.raises(PlanStale) as caught:
        deploy_plan(deploy_params(plan_id, dry_run=False), False, nautobot, factory)
    error = caught.value
    assert error.code == "plan_stale" and nautobot.status(plan_id) == cp.FAILED
    assert [n["note"] for n in nautobot.plan_notes(plan_id)] == [cp.STALE_NOTE]
    fresh = error.details["fresh_plan_id"]
    assert fresh and fresh != plan_id and f"a fresh config plan {fresh} waits for approval" in error.message
    assert nautobot.status(fresh) == cp.NOT_APPROVED and cp.same_config(nautobot.plans[fresh]["config_set"], newer)
    assert f"config plan {plan_id} was stale" in nautobot.plan_notes(fresh)[0]["note"]
    assert not any(d.committed for d in factory.drivers.values())  # nothing deployed


def test_a_stale_plan_in_a_dry_run_changes_nothing():
    device = batch_device(1)
    nautobot, plan_id = planned(device)
    approve(nautobot, plan_id)
    nautobot.render[device["id"]] = (200, {"intended_config": INTENT + "vlan 20\n"})
    with pytest.raises(PlanStale, match="Dry run"):
        deploy_plan(deploy_params(plan_id), False, nautobot, DriverFactory())
    assert nautobot.patches == [] and len(nautobot.plans) == 1


@pytest.mark.parametrize("check_mode", [False, True])
def test_a_dry_run_shows_the_diff_and_changes_no_status(check_mode):
    nautobot, plan_id = planned()
    approve(nautobot, plan_id)
    factory = DriverFactory()
    result = deploy_plan(deploy_params(plan_id, dry_run=not check_mode), check_mode, nautobot, factory)
    assert result["config_diff"] and result["committed"] is False and result["changed"] is True
    assert nautobot.patches == [] and result["plan_status"] == cp.APPROVED
    assert not factory.drivers["127.0.2.1"].committed and "DRY RUN" in result["msg"]


def test_a_failed_deploy_sets_failed_with_the_reason():
    nautobot, plan_id = planned()
    approve(nautobot, plan_id)
    factory = DriverFactory(running_after_commit="hostname old-name\n")  # the commit does not take
    with pytest.raises(CommitVerificationFailed) as caught:
        deploy_plan(deploy_params(plan_id, dry_run=False), False, nautobot, factory)
    assert [name for _pid, name in nautobot.patches] == [cp.IN_PROGRESS, cp.FAILED]
    assert caught.value.details["plan_status"] == cp.FAILED
    (note,) = nautobot.plan_notes(plan_id)
    assert "FAILED (commit_verification_failed): " in note["note"] and note["kind"] in ("warning", "danger")


def test_an_unknown_plan_and_a_bad_id_are_refused():
    nautobot = PlanNautobot(inventory=[batch_device(1)])
    with pytest.raises(PlanNotFound, match="no config plan"):
        deploy_plan(deploy_params("bbbbbbbb-0000-4000-8000-000000000001"), False, nautobot, DriverFactory())
    with pytest.raises(PlanNotFound, match="UUID"):
        deploy_plan(deploy_params("access1"), False, nautobot, DriverFactory())


def test_plan_summary_reads_references_and_names():
    plan = cp.plan_summary({"id": "p", "device": "d-id", "status": {"id": "s", "display": "Approved"}})
    assert plan["device"] == {"id": "d-id", "name": None} and plan["status"] == "Approved"


def test_create_plan_raises_when_the_job_filed_nothing():
    class NoPlans(PlanNautobot):
        def run_job(self, name, data, timeout=120, job_queue=None):
            return {"id": "jr", "status": {"value": "SUCCESS"}}

    with pytest.raises(PlanError, match="filed no config plan"):
        cp.create_plan(NoPlans(inventory=[batch_device(1)]), batch_device(1)["id"], "dev1", INTENT)


def test_every_device_with_differences_gets_its_own_plan_and_note():
    nautobot = PlanNautobot(inventory=[batch_device(i) for i in range(1, 6)])
    run(params(devices=[f"dev{i}" for i in range(1, 6)], plan=True), nautobot, DriverFactory())
    assert len(nautobot.plans) == 5 and len([n for n in nautobot.object_notes if n["type"] == cp.PLAN_OBJECT_TYPE]) == 5


# --- deploying a plan, one step at a time (``PlanDeployment``) --------------------------------------------
def deployment(nautobot, plan_id, check_mode=False, replan=None, **overrides):
    return PlanDeployment(deploy_params(plan_id, **overrides), check_mode, nautobot, DriverFactory(), replan=replan)


def test_step_read_plan_and_device_leave_the_keys_every_result_carries():
    nautobot, plan_id = planned()
    approve(nautobot, plan_id)
    run = deployment(nautobot, plan_id)
    run.read_plan()
    assert (run.plan_id, run.device_id, run.plan["status"]) == (plan_id, batch_device(1)["id"], cp.APPROVED)
    run.read_device()
    assert run.device["name"] == "dev1"
    assert run.base == {"plan_id": plan_id, "plan_status": cp.APPROVED, "device": "dev1", "device_id": run.device_id}
    assert nautobot.patches == []


def test_step_resolve_login_fails_a_ready_device_without_one_with_the_plans_keys():
    nautobot, plan_id = planned()
    approve(nautobot, plan_id)
    run = deployment(nautobot, plan_id, password=None)
    run.read_plan()
    run.read_device()
    with pytest.raises(ProvisionError) as caught:
        run.resolve_login()
    assert caught.value.code == "missing_credentials" and caught.value.details["plan_id"] == plan_id


def test_step_check_still_current_passes_a_current_plan_and_replans_a_stale_one():
    device = batch_device(1)
    nautobot, plan_id = planned(device)
    approve(nautobot, plan_id)
    asked = []
    run = deployment(nautobot, plan_id, replan=lambda device_id: asked.append(device_id) or (None, {}), dry_run=False)
    run.read_plan()
    run.read_device()
    run.resolve_login()
    run.check_still_current()  # the plan is the intent: nothing happens
    assert asked == [] and nautobot.patches == []
    nautobot.render[device["id"]] = (200, {"intended_config": INTENT + "vlan 20\n"})
    with pytest.raises(PlanStale, match="no fresh plan: the device already has its intended configuration"):
        run.check_still_current()
    assert asked == [device["id"]] and run.base["plan_status"] == cp.FAILED and nautobot.status(plan_id) == cp.FAILED


def test_step_start_deploy_and_report_in_a_dry_run_change_no_status():
    nautobot, plan_id = planned()
    approve(nautobot, plan_id)
    run = deployment(nautobot, plan_id, check_mode=True, dry_run=False)
    for step in (run.read_plan, run.read_device, run.resolve_login, run.start):
        step()
    result = run.deploy()
    assert result["intent_source"] == f"config plan {plan_id}" and result["dry_run"] is True
    reported = run.report(result)
    assert reported["msg"].startswith(f"Config plan {plan_id} for dev1: DRY RUN (approved; nothing deployed): ")
    assert nautobot.patches == [] and "plan_note_id" not in reported


def test_step_fail_sets_a_live_plan_failed_with_a_note_and_masks_the_login():
    nautobot, plan_id = planned()
    approve(nautobot, plan_id)
    run = deployment(nautobot, plan_id, dry_run=False)
    for step in (run.read_plan, run.read_device, run.resolve_login):
        step()
    error = CommitVerificationFailed(f"lost, password {PASSWORD}")
    run.fail(error)
    assert PASSWORD not in error.message and error.details["plan_status"] == cp.FAILED
    (note,) = nautobot.plan_notes(plan_id)
    assert note["note"].count("FAILED (commit_verification_failed): lost, password ********") == 1
