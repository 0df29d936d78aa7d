# -*- coding: utf-8 -*-
# Copyright: sotsync team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The arguments of the event-side plugins, checked once: ``ValueError`` with a clear message on any fault.

- ``validate_args``: the ``sotsync.nautobot.webhook`` source's arguments -> :class:`Settings`;
- ``validate_filter_args``: the ``sotsync.nautobot.device_event`` filter's -> :class:`FilterSettings`.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field

from ansible_collections.sotsync.nautobot.plugins.module_utils import ledger
from ansible_collections.sotsync.nautobot.plugins.module_utils.messages import DEFAULT_READY_STATUSES
from ansible_collections.sotsync.nautobot.plugins.plugin_utils.request import (
    CONFIG_CONTEXT,
    DEFAULT_MODELS,
    INTERFACE,
    IPADDRESS,
    MODEL_ALIASES,
    SHORT_NAMES,
)

DEFAULT_MAX_BODY_BYTES = 1024 * 1024
DEFAULT_COALESCE_SECONDS = 0.0
DEFAULT_LONE_EVENT_SECONDS = 2.0
DEFAULT_MAX_EVENTS_PER_SECOND = 30.0
DEFAULT_NAUTOBOT_TIMEOUT = 10.0
DEFAULT_MAX_RELATED_DEVICES = 1000
# Models whose events need Nautobot: which devices does this change reach?
LOOKUP_MODELS = (IPADDRESS, INTERFACE, CONFIG_CONTEXT)
TRUE_STRINGS = ("true", "yes", "on", "1")
FALSE_STRINGS = ("false", "no", "off", "0")


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
    max_related_devices: int = DEFAULT_MAX_RELATED_DEVICES
    # the ledger of the devices owed a run (module_utils/ledger.py): its file ("auto": one per port), or None
    ledger_file: str | None = None
    ledger_settle_seconds: float = ledger.DEFAULT_SETTLE_SECONDS
    retry_max_attempts: int = ledger.DEFAULT_MAX_ATTEMPTS
    retry_first_seconds: float = ledger.DEFAULT_RETRY_FIRST_SECONDS
    retry_max_seconds: float = ledger.DEFAULT_RETRY_MAX_SECONDS


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
    "max_related_devices",
    "ledger_file",
    "ledger_settle_seconds",
    "retry_max_attempts",
    "retry_first_seconds",
    "retry_max_seconds",
)


def as_bool(name, value):
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in TRUE_STRINGS + FALSE_STRINGS:
        return value.strip().lower() in TRUE_STRINGS
    raise ValueError(f"{name} must be true or false, got {value!r}")


def as_int(name, value, minimum, maximum=None):
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


def as_float(name, value, minimum):
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a number, got {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(number) or number < minimum:
        raise ValueError(f"{name} must be a finite number of at least {minimum}, got {value!r}")
    return number


def as_text(name, value):
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a string, got {type(value).__name__}")
    return value.strip() or None


def canonical_models(value):
    """``["device", "ipam.ipaddress"]`` or ``"device,ipaddress"`` -> ``("dcim.device", "ipam.ipaddress")``."""
    names = ", ".join(SHORT_NAMES.values())
    if isinstance(value, str):
        value = [part for part in value.split(",") if part.strip()]
    if not isinstance(value, (list, tuple)) or not value:
        raise ValueError(f"models must be a non-empty list of: {names}")
    models = []
    for item in value:
        label = MODEL_ALIASES.get(str(item).strip().lower())
        if label is None:
            raise ValueError(f"models: unknown model {item!r}; this source handles only {names}")
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
    port = as_int("port", args["port"], 1, 65535)
    host = as_text("host", args.get("host")) or "0.0.0.0"  # noqa: S104

    path = as_text("path", args.get("path")) or "/"
    if not path.startswith("/"):
        raise ValueError(f"path must start with '/', got {path!r}")

    insecure = as_bool("insecure_no_signature", args.get("insecure_no_signature", False))
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

    certfile = as_text("certfile", args.get("certfile"))
    keyfile = as_text("keyfile", args.get("keyfile"))
    if bool(certfile) != bool(keyfile):
        raise ValueError("certfile and keyfile go together: set both to enable TLS, or neither")
    for name, value in (("certfile", certfile), ("keyfile", keyfile)):
        if value and not os.path.isfile(value):
            raise ValueError(f"{name} {value!r} does not exist or is not a file")

    max_body = as_int("max_body_bytes", args.get("max_body_bytes", DEFAULT_MAX_BODY_BYTES), 1)
    coalesce = as_float("coalesce_seconds", args.get("coalesce_seconds", DEFAULT_COALESCE_SECONDS), 0.0)
    lone = as_float("lone_event_seconds", args.get("lone_event_seconds", DEFAULT_LONE_EVENT_SECONDS), 0.0)
    pace = as_float("max_events_per_second", args.get("max_events_per_second", DEFAULT_MAX_EVENTS_PER_SECOND), 0.0)
    ready_statuses = as_ready_statuses(args.get("ready_statuses", list(DEFAULT_READY_STATUSES)))
    timeout = as_float("nautobot_timeout", args.get("nautobot_timeout", DEFAULT_NAUTOBOT_TIMEOUT), 0.1)
    validate_certs = as_bool("nautobot_validate_certs", args.get("nautobot_validate_certs", True))
    models = canonical_models(args.get("models", list(DEFAULT_MODELS)))

    url = as_text("nautobot_url", args.get("nautobot_url")) or (environ.get("NAUTOBOT_URL") or "").strip() or None
    token = as_text("nautobot_token", args.get("nautobot_token")) or (environ.get("NAUTOBOT_TOKEN") or "").strip()
    token = token or None
    if url and not url.lower().startswith(("http://", "https://")):
        raise ValueError(f"nautobot_url must start with http:// or https://, got {url!r}")
    if url and not token:
        raise ValueError("nautobot_url is set but nautobot_token is not (argument or NAUTOBOT_TOKEN)")
    needing = [SHORT_NAMES[m] for m in models if m in LOOKUP_MODELS]
    if needing and not url:
        raise ValueError(
            f"{', '.join(needing)} events need a Nautobot to map the change to its devices: set nautobot_url and "
            "nautobot_token (or NAUTOBOT_URL / NAUTOBOT_TOKEN), or set models: [device]"
        )
    max_related = as_int("max_related_devices", args.get("max_related_devices", DEFAULT_MAX_RELATED_DEVICES), 1, 100000)
    ledger_file = as_text("ledger_file", args.get("ledger_file"))
    settle = as_float("ledger_settle_seconds", args.get("ledger_settle_seconds", ledger.DEFAULT_SETTLE_SECONDS), 1.0)
    attempts = as_int("retry_max_attempts", args.get("retry_max_attempts", ledger.DEFAULT_MAX_ATTEMPTS), 1, 100)
    retry_first = as_float(
        "retry_first_seconds", args.get("retry_first_seconds", ledger.DEFAULT_RETRY_FIRST_SECONDS), 0.0
    )
    retry_max = as_float("retry_max_seconds", args.get("retry_max_seconds", ledger.DEFAULT_RETRY_MAX_SECONDS), 0.0)
    if retry_max < retry_first:
        raise ValueError(f"retry_max_seconds ({retry_max:g}) is below retry_first_seconds ({retry_first:g})")
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
        ready_statuses=ready_statuses,
        max_events_per_second=pace,
        models=models,
        max_related_devices=max_related,
        ledger_file=ledger_file,
        ledger_settle_seconds=settle,
        retry_max_attempts=attempts,
        retry_first_seconds=retry_first,
        retry_max_seconds=retry_max,
    )


def as_ready_statuses(value):
    """``[Active, Staged]`` or ``"Active, Staged"`` -> ``("Active", "Staged")``; ``ValueError`` otherwise."""
    if isinstance(value, str):
        value = [part.strip() for part in value.split(",")]
    if not isinstance(value, (list, tuple)) or not value or not all(isinstance(i, str) and i.strip() for i in value):
        raise ValueError(f"ready_statuses must be a list of status names, got {value!r}")
    return tuple(item.strip() for item in value)


# --- the device_event filter ----------------------------------------------------------------------
@dataclass(frozen=True)
class FilterSettings:
    """The validated arguments of the ``sotsync.nautobot.device_event`` filter."""

    ready_statuses: tuple = DEFAULT_READY_STATUSES
    lone_event_seconds: float = DEFAULT_LONE_EVENT_SECONDS


FILTER_ARGUMENTS = ("ready_statuses", "lone_event_seconds")


def validate_filter_args(args):
    """Check the filter's arguments; return :class:`FilterSettings` or raise ``ValueError``.

    ansible-rulebook (1.3) passes filter arguments as written: it does not template them, so a
    ``{{ ... }}`` value is refused with a message saying so.
    """
    unknown = sorted(k for k in args if k not in FILTER_ARGUMENTS)
    if unknown:
        raise ValueError(f"unknown argument(s): {', '.join(unknown)}; valid arguments: {', '.join(FILTER_ARGUMENTS)}")
    for name, value in args.items():
        if isinstance(value, str) and "{{" in value:
            raise ValueError(
                f"{name}: ansible-rulebook does not template event filter arguments; write the value itself, "
                f"got {value!r}"
            )
    return FilterSettings(
        ready_statuses=as_ready_statuses(args.get("ready_statuses", list(DEFAULT_READY_STATUSES))),
        lone_event_seconds=as_float(
            "lone_event_seconds", args.get("lone_event_seconds", DEFAULT_LONE_EVENT_SECONDS), 0.0
        ),
    )
