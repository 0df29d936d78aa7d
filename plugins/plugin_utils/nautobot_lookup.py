# -*- coding: utf-8 -*-
# Copyright: sotsync team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Nautobot look-ups for the ``sotsync.nautobot.webhook`` event source (pynautobot, blocking).

The source calls these from a worker thread (``asyncio.to_thread``). Every look-up is bounded:
each HTTP request has a timeout, a device query returns at most ``max_devices`` devices, and
results are cached for ``cache_ttl`` seconds in an LRU of at most ``cache_size`` entries.

- ``devices_for_ip(ip_id)``: the devices (REST data at depth 1) whose ``primary_ip4`` is that IP.
  Nautobot 3's device filters have no ``primary_ip4``; ``ip_addresses=<id>`` finds the devices that
  carry the IP on an interface and only those whose ``primary_ip4`` is this IP are kept. Only
  non-empty answers are cached, and ``invalidate_device`` drops any answer that names a device
  (the source calls it for each device webhook, so cached device data does not outlive a change).
- ``devices_by_id(ids)``: the devices with these ids (REST at depth 1), 100 per request; unknown ids
  are left out (a device deleted since).
- ``devices_matching(queries, limit)``: the union of the devices matched by REST device filters (a
  config context's scope): first each query's count (one request, ``limit=1``), then its pages; more
  than ``limit`` devices -> ``(None, count)``. Answers are cached ``scope_cache_ttl`` seconds per query.
  A ``cluster_group`` filter is first turned into the groups' clusters (one request).
- ``get_object(object_type, id)``: a nested object (status, role, location, platform, IP address)
  that a webhook gave only as a reference.

Failures raise ``NautobotLookupError`` with a message that never contains the token.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

try:
    import pynautobot
    import requests
    from pynautobot.core.query import ContentError, RequestErrorFromException

    HAS_PYNAUTOBOT = True
except ImportError:  # pragma: no cover - exercised only without the dependency
    HAS_PYNAUTOBOT = False

# object_type -> (app, endpoint) in pynautobot
ENDPOINTS = {
    "extras.status": ("extras", "statuses"),
    "extras.role": ("extras", "roles"),
    "dcim.location": ("dcim", "locations"),
    "dcim.platform": ("dcim", "platforms"),
    "ipam.ipaddress": ("ipam", "ip_addresses"),
    "dcim.device": ("dcim", "devices"),
}


# The scope filter that names cluster groups: no device filter takes one, so ``devices_matching``
# replaces it with the groups' clusters (device filter ``clusters``).
CLUSTER_GROUP = "cluster_group"
# Devices read per request (ids per ``id=`` query, page size of scope queries).
DEVICE_PAGE_SIZE = 100


class NautobotLookupError(Exception):
    """Nautobot could not answer (unreachable, timeout, refused token, server error)."""


def _timeout_session(timeout, verify):
    class _Session(requests.Session):
        def request(self, method, url, **kwargs):
            if kwargs.get("timeout") is None:
                kwargs["timeout"] = timeout
            return super().request(method, url, **kwargs)

    session = _Session()
    session.verify = verify
    return session


def _as_dict(record):
    return record if isinstance(record, dict) else dict(record)


def _id_of(value):
    if isinstance(value, dict):
        return value.get("id")
    return getattr(value, "id", value)


class TTLCache:
    """A small thread-safe LRU with a time-to-live; ``clock`` is injectable for tests."""

    def __init__(self, ttl, size, clock=time.monotonic):
        self.ttl = float(ttl)
        self.size = int(size)
        self.clock = clock
        self._data = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            item = self._data.get(key)
            if item is None:
                return None
            expires, value = item
            if expires < self.clock():
                del self._data[key]
                return None
            self._data.move_to_end(key)
            return value

    def put(self, key, value):
        if self.ttl <= 0 or self.size <= 0:
            return
        with self._lock:
            self._data[key] = (self.clock() + self.ttl, value)
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)

    def discard_if(self, predicate):
        with self._lock:
            for key in [k for k, entry in self._data.items() if predicate(k, entry[1])]:
                del self._data[key]

    def __len__(self):
        return len(self._data)


class NautobotLookup:
    """What the event source needs to read from Nautobot."""

    def __init__(
        self,
        url,
        token,
        timeout=10.0,
        validate_certs=True,
        cache_ttl=30.0,
        cache_size=256,
        max_devices=10,
        scope_cache_ttl=10.0,
        page_size=DEVICE_PAGE_SIZE,
        api=None,
        clock=time.monotonic,
    ):
        self.url = str(url).rstrip("/")
        self.max_devices = int(max_devices)
        self.page_size = int(page_size)
        if api is None:
            if not HAS_PYNAUTOBOT:
                raise NautobotLookupError(
                    "The Python library pynautobot is required for Nautobot look-ups (pip install pynautobot)"
                )
            api = pynautobot.api(self.url, token=token, verify=validate_certs)
            session = _timeout_session(float(timeout), validate_certs)
            session.headers.update(api.http_session.headers)
            api.http_session = session
        self.api = api
        self._devices = TTLCache(cache_ttl, cache_size, clock)
        self._objects = TTLCache(cache_ttl, cache_size, clock)
        self._scopes = TTLCache(scope_cache_ttl, cache_size, clock)

    def _fail(self, exc, what):
        """Raise ``NautobotLookupError`` for a pynautobot/requests exception (token-free message)."""
        req = getattr(exc, "req", None)
        if req is not None and getattr(req, "status_code", None) is not None:
            detail = f"HTTP {req.status_code}"
            if req.status_code in (401, 403):
                detail += " (check nautobot_token and its permissions)"
        else:
            detail = type(exc).__name__
            if HAS_PYNAUTOBOT and isinstance(exc, (requests.exceptions.ConnectionError, requests.exceptions.Timeout)):
                detail = f"unreachable ({type(exc).__name__})"
        raise NautobotLookupError(f"Nautobot at {self.url} failed while {what}: {detail}") from None

    def _errors(self):
        if not HAS_PYNAUTOBOT:  # pragma: no cover
            return (Exception,)
        return (requests.exceptions.RequestException, pynautobot.RequestError, RequestErrorFromException, ContentError)

    def devices_for_ip(self, ip_id):
        """The devices whose primary IPv4 is IP address ``ip_id`` (dicts, REST at depth 1)."""
        cached = self._devices.get(ip_id)
        if cached is not None:
            return [dict(d) for d in cached]
        what = f"looking up the devices of IP address {ip_id}"
        try:
            records = self.api.dcim.devices.filter(ip_addresses=ip_id, depth=1, limit=self.max_devices, offset=0)
            devices = [_as_dict(r) for r in records]
        except self._errors() as exc:
            self._fail(exc, what)
        devices = [d for d in devices if _id_of(d.get("primary_ip4")) == ip_id]
        if devices:
            self._devices.put(ip_id, devices)
        return [dict(d) for d in devices]

    def devices_by_id(self, ids):
        """The devices with ids ``ids`` (dicts, REST at depth 1), in Nautobot's order; unknown ids left out."""
        ids = list(dict.fromkeys(ids))
        devices = []
        for start in range(0, len(ids), self.page_size):
            chunk = ids[start : start + self.page_size]
            try:
                records = self.api.dcim.devices.filter(id=chunk, depth=1, limit=len(chunk), offset=0)
                devices.extend(_as_dict(r) for r in records)
            except self._errors() as exc:
                self._fail(exc, f"looking up {len(chunk)} device(s) by id")
        return devices

    def devices_matching(self, queries, limit):
        """The union of the devices each REST device filter in ``queries`` matches (dicts, depth 1).

        Returns ``(devices, count)``; ``(None, count)`` when more than ``limit`` devices match (read no
        further than the counts, or than the pages that showed it).
        """
        union = {}
        for query in queries:
            key = tuple(sorted((name, tuple(sorted(values))) for name, values in query.items()))
            devices = self._scopes.get(key)
            if devices is None:
                what = f"looking up the devices matching {dict(query)!r}"
                try:
                    query = self._clusters_of_groups(query)
                    count = self.api.dcim.devices.count(**query) if query is not None else 0
                    if count > limit:
                        return None, count
                    records = self.api.dcim.devices.filter(**query, depth=1, limit=self.page_size) if count else []
                    devices = [_as_dict(r) for r in records]
                except self._errors() as exc:
                    self._fail(exc, what)
                self._scopes.put(key, devices)
            for device in devices:
                union.setdefault(device.get("id"), device)
            if len(union) > limit:
                return None, len(union)
        return [dict(d) for d in union.values()], len(union)

    def _clusters_of_groups(self, query):
        """``cluster_group=[...]`` -> ``clusters=[the groups' cluster ids]``; None when they have no cluster."""
        if CLUSTER_GROUP not in query:
            return query
        query = dict(query)
        groups = query.pop(CLUSTER_GROUP)
        records = self.api.virtualization.clusters.filter(cluster_group=groups, depth=0, limit=self.page_size)
        clusters = [_id_of(r) for r in records]
        if not clusters:
            return None
        query["clusters"] = clusters
        return query

    def get_object(self, object_type, object_id):
        """A nested object's data by type and id, or None when Nautobot does not know it."""
        key = (object_type, object_id)
        cached = self._objects.get(key)
        if cached is not None:
            return dict(cached)
        if object_type not in ENDPOINTS:
            return None
        app, endpoint = ENDPOINTS[object_type]
        try:
            record = getattr(getattr(self.api, app), endpoint).get(object_id)
        except self._errors() as exc:
            self._fail(exc, f"looking up {object_type} {object_id}")
        if record is None:
            return None
        value = _as_dict(record)
        self._objects.put(key, value)
        return dict(value)

    def invalidate_device(self, device_id):
        """Forget cached answers that name device ``device_id`` (it just changed)."""
        self._devices.discard_if(lambda _key, devices: any(d.get("id") == device_id for d in devices))
        self._scopes.discard_if(lambda _key, devices: any(d.get("id") == device_id for d in devices))

    def close(self):
        session = getattr(self.api, "http_session", None)
        if session is not None and hasattr(session, "close"):
            session.close()
