# -*- coding: utf-8 -*-
# Copyright: sotsync team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Routing policy of the ``sotsync.nautobot.webhook`` source, without HTTP.

For each validated webhook (``request.Hook``) the :class:`Dispatcher` decides (``route``): a duplicate
(409), ignored (200, nothing queued), a device event now (200), or a Nautobot look-up first (202:
an IP address's devices, or nested objects given only as references). ``events`` then builds the
device events (blocking when it looks up: the source runs it in a thread). Unit-tested without HTTP.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from ansible_collections.sotsync.nautobot.plugins.plugin_utils import delivered, device_event, related
from ansible_collections.sotsync.nautobot.plugins.plugin_utils.request import (
    CONFIG_PLAN,
    DEVICE,
    IPADDRESS,
    ReplayGuard,
    RequestRejected,
    change_key,
)

logger = logging.getLogger(__name__)

IGNORE = "ignore"  # answer 200, queue nothing
NOW = "now"  # normalise the device event at once, answer 200
DEVICE_LOOKUP = "device_lookup"  # look up nested objects first, answer 202
IP_LOOKUP = "ip_lookup"  # find the devices whose primary IPv4 this is, answer 202
RELATED_LOOKUP = "related_lookup"  # find the devices an interface / config context change reaches, answer 202
PLAN_NOW = "plan_now"  # a config plan event at once, answer 200
PLAN_LOOKUP = "plan_lookup"  # a config plan whose device or status is only a reference: look it up, answer 202


@dataclass(frozen=True)
class Route:
    """What to do with one webhook: ``work`` (one of the constants above) and the answer's ``detail``."""

    work: str
    detail: str = ""

    @property
    def status(self):
        return {IGNORE: 200, NOW: 200, PLAN_NOW: 200}.get(self.work, 202)

    @property
    def accepted(self):
        return self.work != IGNORE


class Dispatcher:
    """``lookup``: a ``NautobotLookup`` (None without ``nautobot_url``); ``replays``: a ``ReplayGuard``;
    ``max_related_devices``: the most devices one related change (a config context's scope) may reach;
    ``ip_attachments``: route an IP address attached to / detached from interfaces to their devices
    (the source sets it when ``models`` includes ``interface``)."""

    def __init__(
        self,
        lookup=None,
        replays=None,
        log=None,
        max_related_devices=related.DEFAULT_MAX_RELATED_DEVICES,
        ip_attachments=False,
        registry=None,
    ):
        self.lookup = lookup
        # the changes this process delivered (both sources): one the change log delivered first is
        # answered at once, without look-ups (``delivered.change_key``)
        self.registry = registry if registry is not None else delivered.REGISTRY
        self.ip_attachments = bool(ip_attachments)
        self.max_related_devices = int(max_related_devices)
        self.replays = replays if replays is not None else ReplayGuard()
        self.log = log or logger

    def route(self, hook):
        """The route of ``hook``; ``RequestRejected`` (409 duplicate, 422 no Nautobot to ask)."""
        key = change_key(hook)
        self.replays.check(key)
        if self.registry.seen(raw_change_key(hook)):
            return Route(IGNORE, "already delivered by the change-log source")
        if hook.model == DEVICE:
            route = self._device_route(hook)
        elif hook.model == CONFIG_PLAN:
            route = self._plan_route(hook)
        elif hook.model == IPADDRESS and not (self.ip_attachments and related.is_ip_attachment(hook)):
            route = self._ipaddress_route(hook)
        else:
            route = self._related_route(hook)
        if route.accepted:
            self.replays.remember(key)
        return route

    def _device_route(self, hook):
        if self.lookup is not None:
            self.lookup.invalidate_device(hook.data["id"])  # cached device data must not outlive a change
            if device_event.needs_lookup(hook.data):
                return Route(DEVICE_LOOKUP, "looking up nested objects in Nautobot")
        return Route(NOW)

    def _plan_route(self, hook):
        if self.lookup is not None and device_event.needs_lookup(hook.data, device_event.PLAN_NESTED_TYPES):
            return Route(PLAN_LOOKUP, "looking up the config plan's device and status in Nautobot")
        return Route(PLAN_NOW)

    def _ipaddress_route(self, hook):
        address = hook.data.get("address")
        if hook.action != "updated":
            self.log.info(
                "Ignored ipaddress %s %s: only an update can change a device's primary IPv4", hook.action, address
            )
            return Route(IGNORE, f"ipaddress {hook.action} is ignored")
        if device_event.ip_candidate_devices(hook.data) == []:
            self.log.info("Dropped ipaddress updated %s: it is on no interface, so no device's primary IPv4", address)
            return Route(IGNORE, "the IP address is on no interface")
        if self.lookup is None:  # validate_args refuses ipaddress without nautobot_url; kept as a guard
            raise RequestRejected(422, "ipaddress events need nautobot_url; ignored")
        return Route(IP_LOOKUP, "looking up the devices of this IP address in Nautobot")

    def _related_route(self, hook):
        if related.inert_change(hook):
            self.log.info("Ignored %s: only its description changed", related.describe_change(hook))
            return Route(IGNORE, "no field a device configuration reads changed")
        if self.lookup is None:  # validate_args refuses these models without nautobot_url; kept as a guard
            raise RequestRejected(422, f"{hook.short_model} events need nautobot_url; ignored")
        return Route(RELATED_LOOKUP, f"looking up the devices of this {hook.short_model} in Nautobot")

    def events(self, hook, route, endpoint, headers):
        """The device events of ``hook`` along ``route`` and the ``via`` note for the log line.

        Blocking when the route looks up (``NautobotLookupError`` when Nautobot cannot answer). The
        change is then recorded as delivered (``delivered.change_key``), so that the change-log source
        does not read it again.
        """
        events, via = self._events(hook, route, endpoint, headers)
        self.registry.mark(raw_change_key(hook))
        return events, via

    def _events(self, hook, route, endpoint, headers):
        if route.work == NOW:
            return [device_event.normalize_device_event(hook, endpoint, headers)], None
        if route.work == PLAN_NOW:
            return [device_event.normalize_config_plan_event(hook, endpoint, headers)], None
        if route.work == PLAN_LOOKUP:
            return [device_event.normalize_config_plan_event(hook, endpoint, headers, self.lookup.get_object)], None
        if route.work == DEVICE_LOOKUP:
            return [device_event.normalize_device_event(hook, endpoint, headers, self.lookup.get_object)], None
        if route.work == IP_LOOKUP:
            address = hook.data.get("address")
            devices = self.lookup.devices_for_ip(hook.data["id"])
            if not devices:
                self.log.info("Dropped ipaddress updated %s: it is no device's primary IPv4", address)
                return [], None
            events = [
                device_event.normalize_ipaddress_device_event(hook, device, endpoint, headers, self.lookup.get_object)
                for device in devices
            ]
            ip_changes = device_event.changed_fields(hook.action, hook.data, hook.snapshots)
            return events, f"ipaddress {address} changed {ip_changes!r}"
        if route.work == RELATED_LOOKUP:
            return related.related_events(hook, self.lookup, self.max_related_devices, endpoint, headers, self.log)
        return [], None


def raw_change_key(hook):
    """``delivered.change_key`` of a validated webhook: what the change-log source computes for its change."""
    return delivered.change_key(hook.request_id, hook.model, hook.data.get("id"), hook.action, hook.data)
