# -*- coding: utf-8 -*-
# Copyright: sotsync team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Nautobot Webhook objects for the hook, as plain data: what is wanted, what differs, what to show.

Kept free of Ansible and of I/O so it is unit-tested directly; plugins/modules/nautobot_webhook.py
does the requests.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# The fields this collection manages on a Webhook, with Nautobot's defaults.
MANAGED_FIELDS = (
    "content_types",
    "type_create",
    "type_update",
    "type_delete",
    "payload_url",
    "enabled",
    "http_method",
    "http_content_type",
    "secret",
    "ssl_verification",
)
SECRET_MASK = "********"  # noqa: S105 - the mask shown instead of a secret, not a secret


def desired_webhook(params):
    """The Webhook as Nautobot's REST API takes it, from the module's parameters."""
    if not (params.get("type_create") or params.get("type_update") or params.get("type_delete")):
        raise ValueError("a webhook must fire on at least one of create, update or delete")
    if not params.get("content_types"):
        raise ValueError("content_types must name at least one model, e.g. dcim.device")
    url = params.get("payload_url") or ""
    if not url.startswith(("http://", "https://")):
        raise ValueError("payload_url must be an http:// or https:// URL, got %r" % url)
    return {
        "name": params["name"],
        "content_types": sorted(params["content_types"]),
        "type_create": bool(params.get("type_create")),
        "type_update": bool(params.get("type_update")),
        "type_delete": bool(params.get("type_delete")),
        "payload_url": url,
        "enabled": bool(params.get("enabled", True)),
        "http_method": "POST",
        "http_content_type": "application/json",
        "secret": params.get("secret") or "",
        "ssl_verification": bool(params.get("ssl_verification", True)),
    }


def current_webhook(record):
    """The managed fields of an existing Webhook (a dict from the REST API)."""
    current = {"name": record.get("name")}
    for field in MANAGED_FIELDS:
        value = record.get(field)
        if field == "content_types":
            value = sorted(value or [])
        current[field] = value
    return current


def webhook_changes(current, desired):
    """The fields whose value differs: a dict to PATCH (empty when nothing to do)."""
    return dict((k, v) for k, v in desired.items() if current.get(k) != v)


def redacted(webhook):
    """A copy safe to return and to show in a diff: the secret is never echoed."""
    if webhook is None:
        return None
    shown = dict(webhook)
    if shown.get("secret"):
        shown["secret"] = SECRET_MASK
    return shown
