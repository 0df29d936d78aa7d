"""Management re-addressing: where a device answers (object-change records). The deploy that moves a
device, with the REAL napalm eos driver against the EOS simulator, is tests/simulator/test_readdress_eos.py."""

from __future__ import annotations

from ansible_collections.sotsync.nautobot.plugins.module_utils.readdress import previous_hosts


def device_change(time_, host):
    primary = {"id": "ip-" + host, "host": host, "address": host + "/24"} if host else None
    return {"time": time_, "changed_object_type": "dcim.device", "object_data_v2": {"primary_ip4": primary}}


def ip_change(time_, host):
    return {"time": time_, "changed_object_type": "ipam.ipaddress", "object_data_v2": {"host": host}}


def test_previous_hosts_newest_first_without_the_current_one_or_repeats():
    changes = [
        device_change("2026-11-25T10:00:00Z", "10.0.0.1"),
        device_change("2026-11-25T12:00:00.5Z", "10.0.0.3"),  # newest: the current primary
        device_change("2026-11-25T11:00:00+00:00", "10.0.0.2"),
        device_change("2026-11-25T11:30:00+01:00", "10.0.0.1"),  # 10:30 UTC: compared as a time
        device_change("2026-11-25T09:00:00Z", None),
    ]
    assert previous_hosts(changes, "10.0.0.3") == ["10.0.0.2", "10.0.0.1"]
    assert previous_hosts(changes, "10.0.0.3", limit=1) == ["10.0.0.2"]


def test_previous_hosts_from_an_address_edited_in_place():
    changes = [
        ip_change("2026-11-25T12:00:00Z", "10.9.0.2"),
        ip_change("2026-11-25T11:00:00Z", "10.9.0.1"),
        {"time": "2026-11-25T13:00:00Z", "changed_object_type": "dcim.interface", "object_data_v2": {}},
    ]
    assert previous_hosts(changes, "10.9.0.2") == ["10.9.0.1"]
    assert previous_hosts([], "10.9.0.2") == []
