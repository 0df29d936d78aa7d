"""Realistic Nautobot 3 webhook bodies, built the way Nautobot builds them.

What Nautobot does (``nautobot.extras.tasks.process_webhook``, ``ObjectChange.get_snapshots``):

- the body is ``json.dumps({event, timestamp, model, username, request_id, data, snapshots})``;
  ``timestamp`` is ``str(timezone.now())`` (a space, not ``T``); ``model`` has no app label;
- ``data`` is the REST serializer at depth 1 with ``request=None``: nested objects are full depth-0
  dicts whose own relations are ``{id, object_type, url}`` references;
- ``snapshots``: ``prechange`` (the previous change's data; None on create), ``postchange`` (None on
  delete) and ``differences`` {``added``: changed keys with new values, ``removed``: the same keys
  with old values}, a shallow compare that ignores only ``last_updated``; on create ``added`` is the
  whole postchange and ``removed`` None;
- ``X-Hook-Signature`` is the hex HMAC-SHA512 of the body keyed with the webhook's secret.
"""

import copy
import hashlib
import hmac
import json
import uuid

from tests.support import net

SECRET = "s3cr3t-webhook-key"
TIMESTAMP = "2026-11-25 00:23:24.382970+00:00"
REQUEST_ID = "5f0cd1f8-2b4e-4a4c-9d61-0e8f4a7e2b10"

DEVICE_ID = "4b1c7c10-8d5e-4e63-9a3c-0c2f6a1d9e01"
DEVICE2_ID = "4b1c7c10-8d5e-4e63-9a3c-0c2f6a1d9e02"
DEVICE_TYPE_ID = "7d3e2a55-1f0b-4c8e-b6a2-5c9d8e7f6a01"
STATUS_IDS = {
    "Active": "a1a1a1a1-0000-4000-8000-000000000001",
    "Planned": "a1a1a1a1-0000-4000-8000-000000000002",
    "Offline": "a1a1a1a1-0000-4000-8000-000000000003",
}
ROLE_IDS = {
    "Access": "b2b2b2b2-0000-4000-8000-000000000001",
    "Distribution": "b2b2b2b2-0000-4000-8000-000000000002",
}
LOCATION_ID = "c3c3c3c3-0000-4000-8000-000000000001"
LOCATION_TYPE_ID = "c3c3c3c3-0000-4000-8000-0000000000ff"
PLATFORM_ID = "d4d4d4d4-0000-4000-8000-000000000001"
PLATFORM_NODRIVER_ID = "d4d4d4d4-0000-4000-8000-000000000002"
PLATFORM_JUNOS_ID = "d4d4d4d4-0000-4000-8000-000000000003"
MANUFACTURER_ID = "e5e5e5e5-0000-4000-8000-000000000001"
NAMESPACE_ID = "f6f6f6f6-0000-4000-8000-000000000001"
PREFIX_ID = "f6f6f6f6-0000-4000-8000-000000000002"
IP_IDS = {
    "172.20.20.11/24": "0a0a0a0a-0000-4000-8000-000000000011",
    "172.20.20.21/24": "0a0a0a0a-0000-4000-8000-000000000021",
    "172.20.20.12/24": "0a0a0a0a-0000-4000-8000-000000000012",
}
INTERFACE_ID = "1b1b1b1b-0000-4000-8000-000000000001"
INTERFACE2_ID = "1b1b1b1b-0000-4000-8000-000000000002"

EOS_MAPPINGS = {
    "ansible": "arista.eos.eos",
    "hier_config": "eos",
    "napalm": "eos",
    "netmiko": "arista_eos",
    "netutils_parser": "arista_eos",
    "ntc_templates": "arista_eos",
    "pyats": "eos",
    "pyntc": "arista_eos_eapi",
    "scrapli": "arista_eos",
}
PLURALS = {
    "extras.status": "extras/statuses",
    "extras.role": "extras/roles",
    "dcim.location": "dcim/locations",
    "dcim.locationtype": "dcim/location-types",
    "dcim.platform": "dcim/platforms",
    "dcim.manufacturer": "dcim/manufacturers",
    "dcim.devicetype": "dcim/device-types",
    "dcim.device": "dcim/devices",
    "dcim.interface": "dcim/interfaces",
    "ipam.ipaddress": "ipam/ip-addresses",
    "ipam.prefix": "ipam/prefixes",
    "ipam.namespace": "ipam/namespaces",
    "extras.configcontext": "extras/config-contexts",
    "extras.tag": "extras/tags",
    "extras.dynamicgroup": "extras/dynamic-groups",
    "dcim.devicefamily": "dcim/device-families",
    "dcim.deviceredundancygroup": "dcim/device-redundancy-groups",
    "tenancy.tenant": "tenancy/tenants",
    "tenancy.tenantgroup": "tenancy/tenant-groups",
    "virtualization.cluster": "virtualization/clusters",
    "virtualization.clustergroup": "virtualization/cluster-groups",
}
CONFIG_CONTEXT_ID = "9c9c9c9c-0000-4000-8000-000000000001"
# A config context's scope key -> the object type of its items.
SCOPE_TYPES = {
    "locations": "dcim.location",
    "roles": "extras.role",
    "device_types": "dcim.devicetype",
    "device_families": "dcim.devicefamily",
    "platforms": "dcim.platform",
    "device_redundancy_groups": "dcim.deviceredundancygroup",
    "tenant_groups": "tenancy.tenantgroup",
    "tenants": "tenancy.tenant",
    "cluster_groups": "virtualization.clustergroup",
    "clusters": "virtualization.cluster",
    "dynamic_groups": "extras.dynamicgroup",
    "tags": "extras.tag",
}
CREATED = "2026-11-20T09:00:00.000000Z"


def ref(object_type, object_id):
    """How Nautobot serialises a relation at depth 0: a reference."""
    return {"id": object_id, "object_type": object_type, "url": f"/api/{PLURALS[object_type]}/{object_id}/"}


def _common(object_type, object_id, display, natural_slug, last_updated="2026-11-20T09:00:00.000000Z"):
    return {
        "id": object_id,
        "object_type": object_type,
        "display": display,
        "url": f"/api/{PLURALS[object_type]}/{object_id}/",
        "natural_slug": natural_slug,
    }, {
        "created": CREATED,
        "last_updated": last_updated,
        "notes_url": f"/api/{PLURALS[object_type]}/{object_id}/notes/",
        "custom_fields": {},
    }


def status(name="Active"):
    head, tail = _common("extras.status", STATUS_IDS[name], name, f"{name.lower()}_a1a1")
    return {**head, "content_types": ["dcim.device", "ipam.ipaddress"], "name": name, "color": "4caf50", **tail}


def role(name="Access", last_updated="2026-11-20T09:00:00.000000Z"):
    head, tail = _common("extras.role", ROLE_IDS[name], name, f"{name.lower()}_b2b2", last_updated)
    return {**head, "content_types": ["dcim.device"], "name": name, "color": "2196f3", "weight": None, **tail}


def location(name="Site A", last_updated="2026-11-20T09:00:00.000000Z"):
    head, tail = _common("dcim.location", LOCATION_ID, name, "site-a_c3c3", last_updated)
    return {
        **head,
        "time_zone": None,
        "circuit_count": 0,
        "device_count": 2,
        "prefix_count": 1,
        "rack_count": 0,
        "virtual_machine_count": 0,
        "vlan_count": 0,
        "tree_depth": None,
        "name": name,
        "description": "",
        "facility": "",
        "asn": None,
        "physical_address": "",
        "shipping_address": "",
        "latitude": None,
        "longitude": None,
        "contact_name": "",
        "contact_phone": "",
        "contact_email": "",
        "comments": "",
        "location_type": ref("dcim.locationtype", LOCATION_TYPE_ID),
        "parent": None,
        "status": ref("extras.status", STATUS_IDS["Active"]),
        "tenant": None,
        **tail,
        "tags": [],
    }


def platform(name="EOS", network_driver="arista_eos", napalm_driver="", mappings=None, platform_id=PLATFORM_ID):
    head, tail = _common("dcim.platform", platform_id, name, f"{name.lower()}_d4d4")
    if mappings is None:
        mappings = EOS_MAPPINGS if network_driver == "arista_eos" else {}
    return {
        **head,
        "network_driver_mappings": dict(mappings),
        "device_count": 2,
        "virtual_machine_count": 0,
        "name": name,
        "network_driver": network_driver,
        "napalm_driver": napalm_driver,
        "napalm_args": None,
        "description": "",
        "manufacturer": ref("dcim.manufacturer", MANUFACTURER_ID),
        **tail,
    }


def ip_address(address="172.20.20.11/24", dns_name="", interfaces=None):
    ip_id = IP_IDS[address]
    head, tail = _common("ipam.ipaddress", ip_id, address, f"{address.split('/')[0]}_f6f6")
    host, mask = address.split("/")
    data = {
        **head,
        "address": address,
        "ip_version": 4,
        "host": host,
        "mask_length": int(mask),
        "type": "host",
        "dns_name": dns_name,
        "description": "",
        "status": ref("extras.status", STATUS_IDS["Active"]),
        "role": None,
        "parent": ref("ipam.prefix", PREFIX_ID),
        "tenant": None,
        "nat_inside": None,
        **tail,
        "tags": [],
    }
    if interfaces is not None:
        data["nat_outside_list"] = []
        data["interfaces"] = interfaces
        data["vm_interfaces"] = []
    return data


def interface(device_id=DEVICE_ID, name="Management1", interface_id=INTERFACE_ID):
    head, tail = _common("dcim.interface", interface_id, name, f"{name.lower()}_1b1b")
    return {
        **head,
        "type": "1000base-t",
        "mode": None,
        "mac_address": None,
        "name": name,
        "label": "",
        "description": "",
        "enabled": True,
        "mgmt_only": True,
        "mtu": None,
        "device": ref("dcim.device", device_id),
        "status": ref("extras.status", STATUS_IDS["Active"]),
        "role": None,
        "parent_interface": None,
        "bridge": None,
        "lag": None,
        "untagged_vlan": None,
        "vrf": None,
        **tail,
        "tags": [],
    }


def config_context(name="ntp", data=None, is_active=True, **scope):
    """A config context as the change log's ``object_data_v2`` / a webhook ``data`` carries it (depth 1).

    ``scope``: scope key -> ids (e.g. ``locations=[LOCATION_ID]``); the items come as nested objects.
    """
    head, tail = _common("extras.configcontext", CONFIG_CONTEXT_ID, name, f"{name}_9c9c")
    body_data = {
        **head,
        "owner_content_type": None,
        "owner": None,
        "name": name,
        "weight": 1000,
        "description": "",
        "is_active": is_active,
        "config_context_schema": None,
        "data": data if data is not None else {"ntp_servers": ["10.0.0.1"]},
        **tail,
    }
    for key, object_type in SCOPE_TYPES.items():
        body_data[key] = [dict(ref(object_type, item_id), display=item_id[:8]) for item_id in scope.get(key, ())]
    return body_data


def config_context_update(before_scope=None, after_scope=None, **kwargs):
    """A config context updated: its data (and, with different scopes, its scope) changed."""
    before = config_context(data={"ntp_servers": ["10.0.0.1"]}, **(before_scope or {}))
    after = config_context(data={"ntp_servers": ["10.0.0.2"]}, **(after_scope or before_scope or {}), **kwargs)
    after["last_updated"] = "2026-11-25T00:23:24.300000Z"
    return body("updated", "configcontext", after, prechange=before)


def interface_edit(device_id=DEVICE_ID, previous_device_id=None, event="updated"):
    """An interface edited (description; moved to ``device_id`` when ``previous_device_id`` is given)."""
    before = interface(previous_device_id or device_id)
    after = interface(device_id)
    after["description"] = "uplink"
    after["last_updated"] = "2026-11-25T00:23:24.300000Z"
    if event == "updated":
        return body("updated", "interface", after, prechange=before)
    return body(event, "interface", after)


def device(
    name="access1",
    *,
    device_id=DEVICE_ID,
    status_name="Active",
    role_name="Access",
    ip="172.20.20.11/24",
    plat="default",
    comments="",
    serial="",
    loc=None,
    last_updated="2026-11-24T10:00:00.000000Z",
):
    """A device as Nautobot's webhook ``data`` carries it (REST serializer, depth 1)."""
    if plat == "default":
        plat = platform()
    head, tail = _common("dcim.device", device_id, name, f"{name}_site-a_c3c3", last_updated)
    return {
        **head,
        "face": None,
        "local_config_context_data": None,
        "local_config_context_data_owner_object_id": None,
        "name": name,
        "serial": serial,
        "asset_tag": None,
        "position": None,
        "device_redundancy_group_priority": None,
        "vc_position": None,
        "vc_priority": None,
        "comments": comments,
        "local_config_context_schema": None,
        "local_config_context_data_owner_content_type": None,
        "device_type": {
            "id": DEVICE_TYPE_ID,
            "object_type": "dcim.devicetype",
            "display": "Arista vEOS",
            "url": f"/api/dcim/device-types/{DEVICE_TYPE_ID}/",
            "natural_slug": "arista_veos_7d3e",
            "model": "vEOS",
            "part_number": "",
            "u_height": 1,
            "is_full_depth": True,
            "manufacturer": ref("dcim.manufacturer", MANUFACTURER_ID),
            "created": CREATED,
            "last_updated": CREATED,
        },
        "status": status(status_name),
        "role": role(role_name) if role_name else None,
        "tenant": None,
        "platform": plat,
        "location": loc if loc is not None else location(),
        "rack": None,
        "primary_ip4": ip_address(ip) if ip else None,
        "primary_ip6": None,
        "cluster": None,
        "virtual_chassis": None,
        "device_redundancy_group": None,
        "software_version": None,
        "secrets_group": None,
        "controller_managed_device_group": None,
        **tail,
        "tags": [],
        "parent_bay": None,
    }


def differences(prechange, postchange):
    """Nautobot's ``shallow_compare_dict(pre, post, exclude=["last_updated"])`` pair."""
    added = {k: v for k, v in postchange.items() if prechange.get(k) != v and k != "last_updated"}
    removed = {k: prechange.get(k) for k in added}
    return {"added": added, "removed": removed}


def body(event, model, data, *, prechange=None, postchange=None, username="admin", request_id=REQUEST_ID):
    """The webhook body as a dict."""
    if event == "created":
        snapshots = {
            "prechange": None,
            "postchange": postchange or data,
            "differences": {"added": data, "removed": None},
        }
    elif event == "deleted":
        snapshots = {
            "prechange": prechange or data,
            "postchange": None,
            "differences": {"added": None, "removed": data},
        }
    else:
        post = postchange or data
        snapshots = {"prechange": prechange, "postchange": post, "differences": differences(prechange, post)}
    return {
        "event": event,
        "timestamp": TIMESTAMP,
        "model": model,
        "username": username,
        "request_id": request_id,
        "data": data,
        "snapshots": snapshots,
    }


def updated(before, after, **kwargs):
    return body("updated", "device", after, prechange=before, **kwargs)


def encode(payload):
    """The bytes Nautobot posts (``json.dumps(..., ensure_ascii=False)``)."""
    return json.dumps(payload, ensure_ascii=False).encode("utf-8")


def sign(raw, secret=SECRET):
    return hmac.new(secret.encode("utf-8"), raw, hashlib.sha512).hexdigest()


def headers(raw, secret=SECRET, **extra):
    """The headers Nautobot's worker sends (requests' defaults plus the webhook's own)."""
    result = {
        "User-Agent": "python-requests/2.32.5",
        "Accept-Encoding": "gzip, deflate",
        "Accept": "*/*",
        "Content-Type": "application/json",
    }
    if secret is not None:
        result["X-Hook-Signature"] = sign(raw, secret)
    result.update(extra)
    return result


# --- the seed scenarios ---------------------------------------------------------------------------
def rename(old="access1", new="access-switch-1"):
    """Scenario 1: rename (differences: name, display, natural_slug)."""
    before = device(old)
    after = device(new, last_updated="2026-11-25T00:23:24.300000Z")
    return updated(before, after)


def primary_ip_change():
    """Scenario 2a: another IP assigned as the device's primary IPv4 (a device update)."""
    before = device(ip="172.20.20.11/24")
    after = device(ip="172.20.20.21/24", last_updated="2026-11-25T00:23:24.300000Z")
    return updated(before, after)


def ip_edit(address="172.20.20.11/24", device_ids=(DEVICE_ID,), event="updated"):
    """Scenario 2b: the IP address object itself edited (dns_name): an ipaddress update."""
    interfaces = [
        interface(device_id, interface_id=f"1b1b1b1b-0000-4000-8000-{i:012d}") for i, device_id in enumerate(device_ids)
    ]
    before = ip_address(address, interfaces=interfaces)
    after = ip_address(address, dns_name="access1.mgmt.example", interfaces=interfaces)
    after["last_updated"] = "2026-11-25T00:23:24.300000Z"
    if event == "updated":
        return body("updated", "ipaddress", after, prechange=before)
    return body(event, "ipaddress", after)


def ip_attach(address="172.20.20.12/24", before_device_ids=(), after_device_ids=(DEVICE_ID,)):
    """An IP address attached to (or detached from) interfaces: an ipaddress update, differences on
    ``interfaces`` (what Nautobot 3 sends when an assignment is made; see ../shared/lab.md)."""

    def on(device_ids):
        return [
            interface(device_id, name=f"Loopback{i}", interface_id=f"1b1b1b1b-0000-4000-8000-{i + 100:012d}")
            for i, device_id in enumerate(device_ids)
        ]

    before = ip_address(address, interfaces=on(before_device_ids))
    after = ip_address(address, interfaces=on(after_device_ids))
    after["last_updated"] = "2026-11-25T00:23:24.300000Z"
    return body("updated", "ipaddress", after, prechange=before)


def role_change():
    """Scenario 3: Access -> Distribution."""
    return updated(device(role_name="Access"), device(role_name="Distribution", last_updated="2026-11-25T00:23:24Z"))


def comments_only():
    """Scenario 4: only the comments change."""
    return updated(device(comments=""), device(comments="rack 4, top", last_updated="2026-11-25T00:23:24Z"))


def stale_nested_comments():
    """Comments change while the previous snapshot holds an older copy of the location and role.

    Nautobot's shallow compare then also lists ``location`` and ``role`` (their own data changed), although
    the device still points at the same objects.
    """
    before = device(comments="", loc=location(last_updated="2026-11-01T00:00:00Z"))
    before["role"] = role("Access", last_updated="2026-11-01T00:00:00Z")
    after = device(comments="moved to rack 5", last_updated="2026-11-25T00:23:24Z")
    return updated(before, after)


def create(name="access3", device_id=DEVICE2_ID, **kwargs):
    """Scenario 5: a device created."""
    return body("created", "device", device(name, device_id=device_id, ip="172.20.20.12/24", **kwargs))


def platform_without_driver():
    """Scenario 6: the platform has neither network_driver nor napalm_driver."""
    plat = platform("Generic", network_driver="", napalm_driver="", mappings={}, platform_id=PLATFORM_NODRIVER_ID)
    return updated(device(serial="A1"), device(serial="A2", plat=plat))


def platform_change():
    """A ready device moved to another platform with a NAPALM driver (EOS -> Junos)."""
    junos = platform(
        "Junos", network_driver="juniper_junos", mappings={"napalm": "junos"}, platform_id=PLATFORM_JUNOS_ID
    )
    return updated(device(), device(plat=junos, last_updated="2026-11-25T00:23:24Z"))


def platform_null():
    """Scenario 6: no platform at all (set to null in this change)."""
    return updated(device(), device(plat=None))


def status_offline():
    return updated(device(status_name="Active"), device(status_name="Offline"))


def reference_only():
    """A device whose nested objects are only references (permission-downgraded or legacy data)."""
    after = device()
    after["status"] = ref("extras.status", STATUS_IDS["Active"])
    after["role"] = ref("extras.role", ROLE_IDS["Access"])
    after["location"] = ref("dcim.location", LOCATION_ID)
    after["platform"] = ref("dcim.platform", PLATFORM_ID)
    after["primary_ip4"] = ref("ipam.ipaddress", IP_IDS["172.20.20.11/24"])
    before = copy.deepcopy(after)
    before["name"] = "access0"
    return updated(before, after)


def reference_objects():
    """What Nautobot answers for each reference of ``reference_only`` (REST, depth 0)."""
    return {
        ("extras.status", STATUS_IDS["Active"]): status("Active"),
        ("extras.role", ROLE_IDS["Access"]): role("Access"),
        ("dcim.location", LOCATION_ID): location(),
        ("dcim.platform", PLATFORM_ID): platform(),
        ("ipam.ipaddress", IP_IDS["172.20.20.11/24"]): ip_address("172.20.20.11/24"),
    }


# --- the event contract (docs/event.md): the keys of a normalised event -------------------------------
EVENT_KEYS = {
    "action",
    "model",
    "source_model",
    "object_id",
    "object_name",
    "changed_fields",
    "changes",
    "timestamp",
    "username",
    "request_id",
    "events_coalesced",
    "burst",
    "device",
}
# Added by the source's receiver (the readiness verdict), not by the normalisation itself.
RECEIVER_KEYS = {"readiness"}
DEVICE_KEYS = {"id", "name", "status", "role", "location", "platform", "primary_ip4", "primary_ip4_host"}


# Kept under its old name for the suites that import it from here.
wait_for_port = net.wait_for_port


# --- Golden Config config plans (the approval gate) -----------------------------------------------
PLAN_ID = "7d0a9b1e-1111-4c2d-8e3f-000000000001"
PLAN_STATUS_IDS = {
    "Not Approved": "7d0a9b1e-aaaa-4c2d-8e3f-000000000001",
    "Approved": "7d0a9b1e-aaaa-4c2d-8e3f-000000000002",
    "In Progress": "7d0a9b1e-aaaa-4c2d-8e3f-000000000003",
    "Completed": "7d0a9b1e-aaaa-4c2d-8e3f-000000000004",
    "Failed": "7d0a9b1e-aaaa-4c2d-8e3f-000000000005",
}


def config_plan(status="Not Approved", device_name="access-switch-1", device_id=DEVICE_ID, plan_id=PLAN_ID):
    """A Golden Config config plan as its webhook sends it (the REST serializer at depth 1)."""
    return {
        "id": plan_id,
        "object_type": "nautobot_golden_config.configplan",
        "display": f"{device_name}-manual-2026-12-06",
        "url": f"/api/plugins/golden-config/config-plan/{plan_id}/",
        "device": {"id": device_id, "object_type": "dcim.device", "name": device_name, "display": device_name},
        "plan_type": "manual",
        "config_set": f"hostname {device_name}",
        "change_control_id": "sotsync.nautobot",
        "change_control_url": "",
        "status": {
            "id": PLAN_STATUS_IDS[status],
            "object_type": "extras.status",
            "name": status,
            "display": status,
        },
        "created": CREATED,
        "last_updated": "2026-12-06T10:00:00.000000Z",
    }


def config_plan_change(status, before_status=None, device_name="access-switch-1", event="updated", **kwargs):
    """A config plan webhook body: created with ``status``, or updated from ``before_status`` to ``status``."""
    plan_id = str(uuid.uuid5(uuid.NAMESPACE_URL, device_name))
    after = config_plan(status, device_name, plan_id=plan_id)
    if event == "created":
        return body("created", "configplan", after, **kwargs)
    before = config_plan(before_status or status, device_name, plan_id=plan_id)
    if before_status == status:  # another field changed (a comment on the change control)
        after["change_control_url"] = "https://change.example.com/CHG1"
    after["last_updated"] = "2026-12-06T10:05:00.000000Z"
    return body("updated", "configplan", after, prechange=before, **kwargs)
