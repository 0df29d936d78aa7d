# -*- coding: utf-8 -*-
# Copyright: sotsync team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Raw Nautobot webhook events -> the device events of ``docs/event.md`` (the ``device_event`` filter).

``ansible.eda.webhook`` / ``eda.builtin.webhook`` put ``{payload: <body>, meta: {endpoint, headers}}`` on
the queue, an AAP event stream the same with ``meta.eda_event_stream_name``; the receiving source has
checked the HMAC. :class:`RawEventFilter` validates and normalises the body with the same code as the
``sotsync.nautobot.webhook`` source (``request``, ``device_event``, ``delivery.BurstMarker``).

A filter must never raise on an event (an exception ends an AAP activation's source, and answers 500
on a webhook source): a body that is not a usable Nautobot device webhook is dropped with a warning.
"""

from __future__ import annotations

import logging

from ansible_collections.sotsync.nautobot.plugins.plugin_utils.delivery import BurstMarker
from ansible_collections.sotsync.nautobot.plugins.plugin_utils.device_event import (
    add_readiness,
    describe,
    normalize_device_event,
)
from ansible_collections.sotsync.nautobot.plugins.plugin_utils.request import (
    CONFIG_CONTEXT,
    DEVICE,
    INTERFACE,
    IPADDRESS,
    MAX_JSON_DEPTH,
    MODEL_ALIASES,
    SHORT_NAMES,
    ReplayGuard,
    RequestRejected,
    change_key,
    json_depth_over,
    safe_headers,
    validate_payload,
)

logger = logging.getLogger("sotsync.nautobot.device_event")


def endpoint_of(meta):
    """The path the body was posted to; ansible.eda.webhook gives it without its first ``/``."""
    endpoint = meta.get("endpoint")
    return "/" + endpoint.lstrip("/") if isinstance(endpoint, str) else "/"


class RawEventFilter:
    """Call it with each raw event; it returns the list of events to pass on (one, or none)."""

    def __init__(self, settings, clock=None, log=None):
        self.settings = settings
        self.log = log or logger
        self.bursts = BurstMarker(settings.lone_event_seconds, clock)
        self.replays = ReplayGuard()

    def __call__(self, event):
        try:
            return self._filter(event)
        except Exception:  # noqa: BLE001 - never end the activation over one event
            self.log.exception("Dropped an event: unexpected error")
            return []

    def _drop(self, meta, reason):
        where = meta.get("eda_event_stream_name") or endpoint_of(meta)
        self.log.warning("Dropped event%s: %s", f" from {where!r}" if meta else "", reason)
        return []

    def _filter(self, event):
        if isinstance(event, dict) and isinstance(event.get("nautobot"), dict):
            return [event]  # already a device event (sotsync.nautobot.webhook): as it is
        if not isinstance(event, dict) or "payload" not in event:
            return self._drop({}, "not a webhook event ({payload, meta}); this filter expects ansible.eda.webhook's")
        meta = event.get("meta") if isinstance(event.get("meta"), dict) else {}
        payload = event["payload"]
        if json_depth_over(payload):
            return self._drop(meta, f"400 JSON nested deeper than {MAX_JSON_DEPTH} levels")
        try:
            hook = validate_payload(payload, (DEVICE,))
            key = change_key(hook)
            self.replays.check(key)
        except RequestRejected as exc:
            model = payload.get("model") if isinstance(payload, dict) else None
            label = MODEL_ALIASES.get(model.lower()) if isinstance(model, str) else None
            if exc.status == 422 and label in (IPADDRESS, INTERFACE, CONFIG_CONTEXT):
                return self._drop(
                    meta,
                    f"{SHORT_NAMES[label]} events need a Nautobot look-up; the sotsync.nautobot.webhook source "
                    "handles them",
                )
            return self._drop(meta, f"{exc.status} {exc.reason}")
        self.replays.remember(key)
        headers = meta.get("headers")
        headers = safe_headers(headers) if isinstance(headers, dict) else {}
        device_event = normalize_device_event(hook, endpoint_of(meta), headers)
        device_event["meta"] = {**{k: v for k, v in meta.items() if k != "headers"}, **device_event["meta"]}
        add_readiness(device_event, self.settings.ready_statuses)
        self.bursts.mark(device_event)
        self.log.info("Accepted %s%s", describe(device_event), " (burst)" if device_event["nautobot"]["burst"] else "")
        return [device_event]
