"""The approval gate end to end on the lab: the real rulebook daemon with ``approval: true``, real Nautobot
webhooks (the device's and the config plan's), Golden Config's real config plans, and the real
provisioning and plan deployment playbooks against the simulated devices.

change -> a config plan (Not Approved, the device's intent, a note with the diff), the device untouched
-> an engineer approves the plan (its status PATCHed through the REST API, as the UI does) -> the daemon
deploys it: committed and verified on the device, the plan Completed. A stale plan is refused (Failed, a
fresh plan made); a plan left Not Approved is never deployed.

Each test puts everything back: the device's name and the simulator's configuration (``restored``),
then, once the daemon has settled on the restore, the config plans made since the test started and the
notes written on the device and on those plans.
"""

from __future__ import annotations

import contextlib

import pytest

from ansible_collections.sotsync.nautobot.plugins.module_utils import config_plan as cp
from lab import hookrun
from tests.integration.provision_helpers import restored, run_playbook, seeded_device, sim_device, wait_for
from tests.integration.hook_helpers import Window, save
from tests.integration.plan_helpers import (
    DEPLOY_PLAYBOOK,
    PLAN_PATH,
    delete_plans_since,
    notes_on,
    plans_of,
    rest,
    set_status,
    status_of,
)

pytestmark = pytest.mark.lab


@pytest.fixture(scope="module")
def approval_hook(lab):
    with hookrun.RulebookDaemon(lab, log_name="test-approval", approval=True) as daemon:
        yield daemon


def intended(lab, device_id) -> str:
    body = rest(lab, "GET", "plugins/golden-config/generate-intended-config/", params={"device_id": device_id})
    return body["intended_config"]


def new_plan(lab, device_id, known, timeout=60) -> dict:
    """The one config plan of the device not in ``known`` (waits for it); adds it to ``known``."""
    found = {}

    def appeared():
        found.update({k: v for k, v in plans_of(lab, device_id).items() if k not in known})
        return bool(found)

    assert wait_for(appeared, timeout), "no new config plan for the device"
    assert len(found) == 1, f"{len(found)} new plans: {sorted(found)}"
    (made,) = found.values()
    known.add(made["id"])
    return made


@contextlib.contextmanager
def approval_scenario(lab, daemon, name):
    """``restored`` (the device and its simulated twin), then, the daemon settled on the restore, the plans
    made since and the notes on the device and on those plans deleted."""
    device = seeded_device(lab["api"], name)
    plans_before = set(plans_of(lab, device.id))
    notes_before = {note["id"] for note in notes_on(lab, device.id)}
    try:
        with restored(lab, name) as ctx:
            yield dict(ctx, known=set(plans_before))
    finally:
        daemon.settle()
        delete_plans_since(lab, device.id, plans_before)
        for note in notes_on(lab, device.id):
            if note["id"] not in notes_before:
                rest(lab, "DELETE", f"extras/notes/{note['id']}/")


def wait_status(lab, plan_id, wanted, timeout=180) -> str:
    assert wait_for(lambda: status_of(lab, plan_id) == wanted, timeout, interval=0.5), (
        f"config plan {plan_id} is {status_of(lab, plan_id)}, not {wanted}"
    )
    return wanted


def plan_a_rename(lab, daemon, ctx, new_name) -> dict:
    """Rename the device; wait for the daemon's PLANNED line and the plan it filed."""
    window = Window(daemon)
    save(ctx["device"], {"name": new_name})
    window.wait(f"{new_name}: PLANNED (config plan ", timeout=120)
    window.settle()
    return new_plan(lab, ctx["device"].id, ctx["known"])


# --- the tests ------------------------------------------------------------------------------------------
def test_a_change_is_planned_then_deployed_once_approved(lab, approval_hook):
    with approval_scenario(lab, approval_hook, "access1") as ctx:
        made = plan_a_rename(lab, approval_hook, ctx, "access-switch-1")
        plan_id = made["id"]
        assert made["status"]["name"] == cp.NOT_APPROVED
        assert made["plan_type"] == "manual" and made["change_control_id"] == cp.CHANGE_CONTROL_ID
        assert cp.same_config(made["config_set"], intended(lab, ctx["device"].id))  # the device's full intent
        (note,) = notes_on(lab, plan_id)
        assert "-hostname access1" in note["note"] and "+hostname access-switch-1" in note["note"]
        assert "trigger: rulebook: " in note["note"]
        assert sim_device(lab, "access1")["running_config"] == ctx["running"]  # nothing deployed yet

        window = Window(approval_hook)
        set_status(lab, plan_id, cp.APPROVED)
        window.wait(f"Config plan {plan_id} for access-switch-1 approved by ", timeout=60)
        wait_status(lab, plan_id, cp.COMPLETED)
        text = window.settle()
        running = sim_device(lab, "access1")["running_config"]
        assert "hostname access-switch-1" in running and "hostname access1\n" not in running
        assert f"Config plan {plan_id} for access-switch-1: Configuration committed successfully" in text
        assert "Nothing deployed" in text  # In Progress and Completed are plan events too: logged only
        assert text.count(": deploying") == 1  # deployed once
        # after the commit, Golden Config's compliance of the device is brought up to date (its own job)
        assert "Golden Config compliance brought up to date: compliant (4 feature(s))" in text, text[-3000:]
        kinds = [n["note"].split("]", 1)[0] for n in notes_on(lab, plan_id)]
        assert "[success" in kinds, kinds
        device_notes = [n["note"] for n in notes_on(lab, ctx["device"].id)]
        assert any("rollback point" in n and f"config plan {plan_id}" in n for n in device_notes)


def test_a_stale_plan_is_refused_failed_and_planned_afresh(lab, approval_hook):
    with approval_scenario(lab, approval_hook, "access1") as ctx:
        stale = plan_a_rename(lab, approval_hook, ctx, "access-switch-1")["id"]
        newer = plan_a_rename(lab, approval_hook, ctx, "access-switch-2")["id"]  # the device changed again

        window = Window(approval_hook)
        set_status(lab, stale, cp.APPROVED)
        # the event names the device as it is now (renamed again since the plan was made)
        window.wait(f"Config plan {stale} for access-switch-2 approved by ", timeout=60)
        wait_status(lab, stale, cp.FAILED)
        text = window.settle()
        assert "plan_stale" in text
        assert any(cp.STALE_NOTE in n["note"] for n in notes_on(lab, stale))
        fresh = new_plan(lab, ctx["device"].id, ctx["known"])
        assert fresh["id"] not in (stale, newer) and fresh["id"] in text  # the error names the fresh plan
        assert fresh["status"]["name"] == cp.NOT_APPROVED
        assert "hostname access-switch-2" in fresh["config_set"]
        assert sim_device(lab, "access1")["running_config"] == ctx["running"]  # nothing deployed


def test_a_plan_left_not_approved_is_never_deployed(lab, approval_hook):
    with approval_scenario(lab, approval_hook, "access1") as ctx:
        plan_id = plan_a_rename(lab, approval_hook, ctx, "access-switch-1")["id"]

        window = Window(approval_hook)  # another edit of the plan: not an approval
        rest(lab, "PATCH", f"{PLAN_PATH}{plan_id}/", json={"change_control_url": "https://change.example.com/1"})
        window.wait(f"Config plan {plan_id} for access-switch-1 updated: status Not Approved", timeout=60)
        text = window.settle()
        assert "Nothing deployed" in text and ": deploying" not in text

        # by hand, live: refused, the status unchanged
        refused = run_playbook(lab, "", dry_run=False, extra={"plan": plan_id}, playbook=DEPLOY_PLAYBOOK)
        assert refused.returncode != 0 and "plan_not_approved" in refused.stdout, refused
        assert status_of(lab, plan_id) == cp.NOT_APPROVED
        assert sim_device(lab, "access1")["running_config"] == ctx["running"]


def body(config):
    return [line for line in config.splitlines() if not line.startswith(("!", "## "))]


# the platform's hostname line for a name (lab/templates)
HOSTNAME_LINE = {"nxos1": "hostname {}", "junos1": "host-name {};", "ios1": "hostname {}"}


@pytest.mark.parametrize("name", sorted(HOSTNAME_LINE))
def test_an_approved_plan_is_deployed_on_the_other_platforms(lab, approval_hook, name):
    """The same gate on NX-OS (checkpoint, commit, verification), Junos (commit confirmed, verified,
    confirmed) and IOS (the archive's revert timer, verified, configure confirm): the plan shows the
    platform's own diff; once Approved it is deployed, Completed, the
    device renamed, its compliance brought up to date, a rollback point noted."""
    new_name = f"{name}-approved"
    with approval_scenario(lab, approval_hook, name) as ctx:
        made = plan_a_rename(lab, approval_hook, ctx, new_name)
        plan_id = made["id"]
        assert made["status"]["name"] == cp.NOT_APPROVED
        (note,) = notes_on(lab, plan_id)
        assert HOSTNAME_LINE[name].format(new_name) in note["note"], note["note"]
        # nothing deployed yet (NX-OS, Junos and IOS stamp each read with the time: compared without it)
        assert body(sim_device(lab, name)["running_config"]) == body(ctx["running"])

        window = Window(approval_hook)
        set_status(lab, plan_id, cp.APPROVED)
        window.wait(f"Config plan {plan_id} for {new_name} approved by ", timeout=60)
        wait_status(lab, plan_id, cp.COMPLETED)
        text = window.settle()
        state = sim_device(lab, name)
        assert state["hostname"] == new_name and state["pending_commit"] is None, state["hostname"]
        assert f"Config plan {plan_id} for {new_name}: Configuration committed successfully" in text, text[-3000:]
        assert text.count(": deploying") == 1
        assert "Golden Config compliance brought up to date: compliant (3 feature(s))" in text, text[-3000:]
        if name == "nxos1":
            assert "NX-OS has no commit-confirm" in text, text[-3000:]
        device_notes = [n["note"] for n in notes_on(lab, ctx["device"].id)]
        assert any("rollback point" in n and f"config plan {plan_id}" in n for n in device_notes)
