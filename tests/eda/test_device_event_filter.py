"""The ``sotsync.nautobot.device_event`` filter file as ansible-rulebook loads it (``runpy.run_path`` in the
collection link tree): its documentation matches its arguments, its examples are valid, ``main`` works."""

import runpy
from pathlib import Path

import pytest
import yaml

from ansible_collections.sotsync.nautobot.plugins.plugin_utils import settings
from tests.support import nautobot_webhooks as nw

ROOT = Path(__file__).resolve().parents[2]
LINKED_FILTER = (
    ROOT / ".build/collections/ansible_collections/sotsync/nautobot/extensions/eda/plugins/event_filter/device_event.py"
)


@pytest.fixture
def device_event_filter():
    return runpy.run_path(str(LINKED_FILTER))


def test_documentation_matches_arguments(device_event_filter):
    doc = yaml.safe_load(device_event_filter["DOCUMENTATION"])
    assert sorted(doc["options"]) == sorted(settings.FILTER_ARGUMENTS)
    defaults = settings.FilterSettings()
    assert doc["options"]["ready_statuses"]["default"] == list(defaults.ready_statuses)
    assert doc["options"]["lone_event_seconds"]["default"] == defaults.lone_event_seconds
    for play in yaml.safe_load(device_event_filter["EXAMPLES"]):
        (filter_entry,) = play["sources"][0]["filters"]
        settings.validate_filter_args(filter_entry["sotsync.nautobot.device_event"] or {})


def test_main_normalises_a_raw_event_and_keeps_state_per_arguments(device_event_filter):
    raw = nw.encode(nw.rename())
    event = {"payload": nw.rename(), "meta": {"endpoint": "", "headers": nw.headers(raw)}}
    (device_event,) = device_event_filter["main"](dict(event), ready_statuses=["Active"])
    assert device_event["nautobot"]["object_name"] == "access-switch-1"
    assert device_event["nautobot"]["readiness"]["ready"] is True
    assert device_event_filter["main"](dict(event), ready_statuses=["Active"]) == []  # the same change again
    assert len(device_event_filter["main"](dict(event))) == 1  # other arguments: another filter


def test_main_refuses_bad_arguments_clearly(device_event_filter):
    with pytest.raises(ValueError, match="does not template event filter arguments"):
        device_event_filter["main"]({"payload": {}}, ready_statuses="{{ ready_statuses }}")
