# -*- coding: utf-8 -*-
# Copyright: sotsync team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where a device answers while its management address is being changed.

A management re-addressing is made in Nautobot first (a new IP made primary, or the primary IP's
address edited); the device keeps its old address until the new configuration is on it. When the
device does not answer at its primary IPv4, the addresses it had before are read from Nautobot's
object-change log (the device's changes, which carry ``primary_ip4 {host}`` as it was, and the primary
IP's own changes, which carry its earlier ``host``), newest first. The deploy then connects at the
address the device answers at, commits under commit-confirm, and verifies and confirms at the new one.

No Ansible and no HTTP here: ``previous_hosts`` works on object-change records.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

#: at most this many earlier addresses are tried, newest first
MAX_PREVIOUS_HOSTS = 3
#: object changes read per device and primary IP (one request)
CHANGE_LOG_LIMIT = 100


def _host(value):
    """``host`` of an IP address snapshot (a dict with ``host`` or ``address``), or None."""
    if not isinstance(value, dict):
        return None
    host = value.get("host")
    if not host and value.get("address"):
        host = str(value["address"]).split("/", 1)[0]
    return str(host) if host else None


def _when(record):
    text = str(record.get("time") or "")
    try:
        return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return datetime.datetime.min.replace(tzinfo=datetime.timezone.utc)


def _type(record):
    kind = record.get("changed_object_type")
    if isinstance(kind, dict):
        kind = kind.get("value") or kind.get("app_label", "") + "." + kind.get("model", "")
    return str(kind or "")


def previous_hosts(changes, current_host, limit=MAX_PREVIOUS_HOSTS):
    """The management hosts a device had before ``current_host``, newest first, without repeats.

    ``changes``: object-change records (Nautobot's ``/api/extras/object-changes/``) of the device and
    of its current primary IP, in any order. A device record contributes the host of its
    ``primary_ip4`` at that time; an IP address record its own host.
    """
    seen = set([current_host])
    hosts = []
    for record in sorted(changes or [], key=_when, reverse=True):
        data = record.get("object_data_v2") or record.get("object_data") or {}
        kind = _type(record)
        if kind == "dcim.device":
            host = _host(data.get("primary_ip4"))
        elif kind == "ipam.ipaddress":
            host = _host(data)
        else:
            host = None
        if host and host not in seen:
            seen.add(host)
            hosts.append(host)
            if len(hosts) >= limit:
                break
    return hosts


def previous_hosts_from(client, device, current_host, limit=MAX_PREVIOUS_HOSTS):
    """Read the device's and its primary IP's object changes from Nautobot (one request)."""
    ids = [str(device.get("id"))]
    primary = device.get("primary_ip4") or {}
    if isinstance(primary, dict) and primary.get("id"):
        ids.append(str(primary["id"]))
    changes = client.object_changes(ids, limit=CHANGE_LOG_LIMIT)
    return previous_hosts(changes, current_host, limit)
