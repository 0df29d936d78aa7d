"""Batches on the lab: Golden Config's job gives exactly the on-demand render, a bulk edit becomes one
run with each device once, a Nautobot filter selects a whole site."""

from __future__ import annotations

import re

import pytest

from ansible_collections.sotsync.nautobot.plugins.module_utils import intent as intents
from ansible_collections.sotsync.nautobot.plugins.module_utils.errors import ProvisionError
from ansible_collections.sotsync.nautobot.plugins.module_utils.nautobot import NautobotClient

from lab import hookrun, seed
from tests.integration.provision_helpers import run_playbook, seeded_device

pytestmark = pytest.mark.lab
RUN_SUMMARY = re.compile(r"^(\d+) device\(s\): .* failed \(devices read in ", re.M)


def test_job_render_is_exactly_the_on_demand_render_for_every_lab_device(lab):
    """The batch path's intents (one Golden Config job, stored records read back) are byte for byte what
    Golden Config's on-demand render gives, for every seeded device; a device neither can render fails
    both ways."""
    client = NautobotClient(lab["nautobot_url"], lab["nautobot_token"])
    # Every seeded device whose platform has a network driver: Golden Config's job fails as a whole when
    # one device has no platform or no network driver, so the batch sends it only such devices.
    devices = [
        d
        for d in (seeded_device(lab["api"], name) for name in seed.DEVICES)
        if d.platform and d.platform.network_driver
    ]
    pairs = [(str(d.id), d.name) for d in devices]
    by_job = intents.render_by_job(client, pairs)
    compared = 0
    for device_id, name in pairs:
        try:
            on_demand = intents.fetch_intent(client, device_id, name, "regenerate").config
        except ProvisionError as error:
            assert isinstance(by_job[device_id], ProvisionError), (name, error.message)
            continue
        assert isinstance(by_job[device_id], intents.Intent), (name, by_job[device_id])
        assert by_job[device_id].config == on_demand, name
        compared += 1
    assert compared >= len(seed.READY_DEVICES) and len(devices) >= 4


def hostname_diff(driver, old, new):
    """The lines a rename shows in each platform's diff (NX-OS: NAPALM lists the lines to add only; IOS: its
    incremental diffs mark the lines to add, the replaced value is not shown)."""
    if driver == "juniper_junos":
        return [f"-  host-name {old};", f"+  host-name {new};"]
    if driver == "cisco_nxos":
        return [f"hostname {new}"]
    if driver == "cisco_ios":
        return [f"+hostname {new}"]
    return [f"-hostname {old}", f"+hostname {new}"]


def test_a_filter_selects_a_whole_site(lab):
    run = run_playbook(lab, [], extra={"filter": {"location": seed.SITE_A}})
    assert run.returncode == 0, run
    site = [name for name, spec in seed.DEVICES.items() if spec[1] == seed.SITE_A]
    for name in site:
        if name in seed.READY_DEVICES:
            assert run.recap(name) == {"failed": 0, "changed": 0}, run  # the seed runs its intent
        else:
            assert f"{name}: SKIPPED: Device is not ready for provisioning" in run.stdout, run
    for name in set(seed.DEVICES) - set(site):
        assert f"{name}: " not in run.stdout, f"{name} is not at {seed.SITE_A}:\n{run}"
    assert f"{len(site)} device(s): 0 committed" in run.stdout, run


def test_a_bulk_edit_is_provisioned_once_per_device_in_few_runs(lab):
    """One bulk PATCH renames the ready devices (every platform's): the first is provisioned at once (lone), the
    others in one batch; every device exactly once, on its new name; nothing runs afterwards (counted
    at the daemon's definite end, ``settle``)."""
    api = lab["api"]
    headers = {"Authorization": f"Token {lab['nautobot_token']}", "Accept": "application/json"}
    devices = [seeded_device(api, name) for name in seed.READY_DEVICES]
    renamed = {d.name: f"{d.name}-bulk" for d in devices}
    with hookrun.RulebookDaemon(lab, log_name="test-batch") as daemon:
        start = daemon.mark()
        body = [{"id": str(d.id), "name": renamed[d.name]} for d in devices]
        try:
            api.http_session.patch(
                f"{api.base_url}/dcim/devices/", json=body, headers=headers, timeout=60
            ).raise_for_status()
            daemon.wait_for(
                lambda _: all(f"{new}: DRY RUN mode" in daemon.text(start) for new in renamed.values()),
                120,
                "every renamed device's result",
            )
            daemon.wait_for(
                lambda _: sum(int(n) for n in RUN_SUMMARY.findall(daemon.text(start))) >= len(devices),
                60,
                "the runs' summary lines",
            )
            text = daemon.settle(start)  # a late or duplicate run is in the text now
            for old, new in renamed.items():
                assert text.count(f"{new}: DRY RUN mode: Discarding configuration changes") == 1, text[-4000:]
                for line in hostname_diff(seed.network_driver(old), old, new):
                    assert line in text, (line, text[-4000:])
            sizes = sorted(int(n) for n in RUN_SUMMARY.findall(text))
            assert sum(sizes) == len(devices) and len(sizes) <= 2, text[-4000:]
        finally:
            restore = [{"id": str(d.id), "name": d.name} for d in devices]
            api.http_session.patch(
                f"{api.base_url}/dcim/devices/", json=restore, headers=headers, timeout=60
            ).raise_for_status()
            mark = daemon.mark()
            daemon.wait_for(
                lambda _: sum(int(n) for n in RUN_SUMMARY.findall(daemon.text(mark))) >= len(devices),
                120,
                "the restore's runs",
            )
