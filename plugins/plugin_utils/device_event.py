# -*- coding: utf-8 -*-
# Copyright: sotsync team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A validated Nautobot webhook (``request.Hook``) -> the device event of ``docs/event.md``.

Built once, here, for every way a change reaches a rulebook (the ``sotsync.nautobot.webhook`` source,
the ``sotsync.nautobot.device_event`` filter): which fields changed, the device block, the readiness
verdict (``module_utils/readiness.py``, the module's own rules). Plain Python, unit-tested.
"""

from __future__ import annotations

import logging

# The readiness rules (and the NAPALM driver of a platform) have one implementation, shared with the
# golden_config_deploy module: the rulebook's conditions test what is put on the event here.
from ansible_collections.sotsync.nautobot.plugins.module_utils.messages import DEFAULT_READY_STATUSES
from ansible_collections.sotsync.nautobot.plugins.module_utils.readiness import check_readiness, napalm_driver_of
from ansible_collections.sotsync.nautobot.plugins.plugin_utils.request import (
    CONFIG_PLAN,
    DEVICE,
    IPADDRESS,
    SHORT_NAMES,
)

logger = logging.getLogger(__name__)

# Keys that change on every save or only mirror other keys: never a "changed field".
NOISE_FIELDS = frozenset(
    ("display", "natural_slug", "last_updated", "created", "url", "notes_url", "object_type", "id")
)
# A nested object reduced to these keys is only a reference and needs a look-up to be read.
REFERENCE_KEYS = frozenset(("id", "object_type", "url", "display", "natural_slug"))
# The object type of each nested device field we read (used for bare-UUID legacy references too).
NESTED_TYPES = {
    "status": "extras.status",
    "role": "extras.role",
    "location": "dcim.location",
    "platform": "dcim.platform",
    "primary_ip4": "ipam.ipaddress",
}


# --- changed fields -------------------------------------------------------------------------------
def reference_id(value):
    """The ``id`` of a nested object (``{"id": ...}``), else None."""
    if isinstance(value, dict) and isinstance(value.get("id"), str):
        return value["id"]
    return None


def same_object(before, after):
    """True when two nested values point at the same object(s), whatever their other keys say.

    Nautobot diffs snapshots shallowly: a nested object whose own data changed since the device's
    previous change (a renamed status, an edited IP's ``dns_name``) differs although the device still
    points at it. That is not a change of the device.
    """
    before_id, after_id = reference_id(before), reference_id(after)
    if before_id is not None and after_id is not None:
        return before_id == after_id
    if isinstance(before, list) and isinstance(after, list) and before and after:
        before_ids = [reference_id(item) for item in before]
        after_ids = [reference_id(item) for item in after]
        if None not in before_ids and None not in after_ids:
            return sorted(before_ids) == sorted(after_ids)
    return False


def ordered_union(*sequences):
    """The items of every sequence, each once, first-seen order kept."""
    seen = []
    for sequence in sequences:
        for item in sequence:
            if item not in seen:
                seen.append(item)
    return seen


def changed_fields(action, data, snapshots):
    """The device fields a webhook says changed, noise removed, in Nautobot's order.

    created: every field of ``data``; deleted: none; updated: the keys of ``snapshots.differences``
    (``added`` then ``removed``), or a diff of ``prechange``/``postchange`` when differences are absent.
    """
    if action == "created":
        keys = list(data)
    elif action == "deleted":
        return []
    else:
        snapshots = snapshots if isinstance(snapshots, dict) else {}
        differences = snapshots.get("differences")
        if isinstance(differences, dict):
            added = differences.get("added") if isinstance(differences.get("added"), dict) else {}
            removed = differences.get("removed") if isinstance(differences.get("removed"), dict) else {}
        else:
            before, after = snapshots.get("prechange"), snapshots.get("postchange")
            if isinstance(before, dict) and isinstance(after, dict):
                added = {k: v for k, v in after.items() if before.get(k) != v}
                removed = {k: before.get(k) for k in added}
            else:
                added, removed = {}, {}
        keys = [
            key
            for key in ordered_union(added, removed)
            if not (key in added and key in removed and same_object(removed[key], added[key]))
        ]
    return [key for key in keys if key not in NOISE_FIELDS]


# --- device data ----------------------------------------------------------------------------------
def is_reference(value):
    """A nested object given only as ``{id, object_type, url}`` (perhaps with ``display``)."""
    return isinstance(value, dict) and isinstance(value.get("id"), str) and set(value) <= REFERENCE_KEYS


def needs_lookup(data, nested=None):
    """True when reading the device from ``data`` needs Nautobot (a nested field is only a reference).

    ``nested``: the nested fields to check (``{field: object type}``), the device's by default.
    """
    for key in nested or NESTED_TYPES:
        value = data.get(key)
        if is_reference(value) or (isinstance(value, str) and value.strip()):
            return True
    return False


def _nested(data, key, resolve, device_label, types=None):
    types = types or NESTED_TYPES
    value = data.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, str):  # legacy object_data: a bare primary key
        value = {"id": value, "object_type": types[key]}
    if not isinstance(value, dict):
        logger.warning("device %s: %s has an unexpected type (%s); using null", device_label, key, type(value).__name__)
        return None
    if not is_reference(value):
        return value
    object_type = value.get("object_type") or types[key]
    if resolve is None:
        logger.warning(
            "device %s: %s is only a reference (%s %s) and no nautobot_url is set to look it up; using null",
            device_label,
            key,
            object_type,
            value["id"],
        )
        return None
    found = resolve(object_type, value["id"])
    if found is None:
        logger.warning(
            "device %s: %s %s %s was not found in Nautobot; using null", device_label, key, object_type, value["id"]
        )
        return None
    return found


def _name_of(obj):
    if not isinstance(obj, dict):
        return None
    for key in ("name", "display"):
        if obj.get(key):
            return str(obj[key])
    return None


def platform_block(platform):
    """The event's ``device.platform``: name, network driver, NAPALM driver (readiness' rule)."""
    if not isinstance(platform, dict):
        return None
    network_driver = platform.get("network_driver")
    return {
        "name": platform.get("name") or platform.get("display"),
        "network_driver": (network_driver.strip() or None) if isinstance(network_driver, str) else None,
        "napalm_driver": napalm_driver_of(platform),
    }


def normalize_device(data, resolve=None):
    """A device dict (webhook ``data`` or REST at depth 1) -> the event's ``device`` block.

    ``resolve(object_type, id)`` returns a nested object's data (or None) when ``data`` holds only a
    reference; without it such a field is null and a warning is logged.
    """
    label = data.get("name") or data.get("id")
    status = _nested(data, "status", resolve, label)
    role = _nested(data, "role", resolve, label)
    location = _nested(data, "location", resolve, label)
    platform = _nested(data, "platform", resolve, label)
    ip4 = _nested(data, "primary_ip4", resolve, label)
    address = ip4.get("address") if isinstance(ip4, dict) else None
    host = None
    if isinstance(ip4, dict):
        host = ip4.get("host") or (address.split("/", 1)[0] if isinstance(address, str) else None)
    return {
        "id": data.get("id"),
        "name": data.get("name"),
        "status": _name_of(status),
        "role": _name_of(role),
        "location": _name_of(location),
        "platform": platform_block(platform),
        "primary_ip4": address or None,
        "primary_ip4_host": host or None,
    }


def field_objects(fields):
    """``["name"]`` -> ``[{"field": "name"}]``: rule conditions can use ``selectattr('field', 'in', list)``."""
    return [{"field": name} for name in fields]


def _event(hook, device, changed, source_model, endpoint, headers, action=None):
    return _common_event(hook, DEVICE, source_model, device, changed, endpoint, headers, action, device=device)


def _common_event(hook, model, source_model, subject, changed, endpoint, headers, action=None, **block):
    """The keys every event of ``docs/event.md`` has; ``subject`` names the object (``id``, ``name``),
    ``block`` adds the event's own block (``device`` or ``plan``)."""
    nautobot = {
        "action": action or hook.action,
        "model": model,
        "source_model": source_model,
        "object_id": subject["id"],
        "object_name": subject["name"],
        "changed_fields": list(changed),
        "changes": field_objects(changed),
        "timestamp": hook.timestamp,
        "username": hook.username,
        "request_id": hook.request_id,
        "events_coalesced": 1,
        "burst": False,
    }
    nautobot.update(block)
    return {"nautobot": nautobot, "meta": {"endpoint": endpoint, "headers": dict(headers or {})}}


def normalize_device_event(hook, endpoint="/", headers=None, resolve=None):
    """A validated device webhook -> the event (see ``docs/event.md``), without ``readiness``."""
    device = normalize_device(hook.data, resolve)
    changed = changed_fields(hook.action, hook.data, hook.snapshots)
    return _event(hook, device, changed, DEVICE, endpoint, headers or {})


def normalize_ipaddress_device_event(hook, device_data, endpoint="/", headers=None, resolve=None):
    """A validated ipaddress update + the device whose primary IPv4 it is -> that device's event."""
    device = normalize_device(device_data, resolve)
    return _event(hook, device, ["primary_ip4"], IPADDRESS, endpoint, headers or {}, action="updated")


def normalize_related_device_event(hook, device_data, changed, endpoint="/", headers=None, resolve=None):
    """A validated change of a related object (interface, config context) + one device it reaches ->
    that device's event: ``action: updated``, ``source_model`` the related model, ``changed`` as given."""
    device = normalize_device(device_data, resolve)
    return _event(hook, device, changed, hook.model, endpoint, headers or {}, action="updated")


# --- config plans (the approval gate) ---------------------------------------------------------------
PLAN_NESTED_TYPES = {"device": "dcim.device", "status": "extras.status"}


def is_plan_event(event):
    """Whether ``event`` is a config plan event (``nautobot.model == "configplan"``), not a device event."""
    nautobot = event.get("nautobot") if isinstance(event, dict) else None
    return isinstance(nautobot, dict) and nautobot.get("model") == SHORT_NAMES[CONFIG_PLAN]


def plan_block(data, resolve=None):
    """A config plan's data (webhook ``data`` at depth 1, or the change log's references) -> the event's ``plan``.

    ``resolve(object_type, id)`` reads a nested object given only as a reference (its device, its status);
    without it such a name is null and a warning is logged.
    """
    label = data.get("display") or data.get("id")
    device = _nested(data, "device", resolve, "config plan {0}".format(label), PLAN_NESTED_TYPES)
    status = _nested(data, "status", resolve, "config plan {0}".format(label), PLAN_NESTED_TYPES)
    device_ref = data.get("device")
    device_id = reference_id(device_ref) or (device_ref if isinstance(device_ref, str) else None)
    return {
        "id": data.get("id"),
        "status": _name_of(status),
        "device": {"id": (device or {}).get("id") or device_id, "name": _name_of(device)} if device_ref else None,
        "plan_type": data.get("plan_type"),
        "change_control_id": data.get("change_control_id"),
    }


def normalize_config_plan_event(hook, endpoint="/", headers=None, resolve=None):
    """A validated config plan webhook (or change) -> the plan event of ``docs/event.md`` (no readiness)."""
    plan = plan_block(hook.data, resolve)
    changed = changed_fields(hook.action, hook.data, hook.snapshots)
    name = (plan["device"] or {}).get("name") or hook.data.get("display") or plan["id"]
    short = SHORT_NAMES[CONFIG_PLAN]
    subject = {"id": plan["id"], "name": name}
    return _common_event(hook, short, short, subject, changed, endpoint, headers, plan=plan)


def ip_candidate_devices(data):
    """Device ids from an ipaddress's ``interfaces``; None when the data does not say."""
    interfaces = data.get("interfaces")
    if not isinstance(interfaces, list):
        return None
    ids = []
    for interface in interfaces:
        device = interface.get("device") if isinstance(interface, dict) else None
        device_id = reference_id(device) or (device if isinstance(device, str) else None)
        if device_id and device_id not in ids:
            ids.append(device_id)
    return ids


def describe(event):
    """``device updated access1: changed ['name']`` for log lines."""
    nb = event["nautobot"]
    name = nb.get("object_name") or nb.get("object_id")
    if is_plan_event(event):
        status = (nb.get("plan") or {}).get("status")
        return f"config plan {nb['action']} {nb.get('object_id')} ({name}, {status}): changed {nb['changed_fields']!r}"
    return f"device {nb['action']} {name}: changed {nb['changed_fields']!r}"


def add_readiness(event, ready_statuses=DEFAULT_READY_STATUSES):
    """Put the readiness verdict on the event: ``{ready, reasons, message}`` (``module_utils.readiness``).

    The rulebook tests ``event.nautobot.readiness.ready`` and prints the reasons; the module re-checks
    the live data with the same code and the same ``ready_statuses``. A config plan event has none.
    """
    if is_plan_event(event):
        return event
    verdict = check_readiness(event["nautobot"].get("device") or {}, ready_statuses)
    event["nautobot"]["readiness"] = {
        "ready": verdict.ready,
        "reasons": list(verdict.reasons),
        "message": verdict.message,
    }
    return event
