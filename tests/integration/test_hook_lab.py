"""The hook end to end on the lab: real Nautobot webhooks (delivered into the lab's network
namespace and relayed to the source), the real ansible-rulebook with the real source and rulebook,
and the real provisioning playbook against the simulated devices (dry run, the default).

Each test makes one seed scenario's change, checks the decision lines and the number of provisioning
runs it caused, and puts the data back. Runs are counted at a definite end (``RulebookDaemon.settle``:
every change before it decided through both sources, every batch window fired, every run ended), so a
late or duplicate run fails the count; the restore is settled too, so tests do not see each other's
events."""

from __future__ import annotations

import uuid

import pytest
import requests

from lab import hookrun
from tests.integration.hook_helpers import Window, change_and_restore

pytestmark = pytest.mark.lab


@pytest.fixture(scope="module")
def hook(lab):
    with hookrun.RulebookDaemon(lab, log_name="test-hook") as daemon:
        yield daemon


@pytest.fixture(scope="module")
def create_hook(lab, hook):
    """A second daemon with auto_provision_on_create on (the first one is stopped meanwhile)."""
    hook.stop()
    try:
        with hookrun.RulebookDaemon(lab, log_name="test-hook-create", auto_provision_on_create=True) as daemon:
            yield daemon
    finally:
        hook.start()


def device(lab, serial_name: str):
    return lab["api"].dcim.devices.get(serial=f"SOTSYNC-{serial_name.upper()}")


def test_rename_is_provisioned_once_with_the_hostname_diff(lab, hook):
    dev = device(lab, "access1")
    text = change_and_restore(
        hook,
        dev,
        {"name": "access-switch-1"},
        {"name": "access1"},
        1,
        "Device access-switch-1 is ready for provisioning",
    )
    assert "Configuration-relevant fields changed: ['name']" in text
    assert "Auto-provision on update is enabled" in text
    assert "-hostname access1" in text
    assert "+hostname access-switch-1" in text
    assert "access-switch-1: DRY RUN mode: Discarding configuration changes" in text
    assert "1 device(s): 0 committed, 1 with differences (dry run)" in text
    assert ", 0 failed (" in text


def test_comments_only_is_skipped(lab, hook):
    dev = device(lab, "access2")
    text = change_and_restore(
        hook,
        dev,
        {"comments": "rack moved, config unchanged"},
        {"comments": ""},
        0,
        "No configuration-relevant fields changed. Skipping provisioning.",
    )
    assert "Device access2: changed ['comments']" in text


def test_irrelevant_field_produces_no_run(lab, hook):
    dev = device(lab, "access2")
    text = change_and_restore(
        hook,
        dev,
        {"asset_tag": f"AT-{uuid.uuid4().hex[:6]}"},
        {"asset_tag": None},
        0,
        "No configuration-relevant fields changed. Skipping provisioning.",
    )
    assert "ready for provisioning" not in text


def test_role_change_applies_the_other_template(lab, hook):
    dev = device(lab, "access2")
    roles = {r.name: r.id for r in lab["api"].extras.roles.filter(name=["Access Switch", "Distribution Switch"])}
    text = change_and_restore(
        hook,
        dev,
        {"role": roles["Distribution Switch"]},
        {"role": roles["Access Switch"]},
        1,
        "Device access2 is ready for provisioning",
    )
    assert "Configuration-relevant fields changed: ['role']" in text
    assert "+vlan 20" in text
    assert "+router ospf 1" in text


@pytest.mark.parametrize(
    "name, reason",
    [
        ("unready-no-platform", "platform missing"),
        ("unready-no-driver", "platform has no NAPALM driver"),
        ("unready-no-ip", "no primary IPv4"),
        ("unready-offline", "status not Active, Planned or Staged (is Offline)"),
    ],
)
def test_unready_devices_are_not_provisioned(lab, hook, name, reason):
    dev = device(lab, name)
    text = change_and_restore(
        hook, dev, {"name": f"{name}-x"}, {"name": name}, 0, "Device is not ready for provisioning"
    )
    assert reason in text
    assert "ready for provisioning\n" not in text.replace("not ready for provisioning", "")


def _sim_add(lab, name: str, address: str, config: str) -> None:
    r = requests.post(
        f"{lab['sim_control']}/devices", json={"name": name, "address": address, "running_config": config}, timeout=10
    )
    assert r.status_code in (201, 409), r.text
    requests.put(f"{lab['sim_control']}/devices/{name}/running-config", data=config.encode(), timeout=10)


def _sim_remove(lab, name: str) -> None:
    requests.delete(f"{lab['sim_control']}/devices/{name}", timeout=10)


def _running(lab, name: str) -> str:
    return requests.get(f"{lab['sim_control']}/devices/{name}", timeout=10).json()["running_config"]


def test_primary_ip_reassigned_shows_both_ip_lines(lab, hook):
    """Scenario 2a: another IP becomes the primary (a device update)."""
    api = lab["api"]
    dev = device(lab, "access1")
    old_ip = api.ipam.ip_addresses.get(dev.primary_ip4.id)
    iface = api.dcim.interfaces.get(device_id=dev.id, name="Management1")
    # The simulated device answers only at its configured address (127.0.1.11) until the change is
    # pushed; the dry run finds it there through Nautobot's change log.
    new_ip = api.ipam.ip_addresses.create(
        address="127.0.1.111/24",
        namespace=api.ipam.namespaces.get(name="Global").id,
        status="Active",
    )
    link = api.ipam.ip_address_to_interface.create(ip_address=new_ip.id, interface=iface.id)
    try:
        text = change_and_restore(
            hook,
            dev,
            {"primary_ip4": new_ip.id},
            {"primary_ip4": old_ip.id},
            1,
            "Device access1 is ready for provisioning",
            # The device webhook is a lone change, provisioned at once; the ipaddress webhook of the IP
            # attached a moment before can reach the device only now (the source's look-up sees the new
            # primary) and, coming within lone_event_seconds, gets one trailing batch run.
            at_most=2,
        )
        assert "Configuration-relevant fields changed: ['primary_ip4']" in text
        assert "-   ip address 127.0.1.11/24" in text
        assert "+   ip address 127.0.1.111/24" in text
        assert "Reached at its previous management address 127.0.1.11" in text
    finally:
        after = Window(hook)
        link.delete()
        new_ip.delete()
        after.settle()  # whatever the change log makes of these is decided before the next test


def test_ip_address_object_edit_reaches_its_device(lab, hook):
    """Scenario 2b: only the IP address object changes; no device webhook fires."""
    api = lab["api"]
    dev = device(lab, "access1")
    ip = api.ipam.ip_addresses.get(dev.primary_ip4.id)
    text = change_and_restore(
        hook,
        ip,
        {"dns_name": "access1-mgmt.site-a.lab.sotsync.test"},
        {"dns_name": ""},
        1,
        "Device access1 is ready for provisioning",
    )
    assert "Configuration-relevant fields changed: ['primary_ip4']" in text
    assert "+   description access1-mgmt.site-a.lab.sotsync.test" in text


def _create_device(lab, name: str, address: str):
    """A new ready access switch, created the way people do it: device, interface, IP, primary IP."""
    api = lab["api"]
    ref = device(lab, "access1")
    dev = api.dcim.devices.create(
        name=name,
        role=ref.role.id,
        location=ref.location.id,
        device_type=ref.device_type.id,
        platform=ref.platform.id,
        status="Active",
    )
    iface = api.dcim.interfaces.create(device=dev.id, name="Management1", type="virtual", status="Active")
    ip = api.ipam.ip_addresses.create(
        address=f"{address}/24", namespace=api.ipam.namespaces.get(name="Global").id, status="Active"
    )
    api.ipam.ip_address_to_interface.create(ip_address=ip.id, interface=iface.id)
    dev.update({"primary_ip4": ip.id})
    return dev, ip


def _delete_device(lab, dev, ip) -> None:
    dev.delete()
    ip.delete()


def test_create_with_create_provisioning_off_is_provisioned_only_by_its_update(lab, hook):
    """The create is skipped; setting the primary IPv4 afterwards (part of creating a device, see
    ``_create_device``) is an update of a relevant field, provisioned like any update: one run in all,
    with the create's own decision saying create provisioning is off."""
    _sim_add(lab, "access9", "127.0.1.49", "hostname access9\n")
    window = Window(hook)
    dev, ip = _create_device(lab, "access9", "127.0.1.49")
    try:
        window.wait("Auto-provision on create is disabled")
        text = window.wait_runs(1)  # then settled: what runs() counts is final
        # One run as a rule (the batch window joins the update's decisions); on a loaded machine the
        # second decision (the IP address's look-up, below) can come after the first one's run began and
        # gives a run of its own, on the device's latest state: at least once, never more than twice.
        assert 1 <= window.runs() <= 2, text[-3000:]
        assert "Device access9 was created" in text
        assert "Auto-provision on create is enabled" not in text
        assert "Device access9: Configuration-relevant fields changed: ['primary_ip4']" in text
        # The update may be decided twice: the device's own change, and the IP address's (attached to
        # the interface just before) when the source's look-up of its devices runs after the device
        # took it as primary. Both are the same device and field; the batch window makes them one run.
        decisions = text.count("Device access9: Configuration-relevant fields changed: ['primary_ip4']")
        assert 1 <= decisions <= 2 and text.count("Device access9 is ready for provisioning") == decisions
    finally:
        after = Window(hook)
        _delete_device(lab, dev, ip)
        _sim_remove(lab, "access9")
        after.settle()


def test_create_with_create_provisioning_on_is_provisioned_once(lab, create_hook):
    _sim_add(lab, "access8", "127.0.1.48", "hostname access8\n")
    window = Window(create_hook)
    dev, ip = _create_device(lab, "access8", "127.0.1.48")
    try:
        window.wait("Auto-provision on create is enabled")
        text = window.wait_runs(1)  # then settled: what runs() counts is final
        # The create provisions the device. Its primary IPv4 is set by an update right after: when Nautobot's
        # Celery delivers the create late (a loaded machine), the create already finds the device ready and
        # runs alone, and the update gives a second run of its own; never more.
        assert 1 <= window.runs() <= 2, text[-3000:]
        assert "Device access8 is ready for provisioning" in text
        assert "+   ip address 127.0.1.48/24" in text
        assert "DRY RUN mode" in text
        assert "hostname access8\n" in _running(lab, "access8") or "hostname access8" in _running(lab, "access8")
        assert "ip address 127.0.1.48/24" not in _running(lab, "access8"), "dry run must not change the device"
    finally:
        after = Window(create_hook)
        _delete_device(lab, dev, ip)
        _sim_remove(lab, "access8")
        after.settle()
