"""The rulebook's settings reach the playbook: the daemon runs with an edited copy of the vars file (what
that file tells users to do), and the provisioning run decides with the copy's settings, not the
shipped ones.

The edit: ``ready_statuses`` also holds ``Offline``. The seed's ``unready-offline`` device is Offline, so
with the shipped settings the rulebook skips it (test_hook_lab.py) and the module, which re-checks
readiness live, would refuse it. With the edited copy the rulebook decides it is ready and the module's
own re-check passes only if the playbook was given the copy's statuses: the device's dry-run diff comes
back instead of "status not Active, Planned or Staged"."""

from __future__ import annotations

import re

import pytest
import requests
import yaml

from lab import hookrun

pytestmark = pytest.mark.lab
NAME = "unready-offline"
ADDRESS = "127.0.1.34"  # its primary IPv4 in lab/seed.py
RUN_SUMMARY = re.compile(r"^\d+ device\(s\): .* failed \(devices read in ", re.M)


@pytest.fixture
def offline_device_on_the_network(lab):
    """A simulated device at the Offline device's address (it is never provisioned with the shipped
    settings); put back as it was afterwards (the lab serves it; a lab of an earlier version did not)."""
    config = f"hostname {NAME}\n!\nend\n"
    r = requests.post(
        f"{lab['sim_control']}/devices", json={"name": NAME, "address": ADDRESS, "running_config": config}, timeout=10
    )
    assert r.status_code in (201, 409), r.text
    added = r.status_code == 201
    before = None if added else requests.get(f"{lab['sim_control']}/devices/{NAME}", timeout=10).json()
    requests.put(f"{lab['sim_control']}/devices/{NAME}/running-config", data=config.encode(), timeout=10)
    try:
        yield
    finally:
        if added:
            requests.delete(f"{lab['sim_control']}/devices/{NAME}", timeout=10)
        else:
            body = "\n".join(ln for ln in before["running_config"].splitlines() if not ln.startswith("! Command:"))
            requests.put(f"{lab['sim_control']}/devices/{NAME}/running-config", data=body.encode(), timeout=10)


def test_an_edited_vars_file_reaches_the_playbook(lab, offline_device_on_the_network):
    statuses = ["Active", "Planned", "Staged", "Offline"]
    api = lab["api"]
    dev = api.dcim.devices.get(serial="SOTSYNC-UNREADY-OFFLINE")
    with hookrun.RulebookDaemon(lab, log_name="test-settings", ready_statuses=statuses) as daemon:
        # the daemon really runs with an edited copy of the shipped file
        copy = yaml.safe_load((hookrun.LAB / "rulebook" / "vars.yml").read_text())
        shipped = yaml.safe_load(hookrun.SETTINGS.read_text())
        assert copy["ready_statuses"] == statuses != shipped["ready_statuses"]
        start = daemon.mark()
        api.dcim.devices.get(dev.id).update({"name": f"{NAME}-x"})
        try:
            text = daemon.wait_for(
                lambda _: RUN_SUMMARY.search(daemon.text(start)), 90, "the provisioning run's summary"
            )
            text = daemon.text(start)
            assert f"Device {NAME}-x is ready for provisioning" in text
            assert "status not " not in text, text[-3000:]
            assert f"+hostname {NAME}-x" in text, text[-3000:]
            assert "1 device(s): 0 committed, 1 with differences (dry run), " in text, text[-3000:]
            assert ", 0 failed (" in text, text[-3000:]
        finally:
            restore = daemon.mark()
            api.dcim.devices.get(dev.id).update({"name": NAME})
            daemon.wait_for(lambda _: RUN_SUMMARY.search(daemon.text(restore)), 90, "the restore's run")
