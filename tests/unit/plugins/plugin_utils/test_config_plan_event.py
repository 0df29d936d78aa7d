"""The config plan event (the approval gate): validation, routing, normalisation, delivery, and the change log.

A Golden Config config plan webhook (``model: configplan``, the REST serializer at depth 1) or object change
(its device and status only references) becomes one event of its own (docs/event.md, **Config plan
events**); the device event's shape is untouched.
"""

import pytest
from changelog_fakes import FakeChangeLog, Sleeps, at, change

from ansible_collections.sotsync.nautobot.plugins.plugin_utils import changelog as cl
from ansible_collections.sotsync.nautobot.plugins.plugin_utils import delivered
from ansible_collections.sotsync.nautobot.plugins.plugin_utils import device_event as de
from ansible_collections.sotsync.nautobot.plugins.plugin_utils import dispatch as dp
from ansible_collections.sotsync.nautobot.plugins.plugin_utils import request as req
from ansible_collections.sotsync.nautobot.plugins.plugin_utils.delivery import BurstMarker
from tests.support import nautobot_webhooks as nw

PLAN_ID = "7d0a9b1e-1111-4c2d-8e3f-000000000001"
APPROVED_ID = "7d0a9b1e-2222-4c2d-8e3f-000000000002"
NOT_APPROVED_ID = "7d0a9b1e-3333-4c2d-8e3f-000000000003"
MODELS = (req.DEVICE, req.CONFIG_PLAN)


def plan_status(name, status_id):
    return {"id": status_id, "object_type": "extras.status", "display": name, "name": name, "url": "/s/"}


def plan_data(status="Approved", depth=1):
    """The config plan as the webhook sends it (depth 1) or as the change log stores it (depth 0: references)."""
    status_id = APPROVED_ID if status == "Approved" else NOT_APPROVED_ID
    if depth:
        device = {"id": nw.DEVICE_ID, "object_type": "dcim.device", "name": "access-switch-1", "url": "/d/"}
        status_value = plan_status(status, status_id)
    else:
        device = {"id": nw.DEVICE_ID, "object_type": "dcim.device", "url": "/d/"}
        status_value = {"id": status_id, "object_type": "extras.status", "url": "/s/"}
    return {
        "id": PLAN_ID,
        "object_type": "nautobot_golden_config.configplan",
        "display": "access-switch-1-manual-2026-12-06",
        "device": device,
        "plan_type": "manual",
        "config_set": "hostname access-switch-1",
        "change_control_id": "sotsync.nautobot",
        "change_control_url": "",
        "status": status_value,
        "last_updated": "2026-12-06T10:00:00Z",
    }


def approval(depth=1):
    before, after = plan_data("Not Approved", depth), plan_data("Approved", depth)
    after["last_updated"] = "2026-12-06T10:05:00Z"
    return nw.body("updated", "configplan", after, prechange=before, username="netops")


class FakeLookup:
    def __init__(self):
        self.calls = []
        self.objects = {
            ("dcim.device", nw.DEVICE_ID): {"id": nw.DEVICE_ID, "name": "access-switch-1"},
            ("extras.status", APPROVED_ID): plan_status("Approved", APPROVED_ID),
            ("extras.status", NOT_APPROVED_ID): plan_status("Not Approved", NOT_APPROVED_ID),
        }

    def get_object(self, object_type, object_id):
        self.calls.append((object_type, object_id))
        return self.objects.get((object_type, object_id))

    def invalidate_device(self, device_id):
        self.calls.append(("invalidate", device_id))

    def devices_for_ip(self, _ip_id):
        return []


def test_configplan_is_accepted_only_when_in_models():
    hook = req.validate_payload(approval(), MODELS)
    assert hook.model == req.CONFIG_PLAN and hook.short_model == "configplan"
    with pytest.raises(req.RequestRejected) as refused:
        req.validate_payload(approval())  # the default models: device, ipaddress
    assert refused.value.status == 422


@pytest.mark.parametrize("key, value", [("status", 3), ("device", ["x"]), ("plan_type", 1), ("change_control_id", {})])
def test_ill_typed_plan_keys_are_refused_naming_the_key(key, value):
    payload = approval()
    payload["data"][key] = value
    with pytest.raises(req.RequestRejected, match=f"data.{key}") as refused:
        req.validate_payload(payload, MODELS)
    assert refused.value.status == 400


def test_a_webhook_approval_is_one_plan_event_at_once():
    dispatcher = dp.Dispatcher(FakeLookup())
    hook = req.validate_payload(approval(), MODELS)
    route = dispatcher.route(hook)
    assert (route.work, route.status) == (dp.PLAN_NOW, 200)
    (event,), via = dispatcher.events(hook, route, "/", {"Content-Type": "application/json"})
    nb = event["nautobot"]
    assert via is None and dispatcher.lookup.calls == []  # no look-up, no device cache dropped
    assert nb == {
        "action": "updated",
        "model": "configplan",
        "source_model": "configplan",
        "object_id": PLAN_ID,
        "object_name": "access-switch-1",
        "plan": {
            "id": PLAN_ID,
            "status": "Approved",
            "device": {"id": nw.DEVICE_ID, "name": "access-switch-1"},
            "plan_type": "manual",
            "change_control_id": "sotsync.nautobot",
        },
        "changed_fields": ["status"],
        "changes": [{"field": "status"}],
        "timestamp": nb["timestamp"],
        "username": "netops",
        "request_id": nw.REQUEST_ID,
        "events_coalesced": 1,
        "burst": False,
    }
    assert "readiness" not in de.add_readiness(event)["nautobot"]  # not a device: no verdict
    assert de.describe(event) == (f"config plan updated {PLAN_ID} (access-switch-1, Approved): changed ['status']")


def test_references_are_looked_up_and_without_nautobot_are_null():
    lookup = FakeLookup()
    dispatcher = dp.Dispatcher(lookup)
    hook = req.validate_payload(approval(depth=0), MODELS)
    route = dispatcher.route(hook)
    assert (route.work, route.status) == (dp.PLAN_LOOKUP, 202)
    (event,), _via = dispatcher.events(hook, route, "/", {})
    assert event["nautobot"]["plan"]["status"] == "Approved"
    assert event["nautobot"]["plan"]["device"] == {"id": nw.DEVICE_ID, "name": "access-switch-1"}
    (bare,), _via = dp.Dispatcher().events(hook, dp.Route(dp.PLAN_NOW), "/", {})
    assert bare["nautobot"]["plan"]["status"] is None
    assert bare["nautobot"]["plan"]["device"] == {"id": nw.DEVICE_ID, "name": None}
    assert bare["nautobot"]["object_name"] == "access-switch-1-manual-2026-12-06"  # the plan's display


def test_plan_events_are_never_bursts_and_do_not_make_device_events_bursts():
    now = [100.0]
    marker = BurstMarker(2.0, clock=lambda: now[0])
    hook = req.validate_payload(approval(), MODELS)
    plan_event = de.normalize_config_plan_event(hook)
    assert marker.mark(plan_event)["nautobot"]["burst"] is False
    now[0] += 0.5
    device_event = de.normalize_device_event(req.validate_payload(nw.rename()))
    assert marker.mark(device_event)["nautobot"]["burst"] is False  # the plan event did not count


def test_the_same_approval_from_both_sources_has_one_key_and_another_status_another():
    hook = req.validate_payload(approval(), MODELS)
    first = de.normalize_config_plan_event(hook)
    again = de.normalize_config_plan_event(hook)
    assert delivered.event_key(first) == delivered.event_key(again)
    other = de.normalize_config_plan_event(hook)
    other["nautobot"]["plan"]["status"] = "Failed"
    assert delivered.event_key(other) != delivered.event_key(first)


async def test_the_change_log_delivers_an_approval_made_while_the_daemon_was_down(tmp_path):
    before, after = plan_data("Not Approved", depth=0), plan_data("Approved", depth=0)
    log = FakeChangeLog(
        [
            change(at(3000), before, action="create", model=req.CONFIG_PLAN),
            change(at(3650), after, model=req.CONFIG_PLAN, user="netops"),
        ]
    )
    from test_changelog import Harness  # the change-log suite's harness: the real source over the fake log

    lookup = FakeLookup()
    h = Harness(tmp_path, Sleeps(), log, lookup=lookup, models=["device", "configplan"], since=900)
    await h.source.start()
    await h.source.poll()
    events = h.events()
    approved = [e for e in events if e["nautobot"]["action"] == "updated"]
    assert len(approved) == 1
    nb = approved[0]["nautobot"]
    assert (nb["model"], nb["object_id"], nb["plan"]["status"], nb["username"]) == (
        "configplan",
        PLAN_ID,
        "Approved",
        "netops",
    )
    assert nb["changed_fields"] == ["status"] and nb["burst"] is False and "readiness" not in nb
    assert nb["plan"]["device"]["name"] == "access-switch-1"
    assert {q.get("changed_object_type") for q in log.queries} >= {req.CONFIG_PLAN}


def test_models_setting_takes_configplan():
    assert cl.validate_args(
        {"cursor_file": "/tmp/x.json", "models": "device,configplan"},
        {"NAUTOBOT_URL": "http://n.test", "NAUTOBOT_TOKEN": "t"},
    ).models == (req.DEVICE, req.CONFIG_PLAN)
