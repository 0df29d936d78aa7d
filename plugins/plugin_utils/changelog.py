# -*- coding: utf-8 -*-
# Copyright: sotsync team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The logic of the ``sotsync.nautobot.changelog`` event source, in plain Python.

Nautobot does not retry a webhook: a change made while the rulebook daemon is down is lost to the
webhook source. This source reads Nautobot's object-change log (``/api/extras/object-changes/``)
from a cursor kept in a file and emits the same events as ``sotsync.nautobot.webhook``:

- ``validate_args``: the source's arguments, checked once (``ValueError`` on any fault);
- ``parse_change`` / ``webhook_body``: an object change (and the one before it for the same object)
  -> the body Nautobot's webhook would have sent (``ObjectChange.get_snapshots``,
  ``extras.webhooks.enqueue_webhooks``, ``extras.tasks.process_webhook``), which then goes through the
  webhook source's own validation and normalisation, so the events are the same;
- :class:`ChangelogReader`: one read per model (``changed_object_type`` takes one value), filtered
  by ``time__gte``, sorted ``time,id``, every page followed, errors retried with a capped backoff;
- :class:`ChangelogSource`: the poll loop: merge the models' changes in time order, emit each new one
  once (also across sources: ``delivered.first_delivery``), save the cursor after each batch.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import os
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

try:
    import requests

    HAS_REQUESTS = True
except ImportError:  # pragma: no cover - exercised only without the dependency
    HAS_REQUESTS = False

from ansible_collections.sotsync.nautobot.plugins.module_utils.messages import DEFAULT_READY_STATUSES
from ansible_collections.sotsync.nautobot.plugins.plugin_utils import delivered, related
from ansible_collections.sotsync.nautobot.plugins.plugin_utils.nautobot_lookup import NautobotLookupError
from ansible_collections.sotsync.nautobot.plugins.plugin_utils.changelog_cursor import (
    Cursor,
    CursorError,
    default_cursor_path,
    format_time,
    load_cursor,
    parse_time,
    save_cursor,
)

# --- the webhook source's logic: every name this module takes from it -------------------------------
from ansible_collections.sotsync.nautobot.plugins.plugin_utils.delivery import BurstMarker, Pacer, merge_events
from ansible_collections.sotsync.nautobot.plugins.plugin_utils.device_event import (
    add_readiness,
    changed_fields,
    describe,
    PLAN_NESTED_TYPES,
    ip_candidate_devices,
    is_plan_event,
    needs_lookup,
    normalize_config_plan_event,
    normalize_device_event,
    normalize_ipaddress_device_event,
)
from ansible_collections.sotsync.nautobot.plugins.plugin_utils.request import (
    CONFIG_PLAN,
    DEFAULT_MODELS,
    DEVICE,
    INTERFACE,
    IPADDRESS,
    SHORT_NAMES,
    RequestRejected,
    validate_payload,
)
from ansible_collections.sotsync.nautobot.plugins.plugin_utils.settings import (
    DEFAULT_LONE_EVENT_SECONDS,
    DEFAULT_MAX_RELATED_DEVICES,
    DEFAULT_MAX_EVENTS_PER_SECOND,
    as_bool,
    as_float,
    as_int,
    as_text,
    canonical_models,
)

logger = logging.getLogger(__name__)

API_PATH = "/api/extras/object-changes/"
# meta.endpoint of this source's events: a webhook's is the path Nautobot posted to, always "/...".
ENDPOINT = "changelog"
ACTION_NAMES = {"create": "created", "update": "updated", "delete": "deleted"}

DEFAULT_POLL_INTERVAL = 10.0
DEFAULT_OVERLAP_SECONDS = 60.0
DEFAULT_SINCE = 0.0
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000  # Nautobot's MAX_PAGE_SIZE default
DEFAULT_RETRY_MAX_SECONDS = 60.0
RETRY_FIRST_SECONDS = 1.0
DEFAULT_TIMEOUT = 30.0
PREVIOUS_CACHE_SIZE = 1000
# Pages of the batched read of the changes before a page's updates (long histories: then one by one).
PREFETCH_MAX_PAGES = 3
# Object ids per batched read (about 37 characters each in its URL).
PREFETCH_IDS = 50
# A change whose device look-up fails is read again at the next poll, at most this many times in all.
LOOKUP_ATTEMPTS = 3

ARGUMENTS = (
    "nautobot_url",
    "nautobot_token",
    "nautobot_validate_certs",
    "nautobot_timeout",
    "models",
    "cursor_file",
    "since",
    "poll_interval",
    "overlap_seconds",
    "page_size",
    "retry_max_seconds",
    "ready_statuses",
    "max_events_per_second",
    "lone_event_seconds",
    "max_related_devices",
)


class NautobotUnavailable(Exception):
    """One failed request to Nautobot; the message names the problem and never the token."""


# --- arguments ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Settings:
    """The validated arguments of the source. The token is kept out of ``repr``."""

    nautobot_url: str
    nautobot_token: str = field(repr=False)
    cursor_file: str
    nautobot_validate_certs: bool = True
    nautobot_timeout: float = DEFAULT_TIMEOUT
    models: tuple = DEFAULT_MODELS
    since: float = DEFAULT_SINCE
    poll_interval: float = DEFAULT_POLL_INTERVAL
    overlap_seconds: float = DEFAULT_OVERLAP_SECONDS
    page_size: int = DEFAULT_PAGE_SIZE
    retry_max_seconds: float = DEFAULT_RETRY_MAX_SECONDS
    ready_statuses: tuple = DEFAULT_READY_STATUSES
    max_events_per_second: float = DEFAULT_MAX_EVENTS_PER_SECOND
    lone_event_seconds: float = DEFAULT_LONE_EVENT_SECONDS
    max_related_devices: int = DEFAULT_MAX_RELATED_DEVICES


def validate_args(args, environ=None):
    """Check the source's arguments; return :class:`Settings` or raise ``ValueError``.

    ``environ`` (default ``os.environ``) supplies ``NAUTOBOT_URL`` / ``NAUTOBOT_TOKEN`` (and
    ``XDG_STATE_HOME`` for the default cursor file). Keys starting with ``eda_`` are ansible-rulebook's.
    """
    environ = os.environ if environ is None else environ
    if not isinstance(args, dict):
        raise ValueError("the source's arguments must be a mapping")
    unknown = sorted(k for k in args if k not in ARGUMENTS and not str(k).startswith("eda_"))
    if unknown:
        raise ValueError(f"unknown argument(s): {', '.join(unknown)}; valid arguments: {', '.join(ARGUMENTS)}")
    url = as_text("nautobot_url", args.get("nautobot_url")) or (environ.get("NAUTOBOT_URL") or "").strip()
    token = as_text("nautobot_token", args.get("nautobot_token")) or (environ.get("NAUTOBOT_TOKEN") or "").strip()
    if not url:
        raise ValueError("Missing required argument: nautobot_url (or NAUTOBOT_URL)")
    if not url.lower().startswith(("http://", "https://")):
        raise ValueError(f"nautobot_url must start with http:// or https://, got {url!r}")
    if not token:
        raise ValueError("Missing required argument: nautobot_token (or NAUTOBOT_TOKEN)")
    url = url.rstrip("/")
    cursor_file = as_text("cursor_file", args.get("cursor_file"))
    cursor_file = os.path.abspath(os.path.expanduser(cursor_file)) if cursor_file else default_cursor_path(url, environ)
    if os.path.isdir(cursor_file):
        raise ValueError(f"cursor_file {cursor_file!r} is a folder; give a file name")
    ready_statuses = args.get("ready_statuses", list(DEFAULT_READY_STATUSES))
    if isinstance(ready_statuses, str):
        ready_statuses = [part.strip() for part in ready_statuses.split(",")]
    if not isinstance(ready_statuses, (list, tuple)) or not all(
        isinstance(item, str) and item.strip() for item in ready_statuses
    ):
        raise ValueError(f"ready_statuses must be a list of status names, got {ready_statuses!r}")
    return Settings(
        nautobot_url=url,
        nautobot_token=token,
        cursor_file=cursor_file,
        nautobot_validate_certs=as_bool("nautobot_validate_certs", args.get("nautobot_validate_certs", True)),
        nautobot_timeout=as_float("nautobot_timeout", args.get("nautobot_timeout", DEFAULT_TIMEOUT), 0.1),
        models=canonical_models(args.get("models", list(DEFAULT_MODELS))),
        since=as_float("since", args.get("since", DEFAULT_SINCE), 0.0),
        poll_interval=as_float("poll_interval", args.get("poll_interval", DEFAULT_POLL_INTERVAL), 0.1),
        overlap_seconds=as_float("overlap_seconds", args.get("overlap_seconds", DEFAULT_OVERLAP_SECONDS), 0.0),
        page_size=as_int("page_size", args.get("page_size", DEFAULT_PAGE_SIZE), 1, MAX_PAGE_SIZE),
        retry_max_seconds=as_float(
            "retry_max_seconds", args.get("retry_max_seconds", DEFAULT_RETRY_MAX_SECONDS), RETRY_FIRST_SECONDS
        ),
        ready_statuses=tuple(item.strip() for item in ready_statuses),
        max_events_per_second=as_float(
            "max_events_per_second", args.get("max_events_per_second", DEFAULT_MAX_EVENTS_PER_SECOND), 0.0
        ),
        lone_event_seconds=as_float(
            "lone_event_seconds", args.get("lone_event_seconds", DEFAULT_LONE_EVENT_SECONDS), 0.0
        ),
        max_related_devices=as_int(
            "max_related_devices", args.get("max_related_devices", DEFAULT_MAX_RELATED_DEVICES), 1, 100000
        ),
    )


# --- object changes -> webhook bodies --------------------------------------------------------------
@dataclass
class Change:
    """One entry of the object-change log, as far as this source reads it."""

    id: str
    time: datetime
    action: str  # create | update | delete (Nautobot's ObjectChangeActionChoices values)
    content_type: str  # e.g. dcim.device
    object_id: str
    request_id: str | None
    user_name: str | None
    data: dict | None  # object_data_v2 (the REST serializer at depth 1), what a webhook carries
    data_v1: dict | None  # object_data (the legacy serialisation)

    @property
    def order(self):
        return (self.time, self.id)

    def label(self):
        return f"{self.content_type} {self.action} {self.object_id} (change {self.id} at {format_time(self.time)})"


def parse_change(item):
    """An object-change JSON object (``/api/extras/object-changes/``) -> :class:`Change`.

    ``ValueError`` when a key this source needs is missing or ill-typed. ``action`` is Nautobot's
    choice field, ``{"value": "update", "label": "Updated"}``; a bare ``"update"`` is accepted too.
    """
    if not isinstance(item, dict):
        raise ValueError("an object change must be a JSON object")
    change_id = item.get("id")
    if not isinstance(change_id, str) or not change_id:
        raise ValueError("id is missing")
    action = item.get("action")
    if isinstance(action, dict):
        action = action.get("value")
    if action not in ACTION_NAMES:
        raise ValueError(f"action {action!r} is not create, update or delete")
    content_type = item.get("changed_object_type")
    if isinstance(content_type, dict):  # depth >= 1 or an older serializer
        content_type = content_type.get("app_label", "") + "." + content_type.get("model", "")
    if not isinstance(content_type, str) or "." not in content_type:
        raise ValueError(f"changed_object_type {content_type!r} is not <app>.<model>")
    object_id = item.get("changed_object_id")
    if not isinstance(object_id, str) or not object_id:
        raise ValueError("changed_object_id is missing")
    data, data_v1 = item.get("object_data_v2"), item.get("object_data")
    return Change(
        id=change_id,
        time=parse_time(item.get("time")),
        action=action,
        content_type=content_type.lower(),
        object_id=object_id,
        request_id=str(item["request_id"]) if item.get("request_id") else None,
        user_name=item.get("user_name") if isinstance(item.get("user_name"), str) else None,
        data=data if isinstance(data, dict) else None,
        data_v1=data_v1 if isinstance(data_v1, dict) else None,
    )


def _shallow_diff(before, after):
    """Nautobot's ``shallow_compare_dict(prechange, postchange, exclude=["last_updated"])``."""
    return {key: value for key, value in after.items() if before.get(key) != value and key != "last_updated"}


def snapshots(change, previous):
    """``ObjectChange.get_snapshots()`` of ``change``, ``previous`` being the object's change before it.

    create: no prechange; update: the previous change's data (None when the log has none, as
    Nautobot's own fallback outside the original request); delete: the previous change's data, or the
    deleted object's own data. ``differences``: the shallow diff, as Nautobot builds it.
    """
    prechange = postchange = None
    if change.action != "create":
        if previous is not None:
            prechange = previous.data or previous.data_v1
        elif change.action == "delete":
            prechange = change.data or change.data_v1
    if change.action != "delete":
        postchange = change.data if change.data is not None else change.data_v1
    if prechange and postchange:
        if change.data is None or (previous is not None and previous.data is None):
            prechange = previous.data_v1 if previous is not None else prechange
            postchange = change.data_v1
        added = _shallow_diff(prechange or {}, postchange or {})
        removed = {key: (prechange or {}).get(key) for key in added}
    elif prechange and not postchange:
        added, removed = None, prechange
    else:
        added, removed = postchange, None
    return {"prechange": prechange, "postchange": postchange, "differences": {"removed": removed, "added": added}}


def webhook_body(change, previous=None):
    """The body Nautobot's webhook would send for ``change`` (``extras.tasks.process_webhook``).

    ``timestamp`` is the change's own time (a webhook carries the time it was queued, a moment later).
    """
    return {
        "event": ACTION_NAMES[change.action],
        "timestamp": format_time(change.time),
        "model": change.content_type.split(".", 1)[1],
        "username": change.user_name,
        "request_id": change.request_id,
        "data": change.data if change.data is not None else change.data_v1,
        "snapshots": snapshots(change, previous),
    }


# --- HTTP ------------------------------------------------------------------------------------------
@dataclass
class Page:
    """One answer of Nautobot: the JSON body and Nautobot's clock (the ``Date`` header), if any."""

    body: dict
    date: datetime | None = None


def _http_date(value):
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=timezone.utc)


class HttpClient:
    """Blocking GETs to Nautobot's REST API with ``requests``; every failure -> ``NautobotUnavailable``."""

    def __init__(self, url, token, timeout=DEFAULT_TIMEOUT, validate_certs=True):
        if not HAS_REQUESTS:
            raise ValueError("The Python library requests is required (pip install requests)")
        self.url = url.rstrip("/")
        self.timeout = float(timeout)
        self.session = requests.Session()
        self.session.verify = validate_certs
        self.session.headers.update({"Authorization": f"Token {token}", "Accept": "application/json"})

    def get(self, url, params=None):
        try:
            response = self.session.get(url, params=params, timeout=self.timeout)
        except requests.exceptions.Timeout:
            raise NautobotUnavailable(f"no answer within {self.timeout:g} s") from None
        except requests.exceptions.ConnectionError as exc:
            reason = "connection refused" if "refused" in str(exc).lower() else "unreachable"
            raise NautobotUnavailable(f"{reason} ({type(exc).__name__})") from None
        except requests.exceptions.RequestException as exc:
            raise NautobotUnavailable(type(exc).__name__) from None
        if response.status_code >= 400:
            detail = f"HTTP {response.status_code}"
            if response.status_code in (401, 403):
                detail += " (check nautobot_token and its permissions)"
            elif response.status_code < 500:
                detail += f": {response.text[:200]}"
            raise NautobotUnavailable(detail)
        try:
            body = response.json()
        except ValueError:
            raise NautobotUnavailable(f"HTTP {response.status_code} with a body that is not JSON") from None
        if not isinstance(body, dict):
            raise NautobotUnavailable("the answer is not a JSON object")
        return Page(body, _http_date(response.headers.get("Date")))

    def close(self):
        self.session.close()


class Backoff:
    """Waits of 1, 2, 4 ... seconds, capped at ``maximum``; ``reset()`` after a success."""

    def __init__(self, maximum=DEFAULT_RETRY_MAX_SECONDS, first=RETRY_FIRST_SECONDS):
        self.first = float(first)
        self.maximum = max(float(maximum), self.first)
        self.failures = 0

    def next_delay(self):
        delay = min(self.first * (2**self.failures), self.maximum)
        self.failures += 1
        return delay

    def reset(self):
        self.failures = 0


class ChangelogReader:
    """Reads the object-change log; retries each request until Nautobot answers (never raises for it).

    ``client.get(url, params) -> Page`` is blocking (run in a thread); ``sleep`` is injectable.
    ``before_wait`` (a callable) runs before each backoff wait: the source saves its cursor there.
    """

    def __init__(self, client, base_url, page_size=DEFAULT_PAGE_SIZE, retry_max=DEFAULT_RETRY_MAX_SECONDS, sleep=None):
        self.client = client
        self.base_url = base_url.rstrip("/")
        self.endpoint = self.base_url + API_PATH
        self.page_size = int(page_size)
        self.backoff = Backoff(retry_max)
        self.sleep = sleep or asyncio.sleep
        self.before_wait = None
        self.requests = 0

    async def get(self, url, params, what):
        """GET with retries: one WARNING line per failed attempt, one INFO line when Nautobot is back."""
        while True:
            self.requests += 1
            try:
                page = await asyncio.to_thread(self.client.get, url, params)
            except NautobotUnavailable as exc:
                problem = str(exc)
            except Exception as exc:  # noqa: BLE001 - never let one bad answer end the source
                problem = f"unexpected {type(exc).__name__}"
            else:
                if self.backoff.failures:
                    logger.info(
                        "Nautobot at %s answers again (after %d failed attempt(s))",
                        self.base_url,
                        self.backoff.failures,
                    )
                self.backoff.reset()
                return page
            delay = self.backoff.next_delay()
            logger.warning(
                "Nautobot at %s failed while %s: %s; retrying in %.0f s (attempt %d)",
                self.base_url,
                what,
                problem,
                delay,
                self.backoff.failures,
            )
            if self.before_wait is not None:
                self.before_wait()
            await self.sleep(delay)

    def _next_url(self, next_url):
        """Follow Nautobot's ``next`` link on the configured URL only (the token goes nowhere else)."""
        query = urlsplit(next_url).query
        return f"{self.endpoint}?{query}" if query else None

    async def now(self):
        """Nautobot's clock (its ``Date`` header, to the second); this host's clock if it has none."""
        page = await self.get(self.endpoint, {"limit": 1}, "reading its clock")
        if page.date is None:
            logger.warning("Nautobot at %s sent no Date header; using this host's clock", self.base_url)
            return datetime.now(timezone.utc)
        return page.date

    async def changes(self, model, since):
        """Every change of ``model`` with ``time >= since``, oldest first: one list of raw dicts per page.

        Raises ``NautobotUnavailable`` for an answer without ``results`` or a page that is not in time
        order (Nautobot ignored ``sort=time,id``): the caller stops this poll there and reads again at
        the next one, so the cursor never passes a change that was not read.
        """
        params = {
            "changed_object_type": model,
            "time__gte": format_time(since),
            "sort": "time,id",
            "limit": self.page_size,
        }
        url, query = self.endpoint, params
        last = None
        while url:
            page = await self.get(url, query, f"reading the {model} changes since {format_time(since)}")
            results = page.body.get("results")
            if not isinstance(results, list):
                raise NautobotUnavailable(f"its answer for the {model} changes has no results list")
            times = []
            for item in results:
                try:
                    times.append(parse_time(item.get("time")) if isinstance(item, dict) else None)
                except ValueError:
                    times.append(None)
            known = [t for t in times if t is not None]
            if (last is not None and known and known[0] < last) or known != sorted(known):
                raise NautobotUnavailable(f"it did not sort the {model} changes by time (sort=time,id ignored?)")
            if known:
                last = known[-1]
            yield results
            next_url = page.body.get("next")
            url, query = (self._next_url(next_url) if isinstance(next_url, str) else None), None

    async def previous_many(self, content_type, object_ids, before, max_pages=None):
        """The latest change before ``before`` of each object of ``object_ids`` (one model), in few requests.

        ``{object_id: Change}`` and whether the answer is complete: ``True`` when every object was found
        or the log ran out (an object not found has no earlier change); ``False`` when ``max_pages``
        pages did not reach every object (long histories): ask those one by one (:meth:`previous`).
        """
        wanted = set(object_ids)
        found = {}
        params = {
            "changed_object_type": content_type,
            "changed_object_id": sorted(wanted),
            "time__lt": format_time(before),
            "sort": "-time",
            "limit": self.page_size,
        }
        url, query = self.endpoint, params
        for _page in range(max_pages or PREFETCH_MAX_PAGES):
            page = await self.get(url, query, f"reading the changes before {len(wanted)} {content_type} change(s)")
            results = page.body.get("results")
            if not isinstance(results, list):
                return found, False
            for item in results:
                try:
                    earlier = parse_change(item)
                except ValueError:
                    continue
                if earlier.object_id in wanted and earlier.object_id not in found:
                    found[earlier.object_id] = earlier
            if len(found) == len(wanted):
                return found, True
            next_url = page.body.get("next")
            if not isinstance(next_url, str):
                return found, True
            url, query = self._next_url(next_url), None
            if url is None:
                return found, False
        return found, False

    async def previous(self, change):
        """The change before ``change`` for the same object (``ObjectChange.get_prev_change``), or None."""
        params = {
            "changed_object_type": change.content_type,
            "changed_object_id": change.object_id,
            "time__lt": format_time(change.time),
            "sort": "-time",
            "limit": 1,
        }
        page = await self.get(self.endpoint, params, f"reading the change before {change.id}")
        results = page.body.get("results")
        if not isinstance(results, list) or not results:
            return None
        try:
            return parse_change(results[0])
        except ValueError:
            return None


async def merge(streams, on_page=None):
    """Merge async page streams of raw changes, each sorted by (time, id), into one ordered stream.

    Holds at most one page per stream. Entries that cannot be read are logged and left out.
    ``on_page`` (a coroutine function) receives each page's changes before any of them is yielded.
    """
    iterators = [stream.__aiter__() for stream in streams]
    buffers = [[] for _iterator in iterators]
    done = [False] * len(iterators)

    async def refill(index):
        while not buffers[index] and not done[index]:
            try:
                page = await iterators[index].__anext__()
            except StopAsyncIteration:
                done[index] = True
                return
            for item in page:
                try:
                    buffers[index].append(parse_change(item))
                except ValueError as exc:
                    ident = item.get("id") if isinstance(item, dict) else None
                    logger.warning("Skipped object change %s: %s", ident, exc)
            if on_page is not None and buffers[index]:
                await on_page(list(buffers[index]))

    for index in range(len(iterators)):
        await refill(index)
    while True:
        candidates = [i for i in range(len(iterators)) if buffers[i]]
        if not candidates:
            return
        index = min(candidates, key=lambda i: buffers[i][0].order)
        yield buffers[index].pop(0)
        await refill(index)


# --- the source ------------------------------------------------------------------------------------
class ChangelogSource:
    """Polls the change log and puts one normalised event per new device change on the queue.

    ``put`` is the queue's ``put`` coroutine; ``lookup`` a ``NautobotLookup`` (IP address -> devices,
    reference-only nested objects); ``client`` a :class:`HttpClient`-like object; ``sleep``, ``clock``
    and ``registry`` (``delivered.REGISTRY``) are injectable. ``save`` writes the cursor
    (``changelog_cursor.save_cursor``).
    """

    def __init__(
        self,
        settings,
        put,
        client,
        lookup=None,
        sleep=None,
        registry=None,
        save=save_cursor,
        clock=time.monotonic,
    ):
        self.settings = settings
        self.lookup = lookup
        self.sleep = sleep or asyncio.sleep
        self.registry = registry or delivered.REGISTRY
        self.save = save
        self.reader = ChangelogReader(
            client, settings.nautobot_url, settings.page_size, settings.retry_max_seconds, self.sleep
        )
        self.reader.before_wait = self._save_if_flushed
        # events read but not yet queued: one per device, merged (a device changed several times
        # between two saves of the cursor is delivered once, with the union of its changed fields)
        self._held = OrderedDict()
        # On the real clock, the pacer shares the process's hand-over slots with the webhook source.
        self.pacer = Pacer(settings.max_events_per_second, put, clock=clock, sleep=self.sleep)
        self.bursts = BurstMarker(settings.lone_event_seconds, clock=clock)
        self.cursor = None
        self._unsaved = 0
        self._previous = OrderedDict()  # (content type, object id) -> its latest Change seen
        # (content type, object id) -> (time of its first change in the page read, the change before
        # it or None when the log has none), read for a whole page at once (_prefetch_previous)
        self._prefetched = {}
        self._lookup_failures = {}  # change id -> failed look-ups so far
        self.stats = {"queued": 0, "duplicates": 0, "ignored": 0}

    # cursor
    async def start(self):
        """Load the cursor, or make the first one: Nautobot's clock minus ``since``."""
        try:
            self.cursor = load_cursor(self.settings.cursor_file, self.settings.nautobot_url)
        except CursorError as exc:
            raise ValueError(str(exc)) from None
        if self.cursor is not None:
            logger.info(
                "Change log: resuming from %s (cursor %s, %d change(s) at the boundary)",
                format_time(self.cursor.time),
                self.settings.cursor_file,
                len(self.cursor.seen),
            )
            return self.cursor
        start = await self.reader.now() - timedelta(seconds=self.settings.since)
        self.cursor = Cursor(time=start, start=start, nautobot_url=self.settings.nautobot_url)
        self._unsaved = 1
        self.save_now()  # a restart before the first change resumes from this start, not from a new "now"
        logger.info(
            "Change log: no cursor at %s; starting from %s (since: %g s)",
            self.settings.cursor_file,
            format_time(start),
            self.settings.since,
        )
        return self.cursor

    def save_now(self):
        """Save the cursor if it moved; a failed save is logged and tried again at the next batch."""
        if self.cursor is None or not self._unsaved:
            return
        self.cursor.prune(self.settings.overlap_seconds)
        try:
            self.save(self.settings.cursor_file, self.cursor)
        except OSError as exc:
            logger.error("Could not save the change-log cursor %s: %s", self.settings.cursor_file, exc)
            return
        self._unsaved = 0

    # one poll
    async def poll(self):
        """Read every change since the cursor (minus the overlap), emit the new ones; return their count."""
        since = self.cursor.window_start(self.settings.overlap_seconds)
        streams = [self.reader.changes(model, since) for model in self.settings.models]
        new = 0
        try:
            async for change in merge(streams, on_page=self._prefetch_previous):
                if not self.cursor.handled(change.id):
                    new += 1
                    if self.cursor.emits(change.time):
                        try:
                            await self.handle(change)
                        except NautobotUnavailable:
                            raise
                        except Exception:  # noqa: BLE001 - one change must never end the source
                            logger.exception("Dropped %s: unexpected error", change.label())
                    self.cursor.mark(change.id, change.time)
                    self._unsaved += 1
                    if self._unsaved >= self.settings.page_size:
                        await self._flush()
                        self.save_now()
                self._remember(change)
        except NautobotUnavailable as exc:
            logger.warning(
                "Nautobot at %s: %s; this poll stops here, the next one reads again", self.reader.base_url, exc
            )
        finally:
            try:
                await self._flush()
            finally:
                self.save_now()
        return new

    def _save_if_flushed(self):
        """Before a retry wait: save the cursor only when every change it covers is queued."""
        if not self._held:
            self.save_now()

    def _hold(self, event, note):
        # per device and action: a device created, then changed, is a create and an update, as the
        # webhook would have delivered them (the rulebook decides each by its own flag)
        key = (event["nautobot"]["object_id"], event["nautobot"]["action"])
        if key in self._held:
            earlier, notes = self._held.pop(key)
            event = merge_events(earlier, event)
            notes = notes + [note]
        else:
            notes = [note]
        self._held[key] = (event, notes)

    async def _flush(self):
        """Queue the held events (paced), oldest device first."""
        while self._held:
            _key, (event, notes) = self._held.popitem(last=False)
            await self.pacer(event)
            self.stats["queued"] += 1
            logger.info(
                "Accepted %s (burst) (from the change log: %s)",
                describe(event),
                "; ".join(notes) if len(notes) <= 3 else "; ".join(notes[:2] + [f"... {len(notes)} changes"]),
            )

    async def run(self):
        """Poll forever (until cancelled), ``poll_interval`` seconds between polls."""
        if self.cursor is None:
            await self.start()
        try:
            while True:
                new = await self.poll()
                if new:
                    logger.info(
                        "Change log: %d new change(s); %d event(s) queued so far, %d already delivered, "
                        "%d ignored; cursor at %s",
                        new,
                        self.stats["queued"],
                        self.stats["duplicates"],
                        self.stats["ignored"],
                        format_time(self.cursor.time),
                    )
                await self.sleep(self.settings.poll_interval)
        finally:
            self.save_now()

    # one change
    def _remember(self, change):
        key = (change.content_type, change.object_id)
        self._previous[key] = change
        self._previous.move_to_end(key)
        while len(self._previous) > PREVIOUS_CACHE_SIZE:
            self._previous.popitem(last=False)

    def _raw_key(self, change):
        return delivered.change_key(
            change.request_id,
            change.content_type,
            change.object_id,
            ACTION_NAMES[change.action],
            change.data if change.data is not None else change.data_v1,
        )

    async def _prefetch_previous(self, changes):
        """Read the changes before a page's updates in one request per model, not one per object.

        Only for updates that need it: not handled yet, not delivered by the webhook, and whose
        object's earlier change is not already known from this poll.
        """
        firsts = {}  # (content type, object id) -> time of its first change in the page
        for change in changes:
            key = (change.content_type, change.object_id)
            if (
                change.action != "update"
                or change.content_type not in self.settings.models
                or key in firsts
                or self.cursor.handled(change.id)
                or self.registry.seen(self._raw_key(change))
            ):
                continue
            known = self._previous.get(key)
            if known is not None and known.time < change.time:
                continue
            firsts[key] = change.time
        by_model = {}
        for (content_type, object_id), first in firsts.items():
            by_model.setdefault(content_type, []).append((object_id, first))
        for content_type, all_objects in by_model.items():
            before = min(first for _object_id, first in all_objects)
            for start in range(0, len(all_objects), PREFETCH_IDS):  # URLs stay short (uWSGI's buffer-size)
                await self._prefetch_chunk(content_type, all_objects[start : start + PREFETCH_IDS], before)

    async def _prefetch_chunk(self, content_type, objects, before):
        found, complete = await self.reader.previous_many(content_type, [oid for oid, _first in objects], before)
        for object_id, first in objects:
            # The latest change before the page's earliest update of this model is the latest before
            # the object's own first update: a change of it in between would be in this page, before
            # that update (the page holds every change of the model in its time span).
            if object_id in found or complete:
                self._prefetched[(content_type, object_id)] = (first, found.get(object_id))

    async def _previous_of(self, change):
        if change.action == "create":
            return None
        key = (change.content_type, change.object_id)
        known = self._previous.get(key)
        if known is not None and known.time < change.time:
            return known
        if change.action == "delete":
            return None  # Nautobot's own fallback: the deleted object's data (a delete lists no fields)
        prefetched = self._prefetched.pop(key, None)
        if prefetched is not None and prefetched[0] == change.time:
            return prefetched[1]
        return await self.reader.previous(change)

    async def handle(self, change):
        """One new change -> its events on the queue (or a log line saying why none)."""
        model = change.content_type
        if model not in self.settings.models:
            return
        raw = self._raw_key(change)
        if self.registry.seen(raw):  # the webhook delivered this very change: no look-up, no event
            self.stats["duplicates"] += 1
            logger.debug("Already delivered by another source: %s", change.label())
            return
        body = webhook_body(change, await self._previous_of(change))
        try:
            hook = validate_payload(body, self.settings.models)
        except RequestRejected as exc:
            self.stats["ignored"] += 1
            logger.warning("Skipped %s: %s", change.label(), exc.reason)
            return
        try:
            if hook.model == DEVICE:
                events = [await self._device_event(hook)]
                via = None
            elif hook.model == CONFIG_PLAN:
                events = [await self._plan_event(hook)]
                via = None
            elif hook.model != IPADDRESS or (INTERFACE in self.settings.models and related.is_ip_attachment(hook)):
                events, via = await self._related_events(hook)
            else:
                events = await self._ipaddress_events(hook)
                ip_changes = changed_fields(hook.action, hook.data, hook.snapshots)
                via = f"ipaddress {hook.data.get('address')} changed {ip_changes!r}"
        except NautobotLookupError as exc:
            attempts = self._lookup_failures[change.id] = self._lookup_failures.get(change.id, 0) + 1
            if attempts < LOOKUP_ATTEMPTS:  # Nautobot is failing: read this change again at the next poll
                raise NautobotUnavailable(
                    f"look-up {attempts} of {LOOKUP_ATTEMPTS} for {change.label()}: {exc}"
                ) from None
            del self._lookup_failures[change.id]
            self.stats["ignored"] += 1
            logger.error("Dropped %s after %d failed look-ups: %s", change.label(), attempts, exc)
            return
        self._lookup_failures.pop(change.id, None)
        for event in events:
            if not self.registry.first_delivery(delivered.event_key(event)):
                self.stats["duplicates"] += 1
                logger.info("Already delivered by another source: %s (request %s)", describe(event), hook.request_id)
                continue
            add_readiness(event, self.settings.ready_statuses)
            self.bursts.mark(event)
            # What the change log delivers first is a catch-up (the webhook missed it or is not there
            # yet): it goes to the rulebook's batch window, where a device changed several times is
            # provisioned once, on its latest state. The lone fast path is the webhook's. A config plan
            # event is no device change: its own rules take it as it is.
            event["nautobot"]["burst"] = not is_plan_event(event)
            self._hold(event, f"change {change.id} at {format_time(change.time)}" + (f" via {via}" if via else ""))
        self.registry.mark(raw)

    async def _device_event(self, hook):
        resolve = None
        if self.lookup is not None:
            self.lookup.invalidate_device(hook.data["id"])
            if needs_lookup(hook.data):
                resolve = self.lookup.get_object
        if resolve is None:
            return normalize_device_event(hook, ENDPOINT, {})
        return await asyncio.to_thread(normalize_device_event, hook, ENDPOINT, {}, resolve)

    async def _plan_event(self, hook):
        """A config plan change: its device and status are references in the change log, read from Nautobot."""
        if self.lookup is not None and needs_lookup(hook.data, PLAN_NESTED_TYPES):
            return await asyncio.to_thread(normalize_config_plan_event, hook, ENDPOINT, {}, self.lookup.get_object)
        return normalize_config_plan_event(hook, ENDPOINT, {})

    async def _related_events(self, hook):
        if related.inert_change(hook):
            self.stats["ignored"] += 1
            logger.info("Ignored %s: only its description changed", related.describe_change(hook))
            return [], None
        events, via = await asyncio.to_thread(
            related.related_events, hook, self.lookup, self.settings.max_related_devices, ENDPOINT, {}, logger
        )
        if not events:
            self.stats["ignored"] += 1
        return events, via

    async def _ipaddress_events(self, hook):
        address = hook.data.get("address")
        if hook.action != "updated":
            self.stats["ignored"] += 1
            logger.info(
                "Ignored ipaddress %s %s: only an update can change a device's primary IPv4", hook.action, address
            )
            return []
        if ip_candidate_devices(hook.data) == []:
            self.stats["ignored"] += 1
            logger.info("Dropped ipaddress updated %s: it is on no interface, so no device's primary IPv4", address)
            return []
        if self.lookup is None:
            raise ValueError("ipaddress changes need a Nautobot look-up (none configured)")
        devices = await asyncio.to_thread(self.lookup.devices_for_ip, hook.data["id"])
        if not devices:
            self.stats["ignored"] += 1
            logger.info("Dropped ipaddress updated %s: it is no device's primary IPv4", address)
            return []
        return [
            await asyncio.to_thread(
                normalize_ipaddress_device_event, hook, device, ENDPOINT, {}, self.lookup.get_object
            )
            for device in devices
        ]


def model_names(settings):
    """``device, ipaddress`` for log lines."""
    return ", ".join(SHORT_NAMES[m] for m in settings.models)
