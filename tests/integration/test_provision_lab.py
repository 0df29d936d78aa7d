"""The provisioning playbook on the live lab: real Nautobot + Golden Config, the real napalm ``eos``
driver, simulated devices. Runs ``ansible-playbook sotsync.nautobot.provision_device`` as users do.

Each test restores the Nautobot data and the simulated device it changed, and deletes the
notes it wrote (found by a unique trigger text). Skips when the lab is not up (``scripts/lab up``).
"""

from __future__ import annotations

import json
import tempfile

import pytest
from tests.support.net import free_port

from tests.integration.provision_helpers import (
    ROOT,
    assert_failed,
    assert_ok,
    change_primary_ip,
    notes_with,
    playbook_env,
    restored,
    run_job,
    run_playbook,
    seeded_device,
    sim_device,
    sim_faults,
    sim_set_running,
    wait_for,
)

pytestmark = pytest.mark.lab

DRY_RUN = "DRY RUN mode: Discarding configuration changes"
COMMITTED = "Configuration committed successfully"


def dry_live_again(lab, device_name, sim_name, expected_lines, trigger):
    """Dry run (diff shown, nothing applied), live (committed), live again (nothing to do)."""
    before = sim_device(lab, sim_name)["running_config"]

    dry = run_playbook(lab, device_name, dry_run=True, trigger=trigger)
    recap = assert_ok(dry, device_name)
    assert recap["changed"] == 1 and dry.shows(f"{device_name}: {DRY_RUN}"), dry
    for line in expected_lines:
        assert dry.shows(line), f"{line!r} not in the diff:\n{dry!r}"
    state = sim_device(lab, sim_name)
    assert state["running_config"] == before and state["open_sessions"] == [] and state["pending_commit"] is None

    live = run_playbook(lab, device_name, dry_run=False, trigger=trigger)
    recap = assert_ok(live, device_name)
    assert recap["changed"] == 1 and live.shows(f"{device_name}: {COMMITTED}"), live
    for line in expected_lines:
        assert live.shows(line), live
    state = sim_device(lab, sim_name)
    running = state["running_config"].splitlines()
    for line in expected_lines:
        if line.startswith("+"):
            assert line[1:] in running, f"{line[1:]!r} not in the running config after the commit"
        elif line.startswith("-"):
            assert line[1:] not in running, f"{line[1:]!r} still in the running config after the commit"
    assert state["open_sessions"] == [] and state["pending_commit"] is None

    again = run_playbook(lab, device_name, dry_run=False, trigger=trigger)
    recap = assert_ok(again, device_name)
    assert recap["changed"] == 0 and again.shows("(no differences)"), again
    assert sim_device(lab, sim_name)["running_config"] == state["running_config"]

    notes = [n.note for n in notes_with(lab["api"], trigger)]
    assert len(notes) == 3, notes
    dry_notes = [n for n in notes if n.startswith("[info]") and "- mode: dry run" in n]
    assert len(dry_notes) == 1 and all(line in dry_notes[0] for line in expected_lines), notes
    assert sum(n.startswith("[success]") and COMMITTED in n for n in notes) == 1, notes
    assert sum(n.startswith("[info]") and "- mode: commit" in n and "No differences." in n for n in notes) == 1


# --- the seed scenarios ------------------------------------------------------------------------------
def test_rename_dry_run_then_live(lab, trigger):
    with restored(lab, "access1") as ctx:
        ctx["device"].update({"name": "access-switch-1"})
        dry_live_again(lab, "access-switch-1", "access1", ["-hostname access1", "+hostname access-switch-1"], trigger)


def test_management_ip_change_dry_run_then_live(lab, trigger):
    # The simulated access2 answers only on the address of its committed Management1 interface, as
    # a real switch does: after the change in Nautobot it is still at 127.0.1.12, not at the new
    # primary IPv4. The module finds it there through Nautobot's change log, pushes, and verifies and
    # confirms at 127.0.1.112; the third run reaches it at its new address directly.
    new_ip = "127.0.1.112"
    with restored(lab, "access2") as ctx:
        change_primary_ip(ctx["api"], ctx["device"], new_ip + "/24", ctx["created_ips"])
        assert sim_device(lab, "access2")["address"] == "127.0.1.12"
        dry_live_again(
            lab, "access2", "access2", ["-   ip address 127.0.1.12/24", "+   ip address 127.0.1.112/24"], trigger
        )
        assert sim_device(lab, "access2")["address"] == new_ip
    assert wait_for(lambda: sim_device(lab, "access2")["address"] == "127.0.1.12", timeout=5)


def test_rollback_to_the_configuration_before_the_last_push(lab, trigger):
    """A live push leaves a rollback point in the device's notes; rollback_device shows the diff (dry
    run), restores it (live, verified), then has nothing left to do; it refuses when something else
    changed the device since the push."""

    def rollback(dry_run):
        return run_playbook(
            lab, "access-switch-1", dry_run=dry_run, trigger=trigger, playbook="sotsync.nautobot.rollback_device"
        )

    with restored(lab, "access1") as ctx:
        before = sim_device(lab, "access1")["running_config"]
        ctx["device"].update({"name": "access-switch-1"})
        assert_ok(run_playbook(lab, "access-switch-1", dry_run=False, trigger=trigger), "access-switch-1")
        pushed = sim_device(lab, "access1")["running_config"]
        assert "hostname access-switch-1" in pushed
        notes = [n.note for n in notes_with(lab["api"], trigger)]
        assert any("- rollback point: before sha256:" in n and "- device restore point: flash:" in n for n in notes)
        assert not any("Running configuration before this push" in n for n in notes)  # no copy in Nautobot

        dry = rollback(True)
        assert dry.returncode == 0 and "DRY RUN: the rollback would restore" in dry.stdout, dry
        assert "-hostname access-switch-1" in dry.stdout and "+hostname access1" in dry.stdout, dry
        assert sim_device(lab, "access1")["running_config"] == pushed

        live = rollback(False)
        assert live.returncode == 0 and "Rolled back to the configuration before the push" in live.stdout, live
        # Golden Config backs it up and checks it: back at access1 while Nautobot names it access-switch-1
        assert "Golden Config compliance brought up to date: NOT compliant in system" in live.stdout, live
        assert "hostname access1\n" in sim_device(lab, "access1")["running_config"]
        assert "hostname access-switch-1" not in sim_device(lab, "access1")["running_config"]
        assert before.split("\n", 1)[1] == sim_device(lab, "access1")["running_config"].split("\n", 1)[1]
        again = rollback(False)
        assert again.returncode == 0 and "Nothing to roll back" in again.stdout, again

        # Pushed again, then changed behind the collection's back: the rollback refuses.
        assert_ok(run_playbook(lab, "access-switch-1", dry_run=False, trigger=trigger), "access-switch-1")
        sim_set_running(lab, "access1", sim_device(lab, "access1")["running_config"] + "ntp server 10.9.9.9\n")
        changed = sim_device(lab, "access1")["running_config"]
        refused = rollback(False)
        assert refused.returncode != 0 and "rollback_refused" in refused.stdout, refused
        assert sim_device(lab, "access1")["running_config"] == changed


def test_role_change_dry_run_then_live(lab, trigger):
    with restored(lab, "access1") as ctx:
        dist = lab["api"].extras.roles.get(name="Distribution Switch")
        ctx["device"].update({"role": dist.id})
        dry_live_again(
            lab, "access1", "access1", ["+vlan 20", "+   name servers", "+ip routing", "+router ospf 1"], trigger
        )


def test_check_mode_is_a_dry_run_that_writes_nothing(lab, trigger):
    with restored(lab, "access1") as ctx:
        ctx["device"].update({"name": "access-switch-1"})
        before = sim_device(lab, "access1")["running_config"]
        run = run_playbook(lab, "access-switch-1", dry_run=False, check=True, diff=True, trigger=trigger)
        recap = assert_ok(run, "access-switch-1")
        assert recap["changed"] == 1 and run.shows("+hostname access-switch-1"), run
        assert sim_device(lab, "access1")["running_config"] == before
        assert notes_with(lab["api"], trigger) == []


def test_many_devices_in_one_run(lab, trigger):
    run = run_playbook(lab, ["access1", "access2", "dist1"], trigger=trigger)
    for name in ("access1", "access2", "dist1"):
        assert_ok(run, name)
        assert run.shows(f"{name}: {DRY_RUN}"), run
    comma = run_playbook(lab, "access1, dist1", trigger=trigger)
    assert_ok(comma, "access1") and assert_ok(comma, "dist1")


def test_runs_under_ansible_runner_like_the_rulebook(lab, trigger):
    ansible_runner = pytest.importorskip("ansible_runner")
    env = playbook_env(lab)
    device_id = str(lab["api"].dcim.devices.get(name="access1").id)
    with tempfile.TemporaryDirectory() as private:
        result = ansible_runner.run(
            private_data_dir=private,
            playbook="sotsync.nautobot.provision_device",
            extravars={  # what the rulebook's run_playbook passes: the batch's device UUIDs
                "device": [device_id],
                "dry_run": True,
                "ready_statuses": ["Active", "Planned", "Staged"],
                "trigger": trigger,
                "ansible_eda": {"ruleset": "device config hook", "rule": "provision", "events": {}},
            },
            envvars={
                k: env[k]
                for k in (
                    "ANSIBLE_COLLECTIONS_PATH",
                    "NAUTOBOT_URL",
                    "NAUTOBOT_TOKEN",
                    "NAPALM_USERNAME",
                    "NAPALM_PASSWORD",
                )
            },
            settings={"suppress_env_files": True},
            quiet=True,
        )
        results = [
            e["event_data"]["res"]
            for e in result.events
            if e["event"] == "runner_on_ok"
            and e["event_data"].get("task_action") == "sotsync.nautobot.golden_config_deploy"
        ]
        hosts = {e["event_data"].get("host") for e in result.events if e["event"] == "runner_on_ok"}
    assert result.status == "successful" and result.rc == 0
    assert len(results) == 1 and results[0]["summary"]["devices"] == 1
    only = results[0]["results"][0]
    assert only["msg"] == DRY_RUN and only["trigger"] == trigger and only["dry_run"] is True
    assert only["note_id"]
    assert only["device_id"] == device_id and only["device"] == "access1"  # found by UUID, shown by name
    assert hosts == {"localhost"}  # one task on the controller for the whole batch


# --- readiness --------------------------------------------------------------------------------------------
UNREADY = {
    "unready-no-platform": "platform missing",
    "unready-no-driver": "platform has no NAPALM driver",
    "unready-no-ip": "no primary IPv4",
    "unready-offline": "status not Active, Planned or Staged (is Offline)",
}


def test_unready_devices_are_refused_with_reasons(lab, trigger):
    run = run_playbook(lab, list(UNREADY), trigger=trigger)
    assert run.returncode != 0
    for name, reason in UNREADY.items():
        assert run.recap(name)["failed"] == 1, run
        assert run.shows(f"{name}: FAILED (device_not_ready): Device is not ready for provisioning: {reason}"), run
    notes = notes_with(lab["api"], trigger)
    assert len(notes) == len(UNREADY) and all(n.note.startswith("[warning]") for n in notes)


# --- faults ------------------------------------------------------------------------------------------------
def test_device_down_is_a_clear_unreachable_error(lab, trigger):
    with restored(lab, "access2"):
        sim_faults(lab, "access2", unresponsive=True)
        run = run_playbook(lab, "access2", trigger=trigger, extra={"provision_napalm_timeout": 3})
        assert_failed(run, "access2", "device_unreachable")
        assert "127.0.1.12 is unreachable" in run.stdout and "timed out" in run.stdout, run
        assert run.seconds < 60


def test_wrong_device_credentials(lab, trigger):
    wrong = f"wrong-password-{trigger[-8:]}"
    run = run_playbook(lab, "access1", trigger=trigger, env=playbook_env(lab, NAPALM_PASSWORD=wrong))
    assert_failed(run, "access1", "device_authentication")
    assert "refused the NAPALM credentials" in run.stdout and wrong not in run.stdout, run
    assert sim_device(lab, "access1")["open_sessions"] == []


def test_missing_device_credentials_fail_before_any_connection(lab, trigger):
    requests_before = sim_device(lab, "access1")["requests"]
    run = run_playbook(
        lab, "access1", trigger=trigger, env=playbook_env(lab, NAPALM_USERNAME=None, NAPALM_PASSWORD=None)
    )
    assert_failed(run, "access1", "missing_credentials")
    assert "NAPALM credentials missing: username and password" in run.stdout, run
    assert sim_device(lab, "access1")["requests"] == requests_before


def test_nautobot_down(lab, trigger):
    url = f"http://127.0.0.1:{free_port()}"
    run = run_playbook(lab, "access1", trigger=trigger, env=playbook_env(lab, NAUTOBOT_URL=url))
    assert_failed(run, "access1", "nautobot_unreachable")
    assert f"Nautobot at {url} is unreachable" in run.stdout and "connection refused" in run.stdout, run


def test_wrong_nautobot_token(lab, trigger):
    token = "0123456789" * 4
    run = run_playbook(lab, "access1", trigger=trigger, env=playbook_env(lab, NAUTOBOT_TOKEN=token))
    assert_failed(run, "access1", "nautobot_authentication")
    assert "Nautobot refused the API token" in run.stdout and token not in run.stdout, run


def test_rejected_line_applies_nothing(lab, trigger):
    # A config context value with a newline makes the template emit a line EOS refuses.
    with restored(lab, "access1") as ctx:
        ctx["device"].update({"local_config_context_data": {"domain_name": "site-a.lab\nfrobnicate everything"}})
        before = sim_device(lab, "access1")["running_config"]
        run = run_playbook(lab, "access1", dry_run=False, trigger=trigger)
        assert_failed(run, "access1", "config_rejected")
        assert "rejected the line 'frobnicate everything'" in run.stdout, run
        state = sim_device(lab, "access1")
        assert state["running_config"] == before and state["open_sessions"] == [] and state["pending_commit"] is None
        notes = notes_with(lab["api"], trigger)
        assert len(notes) == 1 and notes[0].note.startswith("[warning]")


def test_device_silent_after_commit_is_reverted_by_commit_confirm(lab, trigger):
    with restored(lab, "access1") as ctx:
        ctx["device"].update({"name": "access-switch-1"})
        before = sim_device(lab, "access1")["running_config"]
        sim_faults(lab, "access1", fail_after_commit=True)
        run = run_playbook(
            lab,
            "access-switch-1",
            dry_run=False,
            trigger=trigger,
            extra={"provision_commit_confirm_seconds": 4, "provision_napalm_timeout": 2},
        )
        assert_failed(run, "access-switch-1", "commit_verification_failed")
        assert "stopped answering after the commit" in run.stdout and "commit-confirm timer" in run.stdout, run
        assert wait_for(lambda: sim_device(lab, "access1")["pending_commit"] is None, timeout=20)
        state = sim_device(lab, "access1")
        assert state["running_config"] == before, "the commit-confirm timer did not revert the change"
        assert state["unresponsive"] is False
        notes = notes_with(lab["api"], trigger)
        assert len(notes) == 1 and notes[0].note.startswith("[danger]")


def test_stored_intent_source(lab, trigger):
    api = lab["api"]
    device = seeded_device(api, "access1")
    records = api.plugins.golden_config.golden_config
    existed = records.get(device=device.id) is not None
    try:
        status = run_job(api, "Generate Intended Configurations", {"device": [device.id]})
        assert status == "SUCCESS", f"Golden Config's intended job ended {status}"
        run = run_playbook(lab, "access1", trigger=trigger, extra={"provision_intent_source": "stored"})
        assert_ok(run, "access1")
        assert run.shows(f"access1: {DRY_RUN}") and run.shows("(no differences)"), run
        notes = notes_with(api, trigger)
        assert len(notes) == 1 and "- intent source: stored" in notes[0].note and "- intent age: " in notes[0].note
    finally:
        if not existed:
            record = records.get(device=device.id)
            if record is not None:
                record.delete()


def test_missing_stored_intent_is_refused(lab, trigger):
    records = lab["api"].plugins.golden_config.golden_config
    if records.get(device=seeded_device(lab["api"], "dist1").id) is not None:
        pytest.skip("dist1 has a stored intended configuration in this lab")
    run = run_playbook(lab, "dist1", trigger=trigger, extra={"provision_intent_source": "stored"})
    assert_failed(run, "dist1", "intent_unavailable")
    assert "has no stored intended configuration for dist1" in run.stdout, run


def test_device_not_found(lab, trigger):
    run = run_playbook(lab, f"no-such-device-{trigger[-8:]}", trigger=trigger)
    assert run.returncode != 0 and "device_not_found" in run.stdout, run


def test_playbook_requires_a_device(lab):
    """Nothing named, no filter and no inventory of devices: the playbook says what to give, before the module
    (whose own message, for direct use, is unit-tested in test_batch.py)."""
    run = run_playbook(lab, "")
    assert run.returncode != 0, run
    assert (
        "Nothing to provision: name devices (-e device=NAME[,NAME]), select them with a Nautobot filter" in run.stdout
    )
    assert "or give an inventory of devices (-i INVENTORY, with --limit to choose)" in run.stdout, run


def test_lab_json_shape_used_here(lab):
    # The keys these tests rely on, with a readable failure if the lab's facts change shape.
    for key in ("env", "sim_control", "sim_port", "devices", "api"):
        assert key in lab, key
    assert {"access1", "access2", "dist1"} <= set(lab["devices"])
    assert (ROOT / ".build" / "collections").is_dir()
    assert seeded_device(lab["api"], "access1").name == "access1", json.dumps(lab["devices"])
