"""Golden Config's compliance after a live commit, on the real lab (issue 12).

A live commit runs Golden Config's own "Execute All Golden Configuration Jobs - Multiple Device" job for
the committed devices: Golden Config backs the device up itself (NAPALM over eAPI to the simulator,
with its own credentials), pushes the backup to its backup repository and checks compliance with its
compliance rules. These tests read what Golden Config then shows: its records over REST and the file
in its backup repository.
"""

from __future__ import annotations

import subprocess
from datetime import datetime, UTC
from pathlib import Path

import pytest
import requests
from tests.integration.provision_helpers import (
    restored,
    run_playbook,
    sim_device,
)

pytestmark = pytest.mark.lab

COMMITTED = "Configuration committed successfully"


def gc_get(lab, path, **params):
    r = requests.get(
        f"{lab['nautobot_url']}/api/plugins/golden-config/{path}",
        params=params,
        headers={"Authorization": f"Token {lab['nautobot_token']}", "Accept": "application/json"},
        timeout=30,
    )
    r.raise_for_status()
    return r.json()["results"]


def features_of(lab, device_id):
    rows = gc_get(lab, "config-compliance/", device=device_id, depth=1, limit=100)
    return {row["rule"]["display"].rsplit(" - ", 1)[-1]: row for row in rows}


def backup_file(lab, location_slug, name):
    """The device's file in Golden Config's backup repository (the bare repository the lab serves)."""
    bare = Path(lab["lab_dir"]) / "git" / "backup.git"
    proc = subprocess.run(
        ["git", "--git-dir", str(bare), "show", f"main:{location_slug}/{name}.cfg"],
        capture_output=True,
        text=True,
        check=False,
    )
    return proc.stdout if proc.returncode == 0 else None


def parse(stamp):
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def test_a_live_commit_brings_golden_config_compliance_up_to_date(lab, trigger):
    """A device's NTP server changes in Nautobot: the merge adds the new server and (merge only) keeps the
    old one. After the commit Golden Config has backed the device up, its backup repository holds the new
    running configuration, and its compliance says the system feature is not compliant, with the old
    server as the extra line; the other features are compliant. A dry run runs no Golden Config job."""
    with restored(lab, "access1") as ctx:
        device = ctx["device"]
        # the NTP server its site's config context gives it (the lab starts in sync with intent)
        old_ntp = [line.split()[-1] for line in ctx["running"].splitlines() if line.startswith("ntp server ")]
        assert old_ntp, "the lab's sites give their devices an NTP server"
        device.update({"local_config_context_data": {"ntp_servers": ["10.0.0.123"]}})

        dry = run_playbook(lab, "access1", dry_run=True, trigger=trigger)
        assert dry.returncode == 0 and dry.shows("+ntp server 10.0.0.123"), dry
        assert "Golden Config compliance" not in dry.stdout, dry

        started = datetime.now(UTC)
        live = run_playbook(lab, "access1", dry_run=False, trigger=trigger)
        assert live.returncode == 0 and live.shows(f"access1: {COMMITTED}"), live
        running = sim_device(lab, "access1")["running_config"]
        assert "ntp server 10.0.0.123" in running and f"ntp server {old_ntp[0]}" in running  # merge only
        assert live.shows(
            "access1: Golden Config compliance brought up to date: NOT compliant in system (Golden Config's "
            "compliance of the device shows the missing and extra lines)"
        ), live

        record = gc_get(lab, "golden-config/", device=device.id)[0]
        assert parse(record["backup_last_success_date"]) >= started
        assert parse(record["compliance_last_success_date"]) >= started
        assert "ntp server 10.0.0.123" in record["backup_config"]
        features = features_of(lab, device.id)
        assert set(features) == {"system", "interfaces", "vlans", "routing"}
        assert features["system"]["compliance"] is False
        assert f"ntp server {old_ntp[0]}" in str(features["system"]["extra"])
        assert not features["system"]["missing"]
        assert all(features[name]["compliance"] for name in ("interfaces", "vlans", "routing"))

        backup = backup_file(lab, "lab-site-a", "access1")
        assert backup is not None and "ntp server 10.0.0.123" in backup, backup

        # update_compliance=false: the commit alone, Golden Config left to its own schedule
        device.update({"local_config_context_data": {"ntp_servers": ["10.0.0.124"]}})
        before = gc_get(lab, "golden-config/", device=device.id)[0]["compliance_last_success_date"]
        quiet = run_playbook(
            lab, "access1", dry_run=False, trigger=trigger, extra={"provision_update_compliance": False}
        )
        assert quiet.returncode == 0 and quiet.shows(f"access1: {COMMITTED}"), quiet
        assert "Golden Config compliance" not in quiet.stdout, quiet
        assert gc_get(lab, "golden-config/", device=device.id)[0]["compliance_last_success_date"] == before


def test_a_commit_golden_config_cannot_back_up_is_a_warning_not_a_failure(lab, trigger):
    """Golden Config's backup of the device fails (it checks the device's TCP port from the config
    context first; here it points at a closed port): the commit stands and the run passes, the device's
    result says its compliance was not brought up to date and why, and Golden Config's record keeps the
    older success."""
    with restored(lab, "access2") as ctx:
        device = ctx["device"]
        device.update({"local_config_context_data": {"ntp_servers": ["10.0.0.125"], "tcp_port": 9}})
        before = (gc_get(lab, "golden-config/", device=device.id) or [{}])[0].get("backup_last_success_date")
        started = datetime.now(UTC)
        live = run_playbook(lab, "access2", dry_run=False, trigger=trigger)
        assert live.returncode == 0 and live.shows(f"access2: {COMMITTED}"), live
        assert "ntp server 10.0.0.125" in sim_device(lab, "access2")["running_config"]
        assert "access2: Golden Config compliance NOT brought up to date: Golden Config's 'Execute All Golden " in (
            live.stdout
        ), live
        assert "could not back up access2's running configuration" in live.stdout, live
        record = gc_get(lab, "golden-config/", device=device.id)[0]
        assert record["backup_last_success_date"] == before
        assert parse(record["backup_last_attempt_date"]) >= started


def test_golden_config_without_a_backup_repository_is_said_once_and_no_job_runs(lab, trigger):
    """Golden Config's settings lose their backup repository (as before anyone set it up): two devices
    committed in one run, one line says what to set up, no Golden Config job runs, both commits stand."""
    api = lab["api"]
    setting = api.plugins.golden_config.golden_config_settings.get(name="Default Settings")
    repository = setting.backup_repository.id
    jobs_before = api.extras.job_results.count(name="Execute All Golden Configuration Jobs - Multiple Device")
    try:
        api.plugins.golden_config.golden_config_settings.get(setting.id).update({"backup_repository": None})
        with restored(lab, "access1") as one, restored(lab, "access2") as two:
            one["device"].update({"local_config_context_data": {"ntp_servers": ["10.0.0.126"]}})
            two["device"].update({"local_config_context_data": {"ntp_servers": ["10.0.0.127"]}})
            live = run_playbook(lab, ["access1", "access2"], dry_run=False, trigger=trigger)
            assert live.returncode == 0, live
            assert live.shows(f"access1: {COMMITTED}") and live.shows(f"access2: {COMMITTED}"), live
            said = [line for line in live.stdout.splitlines() if "Golden Config is not set up for it" in line]
            assert said and all("(no backup repository in its settings)" in line for line in said), live
            assert len({line.strip() for line in said}) == 1, said  # one message for the run, not one per commit
            assert "compliance NOT brought up to date" not in live.stdout, live
            assert "ntp server 10.0.0.127" in sim_device(lab, "access2")["running_config"]
    finally:
        api.plugins.golden_config.golden_config_settings.get(setting.id).update({"backup_repository": repository})
    assert api.extras.job_results.count(name="Execute All Golden Configuration Jobs - Multiple Device") == jobs_before
