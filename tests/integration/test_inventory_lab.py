"""Runs over an Ansible inventory of devices, on the lab: the inventory is read from Nautobot in the shape
networktocode.nautobot's gql_inventory gives (lab/inventory.py), and ``provision_device`` without
``device`` or ``filter`` provisions the play's hosts: ``--limit`` and groups choose them, AWX's job slices
(each slice an inventory pared down to its hosts) each take their own, in one batch, every device once.
Ansible itself never connects to a device, whatever ``ansible_connection`` the inventory gives.
"""

from __future__ import annotations

import re

import pytest
import yaml

from lab import inventory as lab_inventory
from tests.bench.slicing_lab import run_slices
from tests.integration.provision_helpers import run_playbook

pytestmark = pytest.mark.lab

DEVICES = ["access1", "access2", "dist1", "nxos1", "junos1"]


def devices_with_outcome(output):
    """The devices a run printed an outcome line for (``name: ...`` as the module prints it)."""
    return {name for name in DEVICES if any(line.startswith(f"{name}: ") for line in output.splitlines())}


@pytest.fixture(scope="module")
def inventory(lab, tmp_path_factory):
    env = lab["env"]
    devices = lab_inventory.fetch(env["NAUTOBOT_URL"], env["NAUTOBOT_TOKEN"], {"name": DEVICES})
    data = lab_inventory.build(devices)
    assert sorted(data["all"]["hosts"]) == sorted(DEVICES)
    # As a team's inventory may say: Ansible would reach these over SSH CLI / NETCONF. The play never does.
    for host in data["all"]["hosts"].values():
        host["ansible_connection"] = "ansible.netcommon.network_cli"
    folder = tmp_path_factory.mktemp("inventory")
    path = folder / "devices.yml"
    lab_inventory.write(path, data, count=2)
    return path


def test_the_inventory_has_gql_inventorys_shape_and_groups(inventory):
    data = yaml.safe_load(inventory.read_text())["all"]
    assert data["hosts"]["nxos1"]["ansible_network_os"] == "cisco.nxos.nxos"
    assert data["hosts"]["junos1"]["platform"]["napalm_driver"] == "junos"
    assert {"Lab_Site_A", "Access_Switch", "cisco_nxos", "juniper_junos"} <= set(data["children"])
    assert re.match(r"^\d+\.\d+\.\d+\.\d+$", data["hosts"]["access1"]["ansible_host"])
    assert set(data["children"]["arista_eos"]["hosts"]) == {"access1", "access2", "dist1"}


def test_limit_to_a_group_provisions_that_group_in_one_batch(lab, trigger, inventory):
    run = run_playbook(lab, None, trigger=trigger, inventory=inventory, limit="arista_eos")
    assert run.returncode == 0, run
    assert devices_with_outcome(run.stdout) == {"access1", "access2", "dist1"}, run
    # one task, once: the role's module ran on the controller for the three (not once per host)
    task = "TASK [sotsync.nautobot.provision : Bring the devices to their intended configuration]"
    assert run.stdout.count(task) == 1, run


def test_limit_to_hosts_across_platforms(lab, trigger, inventory):
    run = run_playbook(lab, None, trigger=trigger, inventory=inventory, limit="nxos1,junos1")
    assert run.returncode == 0, run
    assert devices_with_outcome(run.stdout) == {"nxos1", "junos1"}, run


def test_awx_slices_run_at_once_each_take_their_own_devices_once(lab, trigger, inventory):
    """Two slice inventories, as AWX's sliced job template hands them to its two jobs, run at the same time
    (the job-slicing benchmark's runner)."""
    slices = [inventory.with_name("devices-1.yml"), inventory.with_name("devices-2.yml")]
    run = run_slices(lab, slices, dry_run=True, trigger=trigger)
    assert [row["rc"] for row in run["slices"]] == [0, 0], run
    assert run["failures"] == 0, run
    for part, row in zip(slices, run["slices"], strict=True):
        hosts = set(yaml.safe_load(part.read_text())["all"]["hosts"])
        assert set(row["names"]) == hosts, (part.name, row)
    assert sorted(run["names"]) == sorted(DEVICES), "a device was provisioned by no slice or by two"


def test_device_still_wins_over_the_inventory(lab, trigger, inventory):
    run = run_playbook(lab, "access1", trigger=trigger, inventory=inventory)
    assert run.returncode == 0, run
    assert devices_with_outcome(run.stdout) == {"access1"}, run
