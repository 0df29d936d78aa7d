"""The mixed fleet on the lab: NX-OS (NX-API), Junos (NETCONF) and IOS (SSH CLI, SCP to flash) beside
EOS, through their real NAPALM drivers against the lab's simulators, each pushed as safely as its platform
allows.

- Junos: commit confirmed (whole minutes; the lab's Junos "minute" lasts 10 s), verified, confirmed;
  a device silent after the commit reverts by its own timer.
- NX-OS: no commit-confirm: a checkpoint, the commit, verification; a failed verification rolls back
  to the checkpoint; a device silent after the commit keeps the change and the run says so; management
  re-addressing is refused.
- IOS: the archive's revert timer (``configure terminal revert timer``, whole minutes; the lab's IOS
  "minute" lasts 10 s), verified, ``configure confirm``; a device silent after the commit reverts by it.
"""

from __future__ import annotations

import uuid

import pytest

from tests.integration.hook_helpers import change_and_restore
from tests.integration.provision_helpers import (
    assert_failed,
    assert_ok,
    change_primary_ip,
    notes_with,
    playbook_env,
    restored,
    run_playbook,
    sim_device,
    sim_faults,
    sim_set_running,
    wait_for,
)

pytestmark = pytest.mark.lab

# device: (the platform's hostname line for a name, the management interface)
PLATFORMS = {
    "nxos1": ("hostname {}", "mgmt0"),
    "junos1": ("host-name {};", "fxp0"),
    "ios1": ("hostname {}", "GigabitEthernet0/0"),
}


def body(config):
    """A configuration without the comment lines the device stamps with the time of each read
    (NX-OS ``!Time:``, Junos ``## Last changed:``)."""
    return [ln for ln in config.splitlines() if not ln.startswith(("!", "## "))]


def running(lab, name):
    return body(sim_device(lab, name)["running_config"])


def hostname_line(name, hostname):
    return PLATFORMS[name][0].format(hostname)


@pytest.mark.parametrize("name", sorted(PLATFORMS))
def test_rename_dry_run_then_live_commit_verified_then_back(lab, trigger, name):
    new = f"{name}-renamed"
    with restored(lab, name) as ctx:
        before = running(lab, name)
        ctx["device"].update({"name": new})
        dry = run_playbook(lab, new, trigger=trigger, diff=True)
        assert assert_ok(dry, new)["changed"] == 1
        assert any(
            hostname_line(name, new) in line and line.lstrip().startswith("+") or line == hostname_line(name, new)
            for line in dry.stdout.splitlines()
        ), dry
        assert running(lab, name) == before, "a dry run changed the device"

        live = run_playbook(lab, new, dry_run=False, trigger=trigger)
        assert assert_ok(live, new)["changed"] == 1
        assert f"{new}: Configuration committed successfully" in live.stdout, live
        state = sim_device(lab, name)
        assert state["hostname"] == new and hostname_line(name, new) in state["running_config"]
        assert state["pending_commit"] is None and not state.get("open_sessions"), state  # IOS: a count
        if name == "nxos1":
            assert "NX-OS has no commit-confirm" in live.stdout, live
            assert any("rollback_config.txt" in f for f in state["files"]), state["files"]
        elif name == "ios1":
            assert "NX-OS has no commit-confirm" not in live.stdout
            assert "flash:/rollback_config.txt" in state["files"], state["files"]
            assert hostname_line(name, new) in state["startup_config"], "not saved (write memory)"
        else:
            assert "NX-OS has no commit-confirm" not in live.stdout
            assert state["lock"] is None and state["candidate_modified"] is False
        again = run_playbook(lab, new, dry_run=False, trigger=trigger)
        assert assert_ok(again, new)["changed"] == 0, again

        # a fresh record: pynautobot diffs against the record as first read, which had this name
        ctx["api"].dcim.devices.get(ctx["device"].id).update({"name": name})
        back = run_playbook(lab, name, dry_run=False, trigger=trigger)
        assert assert_ok(back, name)["changed"] == 1
        assert sim_device(lab, name)["hostname"] == name
    firsts = sorted(n.note.split("\n", 1)[0][:9] for n in notes_with(lab["api"], trigger))
    # a note for each live commit (renamed, renamed back); none for a failure
    assert firsts.count("[success]") == 2 and not [f for f in firsts if f in ("[danger]", "[warning]")], firsts


# the role's block each platform's template adds for a Distribution Switch (lab/templates)
VLAN_20 = {"nxos1": "vlan 20", "junos1": "vlan-id 20;", "ios1": "vlan 20"}


@pytest.mark.parametrize("name", sorted(PLATFORMS))
def test_role_change_compliance_after_the_commit_then_the_rollback_playbook(lab, trigger, name):
    """A role change adds the distribution block: dry run with its diff, live commit, Golden Config's own
    backup and compliance of the platform say compliant; then ``rollback_device`` shows the push
    reversed (dry run) and restores the device's own restore point (NX-OS its checkpoint file, Junos
    rollback 2: its confirming commit is rollback 1), after which the device no longer has the block
    and Golden Config says so."""

    def rollback(dry_run):
        return run_playbook(lab, name, dry_run=dry_run, trigger=trigger, playbook="sotsync.nautobot.rollback_device")

    with restored(lab, name) as ctx:
        before = running(lab, name)
        dist = ctx["api"].extras.roles.get(name="Distribution Switch")
        ctx["device"].update({"role": dist.id})
        dry = run_playbook(lab, name, trigger=trigger, diff=True)
        assert assert_ok(dry, name)["changed"] == 1 and VLAN_20[name] in dry.stdout, dry
        assert running(lab, name) == before

        live = run_playbook(lab, name, dry_run=False, trigger=trigger)
        assert assert_ok(live, name)["changed"] == 1
        assert f"{name}: Configuration committed successfully" in live.stdout, live
        assert f"{name}: Golden Config compliance brought up to date: compliant (3 feature(s))" in live.stdout, live
        pushed = running(lab, name)
        assert any(VLAN_20[name] in line for line in pushed)
        restore = {
            "nxos1": "checkpoint file rollback_config.txt",
            "junos1": "rollback 2",
            "ios1": "flash:rollback_config.txt",
        }[name]
        notes = [n.note for n in notes_with(lab["api"], trigger)]
        assert any(f"- device restore point: {restore}" in n for n in notes), notes

        dry_back = rollback(True)
        assert dry_back.returncode == 0 and "DRY RUN: the rollback would restore" in dry_back.stdout, dry_back
        assert VLAN_20[name] in dry_back.stdout, dry_back
        assert running(lab, name) == pushed

        back = rollback(False)
        assert back.returncode == 0 and "Rolled back to the configuration before the push" in back.stdout, back
        # Nautobot still says Distribution Switch: Golden Config finds the vlan missing on the device
        assert "Golden Config compliance brought up to date: NOT compliant in vlans" in back.stdout, back
        assert running(lab, name) == before
        assert sim_device(lab, name)["pending_commit"] is None
        again = rollback(False)
        assert again.returncode == 0 and "Nothing to roll back" in again.stdout, again


@pytest.mark.parametrize("name", sorted(PLATFORMS))
def test_rejected_line_leaves_the_device_as_it_was(lab, trigger, name):
    # A config context value with a newline makes the template emit a line the platform refuses.
    bad = {
        "nxos1": "site-b.lab\nfrobnicate everything",
        "junos1": "site-b.lab;\n    frobnicate everything",
        "ios1": "site-b.lab\nfrobnicate everything",
    }[name]
    with restored(lab, name) as ctx:
        ctx["device"].update({"local_config_context_data": {"domain_name": bad}})
        before = running(lab, name)
        run = run_playbook(lab, name, dry_run=False, trigger=trigger)
        assert_failed(run, name, "config_rejected")
        state = sim_device(lab, name)
        assert body(state["running_config"]) == before, "a refused configuration changed the device"
        assert state["pending_commit"] is None
        if name == "junos1":
            assert state["lock"] is None and state["candidate_modified"] is False
            assert "syntax error" in run.stdout and "frobnicate" in run.stdout, run
        elif name == "ios1":
            # IOS does not repeat the refused line: its caret and message are what the device says
            assert "% Invalid input detected at '^' marker." in run.stdout, run
        else:
            assert "frobnicate" in run.stdout, run
            assert "Invalid command" in run.stdout and "rolled back to the checkpoint" in run.stdout, run


@pytest.mark.parametrize("name", ["ios1", "junos1"])
def test_device_silent_after_the_commit_reverts_by_its_timer(lab, trigger, name):
    """Junos's commit confirmed and IOS's revert timer: the lab's minute lasts 10 s, so the device, silent
    after the commit, goes back to its configuration by itself within about that."""
    new = f"{name}-renamed"
    with restored(lab, name) as ctx:
        ctx["device"].update({"name": new})
        before = running(lab, name)
        sim_faults(lab, name, fail_after_commit=True)
        run = run_playbook(
            lab,
            new,
            dry_run=False,
            trigger=trigger,
            extra={"provision_commit_confirm_seconds": 60, "provision_napalm_timeout": 3},
        )
        assert run.recap(new)["failed"] == 1, run
        assert "commit-confirm timer" in run.stdout, run
        assert wait_for(lambda: sim_device(lab, name)["pending_commit"] is None, timeout=40)
        # IOS archived the configuration when its timer started, after NAPALM's own "file prompt quiet"
        # (for its file copies): the revert restores that line too, as a real IOS does
        after = [line for line in running(lab, name) if not (name == "ios1" and line == "file prompt quiet")]
        assert after == before, "the timer did not revert the commit"


def test_junos_timer_is_rounded_up_to_whole_minutes_and_the_run_says_so(lab, trigger):
    with restored(lab, "junos1") as ctx:
        ctx["device"].update({"name": "junos1-renamed"})
        run = run_playbook(
            lab, "junos1-renamed", dry_run=False, trigger=trigger, extra={"provision_commit_confirm_seconds": 90}
        )
        assert assert_ok(run, "junos1-renamed")["changed"] == 1
        assert "commit_confirm_seconds 90 was rounded up to 120 s (2 min)" in run.stdout, run
        assert sim_device(lab, "junos1")["pending_commit"] is None


def test_nxos_device_silent_after_the_commit_is_reported_not_rolled_back(lab, trigger):
    with restored(lab, "nxos1") as ctx:
        ctx["device"].update({"name": "nxos1-renamed"})
        sim_faults(lab, "nxos1", fail_after_commit=True)
        run = run_playbook(lab, "nxos1-renamed", dry_run=False, trigger=trigger, extra={"provision_napalm_timeout": 3})
        assert run.recap("nxos1-renamed")["failed"] == 1, run
        assert "NX-OS has no commit-confirm" in run.stdout and "check the device" in run.stdout, run
        sim_faults(lab, "nxos1", fail_after_commit=False, unresponsive=False)
        # nothing reverts an NX-OS commit: the device kept the change, as the run said
        assert sim_device(lab, "nxos1")["hostname"] == "nxos1-renamed"


def test_nxos_management_readdressing_is_refused_unless_the_user_opts_in(lab, trigger):
    with restored(lab, "nxos1") as ctx:
        before = running(lab, "nxos1")
        change_primary_ip(ctx["api"], ctx["device"], "127.0.1.52/24", ctx["created_ips"], interface="mgmt0")
        run = run_playbook(lab, "nxos1", dry_run=False, trigger=trigger)
        assert_failed(run, "nxos1", "commit_failed")
        assert "without commit-confirm" in run.stdout and "nothing was applied" in run.stdout, run
        assert running(lab, "nxos1") == before

        # the user's explicit opt-in: committed after the checkpoint at the old address, verified at the new
        opted = run_playbook(
            lab, "nxos1", dry_run=False, trigger=trigger, extra={"provision_readdress_without_confirm": True}
        )
        assert assert_ok(opted, "nxos1")["changed"] == 1
        assert "moved to its new management address 127.0.1.52; verified there" in opted.stdout, opted
        assert "as readdress_without_confirm asked" in opted.stdout, opted
        state = sim_device(lab, "nxos1")
        assert state["address"] == "127.0.1.52" and "ip address 127.0.1.52/24" in state["running_config"]
        assert "ip address 127.0.1.52/24" in state["startup_config"], "not saved at the new address"
    assert wait_for(lambda: sim_device(lab, "nxos1")["address"] == "127.0.1.51", timeout=10)


@pytest.mark.parametrize(
    ("name", "old", "new"), [("ios1", "127.0.1.61", "127.0.1.62"), ("junos1", "127.0.1.41", "127.0.1.42")]
)
def test_management_readdressing_confirms_at_the_new_address(lab, trigger, name, old, new):
    """Committed under commit-confirm at the old address, verified and confirmed by a session at the new
    one: Junos after the old session drops with the commit; IOS's revert timer is the device's, not the
    session's (configure confirm from the new session), and the configuration is saved there."""
    with restored(lab, name) as ctx:
        change_primary_ip(ctx["api"], ctx["device"], f"{new}/24", ctx["created_ips"], interface=PLATFORMS[name][1])
        run = run_playbook(lab, name, dry_run=False, trigger=trigger)
        assert assert_ok(run, name)["changed"] == 1
        assert f"moved to its new management address {new}" in run.stdout, run
        state = sim_device(lab, name)
        assert state["address"] == new and state["pending_commit"] is None, state
        if name == "ios1":
            assert f"ip address {new} 255.255.255.0" in state["startup_config"], "not saved at the new address"
    assert wait_for(lambda: sim_device(lab, name)["address"] == old, timeout=10)


# --- each platform its own login ------------------------------------------------------------------------
def test_each_platform_logs_in_with_its_own_login(lab, trigger, tmp_path):
    """The lab's platforms have different passwords, each kept where its Nautobot secrets group says (EOS
    the environment's NAPALM_PASSWORD, NX-OS and IOS each a text file, Junos an environment variable of its
    own): one run reaches all four. A wrong Junos password (the environment variable) fails Junos alone, naming
    where the login came from; an inventory password for nxos1 wins over its secrets group."""
    names = ["access1", "nxos1", "junos1", "ios1"]
    passwords = lab["device_passwords"]
    assert len(set(passwords.values())) == len(passwords) == 4, "the lab's platforms share a password"

    run = run_playbook(lab, names, trigger=trigger)
    for name in names:
        assert_ok(run, name)
    assert not [p for p in passwords.values() if p in run.stdout], "a device password is shown"

    wrong = f"wrong-{trigger[-8:]}"
    bad_env = run_playbook(lab, names, trigger=trigger, env=playbook_env(lab, LAB_JUNOS_PASSWORD=wrong))
    assert_failed(bad_env, "junos1", "device_authentication")
    # (the lab's username is "sotsync", masked as a word wherever it shows, the group's name too)
    assert "lab Juniper Junos login' (access type Generic, environment-variable))" in bad_env.stdout, bad_env
    assert [bad_env.recap(n)["failed"] for n in ("access1", "nxos1", "ios1")] == [0, 0, 0], bad_env
    assert wrong not in bad_env.stdout

    inventory = tmp_path / "inventory.yml"
    inventory.write_text(
        f"all:\n  hosts:\n    nxos1:\n      napalm_username: {lab['device_username']}\n      napalm_password: {wrong}\n"
    )
    by_inventory = run_playbook(lab, names, trigger=trigger, inventory=inventory)
    assert_failed(by_inventory, "nxos1", "device_authentication")
    assert "inventory" in by_inventory.stdout.split("nxos1: FAILED", 1)[1].split("\n", 1)[0], by_inventory
    assert by_inventory.recap("junos1")["failed"] == 0 and by_inventory.recap("access1")["failed"] == 0
    assert wrong not in by_inventory.stdout


# --- through the real daemon -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def hook(lab):
    from lab import hookrun

    with hookrun.RulebookDaemon(lab, log_name="test-mixed-fleet-hook") as daemon:
        yield daemon


# A secret each platform's template seeds (lab/templates), and another value the device starts with, so
# the daemon's run shows a secret change: its log (what the daemon prints, AWX shows) must mask both.
SEEDED_SECRET = {
    "access1": ("Lab-Seed-C0mm", "Other-C0mm"),
    "nxos1": ("Lab-Seed-NxC0mm", "Other-NxC0mm"),
    "junos1": ("Lab-Seed-JunC0mm", "Other-JunC0mm"),
    "ios1": ("Lab-Seed-IosC0mm", "Other-IosC0mm"),
}


@pytest.mark.parametrize(
    ("name", "diff_line"),
    [("access1", "+hostname {}"), ("nxos1", "hostname {}"), ("junos1", "+  host-name {};"), ("ios1", "+hostname {}")],
)
def test_rename_through_the_daemon_shows_the_platforms_diff_and_no_secret(lab, hook, name, diff_line):
    new = f"{name}-renamed"
    seeded, other = SEEDED_SECRET[name]
    with restored(lab, name) as ctx:
        assert seeded in ctx["running"], f"{name} does not carry the seeded secret {seeded!r}"
        sim_set_running(lab, name, ctx["running"].replace(seeded, other))
        dev = lab["api"].dcim.devices.get(serial=f"SOTSYNC-{name.upper()}")
        text = change_and_restore(
            hook, dev, {"name": new}, {"name": name}, 1, f"Device {new} is ready for provisioning"
        )
    assert "Configuration-relevant fields changed: ['name']" in text
    assert diff_line.format(new) in text, text[-3000:]
    assert f"{new}: DRY RUN mode: Discarding configuration changes" in text
    assert "1 device(s): 0 committed, 1 with differences (dry run)" in text and ", 0 failed (" in text
    assert "<removed>" in text, text[-3000:]
    assert seeded not in text and other not in text, "the daemon's log shows a secret"


def test_platform_change_through_the_daemon_is_logged_not_provisioned(lab, hook):
    """junos1 moved to an EOS platform in Nautobot: the device still runs Junos, and the EOS driver and
    template must not be pushed to it on their own. (Nautobot ties a platform with a manufacturer to that
    maker's device types: the test's EOS platform has none.)"""
    api = lab["api"]
    dev = api.dcim.devices.get(serial="SOTSYNC-JUNOS1")
    junos = api.dcim.platforms.get(name="Juniper Junos")
    eos = api.dcim.platforms.create(name=f"pytest EOS {uuid.uuid4().hex[:6]}", network_driver="arista_eos")
    before = running(lab, "junos1")
    try:
        text = change_and_restore(
            hook, dev, {"platform": eos.id}, {"platform": junos.id}, 0, f"Its platform changed (now {eos.name})"
        )
    finally:
        eos.delete()
    assert "Configuration-relevant fields changed: ['platform']" in text
    assert "ansible-playbook sotsync.nautobot.provision_device -e device=junos1" in text
    assert "Provisioning triggered" not in text
    assert running(lab, "junos1") == before
