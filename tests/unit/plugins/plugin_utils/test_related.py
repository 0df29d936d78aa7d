"""Unit tests of plugin_utils/related.py: which devices a related change reaches, without HTTP."""

import logging

import pytest

from ansible_collections.sotsync.nautobot.plugins.plugin_utils import dispatch as dp
from ansible_collections.sotsync.nautobot.plugins.plugin_utils import nautobot_lookup as nl
from ansible_collections.sotsync.nautobot.plugins.plugin_utils import related
from ansible_collections.sotsync.nautobot.plugins.plugin_utils import request as req
from ansible_collections.sotsync.nautobot.plugins.plugin_utils import settings
from tests.support import nautobot_webhooks as nw

MODELS = ("device", "ipaddress", "interface", "configcontext")
A, B, C = (f"aaaaaaaa-0000-4000-8000-00000000000{i}" for i in (1, 2, 3))


def hook(payload):
    return req.validate_payload(payload, settings.canonical_models(list(MODELS)))


class FakeLookup:
    """The look-ups related.py makes, with canned answers and a record of the calls."""

    def __init__(self, devices=(), over=None):
        self.devices = {d["id"]: d for d in devices}
        self.over = over
        self.calls = []

    def devices_by_id(self, ids):
        self.calls.append(("devices_by_id", list(ids)))
        return [self.devices[i] for i in ids if i in self.devices]

    def devices_matching(self, queries, limit):
        self.calls.append(("devices_matching", queries, limit))
        if self.over is not None:
            return None, self.over
        return list(self.devices.values()), len(self.devices)

    def get_object(self, object_type, object_id):
        return None

    def invalidate_device(self, device_id):
        self.calls.append(("invalidate", device_id))


# --- scope -> filters ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("key", "filter_name"),
    [
        ("locations", "location"),
        ("roles", "role"),
        ("device_types", "device_type"),
        ("device_families", "device_family"),
        ("platforms", "platform"),
        ("device_redundancy_groups", "device_redundancy_group"),
        ("tenant_groups", "tenant_group"),
        ("tenants", "tenant"),
        ("clusters", "cluster"),
        ("cluster_groups", "cluster_group"),  # turned into the groups' clusters by the look-up
        ("dynamic_groups", "dynamic_groups"),
    ],
)
def test_every_scope_dimension_maps_to_its_device_filter(key, filter_name):
    data = nw.config_context(**{key: [A, B]})
    assert related.config_context_scope(data) == {filter_name: (A, B)}
    assert related.scope_queries(related.config_context_scope(data)) == [{filter_name: [A, B]}]


def test_dimensions_are_anded_values_ored():
    data = nw.config_context(locations=[A], roles=[B, C], platforms=[C])
    assert related.scope_queries(related.config_context_scope(data)) == [
        {"location": [A], "role": [B, C], "platform": [C]}
    ]


def test_tags_one_query_per_tag_because_the_tag_filter_requires_all():
    data = nw.config_context(roles=[A], tags=[B, C])
    assert related.scope_queries(related.config_context_scope(data)) == [
        {"role": [A], "tags": [B]},
        {"role": [A], "tags": [C]},
    ]


def test_empty_scope_means_every_device():
    assert related.config_context_scope(nw.config_context()) == {}
    assert related.scope_queries({}) == [{}]


def test_inactive_context_applies_to_no_device():
    assert related.config_context_scope(nw.config_context(is_active=False, locations=[A])) is None
    assert related.scope_queries(None) == []


def test_update_unites_the_scope_before_and_after():
    h = hook(nw.config_context_update(before_scope={"locations": [A]}, after_scope={"locations": [B]}))
    assert related.config_context_queries(h) == [{"location": [A]}, {"location": [B]}]
    same = hook(nw.config_context_update(before_scope={"roles": [A]}))
    assert related.config_context_queries(same) == [{"role": [A]}]


def test_deactivating_reaches_the_devices_that_had_it():
    before = nw.config_context(locations=[A])
    after = nw.config_context(locations=[A], is_active=False)
    h = hook(nw.body("updated", "configcontext", after, prechange=before))
    assert related.config_context_queries(h) == [{"location": [A]}]


def test_created_and_deleted_read_their_one_state():
    created = hook(nw.body("created", "configcontext", nw.config_context(roles=[A])))
    deleted = hook(nw.body("deleted", "configcontext", nw.config_context(roles=[B])))
    assert related.config_context_queries(created) == [{"role": [A]}]
    assert related.config_context_queries(deleted) == [{"role": [B]}]


def test_description_only_edit_is_inert_and_ignored():
    before = nw.config_context()
    after = dict(before, description="who owns this")
    h = hook(nw.body("updated", "configcontext", after, prechange=before))
    assert related.inert_change(h)
    route = dp.Dispatcher(FakeLookup()).route(h)
    assert (route.work, route.status) == (dp.IGNORE, 200)
    assert not related.inert_change(hook(nw.config_context_update()))


# --- body -> device ids ---------------------------------------------------------------------------
def test_interface_reaches_its_device():
    for event in ("created", "updated", "deleted"):
        assert related.interface_device_ids(hook(nw.interface_edit(event=event))) == [nw.DEVICE_ID]


def test_moved_interface_reaches_both_devices():
    h = hook(nw.interface_edit(device_id=nw.DEVICE2_ID, previous_device_id=nw.DEVICE_ID))
    assert related.interface_device_ids(h) == [nw.DEVICE2_ID, nw.DEVICE_ID]


def test_interface_events_shape_and_batched_lookup(caplog):
    devices = [nw.device("access1"), nw.device("access2", device_id=nw.DEVICE2_ID, ip="172.20.20.21/24")]
    lookup = FakeLookup(devices)
    h = hook(nw.interface_edit(device_id=nw.DEVICE2_ID, previous_device_id=nw.DEVICE_ID))
    dispatcher = dp.Dispatcher(lookup)
    route = dispatcher.route(h)
    assert (route.work, route.status) == (dp.RELATED_LOOKUP, 202)
    events, via = dispatcher.events(h, route, "/", {})
    assert lookup.calls == [("devices_by_id", [nw.DEVICE2_ID, nw.DEVICE_ID])]  # one look-up for both
    assert sorted(e["nautobot"]["object_name"] for e in events) == ["access1", "access2"]
    for event in events:
        nb = event["nautobot"]
        assert (nb["action"], nb["model"], nb["source_model"]) == ("updated", "dcim.device", "dcim.interface")
        assert nb["changed_fields"] == ["interfaces"] and nb["changes"] == [{"field": "interfaces"}]
        assert set(nb) == nw.EVENT_KEYS and set(nb["device"]) == nw.DEVICE_KEYS
    assert via == "interface updated Management1"


def test_ip_attach_and_detach_reach_the_interfaces_devices():
    attach = hook(nw.ip_attach(after_device_ids=(nw.DEVICE_ID,)))
    assert related.is_ip_attachment(attach) and related.ip_attachment_device_ids(attach) == [nw.DEVICE_ID]
    moved = hook(nw.ip_attach(before_device_ids=(nw.DEVICE_ID,), after_device_ids=(nw.DEVICE2_ID,)))
    assert related.ip_attachment_device_ids(moved) == [nw.DEVICE2_ID, nw.DEVICE_ID]
    detach_by_delete = hook(nw.ip_edit(event="deleted"))
    assert related.is_ip_attachment(detach_by_delete)
    assert not related.is_ip_attachment(hook(nw.ip_edit()))  # dns_name only: the primary-IPv4 route
    assert not related.is_ip_attachment(hook(nw.ip_edit(event="created", device_ids=())))


def test_ip_attach_routes_only_when_interfaces_are_asked_for():
    lookup = FakeLookup([nw.device("access1")])
    attach = hook(nw.ip_attach())
    assert dp.Dispatcher(lookup).route(attach).work == dp.IP_LOOKUP  # models without interface: as before
    dispatcher = dp.Dispatcher(lookup, ip_attachments=True)
    route = dispatcher.route(hook(nw.ip_attach()))
    assert route.work == dp.RELATED_LOOKUP
    (event,), via = dispatcher.events(hook(nw.ip_attach()), route, "/", {})
    nb = event["nautobot"]
    assert (nb["source_model"], nb["action"], nb["changed_fields"]) == ("ipam.ipaddress", "updated", ["interfaces"])
    assert nb["object_id"] == nw.DEVICE_ID and via == "ipaddress updated 172.20.20.12/24"
    assert dispatcher.route(hook(nw.ip_edit())).work == dp.IP_LOOKUP  # other IP edits: unchanged


def test_interface_of_a_deleted_device_is_dropped(caplog):
    caplog.set_level(logging.INFO)
    events = related.related_events(hook(nw.interface_edit(event="deleted")), FakeLookup())[0]
    assert events == [] and "its device no longer exists" in caplog.text


def test_config_context_events_for_every_device_in_scope():
    devices = [nw.device("access1"), nw.device("access2", device_id=nw.DEVICE2_ID)]
    lookup = FakeLookup(devices)
    h = hook(nw.config_context_update(before_scope={"locations": [A]}, after_scope={"locations": [B]}))
    events, via = related.related_events(h, lookup, max_devices=5)
    assert lookup.calls == [("devices_matching", [{"location": [A]}, {"location": [B]}], 5)]
    assert [e["nautobot"]["changed_fields"] for e in events] == [["config_context"], ["config_context"]]
    assert {e["nautobot"]["source_model"] for e in events} == {"extras.configcontext"}
    assert via == "configcontext updated ntp"


def test_scope_over_the_bound_gives_no_events_and_a_warning(caplog):
    caplog.set_level(logging.INFO)
    lookup = FakeLookup(over=1500)
    events = related.related_events(hook(nw.config_context_update()), lookup, max_devices=1000)[0]
    assert events == []
    (warning,) = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert "configcontext updated ntp" in warning and "1500 devices" in warning
    assert "max_related_devices (1000)" in warning and "provision_device" in warning


def test_inactive_context_needs_no_lookup(caplog):
    caplog.set_level(logging.INFO)
    lookup = FakeLookup()
    h = hook(nw.body("created", "configcontext", nw.config_context(is_active=False)))
    assert related.related_events(h, lookup)[0] == [] and lookup.calls == []
    assert "inactive" in caplog.text


# --- validation and settings -------------------------------------------------------------------------
def test_related_models_are_accepted_only_when_asked_for():
    with pytest.raises(req.RequestRejected) as info:
        req.validate_payload(nw.interface_edit())
    assert info.value.status == 422 and "interface" in info.value.reason
    assert hook(nw.interface_edit()).model == "dcim.interface"
    assert hook(nw.config_context_update()).short_model == "configcontext"


@pytest.mark.parametrize(
    ("mutate", "where"),
    [
        (lambda p: p["data"].update(device=5), "data.device"),
        (lambda p: p["snapshots"]["prechange"].update(device=[1]), "snapshots.prechange.device"),
    ],
)
def test_interface_wrong_types_are_400(mutate, where):
    payload = nw.interface_edit()
    mutate(payload)
    with pytest.raises(req.RequestRejected) as info:
        hook(payload)
    assert info.value.status == 400 and where in info.value.reason


@pytest.mark.parametrize(
    ("mutate", "where"),
    [
        (lambda p: p["data"].update(locations={"id": A}), "data.locations"),
        (lambda p: p["data"].update(tags=[3]), "data.tags[]"),
        (lambda p: p["data"].update(is_active="yes"), "data.is_active"),
        (lambda p: p["snapshots"]["prechange"].update(roles=[{"id": 1}]), "snapshots.prechange.roles[].id"),
    ],
)
def test_config_context_wrong_types_are_400(mutate, where):
    payload = nw.config_context_update()
    mutate(payload)
    with pytest.raises(req.RequestRejected) as info:
        hook(payload)
    assert info.value.status == 400 and where in info.value.reason


def test_settings_related_models_need_nautobot_and_bound_is_checked():
    with pytest.raises(ValueError, match="interface, configcontext events need a Nautobot"):
        settings.validate_args({"port": 1, "secret": "x", "models": ["interface", "configcontext"]}, environ={})
    good = settings.validate_args(
        {"port": 1, "secret": "x", "models": "device,interface", "nautobot_url": "http://n", "nautobot_token": "t"},
        environ={},
    )
    assert good.models == ("dcim.device", "dcim.interface") and good.max_related_devices == 1000
    assert settings.validate_args({"port": 1, "secret": "x", "models": ["device"]}, environ={}).models == (
        "dcim.device",
    )
    with pytest.raises(ValueError, match="max_related_devices must be"):
        settings.validate_args({"port": 1, "secret": "x", "models": ["device"], "max_related_devices": 0}, environ={})
    with pytest.raises(ValueError, match="device, ipaddress, interface, configcontext"):
        settings.canonical_models(["vlan"])


# --- the look-ups (NautobotLookup over a fake pynautobot API) --------------------------------------
class Records:
    """pynautobot's endpoint: ``filter``/``count`` over (record, {filter: {values}}) pairs."""

    def __init__(self, items):
        self.items = items
        self.calls = []

    def _match(self, kwargs):
        filters = {k: v for k, v in kwargs.items() if k not in ("depth", "limit", "offset")}
        return [
            record
            for record, attrs in self.items
            if all(set(v if isinstance(v, list) else [v]) & attrs.get(k, set()) for k, v in filters.items())
        ]

    def filter(self, **kwargs):
        self.calls.append(("filter", kwargs))
        return self._match(kwargs)

    def count(self, **kwargs):
        self.calls.append(("count", kwargs))
        return len(self._match(kwargs))


class Api:
    def __init__(self, devices, clusters=()):
        self.dcim = type("App", (), {"devices": Records(devices)})()
        self.virtualization = type("App", (), {"clusters": Records(clusters)})()


class Clock:
    now = 100.0

    def __call__(self):
        return self.now


def device_record(name, device_id, **attrs):
    return {"id": device_id, "name": name}, {"id": {device_id}, **{k: set(v) for k, v in attrs.items()}}


def test_lookup_devices_matching_counts_reads_unites_and_caches():
    api = Api([device_record("a1", A, location=[A]), device_record("a2", B, location=[B], tags=[C])])
    clock = Clock()
    lookup = nl.NautobotLookup("http://nb", "t", api=api, clock=clock)
    devices, total = lookup.devices_matching([{"location": [A]}, {"tags": [C]}], 10)
    assert sorted(d["name"] for d in devices) == ["a1", "a2"] and total == 2
    calls = api.dcim.devices.calls
    assert [c[0] for c in calls] == ["count", "filter", "count", "filter"]
    assert calls[1][1] == {"location": [A], "depth": 1, "limit": 100}
    lookup.devices_matching([{"location": [A]}], 10)
    assert len(calls) == 4  # cached
    lookup.invalidate_device(A)  # a device webhook for a1 drops the answers naming it
    lookup.devices_matching([{"location": [A]}], 10)
    assert len(calls) == 6
    clock.now += 11  # and answers live 10 s
    lookup.devices_matching([{"tags": [C]}], 10)
    assert len(calls) == 8


def test_lookup_over_the_bound_reads_only_the_count():
    api = Api([device_record(f"d{i}", f"id-{i}", role=[A]) for i in range(5)])
    lookup = nl.NautobotLookup("http://nb", "t", api=api, clock=Clock())
    assert lookup.devices_matching([{"role": [A]}], 4) == (None, 5)
    assert [c[0] for c in api.dcim.devices.calls] == ["count"]


def test_lookup_cluster_groups_become_their_clusters():
    devices = [device_record("c1", A, clusters=["cl-1"]), device_record("c2", B, clusters=["cl-9"])]
    api = Api(devices, clusters=[({"id": "cl-1"}, {"cluster_group": {"grp"}})])
    lookup = nl.NautobotLookup("http://nb", "t", api=api, clock=Clock())
    found = lookup.devices_matching([{"cluster_group": ["grp"]}], 10)[0]
    assert [d["name"] for d in found] == ["c1"]
    assert api.dcim.devices.calls[0] == ("count", {"clusters": ["cl-1"]})
    assert lookup.devices_matching([{"cluster_group": ["empty"]}], 10) == ([], 0)


def test_lookup_devices_by_id_100_per_request():
    ids = [f"id-{i}" for i in range(250)]
    api = Api([device_record(f"d{i}", device_id) for i, device_id in enumerate(ids)])
    lookup = nl.NautobotLookup("http://nb", "t", api=api, clock=Clock())
    assert len(lookup.devices_by_id(ids + ids[:3])) == 250
    assert [len(c[1]["id"]) for c in api.dcim.devices.calls] == [100, 100, 50]
