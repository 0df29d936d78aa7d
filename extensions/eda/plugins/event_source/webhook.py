# -*- coding: utf-8 -*-
# Copyright: sotsync team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""sotsync.nautobot.webhook: Nautobot webhooks in, one clean event per device change out.

Transport only: HTTP in, a 4xx/2xx answer out, events on the queue. What a request must be is
``plugins/plugin_utils/request.py``, where it goes ``dispatch.py``, the event ``device_event.py``, its
way to the rulebook ``delivery.py``. See ``docs/event.md`` for the event.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import runpy
import ssl

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

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
  - With O(models) including C(interface), an interface created, updated or deleted becomes one event
    for its device (and its previous device if it moved), and an IP address attached to or detached
    from interfaces one event per device of those interfaces, with C(changed_fields=[interfaces]).
  - C(configcontext) bodies (Nautobot sends no webhook for config contexts; the
    C(sotsync.nautobot.changelog) source reads them) become one event per device in the context's scope
    before and after the change, with C(changed_fields=[config_context]). Both need C(nautobot_url) and
    C(nautobot_token).
  - With C(coalesce_seconds) above 0, events for the same device are merged into one until that many
    seconds pass without a new one for it (at most five times that after the first).
  - Rejected requests get a 4xx answer and a warning in the log; the source keeps serving.
    401 bad or missing signature, 404 other path, 405 other method than POST, 408 body not received
    within 10 seconds, 409 a change already accepted (replayed or delivered twice), 413 body over
    C(max_body_bytes), 415 not JSON, 400 malformed or incomplete body, 422 model not handled
    (the event is ignored). A client that does not finish its headers within 10 seconds is
    disconnected.
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
    description:
      - The Nautobot models to accept; others get 422 and are ignored.
      - C(interface) and C(configcontext) are changes of objects that change the intended
        configuration of the devices they belong to (docs/event.md, "Related objects").
    type: list
    elements: str
    choices: [device, ipaddress, interface, configcontext]
    default: [device, ipaddress]
  max_related_devices:
    description:
      - The most devices one related change (a config context's scope) may reach. A change that
        reaches more gives no events and a warning naming it; provision those devices with the
        C(sotsync.nautobot.provision_device) playbook and a limit instead.
    type: int
    default: 1000
  ledger_file:
    description:
      - The daemon's ledger of the devices owed a run (docs/daemon.md). Each device event handed to the
        rulebook is written in it first; each provisioning run the daemon starts writes in it the devices
        it took and, when it ends, each device's outcome. A device is owed until a run that took it after
        its change ends. After a restart, a device whose run was cut (stopped, killed) or that was handed
        over to the stopped daemon before a run took it is handed over again; a failure a retry can fix
        (Nautobot, Golden Config or the device unreachable, a time-out, a run stopped) is retried with
        backoff. The change-log source's events go in it too.
      - V(auto) keeps it at C($XDG_STATE_HOME/sotsync.nautobot/ledger-<port>.jsonl) (C(~/.local/state) by
        default), one per daemon. Unset, none is kept (the rulebook sets V(auto)).
    type: str
  ledger_settle_seconds:
    description:
      - A device handed over that no run took within this many seconds is left to the rulebook (its
        conditions did not run it). Longer than the longest wait for a run (the provisioning lock).
    type: float
    default: 900
  retry_max_attempts:
    description: How many tries a device whose runs keep failing for a reason a retry can fix gets, in all.
    type: int
    default: 6
  retry_first_seconds:
    description: The wait before the second try; each further wait doubles, up to O(retry_max_seconds).
    type: float
    default: 30
  retry_max_seconds:
    description: The longest wait between tries.
    type: float
    default: 600
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


# ansible-rulebook runs this file without the collection on sys.path: ../import_collection.py puts it there.
_IMPORT_COLLECTION = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "import_collection.py")
runpy.run_path(_IMPORT_COLLECTION)["import_collection"](__file__)
# pylint: disable=wrong-import-position
from ansible_collections.sotsync.nautobot.plugins.plugin_utils import request as req  # noqa: E402
from ansible_collections.sotsync.nautobot.plugins.plugin_utils import owed  # noqa: E402
from ansible_collections.sotsync.nautobot.plugins.plugin_utils.delivery import Delivery  # noqa: E402
from ansible_collections.sotsync.nautobot.plugins.plugin_utils.dispatch import NOW, PLAN_NOW, Dispatcher  # noqa: E402
from ansible_collections.sotsync.nautobot.plugins.plugin_utils.nautobot_lookup import (  # noqa: E402
    NautobotLookup,
    NautobotLookupError,
)
from ansible_collections.sotsync.nautobot.plugins.plugin_utils.settings import validate_args  # noqa: E402
from ansible_collections.sotsync.nautobot.plugins.module_utils.lifeline import export_daemon  # noqa: E402

LOGGER = logging.getLogger("sotsync.nautobot.webhook")
# Look-ups waiting or running at once; beyond this a request for one gets 503.
MAX_PENDING_LOOKUPS = 100
LOOKUP_CONCURRENCY = 4
# A client has this long to send its headers (aiohttp's keep-alive timer closes the connection) and,
# separately, its body (408): slow clients cannot hold connections open.
REQUEST_TIMEOUT = 10.0


def _ssl_context(settings):
    if not settings.certfile:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(settings.certfile, settings.keyfile)
    except (ssl.SSLError, OSError) as exc:
        raise ValueError(f"cannot load certfile/keyfile ({settings.certfile}, {settings.keyfile}): {exc}") from None
    return context


class _ServerLog(logging.LoggerAdapter):
    """aiohttp's own server log: a request that is not valid HTTP (a header line over 8 KiB, bytes that
    are not HTTP) is answered 400 by aiohttp, which then logs a traceback at ERROR. One warning line
    says it; anything else aiohttp logs goes through unchanged."""

    def exception(self, msg, *args, exc_info=True, **kwargs):
        if isinstance(exc_info, HttpProcessingError):
            reason = " ".join(str(exc_info.message or type(exc_info).__name__).split())[:200]
            self.logger.warning("Rejected malformed HTTP: %s %s (%s)", exc_info.code, type(exc_info).__name__, reason)
            return
        self.logger.exception(msg, *args, exc_info=exc_info, **kwargs)


def _json(status, **body):
    return web.json_response(body, status=status)


class _Receiver:
    """Transport: read and check the request, answer, hand the events to delivery."""

    def __init__(self, settings, put, lookup):
        self.settings = settings
        self.lookup = lookup
        self.dispatcher = Dispatcher(
            lookup,
            log=LOGGER,
            max_related_devices=settings.max_related_devices,
            ip_attachments=req.INTERFACE in settings.models,
        )
        self.delivery = Delivery(
            put,
            settings.ready_statuses,
            settings.lone_event_seconds,
            settings.coalesce_seconds,
            settings.max_events_per_second,
            log=LOGGER,
        )
        self._tasks = set()
        self._lookups = asyncio.Semaphore(LOOKUP_CONCURRENCY)

    async def handle(self, request):
        try:
            return await self._handle(request)
        except req.RequestRejected as exc:
            LOGGER.warning(
                "Rejected %s %s from %s: %d %s",
                request.method,
                request.path[:200],
                request.remote,
                exc.status,
                exc.reason,
            )
            response = _json(exc.status, error=exc.reason)
            if exc.status == 405:
                response.headers["Allow"] = "POST"
            return response
        except (ConnectionError, asyncio.IncompleteReadError) as exc:
            LOGGER.warning(
                "Dropped %s %s from %s: the client went away (%s)",
                request.method,
                request.path[:200],
                request.remote,
                type(exc).__name__,
            )
            return _json(400, error="incomplete request")
        except Exception:  # noqa: BLE001 - one request must never end the source
            LOGGER.exception("Unexpected error handling %s %s from %s", request.method, request.path, request.remote)
            return _json(500, error="internal error; see the event source's log")

    async def _read_body(self, request):
        limit = self.settings.max_body_bytes
        if request.content_length is not None and request.content_length > limit:
            raise req.RequestRejected(413, f"body of {request.content_length} bytes is over max_body_bytes ({limit})")
        chunks, size = [], 0
        try:
            async with asyncio.timeout(REQUEST_TIMEOUT):
                while True:
                    chunk = await request.content.read(65536)
                    if not chunk:
                        break
                    size += len(chunk)
                    if size > limit:
                        raise req.RequestRejected(413, f"body is over max_body_bytes ({limit})")
                    chunks.append(chunk)
        except TimeoutError:
            raise req.RequestRejected(408, f"body not received within {REQUEST_TIMEOUT:g} seconds") from None
        return b"".join(chunks)

    async def _handle(self, request):
        if request.path != self.settings.path:
            raise req.RequestRejected(404, f"no webhook at {request.path[:100]}; post to {self.settings.path}")
        if request.method != "POST":
            raise req.RequestRejected(405, f"method {request.method[:20]} not allowed; use POST")
        body = await self._read_body(request)
        if self.settings.secret is not None:
            req.verify_signature(body, self.settings.secret, request.headers.get(req.SIGNATURE_HEADER))
        req.check_content_type(request.headers.get("Content-Type"))
        hook = req.validate_payload(req.parse_body(body), self.settings.models)
        route = self.dispatcher.route(hook)
        if not route.accepted:
            return _json(200, accepted=False, detail=route.detail)
        endpoint, headers = request.path, req.safe_headers(request.headers)
        if route.work in (NOW, PLAN_NOW):
            events, via = self.dispatcher.events(hook, route, endpoint, headers)
            for event in events:
                await self.delivery.accept(event, via)
            return _json(200, accepted=True, object_id=hook.data["id"])
        if len(self._tasks) >= MAX_PENDING_LOOKUPS:
            raise req.RequestRejected(503, "too many Nautobot look-ups in progress; retry later")
        task = asyncio.create_task(self._look_up(hook, route, endpoint, headers))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return _json(202, accepted=True, detail=route.detail)

    async def _look_up(self, hook, route, endpoint, headers):
        what = (
            f"{hook.short_model} {hook.action} {hook.data.get('address') or hook.data.get('name') or hook.data['id']}"
        )
        try:
            async with self._lookups:
                events, via = await asyncio.to_thread(self.dispatcher.events, hook, route, endpoint, headers)
            for event in events:
                await self.delivery.accept(event, via)
        except NautobotLookupError as exc:
            LOGGER.error("Dropped %s: %s", what, exc)
        except Exception:  # noqa: BLE001 - log and keep serving
            LOGGER.exception("Dropped %s: unexpected error", what)

    async def close(self):
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        await self.delivery.close()


async def main(queue, args):
    """Listen for Nautobot webhooks and put one normalised event per device change on ``queue``."""
    daemon = export_daemon()  # the runs this daemon starts end when it is gone (module_utils/lifeline.py)
    settings = validate_args(dict(args or {}))
    ssl_context = _ssl_context(settings)
    keeper = owed.KEEPER
    if settings.ledger_file:  # the devices owed a run, handed over again after a stop or a failure
        keeper.bind(
            owed.default_path(settings.port) if settings.ledger_file == "auto" else settings.ledger_file,
            daemon,
            settle_seconds=settings.ledger_settle_seconds,
            max_attempts=settings.retry_max_attempts,
            retry_first=settings.retry_first_seconds,
            retry_max=settings.retry_max_seconds,
        )
    if settings.secret is None:
        LOGGER.warning(
            "INSECURE: sotsync.nautobot.webhook accepts UNSIGNED requests (insecure_no_signature: true, no "
            "secret). Anyone who can reach port %d can trigger provisioning. Set secret for any real use.",
            settings.port,
        )
    lookup = None
    if settings.nautobot_url:
        lookup = NautobotLookup(
            settings.nautobot_url,
            settings.nautobot_token,
            timeout=settings.nautobot_timeout,
            validate_certs=settings.nautobot_validate_certs,
        )
    receiver = _Receiver(settings, keeper.recording(queue.put) if keeper.bound else queue.put, lookup)
    again = asyncio.create_task(keeper.run(queue.put)) if keeper.bound else None
    app = web.Application(client_max_size=settings.max_body_bytes)
    app.router.add_route("*", "/{tail:.*}", receiver.handle)
    runner = web.AppRunner(
        app, access_log=None, keepalive_timeout=REQUEST_TIMEOUT, logger=_ServerLog(logging.getLogger("aiohttp.server"))
    )
    try:
        await runner.setup()
        site = web.TCPSite(runner, settings.host, settings.port, ssl_context=ssl_context)
        await site.start()
        receiver.delivery.start()
        LOGGER.info(
            "Listening on %s://%s:%d%s for Nautobot webhooks (models: %s; coalescing %.1f s)",
            "https" if ssl_context else "http",
            settings.host,
            settings.port,
            settings.path,
            ", ".join(req.SHORT_NAMES[m] for m in settings.models),
            settings.coalesce_seconds,
        )
        await asyncio.Future()
    except asyncio.CancelledError:
        LOGGER.info("sotsync.nautobot.webhook stopping")
        raise
    finally:
        if again is not None:
            again.cancel()
            await asyncio.gather(again, return_exceptions=True)
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
            print(json.dumps(item, indent=2), flush=True)  # noqa: T201

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
