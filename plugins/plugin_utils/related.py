# -*- coding: utf-8 -*-
# Copyright: sotsync team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Changes of objects other than the device that can change a device's intended configuration.

Plain Python, unit-tested without HTTP. For a validated webhook body (``request.Hook``) of a related
model this module says which devices it reaches:

- ``dcim.interface`` created/updated/deleted -> its device, and the previous device when the interface
  moved (``interface_device_ids``).
- ``ipam.ipaddress`` attached to or detached from interfaces (an update whose changed fields include
  ``interfaces``; a create or delete of an IP that is on interfaces) -> the devices of those interfaces,
  before and after (``ip_attachment_device_ids``). Nautobot's assignment model
  (``ipam.ipaddresstointerface``) sends no webhook and has no change log of its own: the IP address's
  ``interfaces`` is where an attachment shows.
- ``extras.configcontext`` created/updated/deleted -> the devices in its scope before and after the
  change (``config_context_queries``): Nautobot's ``ConfigContextQuerySet.get_for_object`` matches a
  device when, for every scope dimension the context sets, the device has one of its values
  (OR within a dimension, AND across dimensions; an unset dimension matches every device). Each
  dimension maps to a REST device filter that does the same (``SCOPE_FILTERS``); the location and
  tenant group filters include descendants, as matching includes the device's ancestors.

``related_events`` builds the device events (``docs/event.md``) through a ``NautobotLookup``.
"""

from __future__ import annotations

import logging

from ansible_collections.sotsync.nautobot.plugins.plugin_utils import device_event
from ansible_collections.sotsync.nautobot.plugins.plugin_utils.nautobot_lookup import CLUSTER_GROUP
from ansible_collections.sotsync.nautobot.plugins.plugin_utils.request import CONFIG_CONTEXT, INTERFACE, IPADDRESS

logger = logging.getLogger(__name__)

RELATED_MODELS = (INTERFACE, CONFIG_CONTEXT)
# What the device event's changed_fields says changed, per related model.
CHANGED_FIELD = {INTERFACE: "interfaces", IPADDRESS: "interfaces", CONFIG_CONTEXT: "config_context"}
DEFAULT_MAX_RELATED_DEVICES = 1000

# Config context scope key (its REST body) -> Nautobot's REST device filter doing the same match
# (nautobot/dcim/filters.py DeviceFilterSet; every one accepts ids and ORs its values).
SCOPE_FILTERS = {
    "locations": "location",  # TreeNodeMultipleChoiceFilter: the location and its descendants
    "roles": "role",
    "device_types": "device_type",
    "device_families": "device_family",
    "platforms": "platform",
    "device_redundancy_groups": "device_redundancy_group",
    "tenant_groups": "tenant_group",  # TreeNodeMultipleChoiceFilter: with descendants
    "tenants": "tenant",
    "clusters": "cluster",
    # No device filter takes a cluster group: the look-up turns it into the group's clusters, given to
    # the device filter ``clusters`` (another filter on the same field as ``cluster``: the two are ANDed).
    "cluster_groups": CLUSTER_GROUP,
    "dynamic_groups": "dynamic_groups",
    "tags": "tags",  # TagFilter is conjoined (AND): one query per tag, results united
}
# Config context fields that never reach a device's intended configuration.
CONFIG_CONTEXT_INERT_FIELDS = frozenset(("description",))


def _ids(value):
    """The ids of a list of nested objects (or bare ids); [] for anything else."""
    if not isinstance(value, list):
        return []
    ids = []
    for item in value:
        item_id = device_event.reference_id(item) or (item if isinstance(item, str) and item.strip() else None)
        if item_id and item_id not in ids:
            ids.append(item_id)
    return ids


def _device_id(value):
    return device_event.reference_id(value) or (value if isinstance(value, str) and value.strip() else None)


# --- interfaces -------------------------------------------------------------------------------------
def interface_device_ids(hook):
    """The device ids an interface change reaches: its device now and, if it moved, its previous one."""
    snapshots = hook.snapshots if isinstance(hook.snapshots, dict) else {}
    ids = []
    for data in (hook.data, snapshots.get("postchange"), snapshots.get("prechange")):
        device_id = _device_id(data.get("device")) if isinstance(data, dict) else None
        if device_id and device_id not in ids:
            ids.append(device_id)
    return ids


# --- IP addresses attached / detached -----------------------------------------------------------
def is_ip_attachment(hook):
    """True for an IP address change that attaches it to or detaches it from interfaces."""
    if hook.model != IPADDRESS:
        return False
    if hook.action == "updated":
        return "interfaces" in device_event.changed_fields(hook.action, hook.data, hook.snapshots)
    return bool(device_event.ip_candidate_devices(hook.data))


def ip_attachment_device_ids(hook):
    """The devices of the interfaces the IP address is on, after and before the change."""
    snapshots = hook.snapshots if isinstance(hook.snapshots, dict) else {}
    ids = []
    for data in (hook.data, snapshots.get("postchange"), snapshots.get("prechange")):
        for device_id in (device_event.ip_candidate_devices(data) or []) if isinstance(data, dict) else []:
            if device_id not in ids:
                ids.append(device_id)
    return ids


# --- config contexts --------------------------------------------------------------------------------
def config_context_scope(data):
    """A config context's data -> its scope ``{device filter: (ids...)}``; None when it applies to no
    device (inactive). ``{}`` means every device (a context with no scope applies to all)."""
    if not isinstance(data, dict) or data.get("is_active") is False:
        return None
    scope = {}
    for key, filter_name in SCOPE_FILTERS.items():
        ids = _ids(data.get(key))
        if ids:
            scope[filter_name] = tuple(ids)
    return scope


def scope_queries(scope):
    """A scope -> the REST device filters whose results, united, are its devices.

    Every dimension is one filter (its values ORed by Nautobot; dimensions ANDed) except ``tags``,
    whose filter requires all tags: a scope with n tags gives n queries, one per tag.
    """
    if scope is None:
        return []
    base = {name: list(ids) for name, ids in scope.items() if name != "tags"}
    tags = scope.get("tags") or ()
    if not tags:
        return [base]
    return [dict(base, tags=[tag]) for tag in tags]


def query_key(query):
    """A hashable, order-independent form of a query (for caching and de-duplicating)."""
    return tuple(sorted((name, tuple(sorted(values))) for name, values in query.items()))


def config_context_queries(hook):
    """The device queries of a config context change: the scope before and after, united."""
    snapshots = hook.snapshots if isinstance(hook.snapshots, dict) else {}
    states = []
    if hook.action == "created":
        states = [snapshots.get("postchange") or hook.data]
    elif hook.action == "deleted":
        states = [snapshots.get("prechange") or hook.data]
    else:
        states = [snapshots.get("prechange"), snapshots.get("postchange") or hook.data]
    queries, seen = [], set()
    for state in states:
        for query in scope_queries(config_context_scope(state)):
            key = query_key(query)
            if key not in seen:
                seen.add(key)
                queries.append(query)
    return queries


def inert_change(hook):
    """True for a config context update that changed only fields no device configuration reads."""
    if hook.model != CONFIG_CONTEXT or hook.action != "updated":
        return False
    changed = device_event.changed_fields(hook.action, hook.data, hook.snapshots)
    return bool(changed) and set(changed) <= CONFIG_CONTEXT_INERT_FIELDS


def describe_change(hook):
    """``configcontext updated ntp-servers`` for log lines."""
    label = hook.data.get("name") or hook.data.get("address") or hook.data.get("display") or hook.data.get("id")
    if hook.model == INTERFACE:
        device = hook.data.get("device")
        device_name = (device.get("name") or device.get("display")) if isinstance(device, dict) else None
        if device_name:
            label = f"{device_name} {label}"
    return f"{hook.short_model} {hook.action} {label}"


# --- events -----------------------------------------------------------------------------------------
def related_devices(hook, lookup, max_devices=DEFAULT_MAX_RELATED_DEVICES, log=None):
    """The devices (REST data at depth 1) a related change reaches; [] with a log line when none.

    Blocking (Nautobot look-ups). ``NautobotLookupError`` when Nautobot cannot answer.
    """
    log = log or logger
    what = describe_change(hook)
    if hook.model in (INTERFACE, IPADDRESS):
        ids = interface_device_ids(hook) if hook.model == INTERFACE else ip_attachment_device_ids(hook)
        if not ids:
            log.info("Dropped %s: on no device's interface", what)
            return []
        devices = lookup.devices_by_id(ids)
        if not devices:
            log.info("Dropped %s: its device no longer exists", what)
        return devices
    queries = config_context_queries(hook)
    if not queries:
        log.info("Dropped %s: the config context is inactive, so it applies to no device", what)
        return []
    devices, total = lookup.devices_matching(queries, max_devices)
    if devices is None:
        log.warning(
            "Skipped %s: its scope holds %d devices, over max_related_devices (%d); no device events. Provision "
            "them with the sotsync.nautobot.provision_device playbook and a limit or filter of your choice, or "
            "raise max_related_devices",
            what,
            total,
            max_devices,
        )
        return []
    if not devices:
        log.info("Dropped %s: no device is in its scope", what)
    return devices


def related_events(hook, lookup, max_devices=DEFAULT_MAX_RELATED_DEVICES, endpoint="/", headers=None, log=None):
    """The device events of a related change and the ``via`` note for the log line (blocking)."""
    devices = related_devices(hook, lookup, max_devices, log)
    changed = [CHANGED_FIELD[hook.model]]
    events = [
        device_event.normalize_related_device_event(hook, device, changed, endpoint, headers, lookup.get_object)
        for device in devices
    ]
    return events, describe_change(hook)
