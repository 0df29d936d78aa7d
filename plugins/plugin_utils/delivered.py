# -*- coding: utf-8 -*-
# Copyright: sotsync team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One change, one event: a registry of what an event source of this collection already queued.

``sotsync.nautobot.webhook`` and ``sotsync.nautobot.changelog`` can run side by side in one rulebook:
the webhook delivers a change at once, the change log catches up on what the webhook missed. Both
see most changes. Before putting an event on the queue, each asks ``first_delivery(event_key(event))``
and queues the event only when the answer is ``True``.

This works because ansible-rulebook starts every source of a rulebook as an asyncio task in one
process (``app.spawn_sources`` -> ``asyncio.create_task(engine.start_source(...))``), and both sources
import this module under one name (``ansible_collections.sotsync.nautobot.plugins.plugin_utils.delivered``),
so ``sys.modules`` holds one module and one :data:`REGISTRY`.

The key is ``(request_id, source_model, object_id, action)`` of the normalised event: Nautobot puts the
``request_id`` of the ObjectChange in the webhook body (``enqueue_webhooks`` passes
``object_change.request_id``), so a webhook and the change-log entry it came from give the same key.
``source_model`` keeps a device's own change apart from a change of its primary IP in the same request.
The key ends with a digest of the event's ``device`` block and ``changed_fields``: one request can
change one object twice (comments, then name), and the second change must not be taken for the first.
Both sources build those from the same data (the webhook's ``data`` is the change's
``object_data_v2``); where they still differ, a change is delivered twice, which provisions the device
once more to the same state, never loses it.

Bounded: at most ``size`` keys, each forgotten ``ttl`` seconds after it was first seen.
Thread-safe and usable from asyncio (no ``await`` inside the lock).
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import OrderedDict

DEFAULT_TTL_SECONDS = 1800.0
DEFAULT_SIZE = 20000


def event_key(event):
    """The de-duplication key of a normalised event (``docs/event.md``), or None without a request id.

    An event without ``request_id`` (a hand-made webhook body) is never treated as a duplicate.
    """
    nautobot = event.get("nautobot") if isinstance(event, dict) else None
    if not isinstance(nautobot, dict) or not nautobot.get("request_id"):
        return None
    state = json.dumps(
        {
            "device": nautobot.get("device"),
            "plan": nautobot.get("plan"),
            "changed_fields": nautobot.get("changed_fields"),
        },
        sort_keys=True,
        default=str,
    )
    return (
        str(nautobot["request_id"]),
        nautobot.get("source_model"),
        nautobot.get("object_id"),
        nautobot.get("action"),
        hashlib.sha256(state.encode("utf-8")).hexdigest(),
    )


def change_key(request_id, model, object_id, event, data):
    """The key of one raw change, before any event is built from it, or None without a request id.

    ``model`` is ``<app>.<model>``, ``event`` Nautobot's webhook word (created, updated, deleted) and
    ``data`` the object as the change recorded it: a webhook's ``data`` is its ObjectChange's
    ``object_data_v2``, so both sources compute the same key from what they read first. The change-log
    source asks for it before it reads the change before this one (a request to Nautobot per changed
    object): a change the webhook delivered costs it nothing more.
    """
    if not request_id:
        return None
    state = json.dumps(data, sort_keys=True, default=str)
    return (
        "change",
        str(request_id),
        model,
        str(object_id),
        event,
        hashlib.sha256(state.encode("utf-8")).hexdigest(),
    )


class DeliveredRegistry:
    """Keys of the events already queued, bounded by count (``size``) and age (``ttl`` seconds)."""

    def __init__(self, ttl=DEFAULT_TTL_SECONDS, size=DEFAULT_SIZE, clock=time.monotonic):
        self.ttl = float(ttl)
        self.size = int(size)
        self.clock = clock
        self._expires = OrderedDict()  # key -> expiry time, oldest first (one ttl for all keys)
        self._lock = threading.Lock()

    def _purge(self, now):
        while self._expires:
            key, expires = next(iter(self._expires.items()))
            if expires > now:
                break
            del self._expires[key]

    def first_delivery(self, key):
        """True the first time ``key`` is offered (within ``ttl``), False after; None is always True."""
        if key is None:
            return True
        with self._lock:
            now = self.clock()
            self._purge(now)
            if key in self._expires:
                return False
            self._expires[key] = now + self.ttl
            while len(self._expires) > self.size:
                self._expires.popitem(last=False)
            return True

    def seen(self, key):
        """True when ``key`` was offered or marked within ``ttl`` (None: never); records nothing."""
        if key is None:
            return False
        with self._lock:
            self._purge(self.clock())
            return key in self._expires

    def mark(self, key):
        """Record ``key`` (None: nothing) as delivered."""
        self.first_delivery(key)

    def clear(self):
        with self._lock:
            self._expires.clear()

    def __len__(self):
        with self._lock:
            return len(self._expires)


# The process-wide registry both sources consult.
REGISTRY = DeliveredRegistry()


def first_delivery(key):
    """``REGISTRY.first_delivery(key)``: True when no source of this process queued ``key`` yet."""
    return REGISTRY.first_delivery(key)
