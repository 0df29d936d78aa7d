# -*- coding: utf-8 -*-
# Copyright: sotsync team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The position of ``sotsync.nautobot.changelog`` in Nautobot's change log, kept in a file.

- ``parse_time`` / ``format_time``: ISO 8601 with a time zone <-> aware ``datetime``; times are always
  compared as ``datetime`` (a ``+01:00`` time and its ``Z`` twin are equal), never as text.
- :class:`Cursor`: ``time`` (the latest change handled), ``seen`` (the ids of the changes handled whose
  time is within ``overlap`` of ``time``: the boundary ties and the changes a re-read of the overlap
  window returns again) and ``start`` (changes before it are never emitted: the first run's start).
- ``save_cursor`` writes a temporary file in the same folder, fsyncs it, then ``os.replace``s the
  cursor file (and fsyncs the folder): a crash at any point leaves the old cursor or the new one,
  never a torn file. ``load_cursor`` reads it back (None when there is none yet).
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

CURSOR_VERSION = 1
# A cursor never holds more ids than this (Nautobot saves at most ~15 changes a second on the lab).
MAX_SEEN = 50000


class CursorError(Exception):
    """The cursor file cannot be read or does not belong to this source."""


def parse_time(value):
    """``"2026-11-25T12:53:48.230098Z"`` (or ``+01:00``, or a space for ``T``) -> an aware ``datetime``.

    ``ValueError`` for anything else, including a time without a zone (it could not be compared).
    """
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str) and value.strip():
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"{value!r} is not an ISO 8601 date-time") from None
    else:
        raise ValueError(f"{value!r} is not an ISO 8601 date-time")
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValueError(f"{value!r} has no time zone")
    return parsed


def format_time(value):
    """An aware ``datetime`` -> ISO 8601 in UTC with microseconds (``2026-11-25T12:53:48.230098+00:00``)."""
    return value.astimezone(timezone.utc).isoformat(timespec="microseconds")


@dataclass
class Cursor:
    """Where the change log was read up to; see the module's docstring."""

    time: datetime
    start: datetime
    seen: dict = field(default_factory=dict)  # object-change id -> its time (aware datetime)
    nautobot_url: str | None = None

    def window_start(self, overlap):
        """The ``time__gte`` of the next read: ``overlap`` seconds before the cursor."""
        return self.time - timedelta(seconds=overlap)

    def handled(self, change_id):
        return change_id in self.seen

    def emits(self, change_time):
        """Changes older than the first run's start are marked handled but not emitted."""
        return change_time >= self.start

    def mark(self, change_id, change_time):
        """Record a change as handled (delivered, or skipped on purpose) and move the cursor up to it."""
        self.seen[change_id] = change_time
        if change_time > self.time:
            self.time = change_time

    def prune(self, overlap):
        """Forget ids older than the overlap window (a re-read no longer returns them)."""
        floor = self.window_start(overlap)
        self.seen = {cid: when for cid, when in self.seen.items() if when >= floor}
        if len(self.seen) > MAX_SEEN:
            newest = sorted(self.seen.items(), key=lambda item: (item[1], item[0]))[-MAX_SEEN:]
            self.seen = dict(newest)

    def to_dict(self):
        return {
            "version": CURSOR_VERSION,
            "nautobot_url": self.nautobot_url,
            "time": format_time(self.time),
            "start": format_time(self.start),
            "seen": {cid: format_time(when) for cid, when in sorted(self.seen.items())},
        }

    @classmethod
    def from_dict(cls, data):
        if not isinstance(data, dict) or data.get("version") != CURSOR_VERSION:
            raise ValueError(f"not a version {CURSOR_VERSION} cursor")
        seen = data.get("seen") or {}
        if not isinstance(seen, dict):
            raise ValueError("seen must be an object")
        return cls(
            time=parse_time(data.get("time")),
            start=parse_time(data.get("start", data.get("time"))),
            seen={str(cid): parse_time(when) for cid, when in seen.items()},
            nautobot_url=data.get("nautobot_url"),
        )


def default_cursor_path(nautobot_url, environ=None):
    """``$XDG_STATE_HOME/sotsync.nautobot/changelog-<host>_<port>.json`` (``~/.local/state`` by default)."""
    environ = os.environ if environ is None else environ
    state = environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    netloc = nautobot_url.split("://", 1)[-1].split("/", 1)[0]
    name = "".join(ch if ch.isalnum() or ch in "-." else "_" for ch in netloc) or "nautobot"
    return os.path.join(state, "sotsync.nautobot", f"changelog-{name}.json")


def load_cursor(path, nautobot_url=None):
    """The cursor saved at ``path``, or None when there is no file yet.

    ``CursorError`` when the file is unreadable or belongs to another Nautobot (its events would be
    someone else's): the message says which file and what to do.
    """
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise CursorError(f"cannot read the cursor file {path}: {exc}") from None
    try:
        cursor = Cursor.from_dict(json.loads(text))
    except ValueError as exc:
        raise CursorError(f"the cursor file {path} is not valid ({exc}); fix or delete it") from None
    if nautobot_url and cursor.nautobot_url and cursor.nautobot_url.rstrip("/") != nautobot_url.rstrip("/"):
        raise CursorError(
            f"the cursor file {path} belongs to {cursor.nautobot_url}, not {nautobot_url}: "
            f"set cursor_file to another file, or delete it to start again"
        )
    return cursor


def _fsync_dir(folder):
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def save_cursor(path, cursor, replace=os.replace):
    """Write ``cursor`` to ``path`` atomically: temp file in the same folder, fsync, ``os.replace``.

    ``replace`` is injectable so a test can crash between the write and the replace.
    """
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, mode=0o700, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".changelog-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(cursor.to_dict(), handle, indent=1)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_dir(folder)
