# -*- coding: utf-8 -*-
# Copyright: sotsync team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Is a device ready for provisioning? The one implementation of the readiness rules.

Works on plain dicts as Nautobot's REST API serialises a device at ``depth=1`` (what the module
fetches) and as a webhook's ``data`` carries it: nested ``platform`` (``napalm_driver``,
``network_driver``, ``network_driver_mappings``), ``primary_ip4`` (``address``) and ``status``
(``name``). pynautobot records convert with ``dict(record)``.

The rules, each named when it fails (see ``messages``):
1. a platform is set;
2. the platform has a NAPALM driver: its explicit ``napalm_driver`` if set, else the driver Nautobot
   maps from ``network_driver`` (``network_driver_mappings["napalm"]``);
3. a primary IPv4 address is set;
4. the status is one of the ready statuses (by name).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.sotsync.nautobot.plugins.module_utils import messages

# Used only when a payload carries ``network_driver`` but not Nautobot's computed mapping (e.g. a
# hand-written event). Nautobot's own mapping (from netutils) always wins when present.
try:  # netutils comes with napalm: its map of Nautobot network drivers to NAPALM drivers
    from netutils.lib_mapper import NAPALM_LIB_MAPPER_REVERSE
except ImportError:  # pragma: no cover - without netutils only the small table below is used
    NAPALM_LIB_MAPPER_REVERSE = {}

# Used only when netutils is missing.
FALLBACK_NAPALM_DRIVERS = {
    "arista_eos": "eos",
    "cisco_ios": "ios",
    "cisco_xe": "ios",
    "cisco_nxos": "nxos",
    "cisco_xr": "iosxr",
    "juniper_junos": "junos",
}


class Readiness(object):
    """The verdict: ``ready``, the failed checks' ``reasons`` and what a connection needs."""

    def __init__(self, name, reasons, napalm_driver=None, host=None, status=None):
        self.name = name
        self.reasons = list(reasons)
        self.napalm_driver = napalm_driver
        self.host = host
        self.status = status

    @property
    def ready(self):
        return not self.reasons

    @property
    def message(self):
        if self.ready:
            return messages.DEVICE_READY.format(name=self.name)
        return messages.not_ready_message(self.reasons)

    def as_dict(self):
        return {
            "name": self.name,
            "ready": self.ready,
            "reasons": list(self.reasons),
            "napalm_driver": self.napalm_driver,
            "host": self.host,
            "status": self.status,
            "message": self.message,
        }

    def __repr__(self):
        return "Readiness(%r, ready=%r, reasons=%r)" % (self.name, self.ready, self.reasons)


def _get(obj, key, default=None):
    if obj is None:
        return default
    if isinstance(obj, dict):
        return obj.get(key, default)
    return getattr(obj, key, default)


def napalm_driver_of(platform):
    """The NAPALM driver name of a platform dict, or None (explicit ``napalm_driver`` wins)."""
    if not platform:
        return None
    explicit = _get(platform, "napalm_driver")
    if explicit:
        return str(explicit).strip() or None
    mappings = _get(platform, "network_driver_mappings")
    if isinstance(mappings, dict) and "napalm" in mappings:
        return mappings.get("napalm") or None
    network_driver = str(_get(platform, "network_driver") or "").strip()
    if network_driver and mappings is None:  # hand-written or legacy data without Nautobot's mappings
        return NAPALM_LIB_MAPPER_REVERSE.get(network_driver) or FALLBACK_NAPALM_DRIVERS.get(network_driver)
    return None


def host_of(primary_ip4):
    """``{"address": "10.0.0.1/24"}`` or ``"10.0.0.1/24"`` -> ``"10.0.0.1"`` (None if unknown)."""
    if not primary_ip4:
        return None
    address = primary_ip4 if isinstance(primary_ip4, str) else _get(primary_ip4, "address")
    if not address:
        host = _get(primary_ip4, "host")
        return str(host) if host else None
    return str(address).split("/", 1)[0].strip() or None


def status_of(status):
    """The status name of ``{"name": "Active"}``, ``"Active"`` or a legacy ``{"value": "active"}``."""
    if not status:
        return None
    if isinstance(status, str):
        return status
    for key in ("name", "label", "value"):
        value = _get(status, key)
        if value:
            return str(value)
    return None


def status_is_ready(status_name, ready_statuses):
    """Case-insensitive membership, so a legacy slug ``active`` matches ``Active``."""
    if not status_name:
        return False
    wanted = {str(s).strip().lower() for s in ready_statuses}
    return str(status_name).strip().lower() in wanted


def check_readiness(device, ready_statuses=messages.DEFAULT_READY_STATUSES):
    """Apply the readiness rules to a device dict and return a :class:`Readiness`."""
    name = _get(device, "name") or _get(device, "display") or _get(device, "id") or "(unnamed device)"
    reasons = []
    platform = _get(device, "platform")
    driver = None
    if not platform:
        reasons.append(messages.REASON_NO_PLATFORM)
    else:
        driver = napalm_driver_of(platform)
        if not driver:
            reasons.append(messages.REASON_NO_NAPALM_DRIVER)
    primary_ip4 = _get(device, "primary_ip4")
    host = host_of(primary_ip4)
    if not primary_ip4:
        reasons.append(messages.REASON_NO_PRIMARY_IPV4)
    status = status_of(_get(device, "status"))
    if not status_is_ready(status, ready_statuses):
        reasons.append(messages.bad_status_reason(ready_statuses, status))
    return Readiness(str(name), reasons, napalm_driver=driver, host=host, status=status)
