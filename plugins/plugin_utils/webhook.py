# -*- coding: utf-8 -*-
# Copyright: sotsync team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The logic of the ``sotsync.nautobot.webhook`` event source, in plain Python.

Nothing here imports ansible-rulebook or aiohttp, so every rule is unit-tested directly:

- ``validate_args``: the source's arguments, checked once at start-up (``ValueError`` on any fault);
- ``verify_signature``: Nautobot's ``X-Hook-Signature`` (hex HMAC-SHA512 of the raw body);
- ``check_content_type`` / ``parse_body`` / ``validate_payload``: bad input -> ``WebhookRejected``
  carrying the HTTP status and a message that says what was wrong;
- ``normalize_device_event`` / ``normalize_ipaddress_device_event``: one webhook -> the event
  contract described in ``docs/event.md`` (built once, here);
- ``merge_events`` and ``Coalescer``: several events for one device within a window -> one event.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import math
import json
import logging
import os
import time
from dataclasses import dataclass, field
from datetime import datetime

# The readiness rules (and the NAPALM driver of a platform) have one implementation, shared with the
# golden_config_deploy module: the rulebook's conditions test what this source puts in the event.
from ansible_collections.sotsync.nautobot.plugins.module_utils.messages import DEFAULT_READY_STATUSES
from ansible_collections.sotsync.nautobot.plugins.module_utils.readiness import check_readiness, napalm_driver_of

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Hook-Signature"
ACTIONS = ("created", "updated", "deleted")
DEVICE = "dcim.device"
IPADDRESS = "ipam.ipaddress"
# What Nautobot sends in ``model`` (the model name without app label) and what users may write.
MODEL_ALIASES = {
    "device": DEVICE,
    "dcim.device": DEVICE,
    "ipaddress": IPADDRESS,
    "ipam.ipaddress": IPADDRESS,
}
SHORT_NAMES = {DEVICE: "device", IPADDRESS: "ipaddress"}
DEFAULT_MODELS = (DEVICE, IPADDRESS)
REQUIRED_KEYS = ("event", "model", "timestamp", "data", "snapshots")

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
# Headers that carry credentials never go on the queue; nor does anything named like one.
SECRET_HEADERS = frozenset(("authorization", "proxy-authorization", "cookie", "x-hook-signature", "x-api-key"))
SECRET_HEADER_WORDS = ("token", "secret", "signature", "password", "auth")

DEFAULT_MAX_BODY_BYTES = 1024 * 1024
DEFAULT_COALESCE_SECONDS = 0.0
DEFAULT_LONE_EVENT_SECONDS = 2.0
DEFAULT_MAX_EVENTS_PER_SECOND = 30.0
DEFAULT_NAUTOBOT_TIMEOUT = 10.0
TRUE_STRINGS = ("true", "yes", "on", "1")
FALSE_STRINGS = ("false", "no", "off", "0")


class WebhookRejected(Exception):
    """A request the source refuses: ``status`` is the HTTP status, ``reason`` says why."""

    def __init__(self, status, reason):
        super().__init__(reason)
        self.status = status
        self.reason = reason


# --- arguments ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Settings:
    """The validated arguments of the source. Secrets are kept out of ``repr``."""

    port: int
    host: str = "0.0.0.0"  # noqa: S104 - a webhook receiver listens on all addresses by default
    path: str = "/"
    secret: bytes | None = field(default=None, repr=False)
    insecure_no_signature: bool = False
    certfile: str | None = None
    keyfile: str | None = None
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    nautobot_url: str | None = None
    nautobot_token: str | None = field(default=None, repr=False)
    nautobot_validate_certs: bool = True
    nautobot_timeout: float = DEFAULT_NAUTOBOT_TIMEOUT
    coalesce_seconds: float = DEFAULT_COALESCE_SECONDS
    lone_event_seconds: float = DEFAULT_LONE_EVENT_SECONDS
    ready_statuses: tuple = DEFAULT_READY_STATUSES
    max_events_per_second: float = DEFAULT_MAX_EVENTS_PER_SECOND
    models: tuple = DEFAULT_MODELS


ARGUMENTS = (
    "host",
    "port",
    "path",
    "secret",
    "insecure_no_signature",
    "certfile",
    "keyfile",
    "max_body_bytes",
    "nautobot_url",
    "nautobot_token",
    "nautobot_validate_certs",
    "nautobot_timeout",
    "coalesce_seconds",
    "lone_event_seconds",
    "ready_statuses",
    "max_events_per_second",
    "models",
)


def _as_bool(name, value):
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in TRUE_STRINGS + FALSE_STRINGS:
        return value.strip().lower() in TRUE_STRINGS
    raise ValueError(f"{name} must be true or false, got {value!r}")


def _as_int(name, value, minimum, maximum=None):
    if isinstance(value, bool):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    try:
        number = int(str(value).strip()) if isinstance(value, str) else int(value)
        if not isinstance(value, (int, str)) and number != value:
            raise ValueError
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be an integer, got {value!r}") from None
    if number < minimum or (maximum is not None and number > maximum):
        bounds = f"between {minimum} and {maximum}" if maximum is not None else f"at least {minimum}"
        raise ValueError(f"{name} must be {bounds}, got {number}")
    return number


def _as_float(name, value, minimum):
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a number, got {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(number) or number < minimum:
        raise ValueError(f"{name} must be a finite number of at least {minimum}, got {value!r}")
    return number


def _as_text(name, value):
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a string, got {type(value).__name__}")
    return value.strip() or None


def canonical_models(value):
    """``["device", "ipam.ipaddress"]`` or ``"device,ipaddress"`` -> ``("dcim.device", "ipam.ipaddress")``."""
    if isinstance(value, str):
        value = [part for part in value.split(",") if part.strip()]
    if not isinstance(value, (list, tuple)) or not value:
        raise ValueError("models must be a non-empty list of: device, ipaddress")
    models = []
    for item in value:
        label = MODEL_ALIASES.get(str(item).strip().lower())
        if label is None:
            raise ValueError(f"models: unknown model {item!r}; this source handles only device and ipaddress")
        if label not in models:
            models.append(label)
    return tuple(models)


def validate_args(args, environ=None):
    """Check the source's arguments; return :class:`Settings` or raise ``ValueError``.

    ``environ`` (default ``os.environ``) supplies ``NAUTOBOT_URL`` / ``NAUTOBOT_TOKEN`` when the
    arguments do not. Keys starting with ``eda_`` are ansible-rulebook's own and are ignored.
    """
    environ = os.environ if environ is None else environ
    if not isinstance(args, dict):
        raise ValueError("the source's arguments must be a mapping")
    unknown = sorted(k for k in args if k not in ARGUMENTS and not str(k).startswith("eda_"))
    if unknown:
        raise ValueError(f"unknown argument(s): {', '.join(unknown)}; valid arguments: {', '.join(ARGUMENTS)}")
    if args.get("port") in (None, ""):
        raise ValueError("Missing required argument: port")
    port = _as_int("port", args["port"], 1, 65535)
    host = _as_text("host", args.get("host")) or "0.0.0.0"  # noqa: S104

    path = _as_text("path", args.get("path")) or "/"
    if not path.startswith("/"):
        raise ValueError(f"path must start with '/', got {path!r}")

    insecure = _as_bool("insecure_no_signature", args.get("insecure_no_signature", False))
    secret = args.get("secret")
    if secret is not None and not isinstance(secret, str):
        raise ValueError("secret must be a string")
    if not secret:
        if not insecure:
            raise ValueError(
                "Missing required argument: secret (the Nautobot webhook's secret, used to check "
                "X-Hook-Signature); set insecure_no_signature: true only to accept unsigned requests"
            )
        secret_bytes = None
    else:
        secret_bytes = secret.encode("utf-8")

    certfile = _as_text("certfile", args.get("certfile"))
    keyfile = _as_text("keyfile", args.get("keyfile"))
    if bool(certfile) != bool(keyfile):
        raise ValueError("certfile and keyfile go together: set both to enable TLS, or neither")
    for name, value in (("certfile", certfile), ("keyfile", keyfile)):
        if value and not os.path.isfile(value):
            raise ValueError(f"{name} {value!r} does not exist or is not a file")

    max_body = _as_int("max_body_bytes", args.get("max_body_bytes", DEFAULT_MAX_BODY_BYTES), 1)
    coalesce = _as_float("coalesce_seconds", args.get("coalesce_seconds", DEFAULT_COALESCE_SECONDS), 0.0)
    lone = _as_float("lone_event_seconds", args.get("lone_event_seconds", DEFAULT_LONE_EVENT_SECONDS), 0.0)
    pace = _as_float("max_events_per_second", args.get("max_events_per_second", DEFAULT_MAX_EVENTS_PER_SECOND), 0.0)
    ready_statuses = args.get("ready_statuses", list(DEFAULT_READY_STATUSES))
    if isinstance(ready_statuses, str):
        ready_statuses = [part.strip() for part in ready_statuses.split(",")]
    if not isinstance(ready_statuses, (list, tuple)) or not all(
        isinstance(item, str) and item.strip() for item in ready_statuses
    ):
        raise ValueError(f"ready_statuses must be a list of status names, got {ready_statuses!r}")
    timeout = _as_float("nautobot_timeout", args.get("nautobot_timeout", DEFAULT_NAUTOBOT_TIMEOUT), 0.1)
    validate_certs = _as_bool("nautobot_validate_certs", args.get("nautobot_validate_certs", True))
    models = canonical_models(args.get("models", list(DEFAULT_MODELS)))

    url = _as_text("nautobot_url", args.get("nautobot_url")) or (environ.get("NAUTOBOT_URL") or "").strip() or None
    token = _as_text("nautobot_token", args.get("nautobot_token")) or (environ.get("NAUTOBOT_TOKEN") or "").strip()
    token = token or None
    if url and not url.lower().startswith(("http://", "https://")):
        raise ValueError(f"nautobot_url must start with http:// or https://, got {url!r}")
    if url and not token:
        raise ValueError("nautobot_url is set but nautobot_token is not (argument or NAUTOBOT_TOKEN)")
    if IPADDRESS in models and not url:
        raise ValueError(
            "ipaddress events need a Nautobot to map an IP address to its device: set nautobot_url and "
            "nautobot_token (or NAUTOBOT_URL / NAUTOBOT_TOKEN), or set models: [device]"
        )
    return Settings(
        port=port,
        host=host,
        path=path,
        secret=secret_bytes,
        insecure_no_signature=insecure,
        certfile=certfile,
        keyfile=keyfile,
        max_body_bytes=max_body,
        nautobot_url=url.rstrip("/") if url else None,
        nautobot_token=token,
        nautobot_validate_certs=validate_certs,
        nautobot_timeout=timeout,
        coalesce_seconds=coalesce,
        lone_event_seconds=lone,
        ready_statuses=tuple(item.strip() for item in ready_statuses),
        max_events_per_second=pace,
        models=models,
    )


# --- authenticity and parsing ---------------------------------------------------------------------
def sign(body, secret):
    """Nautobot's signature of ``body``: hex HMAC-SHA512 keyed with ``secret``."""
    if isinstance(secret, str):
        secret = secret.encode("utf-8")
    return hmac.new(secret, body, hashlib.sha512).hexdigest()


def verify_signature(body, secret, signature):
    """Raise ``WebhookRejected(401)`` unless ``signature`` is ``sign(body, secret)`` (constant time)."""
    if signature is None or not str(signature).strip():
        raise WebhookRejected(401, f"missing {SIGNATURE_HEADER} header")
    given = str(signature).strip().lower()
    if given.startswith("sha512="):
        given = given[len("sha512=") :]
    expected = sign(body, secret)
    if not hmac.compare_digest(given.encode("ascii", "replace"), expected.encode("ascii")):
        raise WebhookRejected(401, f"{SIGNATURE_HEADER} does not match the body (wrong secret or altered body)")


def check_content_type(content_type):
    """Only JSON bodies: ``application/json`` (parameters such as charset allowed) or ``+json`` types."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media != "application/json" and not (media.startswith("application/") and media.endswith("+json")):
        raise WebhookRejected(415, f"Content-Type must be application/json, got {media or 'none'!r}")


def parse_body(body):
    """Raw bytes -> the JSON object; ``WebhookRejected(400)`` when it is not one."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise WebhookRejected(400, "body is not valid UTF-8") from None
    if not text.strip():
        raise WebhookRejected(400, "body is empty")
    try:
        payload = json.loads(text)
    except ValueError as exc:
        raise WebhookRejected(400, f"malformed JSON: {exc}") from None
    if not isinstance(payload, dict):
        raise WebhookRejected(400, f"body must be a JSON object, got {_json_type(payload)}")
    return payload


def _json_type(value):
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def iso_timestamp(value):
    """Nautobot's ``"2026-11-25 00:23:24.382970+00:00"`` -> ``"2026-11-25T00:23:24.382970+00:00"``."""
    if not isinstance(value, str) or not value.strip():
        raise WebhookRejected(400, "timestamp must be a date-time string")
    try:
        return datetime.fromisoformat(value.strip().replace("Z", "+00:00")).isoformat()
    except ValueError:
        raise WebhookRejected(400, f"timestamp {value!r} is not an ISO 8601 date-time") from None


@dataclass
class Hook:
    """A webhook body that passed validation."""

    action: str
    model: str
    timestamp: str
    username: str | None
    request_id: str | None
    data: dict
    snapshots: dict | None

    @property
    def short_model(self):
        return SHORT_NAMES.get(self.model, self.model)


def validate_payload(payload, models=DEFAULT_MODELS):
    """Check a parsed webhook body; return a :class:`Hook` or raise ``WebhookRejected``.

    Missing or ill-typed keys -> 400. A model this source does not handle (or that ``models``
    leaves out) -> 422, and the event is ignored.
    """
    if not isinstance(payload, dict):
        raise WebhookRejected(400, f"body must be a JSON object, got {_json_type(payload)}")
    missing = [key for key in REQUIRED_KEYS if key not in payload]
    if missing:
        raise WebhookRejected(400, f"missing key(s): {', '.join(missing)}")
    action = payload["event"]
    if action not in ACTIONS:
        raise WebhookRejected(400, f"event must be one of {', '.join(ACTIONS)}, got {action!r}")
    raw_model = payload["model"]
    if not isinstance(raw_model, str) or not raw_model.strip():
        raise WebhookRejected(400, "model must be a non-empty string")
    model = MODEL_ALIASES.get(raw_model.strip().lower())
    if model is None or model not in models:
        handled = ", ".join(SHORT_NAMES[m] for m in models)
        raise WebhookRejected(422, f"model {raw_model!r} is not handled by this source (handled: {handled}); ignored")
    data = payload["data"]
    if not isinstance(data, dict):
        raise WebhookRejected(400, f"data must be an object, got {_json_type(data)}")
    if not isinstance(data.get("id"), str) or not data["id"].strip():
        raise WebhookRejected(400, "data.id is missing")
    if model == IPADDRESS and not isinstance(data.get("address"), str):
        raise WebhookRejected(400, "data.address is missing from the ipaddress event")
    snapshots = payload["snapshots"]
    if snapshots is not None and not isinstance(snapshots, dict):
        raise WebhookRejected(400, f"snapshots must be an object, got {_json_type(snapshots)}")
    for key in ("username", "request_id"):
        if payload.get(key) is not None and not isinstance(payload[key], str):
            raise WebhookRejected(400, f"{key} must be a string")
    return Hook(
        action=action,
        model=model,
        timestamp=iso_timestamp(payload["timestamp"]),
        username=payload.get("username"),
        request_id=payload.get("request_id"),
        data=data,
        snapshots=snapshots,
    )


def safe_headers(headers):
    """The request headers without anything that carries a credential."""
    kept = {}
    for name, value in headers.items():
        lowered = str(name).lower()
        if lowered in SECRET_HEADERS or any(word in lowered for word in SECRET_HEADER_WORDS):
            continue
        kept[str(name)] = str(value)
    return kept


# --- changed fields -------------------------------------------------------------------------------
def _reference_id(value):
    if isinstance(value, dict) and isinstance(value.get("id"), str):
        return value["id"]
    return None


def same_object(before, after):
    """True when two nested values point at the same object(s), whatever their other keys say.

    Nautobot diffs snapshots shallowly: a nested object whose own data changed since the device's
    previous change (a renamed status, an edited IP's ``dns_name``) differs although the device still
    points at it. That is not a change of the device.
    """
    before_id, after_id = _reference_id(before), _reference_id(after)
    if before_id is not None and after_id is not None:
        return before_id == after_id
    if isinstance(before, list) and isinstance(after, list) and before and after:
        before_ids = [_reference_id(item) for item in before]
        after_ids = [_reference_id(item) for item in after]
        if None not in before_ids and None not in after_ids:
            return sorted(before_ids) == sorted(after_ids)
    return False


def _ordered_union(*sequences):
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
            for key in _ordered_union(added, removed)
            if not (key in added and key in removed and same_object(removed[key], added[key]))
        ]
    return [key for key in keys if key not in NOISE_FIELDS]


# --- device data ----------------------------------------------------------------------------------
def is_reference(value):
    """A nested object given only as ``{id, object_type, url}`` (perhaps with ``display``)."""
    return isinstance(value, dict) and isinstance(value.get("id"), str) and set(value) <= REFERENCE_KEYS


def needs_lookup(data):
    """True when reading the device from ``data`` needs Nautobot (a nested field is only a reference)."""
    for key in NESTED_TYPES:
        value = data.get(key)
        if is_reference(value) or (isinstance(value, str) and value.strip()):
            return True
    return False


def _nested(data, key, resolve, device_label):
    value = data.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, str):  # legacy object_data: a bare primary key
        value = {"id": value, "object_type": NESTED_TYPES[key]}
    if not isinstance(value, dict):
        logger.warning("device %s: %s has an unexpected type (%s); using null", device_label, key, type(value).__name__)
        return None
    if not is_reference(value):
        return value
    object_type = value.get("object_type") or NESTED_TYPES[key]
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
    return {
        "nautobot": {
            "action": action or hook.action,
            "model": DEVICE,
            "source_model": source_model,
            "object_id": device["id"],
            "object_name": device["name"],
            "changed_fields": list(changed),
            "changes": field_objects(changed),
            "timestamp": hook.timestamp,
            "username": hook.username,
            "request_id": hook.request_id,
            "events_coalesced": 1,
            "burst": False,
            "device": device,
        },
        "meta": {"endpoint": endpoint, "headers": dict(headers)},
    }


def normalize_device_event(hook, endpoint="/", headers=None, resolve=None):
    """A validated device webhook -> the event (see ``docs/event.md``)."""
    device = normalize_device(hook.data, resolve)
    changed = changed_fields(hook.action, hook.data, hook.snapshots)
    return _event(hook, device, changed, DEVICE, endpoint, headers or {})


def normalize_ipaddress_device_event(hook, device_data, endpoint="/", headers=None, resolve=None):
    """A validated ipaddress update + the device whose primary IPv4 it is -> that device's event."""
    device = normalize_device(device_data, resolve)
    return _event(hook, device, ["primary_ip4"], IPADDRESS, endpoint, headers or {}, action="updated")


def ip_candidate_devices(data):
    """Device ids from an ipaddress's ``interfaces``; None when the data does not say."""
    interfaces = data.get("interfaces")
    if not isinstance(interfaces, list):
        return None
    ids = []
    for interface in interfaces:
        device = interface.get("device") if isinstance(interface, dict) else None
        device_id = _reference_id(device) or (device if isinstance(device, str) else None)
        if device_id and device_id not in ids:
            ids.append(device_id)
    return ids


def describe(event):
    """``device updated access1: changed ['name']`` for log lines."""
    nb = event["nautobot"]
    name = nb.get("object_name") or nb.get("object_id")
    return f"device {nb['action']} {name}: changed {nb['changed_fields']!r}"


# --- readiness -------------------------------------------------------------------------------------
def add_readiness(event, ready_statuses=DEFAULT_READY_STATUSES):
    """Put the readiness verdict on the event: ``{ready, reasons, message}`` (``module_utils.readiness``).

    The rulebook tests ``event.nautobot.readiness.ready`` and prints the reasons; the module re-checks
    the live data with the same code and the same ``ready_statuses``.
    """
    verdict = check_readiness(event["nautobot"].get("device") or {}, ready_statuses)
    event["nautobot"]["readiness"] = {
        "ready": verdict.ready,
        "reasons": list(verdict.reasons),
        "message": verdict.message,
    }
    return event


# --- lone changes and bursts -----------------------------------------------------------------------
class BurstMarker:
    """Tells a lone change from one of a burst, by arrival time.

    ``mark(event)`` sets ``event["nautobot"]["burst"]``: ``False`` when no other event arrived in the
    ``quiet`` seconds before it (a lone change: the rulebook provisions it at once), ``True`` otherwise
    (the rulebook gathers such events into one batch). ``quiet <= 0`` marks every event lone.
    """

    def __init__(self, quiet, clock=None):
        self.quiet = float(quiet)
        self.clock = clock or time.monotonic
        self.last = None

    def mark(self, event):
        now = self.clock()
        burst = self.quiet > 0 and self.last is not None and now - self.last < self.quiet
        self.last = now
        event["nautobot"]["burst"] = bool(burst) or bool(event["nautobot"].get("burst"))
        return event


class Pacer:
    """Hands events over in order, at most ``rate`` a second (``rate <= 0``: at once).

    ansible-rulebook delivers a throttle window's events to Python in one message, which drools_jpy
    0.4.1 reads with a single ``read()``: a message over 64 KiB breaks that channel for good and every
    later window is lost. Pacing bounds how many events a 5-second window can hold.
    """

    def __init__(self, rate, put, clock=None, sleep=None):
        self.interval = 1.0 / rate if rate and rate > 0 else 0.0
        self.put = put
        self.clock = clock or time.monotonic
        self.sleep = sleep or asyncio.sleep
        self.next_at = 0.0
        self._lock = asyncio.Lock()

    async def __call__(self, event):
        if not self.interval:
            await self.put(event)
            return
        async with self._lock:  # FIFO: events keep their order
            now = self.clock()
            if self.next_at > now:
                await self.sleep(self.next_at - now)
            self.next_at = max(now, self.next_at) + self.interval
            await self.put(event)


# --- coalescing -----------------------------------------------------------------------------------
def merge_events(first, later):
    """Two events for one device -> one: union of changed fields (order kept), the later data.

    The action is ``deleted`` if the later event deletes, else ``created`` if either created.
    """
    a, b = first["nautobot"], later["nautobot"]
    merged_nb = dict(b)
    merged_nb["changed_fields"] = _ordered_union(a.get("changed_fields") or [], b.get("changed_fields") or [])
    merged_nb["changes"] = field_objects(merged_nb["changed_fields"])
    if b["action"] == "deleted":
        merged_nb["action"] = "deleted"
    elif "created" in (a["action"], b["action"]):
        merged_nb["action"] = "created"
    else:
        merged_nb["action"] = b["action"]
    merged_nb["events_coalesced"] = int(a.get("events_coalesced") or 1) + int(b.get("events_coalesced") or 1)
    merged_nb["burst"] = True  # several events: not a lone change
    merged = dict(later)
    merged["nautobot"] = merged_nb
    return merged


class Coalescer:
    """Merges a burst of events for one device into one event.

    A device's events are held until ``window`` seconds pass with no new event for it (a burst such
    as create device, add interface, add IP, set primary IP ends as one event on the latest state),
    but never longer than ``max_hold`` seconds after the first (default ``5 * window``), so a device
    that changes without pause is still provisioned. ``emit`` is a coroutine function that receives
    the merged event. ``window <= 0`` passes events straight through.
    """

    def __init__(self, window, emit, log=None, max_hold=None, clock=None):
        self.window = float(window)
        self.max_hold = float(max_hold) if max_hold is not None else 5 * self.window
        self.emit = emit
        self.log = log or logger
        self.clock = clock or time.monotonic
        self._pending = {}  # key -> [event, first_seen, last_seen]
        self._tasks = {}

    @property
    def pending(self):
        return len(self._pending)

    async def add(self, event):
        if self.window <= 0:
            await self.emit(event)
            return
        key = event["nautobot"]["object_id"]
        now = self.clock()
        if key in self._pending:
            entry = self._pending[key]
            entry[0] = merge_events(entry[0], event)
            entry[2] = now
            self.log.info(
                "Coalescing %s into the pending event (%d events so far, quiet period %.1f s)",
                describe(event),
                entry[0]["nautobot"]["events_coalesced"],
                self.window,
            )
            return
        self._pending[key] = [event, now, now]
        self._tasks[key] = asyncio.create_task(self._flush_later(key))

    def _due(self, key):
        _event, first, last = self._pending[key]
        return min(last + self.window, first + self.max_hold)

    async def _flush_later(self, key):
        while True:
            delay = self._due(key) - self.clock()
            if delay <= 0:
                break
            await asyncio.sleep(delay)
        event = self._pending.pop(key)[0]
        self._tasks.pop(key, None)
        count = event["nautobot"]["events_coalesced"]
        if count > 1:
            self.log.info("Coalesced %d events into one: %s", count, describe(event))
        try:
            await self.emit(event)
        except Exception:  # noqa: BLE001 - one failed hand-over must not stop the others
            self.log.exception("Could not queue the event for %s", event["nautobot"].get("object_name"))

    async def close(self):
        """Cancel the timers; return the events that were still waiting (they are not emitted)."""
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        dropped = [entry[0] for entry in self._pending.values()]
        self._pending.clear()
        self._tasks.clear()
        return dropped
