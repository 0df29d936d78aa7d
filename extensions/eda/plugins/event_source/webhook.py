# -*- coding: utf-8 -*-
# Copyright: sotsync team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""sotsync.nautobot.webhook: Nautobot webhooks in, one clean event per device change out.

ansible-rulebook loads this file with ``runpy.run_path``: no relative imports, and the logic lives in
``plugins/plugin_utils/webhook.py`` (plain Python, unit-tested). See ``docs/event.md`` for the event.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import logging
import os
import ssl
import sys

from aiohttp import web

DOCUMENTATION = r"""
---
short_description: Receive Nautobot webhooks (device and IP address changes) as device events.
description:
  - An ansible-rulebook event source that listens for Nautobot webhooks, checks their
    C(X-Hook-Signature) (hex HMAC-SHA512 of the raw body keyed with the webhook's secret), validates
    and normalises each one into a single event per device change.
  - Device webhooks (created, updated, deleted) become one event about that device. IP address
    updates become one event per device whose primary IPv4 is that address, with
    C(changed_fields) set to C([primary_ip4]); this needs C(nautobot_url) and C(nautobot_token).
  - With C(coalesce_seconds) above 0, events for the same device are merged into one until that many
    seconds pass without a new one for it (at most five times that after the first).
  - Rejected requests get a 4xx answer and a warning in the log; the source keeps serving.
    401 bad or missing signature, 404 other path, 405 other method than POST, 413 body over
    C(max_body_bytes), 415 not JSON, 400 malformed or incomplete body, 422 model not handled
    (the event is ignored).
  - The event has two keys, C(nautobot) (the change) and C(meta) (C(endpoint) and C(headers), without
    the signature or any credential header). docs/event.md in the collection describes every field.
options:
  host:
    description: The address to listen on.
    type: str
    default: "0.0.0.0"
  port:
    description: The TCP port to listen on.
    type: int
    required: true
  path:
    description: The URL path Nautobot posts to; other paths get 404.
    type: str
    default: "/"
  secret:
    description:
      - The secret of the Nautobot webhook. Requests without a valid C(X-Hook-Signature) get 401.
      - Required unless O(insecure_no_signature=true).
    type: str
  insecure_no_signature:
    description:
      - Accept unsigned requests when no O(secret) is set. Anyone who can reach the port can then
        trigger provisioning. A warning is logged at start-up. For tests only.
    type: bool
    default: false
  certfile:
    description: A certificate (PEM) to serve HTTPS. Set together with O(keyfile).
    type: str
  keyfile:
    description: The private key (PEM) of O(certfile).
    type: str
  max_body_bytes:
    description: Larger bodies get 413. Nautobot's device webhook is about 18 KB.
    type: int
    default: 1048576
  nautobot_url:
    description:
      - Nautobot's URL, for IP address events (which device has this primary IPv4?) and for nested
        objects a webhook gives only as a reference. Falls back to E(NAUTOBOT_URL).
      - Required when O(models) includes C(ipaddress).
    type: str
  nautobot_token:
    description: An API token for O(nautobot_url); falls back to E(NAUTOBOT_TOKEN). Never logged.
    type: str
  nautobot_validate_certs:
    description: Verify Nautobot's TLS certificate.
    type: bool
    default: true
  nautobot_timeout:
    description: Timeout in seconds of each request to Nautobot.
    type: float
    default: 10.0
  coalesce_seconds:
    description:
      - Quiet period of the coalescing. A device's events are merged into one event, queued once this
        many seconds pass without a new event for that device, or five times this many seconds after
        its first event, whichever comes first. C(0) queues every event at once.
      - The shipped rulebook leaves it at C(0) and gathers events with its own batch window instead.
    type: float
    default: 0.0
  ready_statuses:
    description:
      - Device statuses (by name, any letter case) that count as ready. Each event carries the verdict
        as C(readiness) (C(ready), C(reasons), C(message)), from the same code as the provisioning
        module's live re-check.
    type: list
    elements: str
    default: [Active, Planned, Staged]
  max_events_per_second:
    description:
      - Events are handed to the rulebook at most this many a second, in order (the HTTP answer does not
        wait). ansible-rulebook delivers a throttle window's events in one message that drools_jpy 0.4.1
        cannot read above 64 KiB; pacing keeps a 5-second window well below that. C(0) does not pace.
    type: float
    default: 30.0
  lone_event_seconds:
    description:
      - An event that arrives at least this many seconds after the previous one is marked
        C(burst=false), a lone change; the others C(burst=true). The shipped rulebook provisions a lone
        change at once and gathers a burst into one batch. C(0) marks every event lone.
    type: float
    default: 2.0
  models:
    description: The Nautobot models to accept; others get 422 and are ignored.
    type: list
    elements: str
    choices: [device, ipaddress]
    default: [device, ipaddress]
"""

EXAMPLES = r"""
- name: Nautobot device changes
  hosts: localhost
  sources:
    - sotsync.nautobot.webhook:
        host: 0.0.0.0
        port: 5001
        secret: "{{ nautobot_webhook_secret }}"
        nautobot_url: https://nautobot.example.com
        nautobot_token: "{{ nautobot_token }}"
        coalesce_seconds: 2
  rules:
    - name: Renamed devices
      condition: event.nautobot.action == "updated" and "name" in event.nautobot.changed_fields
      action:
        debug:
          msg: "{{ event.nautobot.object_name }} was renamed"

- name: Device events only, over HTTPS, no Nautobot look-ups
  hosts: localhost
  sources:
    - sotsync.nautobot.webhook:
        port: 5443
        secret: "{{ nautobot_webhook_secret }}"
        certfile: /etc/eda/tls/cert.pem
        keyfile: /etc/eda/tls/key.pem
        models: [device]
  rules:
    - name: Print
      condition: event.nautobot is defined
      action:
        print_event:
"""

LOGGER = logging.getLogger("sotsync.nautobot.webhook")
# Look-ups waiting or running at once; beyond this a request for one gets 503.
MAX_PENDING_LOOKUPS = 100
LOOKUP_CONCURRENCY = 4


def _collection_roots():
    """Folders that may hold ``ansible_collections/``: this file's own, then ANSIBLE_COLLECTIONS_PATH.

    ``__file__`` is taken as given (not resolved): ansible-rulebook reaches this file through the
    ``ansible_collections/sotsync/nautobot`` tree, which may be a link to a checkout.
    """
    roots = []
    here = os.path.abspath(__file__)
    parent = os.path.dirname(here)
    while parent and parent != os.path.dirname(parent):
        if os.path.basename(parent) == "ansible_collections":
            roots.append(os.path.dirname(parent))
            break
        parent = os.path.dirname(parent)
    for variable in ("ANSIBLE_COLLECTIONS_PATH", "ANSIBLE_COLLECTIONS_PATHS"):
        for entry in os.environ.get(variable, "").split(os.pathsep):
            entry = os.path.abspath(os.path.expanduser(entry)) if entry.strip() else ""
            if entry and entry not in roots:
                roots.append(entry)
    return roots


def _load_logic():
    """Import the collection's logic; make ``ansible_collections`` importable first if it is not."""
    package = "ansible_collections.sotsync.nautobot.plugins.plugin_utils"
    try:
        return importlib.import_module(f"{package}.webhook"), importlib.import_module(f"{package}.nautobot_lookup")
    except ImportError:
        pass
    roots = _collection_roots()
    for position, root in enumerate(roots):
        if root in sys.path:
            continue
        if position == 0:  # the tree this file lives in wins
            sys.path.insert(0, root)
        else:
            sys.path.append(root)
    importlib.invalidate_caches()
    try:
        return importlib.import_module(f"{package}.webhook"), importlib.import_module(f"{package}.nautobot_lookup")
    except ImportError as exc:
        raise ImportError(
            f"sotsync.nautobot.webhook cannot import its logic ({exc}); install the collection so that "
            f"<dir>/ansible_collections/sotsync/nautobot exists and set ANSIBLE_COLLECTIONS_PATH=<dir> "
            f"(searched: {', '.join(roots) or 'nothing'})"
        ) from exc


logic, lookup_lib = _load_logic()


def _ssl_context(settings):
    if not settings.certfile:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(settings.certfile, settings.keyfile)
    except (ssl.SSLError, OSError) as exc:
        raise ValueError(f"cannot load certfile/keyfile ({settings.certfile}, {settings.keyfile}): {exc}") from None
    return context


def _json(status, **body):
    return web.json_response(body, status=status)


class _Receiver:
    """Handles every request: check, reject or normalise, hand over to the coalescer."""

    def __init__(self, settings, queue, lookup):
        self.settings = settings
        self.queue = queue
        self.lookup = lookup
        self.pacer = logic.Pacer(settings.max_events_per_second, self._put)
        self.coalescer = logic.Coalescer(settings.coalesce_seconds, self._paced, LOGGER)
        self.bursts = logic.BurstMarker(settings.lone_event_seconds)
        self._tasks = set()
        self._paced_tasks = set()
        self._lookups = asyncio.Semaphore(LOOKUP_CONCURRENCY)

    async def _paced(self, event):
        """Hand the event to the pacer without holding up the HTTP answer."""
        if self.pacer.interval:
            task = asyncio.create_task(self.pacer(event))
            self._paced_tasks.add(task)
            task.add_done_callback(self._paced_tasks.discard)
        else:
            await self._put(event)

    async def _put(self, event):
        await self.queue.put(event)

    async def handle(self, request):
        try:
            return await self._handle(request)
        except logic.WebhookRejected as exc:
            LOGGER.warning(
                "Rejected %s %s from %s: %d %s", request.method, request.path, request.remote, exc.status, exc.reason
            )
            response = _json(exc.status, error=exc.reason)
            if exc.status == 405:
                response.headers["Allow"] = "POST"
            return response
        except Exception:  # noqa: BLE001 - one request must never end the source
            LOGGER.exception("Unexpected error handling %s %s from %s", request.method, request.path, request.remote)
            return _json(500, error="internal error; see the event source's log")

    async def _read_body(self, request):
        limit = self.settings.max_body_bytes
        if request.content_length is not None and request.content_length > limit:
            raise logic.WebhookRejected(413, f"body of {request.content_length} bytes is over max_body_bytes ({limit})")
        chunks, size = [], 0
        while True:
            chunk = await request.content.read(65536)
            if not chunk:
                break
            size += len(chunk)
            if size > limit:
                raise logic.WebhookRejected(413, f"body is over max_body_bytes ({limit})")
            chunks.append(chunk)
        return b"".join(chunks)

    async def _handle(self, request):
        if request.path != self.settings.path:
            raise logic.WebhookRejected(404, f"no webhook at {request.path}; post to {self.settings.path}")
        if request.method != "POST":
            raise logic.WebhookRejected(405, f"method {request.method} not allowed; use POST")
        body = await self._read_body(request)
        if self.settings.secret is not None:
            logic.verify_signature(body, self.settings.secret, request.headers.get(logic.SIGNATURE_HEADER))
        logic.check_content_type(request.headers.get("Content-Type"))
        hook = logic.validate_payload(logic.parse_body(body), self.settings.models)
        headers = logic.safe_headers(request.headers)
        if hook.model == logic.DEVICE:
            return await self._on_device(hook, request.path, headers)
        return await self._on_ipaddress(hook, request.path, headers)

    async def _on_device(self, hook, endpoint, headers):
        if self.lookup is not None:
            self.lookup.invalidate_device(hook.data["id"])
            if logic.needs_lookup(hook.data):
                self._spawn(self._device_with_lookup(hook, endpoint, headers))
                return _json(202, accepted=True, detail="looking up nested objects in Nautobot")
        event = logic.normalize_device_event(hook, endpoint, headers)
        await self._accept(event)
        return _json(200, accepted=True, object_id=event["nautobot"]["object_id"])

    async def _on_ipaddress(self, hook, endpoint, headers):
        address = hook.data.get("address")
        if hook.action != "updated":
            LOGGER.info(
                "Ignored ipaddress %s %s: only an update can change a device's primary IPv4", hook.action, address
            )
            return _json(200, accepted=False, detail=f"ipaddress {hook.action} is ignored")
        if logic.ip_candidate_devices(hook.data) == []:
            LOGGER.info("Dropped ipaddress updated %s: it is on no interface, so no device's primary IPv4", address)
            return _json(200, accepted=False, detail="the IP address is on no interface")
        if self.lookup is None:  # validate_args prevents this; kept as a guard
            raise logic.WebhookRejected(422, "ipaddress events need nautobot_url; ignored")
        self._spawn(self._ipaddress_devices(hook, endpoint, headers))
        return _json(202, accepted=True, detail="looking up the devices of this IP address in Nautobot")

    def _spawn(self, coroutine):
        if len(self._tasks) >= MAX_PENDING_LOOKUPS:
            coroutine.close()
            raise logic.WebhookRejected(503, "too many Nautobot look-ups in progress; retry later")
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _device_with_lookup(self, hook, endpoint, headers):
        try:
            async with self._lookups:
                event = await asyncio.to_thread(
                    logic.normalize_device_event, hook, endpoint, headers, self.lookup.get_object
                )
            await self._accept(event)
        except lookup_lib.NautobotLookupError as exc:
            LOGGER.error("Dropped device %s %s: %s", hook.action, hook.data.get("name") or hook.data["id"], exc)
        except Exception:  # noqa: BLE001 - log and keep serving
            LOGGER.exception("Dropped device %s %s: unexpected error", hook.action, hook.data.get("id"))

    async def _ipaddress_devices(self, hook, endpoint, headers):
        address = hook.data.get("address")
        try:
            async with self._lookups:
                devices = await asyncio.to_thread(self.lookup.devices_for_ip, hook.data["id"])
                if not devices:
                    LOGGER.info("Dropped ipaddress updated %s: it is no device's primary IPv4", address)
                    return
                events = [
                    await asyncio.to_thread(
                        logic.normalize_ipaddress_device_event, hook, device, endpoint, headers, self.lookup.get_object
                    )
                    for device in devices
                ]
            ip_changes = logic.changed_fields(hook.action, hook.data, hook.snapshots)
            for event in events:
                await self._accept(event, via=f"ipaddress {address} changed {ip_changes!r}")
        except lookup_lib.NautobotLookupError as exc:
            LOGGER.error("Dropped ipaddress updated %s: %s", address, exc)
        except Exception:  # noqa: BLE001 - log and keep serving
            LOGGER.exception("Dropped ipaddress updated %s: unexpected error", address)

    async def _accept(self, event, via=None):
        logic.add_readiness(event, self.settings.ready_statuses)
        self.bursts.mark(event)
        LOGGER.info(
            "Accepted %s%s%s",
            logic.describe(event),
            " (burst)" if event["nautobot"]["burst"] else "",
            f" (via {via})" if via else "",
        )
        await self.coalescer.add(event)

    async def close(self):
        if self._paced_tasks:
            LOGGER.warning("Stopping: %d paced event(s) were not queued", len(self._paced_tasks))
        tasks = list(self._tasks) + list(self._paced_tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        dropped = await self.coalescer.close()
        if dropped:
            LOGGER.warning(
                "Stopping: %d event(s) still in their coalescing window were not queued: %s",
                len(dropped),
                ", ".join(logic.describe(e) for e in dropped),
            )


async def main(queue, args):
    """Listen for Nautobot webhooks and put one normalised event per device change on ``queue``."""
    settings = logic.validate_args(dict(args or {}))
    ssl_context = _ssl_context(settings)
    if settings.secret is None:
        LOGGER.warning(
            "INSECURE: sotsync.nautobot.webhook accepts UNSIGNED requests (insecure_no_signature: true, no "
            "secret). Anyone who can reach port %d can trigger provisioning. Set secret for any real use.",
            settings.port,
        )
    lookup = None
    if settings.nautobot_url:
        lookup = lookup_lib.NautobotLookup(
            settings.nautobot_url,
            settings.nautobot_token,
            timeout=settings.nautobot_timeout,
            validate_certs=settings.nautobot_validate_certs,
        )
    receiver = _Receiver(settings, queue, lookup)
    app = web.Application(client_max_size=settings.max_body_bytes)
    app.router.add_route("*", "/{tail:.*}", receiver.handle)
    runner = web.AppRunner(app, access_log=None)
    try:
        await runner.setup()
        site = web.TCPSite(runner, settings.host, settings.port, ssl_context=ssl_context)
        await site.start()
        LOGGER.info(
            "Listening on %s://%s:%d%s for Nautobot webhooks (models: %s; coalescing %.1f s)",
            "https" if ssl_context else "http",
            settings.host,
            settings.port,
            settings.path,
            ", ".join(logic.SHORT_NAMES[m] for m in settings.models),
            settings.coalesce_seconds,
        )
        await asyncio.Future()
    except asyncio.CancelledError:
        LOGGER.info("sotsync.nautobot.webhook stopping")
        raise
    finally:
        await receiver.close()
        await runner.cleanup()
        if lookup is not None:
            lookup.close()


if __name__ == "__main__":
    # Standalone: print events instead of queueing them. WEBHOOK_PORT (5000), WEBHOOK_SECRET (unset:
    # unsigned requests accepted), NAUTOBOT_URL/NAUTOBOT_TOKEN (set: ipaddress events handled too).

    class MockQueue(asyncio.Queue):
        """A queue that prints."""

        async def put(self, item):
            print(json.dumps(item, indent=2))  # noqa: T201

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    standalone_args = {"port": int(os.environ.get("WEBHOOK_PORT", "5000"))}
    if os.environ.get("WEBHOOK_SECRET"):
        standalone_args["secret"] = os.environ["WEBHOOK_SECRET"]
    else:
        standalone_args["insecure_no_signature"] = True
    if not os.environ.get("NAUTOBOT_URL"):
        standalone_args["models"] = ["device"]
    try:
        asyncio.run(main(MockQueue(), standalone_args))
    except KeyboardInterrupt:
        pass
