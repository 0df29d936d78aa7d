"""Unit tests of plugin_utils/device_event.py: changed fields, the device block, readiness on the event."""

import copy
import logging

import pytest

from ansible_collections.sotsync.nautobot.plugins.module_utils import messages as msg
from ansible_collections.sotsync.nautobot.plugins.plugin_utils import device_event as de
from ansible_collections.sotsync.nautobot.plugins.plugin_utils import request as req
from tests.support import nautobot_webhooks as nw

EVENT_KEYS, DEVICE_KEYS = nw.EVENT_KEYS, nw.DEVICE_KEYS


def hook_of(payload, models=req.DEFAULT_MODELS):
    return req.validate_payload(payload, models)


def event_of(payload, resolve=None):
    return de.normalize_device_event(hook_of(payload), "/", {"Content-Type": "application/json"}, resolve)


# --- normalisation --------------------------------------------------------------------------------
def test_event_contract_shape():
    event = event_of(nw.rename())
    assert set(event) == {"nautobot", "meta"}
    assert set(event["nautobot"]) == EVENT_KEYS
    assert set(event["nautobot"]["device"]) == DEVICE_KEYS
    assert event["meta"] == {"endpoint": "/", "headers": {"Content-Type": "application/json"}}
    nb = event["nautobot"]
    assert nb["model"] == nb["source_model"] == "dcim.device"
    assert nb["timestamp"] == "2026-11-25T00:23:24.382970+00:00"
    assert nb["username"] == "admin" and nb["request_id"] == nw.REQUEST_ID
    assert nb["events_coalesced"] == 1


def test_rename():
    nb = event_of(nw.rename())["nautobot"]
    assert nb["action"] == "updated"
    assert nb["changed_fields"] == ["name"]  # display and natural_slug are noise
    assert nb["changes"] == [{"field": "name"}]
    assert nb["object_id"] == nw.DEVICE_ID
    assert nb["object_name"] == "access-switch-1"
    assert nb["device"] == {
        "id": nw.DEVICE_ID,
        "name": "access-switch-1",
        "status": "Active",
        "role": "Access",
        "location": "Site A",
        "platform": {"name": "EOS", "network_driver": "arista_eos", "napalm_driver": "eos"},
        "primary_ip4": "172.20.20.11/24",
        "primary_ip4_host": "172.20.20.11",
    }


@pytest.mark.parametrize(
    ("payload", "changed", "device_subset"),
    [
        pytest.param(
            nw.primary_ip_change(),
            ["primary_ip4"],
            {"primary_ip4": "172.20.20.21/24", "primary_ip4_host": "172.20.20.21"},
            id="primary-ip",
        ),
        pytest.param(nw.role_change(), ["role"], {"role": "Distribution"}, id="role"),
        pytest.param(nw.comments_only(), ["comments"], {"name": "access1"}, id="comments-only"),
        pytest.param(nw.stale_nested_comments(), ["comments"], {"location": "Site A"}, id="stale-nested-copies"),
        pytest.param(nw.status_offline(), ["status"], {"status": "Offline"}, id="status"),
        pytest.param(
            nw.platform_without_driver(),
            ["serial", "platform"],
            {"platform": {"name": "Generic", "network_driver": None, "napalm_driver": None}},
            id="platform-without-driver",
        ),
        pytest.param(nw.platform_null(), ["platform"], {"platform": None}, id="platform-null"),
    ],
)
def test_update_scenarios(payload, changed, device_subset):
    nb = event_of(payload)["nautobot"]
    assert nb["changed_fields"] == changed
    for key, value in device_subset.items():
        assert nb["device"][key] == value


def test_create_lists_every_field():
    nb = event_of(nw.create())["nautobot"]
    assert nb["action"] == "created"
    assert [c["field"] for c in nb["changes"]] == nb["changed_fields"]
    assert nb["object_name"] == "access3" and nb["object_id"] == nw.DEVICE2_ID
    data = nw.create()["data"]
    assert nb["changed_fields"] == [k for k in data if k not in de.NOISE_FIELDS]
    for field in ("name", "status", "role", "platform", "location", "primary_ip4", "comments"):
        assert field in nb["changed_fields"]
    for noise in ("display", "natural_slug", "last_updated", "created", "url", "id"):
        assert noise not in nb["changed_fields"]
    assert nb["device"]["primary_ip4_host"] == "172.20.20.12"


def test_delete_changes_nothing():
    payload = nw.body("deleted", "device", nw.device())
    nb = event_of(payload)["nautobot"]
    assert nb["action"] == "deleted" and nb["changed_fields"] == []
    assert nb["device"]["name"] == "access1"


def test_update_without_differences_diffs_the_snapshots():
    payload = nw.rename()
    payload["snapshots"]["differences"] = None
    assert event_of(payload)["nautobot"]["changed_fields"] == ["name"]


def test_update_without_any_snapshot_lists_nothing():
    payload = nw.rename()
    payload["snapshots"] = None
    assert event_of(payload)["nautobot"]["changed_fields"] == []


def test_update_without_prechange_lists_every_field():
    # Nautobot without a previous change record: differences.added is the whole postchange.
    payload = nw.rename()
    payload["snapshots"]["differences"] = {"added": payload["data"], "removed": None}
    assert "comments" in event_of(payload)["nautobot"]["changed_fields"]


def test_nested_change_to_another_object_counts():
    before, after = nw.device(), nw.device()
    after["location"] = dict(after["location"], id="c3c3c3c3-0000-4000-8000-000000000099", name="Site B")
    nb = event_of(nw.updated(before, after))["nautobot"]
    assert nb["changed_fields"] == ["location"] and nb["device"]["location"] == "Site B"


def test_tags_compared_by_identity():
    tag = {"id": "9e9e9e9e-0000-4000-8000-000000000001", "object_type": "extras.tag", "name": "edge"}
    before, after = nw.device(), nw.device(comments="x")
    before["tags"] = [dict(tag, color="red")]
    after["tags"] = [dict(tag, color="blue")]
    assert event_of(nw.updated(before, after))["nautobot"]["changed_fields"] == ["comments"]
    after["tags"] = [dict(tag, id="9e9e9e9e-0000-4000-8000-000000000002")]
    assert event_of(nw.updated(before, after))["nautobot"]["changed_fields"] == ["comments", "tags"]


@pytest.mark.parametrize(
    ("platform", "expected"),
    [
        pytest.param(nw.platform(), "eos", id="nautobot-mapping"),
        pytest.param(nw.platform(napalm_driver="custom_eos"), "custom_eos", id="explicit-wins"),
        pytest.param(nw.platform(mappings={"netmiko": "arista_eos"}), None, id="mapping-without-napalm"),
        pytest.param({"name": "IOS", "network_driver": "cisco_ios"}, "ios", id="netutils-fallback"),
        pytest.param({"name": "X", "network_driver": "no_such_driver"}, None, id="unknown-driver"),
        pytest.param({"name": "X", "network_driver": None, "napalm_driver": None}, None, id="nothing"),
        pytest.param({"name": "X", "network_driver": "", "napalm_driver": "  "}, None, id="blank"),
    ],
)
def test_napalm_driver(platform, expected):
    assert de.napalm_driver_of(platform) == expected


def test_reference_only_resolved():
    objects = nw.reference_objects()
    calls = []

    def resolve(object_type, object_id):
        calls.append((object_type, object_id))
        return copy.deepcopy(objects.get((object_type, object_id)))

    payload = nw.reference_only()
    assert de.needs_lookup(payload["data"])
    nb = event_of(payload, resolve)["nautobot"]
    assert nb["device"] == event_of(nw.rename())["nautobot"]["device"] | {"name": "access1"}
    assert nb["changed_fields"] == ["name"]
    assert sorted(calls) == sorted(objects)


def test_reference_only_without_nautobot(caplog):
    caplog.set_level(logging.WARNING)
    nb = event_of(nw.reference_only())["nautobot"]
    device = nb["device"]
    assert [device[k] for k in ("status", "role", "location", "platform", "primary_ip4", "primary_ip4_host")] == [
        None
    ] * 6
    assert device["name"] == "access1"
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 5
    assert any("platform is only a reference (dcim.platform" in w for w in warnings)


def test_reference_not_found(caplog):
    caplog.set_level(logging.WARNING)
    nb = event_of(nw.reference_only(), lambda object_type, object_id: None)["nautobot"]
    assert nb["device"]["platform"] is None
    assert any("was not found in Nautobot" in r.getMessage() for r in caplog.records)


def test_legacy_bare_uuid_reference():
    payload = nw.rename()
    payload["data"]["platform"] = nw.PLATFORM_ID
    seen = []

    def resolve(object_type, object_id):
        seen.append((object_type, object_id))
        return nw.platform()

    assert de.needs_lookup(payload["data"])
    nb = event_of(payload, resolve)["nautobot"]
    assert seen == [("dcim.platform", nw.PLATFORM_ID)]
    assert nb["device"]["platform"]["napalm_driver"] == "eos"


def test_full_device_needs_no_lookup():
    assert not de.needs_lookup(nw.rename()["data"])


def test_ipaddress_event_becomes_device_event():
    hook = hook_of(nw.ip_edit())
    device_data = nw.device()
    event = de.normalize_ipaddress_device_event(hook, device_data, "/hook", {"X": "1"})
    nb = event["nautobot"]
    assert set(nb) == EVENT_KEYS
    assert nb["action"] == "updated"
    assert nb["model"] == "dcim.device" and nb["source_model"] == "ipam.ipaddress"
    assert nb["object_id"] == nw.DEVICE_ID and nb["object_name"] == "access1"
    assert nb["changed_fields"] == ["primary_ip4"] and nb["changes"] == [{"field": "primary_ip4"}]
    assert nb["device"]["primary_ip4"] == "172.20.20.11/24"
    assert event["meta"] == {"endpoint": "/hook", "headers": {"X": "1"}}
    assert de.changed_fields(hook.action, hook.data, hook.snapshots) == ["dns_name"]


@pytest.mark.parametrize(
    ("interfaces", "expected"),
    [
        pytest.param(
            [nw.interface(nw.DEVICE_ID), nw.interface(nw.DEVICE2_ID), nw.interface(nw.DEVICE_ID)],
            [nw.DEVICE_ID, nw.DEVICE2_ID],
            id="two-devices",
        ),
        pytest.param([], [], id="no-interface"),
        pytest.param([{"device": nw.DEVICE_ID}], [nw.DEVICE_ID], id="bare-id"),
        pytest.param([{"name": "eth0"}, "junk"], [], id="no-device"),
    ],
)
def test_ip_candidate_devices(interfaces, expected):
    assert de.ip_candidate_devices({"interfaces": interfaces}) == expected


def test_ip_candidate_devices_unknown():
    assert de.ip_candidate_devices({"address": "10.0.0.1/24"}) is None


def test_describe():
    assert de.describe(event_of(nw.rename())) == "device updated access-switch-1: changed ['name']"


def test_readiness_verdict_is_the_modules():
    ready = de.add_readiness(de.normalize_device_event(req.validate_payload(nw.rename())))
    assert ready["nautobot"]["readiness"] == {
        "ready": True,
        "reasons": [],
        "message": msg.DEVICE_READY.format(name=ready["nautobot"]["device"]["name"]),
    }
    offline = de.add_readiness(
        de.normalize_device_event(req.validate_payload(nw.status_offline())), ready_statuses=("active",)
    )
    verdict = offline["nautobot"]["readiness"]
    assert verdict["ready"] is False
    assert verdict["reasons"] == [msg.bad_status_reason(("active",), "Offline")]
    # any letter case: the module's rule, now also the rulebook's
    staged = de.add_readiness(de.normalize_device_event(req.validate_payload(nw.rename())), ready_statuses=("ACTIVE",))
    assert staged["nautobot"]["readiness"]["ready"] is True
