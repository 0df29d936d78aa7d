# -*- coding: utf-8 -*-
# Copyright: sotsync team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One Nautobot webhook request: is it authentic, is it JSON, is it a webhook body we can use?

Plain Python (no aiohttp, no ansible-rulebook), unit-tested in ``tests/unit/plugins/plugin_utils``:

- ``verify_signature``: Nautobot's ``X-Hook-Signature`` (hex HMAC-SHA512 of the raw body);
- ``check_content_type`` / ``parse_body`` / ``validate_payload``: bad input raises ``RequestRejected``
  carrying the HTTP status (4xx) and a message that says what was wrong;
- ``ReplayGuard``: a change already accepted (same model, object, action, request id and timestamp)
  is refused the second time.

``validate_payload`` checks the type of every key the event is built from; keys nobody reads are
left alone (Nautobot adds fields between versions).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime

SIGNATURE_HEADER = "X-Hook-Signature"
ACTIONS = ("created", "updated", "deleted")
DEVICE = "dcim.device"
IPADDRESS = "ipam.ipaddress"
INTERFACE = "dcim.interface"
CONFIG_CONTEXT = "extras.configcontext"
# Golden Config's config plans (the approval gate): not a device change, an event of its own.
CONFIG_PLAN = "nautobot_golden_config.configplan"
# What Nautobot sends in ``model`` (the model name without app label) and what users may write.
MODEL_ALIASES = {
    "device": DEVICE,
    "dcim.device": DEVICE,
    "ipaddress": IPADDRESS,
    "ipam.ipaddress": IPADDRESS,
    "interface": INTERFACE,
    "dcim.interface": INTERFACE,
    "configcontext": CONFIG_CONTEXT,
    "extras.configcontext": CONFIG_CONTEXT,
    "configplan": CONFIG_PLAN,
    "nautobot_golden_config.configplan": CONFIG_PLAN,
}
SHORT_NAMES = {
    DEVICE: "device",
    IPADDRESS: "ipaddress",
    INTERFACE: "interface",
    CONFIG_CONTEXT: "configcontext",
    CONFIG_PLAN: "configplan",
}
DEFAULT_MODELS = (DEVICE, IPADDRESS)
REQUIRED_KEYS = ("event", "model", "timestamp", "data", "snapshots")
# Nautobot's device body nests about 5 levels; custom fields can hold user JSON, hence the margin.
MAX_JSON_DEPTH = 64
# The device fields read into the event (their type is checked), and what a nested one may hold.
NESTED_FIELDS = ("status", "role", "location", "platform", "primary_ip4")
NESTED_TEXT_KEYS = {
    "status": ("id", "name", "display"),
    "role": ("id", "name", "display"),
    "location": ("id", "name", "display"),
    "platform": ("id", "name", "display", "network_driver", "napalm_driver"),
    "primary_ip4": ("id", "address", "host"),
}
# Headers that carry credentials never go on the queue; nor does anything named like one.
SECRET_HEADERS = frozenset(("authorization", "proxy-authorization", "cookie", "x-hook-signature", "x-api-key"))
SECRET_HEADER_WORDS = ("token", "secret", "signature", "password", "auth")


class RequestRejected(Exception):
    """A request the source refuses: ``status`` is the HTTP status (4xx), ``reason`` says why."""

    def __init__(self, status, reason):
        super().__init__(reason)
        self.status = status
        self.reason = reason


# --- authenticity ---------------------------------------------------------------------------------
def sign(body, secret):
    """Nautobot's signature of ``body``: hex HMAC-SHA512 keyed with ``secret``."""
    if isinstance(secret, str):
        secret = secret.encode("utf-8")
    return hmac.new(secret, body, hashlib.sha512).hexdigest()


def verify_signature(body, secret, signature):
    """Raise ``RequestRejected(401)`` unless ``signature`` is ``sign(body, secret)`` (constant time)."""
    if signature is None or not str(signature).strip():
        raise RequestRejected(401, f"missing {SIGNATURE_HEADER} header")
    given = str(signature).strip().lower()
    if given.startswith("sha512="):
        given = given[len("sha512=") :]
    expected = sign(body, secret)
    if not hmac.compare_digest(given.encode("ascii", "replace"), expected.encode("ascii")):
        raise RequestRejected(401, f"{SIGNATURE_HEADER} does not match the body (wrong secret or altered body)")


# --- content type and body ------------------------------------------------------------------------
def check_content_type(content_type):
    """Only JSON bodies: ``application/json`` (parameters such as charset allowed) or ``+json`` types."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media != "application/json" and not (media.startswith("application/") and media.endswith("+json")):
        raise RequestRejected(415, f"Content-Type must be application/json, got {media or 'none'!r}")


def _no_constant(name):
    raise ValueError(f"{name} is not JSON")


def json_depth_over(value, limit=MAX_JSON_DEPTH):
    """True when ``value`` nests objects/arrays deeper than ``limit`` (iterative: no recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_BRACKETS = re.compile(r"[\[\]{}]")


def text_depth_over(text, limit=MAX_JSON_DEPTH):
    """True when JSON text opens more than ``limit`` nested objects/arrays, checked on the text before
    parsing: a RecursionError inside CPython 3.11's C JSON scanner can leave the interpreter's
    recursion counter wrong (later ``compile()``/``ast.parse`` calls in the process fail), so such a body
    must never reach ``json.loads``."""
    depth = 0
    for match in _BRACKETS.finditer(_JSON_STRING.sub("", text)):
        if match.group() in "[{":
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def parse_body(body):
    """Raw bytes -> the JSON object; ``RequestRejected(400)`` when it is not one we can use."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise RequestRejected(400, "body is not valid UTF-8") from None
    if not text.strip():
        raise RequestRejected(400, "body is empty")
    if text_depth_over(text):
        raise RequestRejected(400, f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
    try:
        payload = json.loads(text, parse_constant=_no_constant)
    except RecursionError:
        raise RequestRejected(400, f"JSON nested deeper than {MAX_JSON_DEPTH} levels") from None
    except ValueError as exc:
        raise RequestRejected(400, f"malformed JSON: {str(exc)[:200]}") from None
    if not isinstance(payload, dict):
        raise RequestRejected(400, f"body must be a JSON object, got {json_type(payload)}")
    if json_depth_over(payload):
        raise RequestRejected(400, f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
    return payload


def json_type(value):
    """The JSON name of a parsed value's type, for messages."""
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
        raise RequestRejected(400, "timestamp must be a date-time string")
    try:
        return datetime.fromisoformat(value.strip().replace("Z", "+00:00")).isoformat()
    except ValueError:
        raise RequestRejected(400, f"timestamp {value[:64]!r} is not an ISO 8601 date-time") from None


# --- the webhook body -----------------------------------------------------------------------------
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


def _expect(value, types, where, allow_none=True):
    if value is None and allow_none:
        return
    if not isinstance(value, types) or isinstance(value, bool):
        names = {dict: "an object", list: "an array", str: "a string"}
        wanted = " or ".join(names[t] for t in (types if isinstance(types, tuple) else (types,)))
        raise RequestRejected(
            400, f"{where} must be {wanted}{' or null' if allow_none else ''}, got {json_type(value)}"
        )


def _check_device_data(data):
    """The types of the device keys the event is built from."""
    _expect(data.get("name"), str, "data.name")
    for key in NESTED_FIELDS:
        value = data.get(key)
        _expect(value, (dict, str), f"data.{key}")
        if isinstance(value, dict):
            for inner in NESTED_TEXT_KEYS[key]:
                _expect(value.get(inner), str, f"data.{key}.{inner}")
            if key == "platform":
                mappings = value.get("network_driver_mappings")
                _expect(mappings, dict, "data.platform.network_driver_mappings")
                for tool, driver in (mappings or {}).items():
                    _expect(driver, str, f"data.platform.network_driver_mappings.{tool}")


def _check_ipaddress_data(data):
    if not isinstance(data.get("address"), str):
        raise RequestRejected(400, "data.address is missing from the ipaddress event")
    interfaces = data.get("interfaces")
    _expect(interfaces, list, "data.interfaces")
    for interface in interfaces or []:
        _expect(interface, (dict, str), "data.interfaces[]", allow_none=False)
        if isinstance(interface, dict):
            _expect(interface.get("device"), (dict, str), "data.interfaces[].device")


# Config context scope keys (lists of nested objects or ids) read to find its devices.
SCOPE_KEYS = (
    "locations",
    "roles",
    "device_types",
    "device_families",
    "platforms",
    "device_redundancy_groups",
    "tenant_groups",
    "tenants",
    "cluster_groups",
    "clusters",
    "dynamic_groups",
    "tags",
)


def _check_interface_data(data, where="data"):
    _expect(data.get("name"), str, f"{where}.name")
    _expect(data.get("device"), (dict, str), f"{where}.device")
    if isinstance(data.get("device"), dict):
        _expect(data["device"].get("id"), str, f"{where}.device.id")


def _check_config_context_data(data, where="data"):
    _expect(data.get("name"), str, f"{where}.name")
    if data.get("is_active") is not None and not isinstance(data.get("is_active"), bool):
        raise RequestRejected(400, f"{where}.is_active must be a boolean or null, got {json_type(data['is_active'])}")
    for key in SCOPE_KEYS:
        value = data.get(key)
        _expect(value, list, f"{where}.{key}")
        for item in value or []:
            _expect(item, (dict, str), f"{where}.{key}[]", allow_none=False)
            if isinstance(item, dict):
                _expect(item.get("id"), str, f"{where}.{key}[].id")


def _check_config_plan_data(data, where="data"):
    for key in ("device", "status"):
        value = data.get(key)
        _expect(value, (dict, str), f"{where}.{key}")
        if isinstance(value, dict):
            for inner in ("id", "name", "display"):
                _expect(value.get(inner), str, f"{where}.{key}.{inner}")
    for key in ("plan_type", "change_control_id", "display"):
        _expect(data.get(key), str, f"{where}.{key}")


def _check_related_snapshots(model, snapshots):
    """The snapshots of a related object are read too (the previous device, the previous scope)."""
    check = _check_interface_data if model == INTERFACE else _check_config_context_data
    for key in ("prechange", "postchange"):
        if isinstance(snapshots, dict) and isinstance(snapshots.get(key), dict):
            check(snapshots[key], f"snapshots.{key}")


def _check_snapshots(snapshots):
    _expect(snapshots, dict, "snapshots")
    if not snapshots:
        return
    for key in ("prechange", "postchange", "differences"):
        _expect(snapshots.get(key), dict, f"snapshots.{key}")
    for key in ("added", "removed"):
        _expect((snapshots.get("differences") or {}).get(key), dict, f"snapshots.differences.{key}")


def validate_payload(payload, models=DEFAULT_MODELS):
    """Check a parsed webhook body; return a :class:`Hook` or raise ``RequestRejected``.

    Missing or ill-typed keys -> 400. A model this source does not handle (or that ``models``
    leaves out) -> 422, and the event is ignored.
    """
    if not isinstance(payload, dict):
        raise RequestRejected(400, f"body must be a JSON object, got {json_type(payload)}")
    missing = [key for key in REQUIRED_KEYS if key not in payload]
    if missing:
        raise RequestRejected(400, f"missing key(s): {', '.join(missing)}")
    action = payload["event"]
    if not isinstance(action, str) or action not in ACTIONS:
        raise RequestRejected(400, f"event must be one of {', '.join(ACTIONS)}, got {str(action)[:64]!r}")
    raw_model = payload["model"]
    if not isinstance(raw_model, str) or not raw_model.strip():
        raise RequestRejected(400, "model must be a non-empty string")
    model = MODEL_ALIASES.get(raw_model.strip().lower())
    if model is None or model not in models:
        handled = ", ".join(SHORT_NAMES[m] for m in models)
        raise RequestRejected(
            422, f"model {raw_model[:64]!r} is not handled by this source (handled: {handled}); ignored"
        )
    data = payload["data"]
    if not isinstance(data, dict):
        raise RequestRejected(400, f"data must be an object, got {json_type(data)}")
    if not isinstance(data.get("id"), str) or not data["id"].strip():
        raise RequestRejected(400, "data.id is missing")
    if model == IPADDRESS:
        _check_ipaddress_data(data)
    elif model == INTERFACE:
        _check_interface_data(data)
    elif model == CONFIG_CONTEXT:
        _check_config_context_data(data)
    elif model == CONFIG_PLAN:
        _check_config_plan_data(data)
    else:
        _check_device_data(data)
    snapshots = payload["snapshots"]
    _check_snapshots(snapshots)
    if model in (INTERFACE, CONFIG_CONTEXT):
        _check_related_snapshots(model, snapshots)
    for key in ("username", "request_id"):
        if payload.get(key) is not None and not isinstance(payload[key], str):
            raise RequestRejected(400, f"{key} must be a string")
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


# --- the same change twice ------------------------------------------------------------------------
def change_key(hook):
    """What identifies one delivered change: model, object, action, request id, timestamp, and a digest
    of the data and snapshots (two changes of one object never share all of these).

    Nautobot sends each change once per webhook (it never retries); two bodies with the same key are
    the same change delivered twice (a replayed request, or two webhooks pointing here).
    """
    content = json.dumps([hook.data, hook.snapshots], sort_keys=True, separators=(",", ":"), default=str)
    digest = hashlib.sha256(content.encode("utf-8", "surrogatepass")).hexdigest()
    return (hook.model, hook.data["id"], hook.action, hook.request_id, hook.timestamp, digest)


class ReplayGuard:
    """Remembers the last ``size`` changes accepted; a change seen again is refused (409).

    Bounded: the oldest keys are forgotten first. A replay older than that is accepted again, and can
    at worst provision the device once more to the configuration Nautobot holds now.
    """

    def __init__(self, size=10000):
        self.size = int(size)
        self._seen = OrderedDict()

    def check(self, key):
        """Raise ``RequestRejected(409)`` when ``key`` was accepted before."""
        if key in self._seen:
            model, object_id, action, request_id = key[:4]
            raise RequestRejected(
                409,
                f"duplicate delivery: {SHORT_NAMES.get(model, model)} {object_id} {action} of request "
                f"{request_id} was already accepted; ignored",
            )

    def remember(self, key):
        self._seen[key] = True
        self._seen.move_to_end(key)
        while len(self._seen) > self.size:
            self._seen.popitem(last=False)

    def __len__(self):
        return len(self._seen)
