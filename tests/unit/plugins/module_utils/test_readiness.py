"""The readiness rules and their messages (the seed's words)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ansible_collections.sotsync.nautobot.plugins.module_utils import messages
from ansible_collections.sotsync.nautobot.plugins.module_utils.readiness import (
    check_readiness,
    host_of,
    napalm_driver_of,
    status_of,
)

ROOT = Path(__file__).resolve().parents[4]
SETTINGS = ROOT / "rulebooks" / "vars" / "device_config_hook.yml"

EOS = {
    "name": "Arista EOS",
    "napalm_driver": "",
    "network_driver": "arista_eos",
    "network_driver_mappings": {"napalm": "eos"},
}
NO_DRIVER = {"name": "Generic", "napalm_driver": "", "network_driver": "", "network_driver_mappings": {}}


def device(**overrides):
    data = {
        "name": "access1",
        "platform": EOS,
        "primary_ip4": {"address": "127.0.1.11/24"},
        "status": {"name": "Active"},
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize(
    ("overrides", "reasons"),
    [
        ({}, []),
        ({"platform": None}, ["platform missing"]),
        ({"platform": NO_DRIVER}, ["platform has no NAPALM driver"]),
        ({"primary_ip4": None}, ["no primary IPv4"]),
        ({"status": {"name": "Offline"}}, ["status not Active, Planned or Staged (is Offline)"]),
        ({"status": None}, ["status not Active, Planned or Staged"]),
        (
            {"platform": None, "primary_ip4": None, "status": {"name": "Decommissioning"}},
            ["platform missing", "no primary IPv4", "status not Active, Planned or Staged (is Decommissioning)"],
        ),
        ({"status": {"name": "Planned"}}, []),
        ({"status": {"name": "Staged"}}, []),
        ({"status": "staged"}, []),  # a bare name, any case
    ],
    ids=[
        "ready",
        "no-platform",
        "no-driver",
        "no-ip",
        "offline",
        "no-status",
        "three-reasons",
        "planned",
        "staged",
        "bare-status",
    ],
)
def test_rules_name_each_failed_check(overrides, reasons):
    verdict = check_readiness(device(**overrides))
    assert verdict.reasons == reasons
    assert verdict.ready is (not reasons)


def test_messages_are_the_seeds():
    assert check_readiness(device()).message == "Device access1 is ready for provisioning"
    verdict = check_readiness(device(platform=None, primary_ip4=None))
    assert verdict.message == "Device is not ready for provisioning: platform missing; no primary IPv4"
    assert messages.DRY_RUN == "DRY RUN mode: Discarding configuration changes"
    assert messages.COMMITTED == "Configuration committed successfully"
    assert messages.NO_RELEVANT_CHANGE == "No configuration-relevant fields changed. Skipping provisioning."
    assert messages.relevant_fields_changed_message(["name"]) == "Configuration-relevant fields changed: ['name']"
    assert messages.AUTO_PROVISION_ENABLED.format(event="update") == "Auto-provision on update is enabled"
    assert messages.AUTO_PROVISION_DISABLED.format(event="create") == "Auto-provision on create is disabled"


def test_ready_verdict_carries_connection_facts():
    verdict = check_readiness(device())
    assert (verdict.napalm_driver, verdict.host, verdict.status) == ("eos", "127.0.1.11", "Active")
    assert verdict.as_dict()["ready"] is True


@pytest.mark.parametrize(
    ("statuses", "text"),
    [
        (["Active", "Planned", "Staged"], "Active, Planned or Staged"),
        (["Active"], "Active"),
        (["Active", "Staged"], "Active or Staged"),
    ],
)
def test_custom_ready_statuses_shape_the_reason(statuses, text):
    verdict = check_readiness(device(status={"name": "Planned"}), statuses)
    assert verdict.ready is ("Planned" in statuses)
    if not verdict.ready:
        assert verdict.reasons == [f"status not {text} (is Planned)"]


@pytest.mark.parametrize(
    ("platform", "driver"),
    [
        (EOS, "eos"),
        ({**EOS, "napalm_driver": "custom_eos"}, "custom_eos"),  # explicit wins over the mapping
        (NO_DRIVER, None),
        ({"network_driver": "cisco_ios"}, "ios"),  # a payload without Nautobot's mapping
        ({"network_driver": "arista_eos", "network_driver_mappings": {"netmiko": "arista_eos"}}, None),
        ({"network_driver": "something_else"}, None),
        (None, None),
    ],
)
def test_napalm_driver_of(platform, driver):
    assert napalm_driver_of(platform) == driver


@pytest.mark.parametrize(
    ("value", "host"),
    [
        ({"address": "127.0.1.11/24"}, "127.0.1.11"),
        ("10.0.0.1/32", "10.0.0.1"),
        ({"address": "10.1.1.1"}, "10.1.1.1"),
        (None, None),
        ({"host": "10.2.2.2"}, "10.2.2.2"),
    ],
)
def test_host_of(value, host):
    assert host_of(value) == host


@pytest.mark.parametrize(
    ("value", "name"),
    [
        ({"name": "Active"}, "Active"),
        ("Offline", "Offline"),
        ({"value": "active", "label": "Active"}, "Active"),
        (None, None),
    ],
)
def test_status_of(value, name):
    assert status_of(value) == name


def test_default_ready_statuses_equal_the_settings_file():
    settings = yaml.safe_load(SETTINGS.read_text())
    assert list(messages.DEFAULT_READY_STATUSES) == settings["ready_statuses"]
