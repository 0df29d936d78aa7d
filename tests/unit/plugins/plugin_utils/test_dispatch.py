"""Unit tests of plugin_utils/dispatch.py: the source's routing policy, without HTTP."""

import pytest

from ansible_collections.sotsync.nautobot.plugins.plugin_utils import dispatch as dp
from ansible_collections.sotsync.nautobot.plugins.plugin_utils import request as req
from ansible_collections.sotsync.nautobot.plugins.plugin_utils.nautobot_lookup import NautobotLookupError
from tests.support import nautobot_webhooks as nw


class FakeLookup:
    """The three calls the dispatcher makes to Nautobot, with canned answers."""

    def __init__(self, devices=(), objects=None):
        self.devices = list(devices)
        self.objects = objects or {}
        self.calls = []

    def invalidate_device(self, device_id):
        self.calls.append(("invalidate", device_id))

    def devices_for_ip(self, ip_id):
        self.calls.append(("devices_for_ip", ip_id))
        return list(self.devices)

    def get_object(self, object_type, object_id):
        self.calls.append(("get_object", object_type))
        return self.objects.get((object_type, object_id))


def hook(payload):
    return req.validate_payload(payload)


def test_device_without_nautobot_is_normalised_now():
    dispatcher = dp.Dispatcher()
    route = dispatcher.route(hook(nw.rename()))
    assert (route.work, route.status, route.accepted) == (dp.NOW, 200, True)
    events, via = dispatcher.events(hook(nw.rename()), route, "/", {})
    assert [e["nautobot"]["object_name"] for e in events] == ["access-switch-1"] and via is None


def test_device_with_full_data_needs_no_lookup_but_drops_cached_answers():
    lookup = FakeLookup()
    route = dp.Dispatcher(lookup).route(hook(nw.rename()))
    assert route.work == dp.NOW and lookup.calls == [("invalidate", nw.DEVICE_ID)]


def test_reference_only_device_is_looked_up():
    lookup = FakeLookup(objects=nw.reference_objects())
    dispatcher = dp.Dispatcher(lookup)
    route = dispatcher.route(hook(nw.reference_only()))
    assert (route.work, route.status) == (dp.DEVICE_LOOKUP, 202)
    (event,), _via = dispatcher.events(hook(nw.reference_only()), route, "/", {})
    assert event["nautobot"]["device"]["platform"]["napalm_driver"] == "eos"


def test_ipaddress_update_maps_to_its_devices():
    device = nw.device("access1")
    lookup = FakeLookup(devices=[device])
    dispatcher = dp.Dispatcher(lookup)
    route = dispatcher.route(hook(nw.ip_edit()))
    assert (route.work, route.status) == (dp.IP_LOOKUP, 202)
    events, via = dispatcher.events(hook(nw.ip_edit()), route, "/", {})
    assert [e["nautobot"]["changed_fields"] for e in events] == [["primary_ip4"]]
    assert events[0]["nautobot"]["source_model"] == "ipam.ipaddress"
    assert via == "ipaddress 172.20.20.11/24 changed ['dns_name']"
    assert ("devices_for_ip", nw.IP_IDS["172.20.20.11/24"]) in lookup.calls


def test_ipaddress_of_no_device_gives_no_event(caplog):
    caplog.set_level("INFO")
    dispatcher = dp.Dispatcher(FakeLookup())
    route = dispatcher.route(hook(nw.ip_edit()))
    assert dispatcher.events(hook(nw.ip_edit()), route, "/", {}) == ([], None)
    assert "it is no device's primary IPv4" in caplog.text


@pytest.mark.parametrize(
    ("payload", "detail"),
    [
        (nw.ip_edit(event="created"), "ipaddress created is ignored"),
        (nw.ip_edit(event="deleted"), "ipaddress deleted is ignored"),
        (nw.ip_edit(device_ids=()), "on no interface"),
    ],
)
def test_ipaddress_changes_that_cannot_move_a_primary_ip_are_ignored(payload, detail):
    lookup = FakeLookup()
    route = dp.Dispatcher(lookup).route(hook(payload))
    assert (route.work, route.status, route.accepted) == (dp.IGNORE, 200, False)
    assert detail in route.detail and lookup.calls == []


def test_ipaddress_without_nautobot_is_422():
    with pytest.raises(req.RequestRejected) as err:
        dp.Dispatcher().route(hook(nw.ip_edit()))
    assert err.value.status == 422


def test_the_same_change_twice_is_409_a_later_change_is_not():
    dispatcher = dp.Dispatcher()
    dispatcher.route(hook(nw.rename()))
    with pytest.raises(req.RequestRejected) as err:
        dispatcher.route(hook(nw.rename()))
    assert err.value.status == 409
    later = dict(nw.rename(), timestamp="2026-11-25 00:23:25+00:00")
    assert dispatcher.route(hook(later)).work == dp.NOW


def test_a_change_the_change_log_delivered_is_answered_without_look_ups():
    lookup = FakeLookup(objects=nw.reference_objects())
    registry = dp.delivered.DeliveredRegistry()
    body = nw.reference_only()
    registry.mark(dp.raw_change_key(hook(body)))  # what the change-log source records when it delivers
    route = dp.Dispatcher(lookup, registry=registry).route(hook(body))
    assert (route.work, route.status, route.accepted) == (dp.IGNORE, 200, False)
    assert route.detail == "already delivered by the change-log source"
    assert lookup.calls == []


def test_the_events_of_a_change_record_it_for_the_change_log_source():
    registry = dp.delivered.DeliveredRegistry()
    dispatcher = dp.Dispatcher(registry=registry)
    route = dispatcher.route(hook(nw.rename()))
    assert not registry.seen(dp.raw_change_key(hook(nw.rename())))  # routing alone records nothing
    dispatcher.events(hook(nw.rename()), route, "/", {})
    assert registry.seen(dp.raw_change_key(hook(nw.rename())))


def test_a_failed_look_up_records_nothing():
    class Down(FakeLookup):
        def get_object(self, object_type, object_id):
            raise NautobotLookupError("Nautobot is down")

    registry = dp.delivered.DeliveredRegistry()
    dispatcher = dp.Dispatcher(Down(), registry=registry)
    route = dispatcher.route(hook(nw.reference_only()))
    with pytest.raises(NautobotLookupError):
        dispatcher.events(hook(nw.reference_only()), route, "/", {})
    assert not registry.seen(dp.raw_change_key(hook(nw.reference_only())))
