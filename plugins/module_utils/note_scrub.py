# -*- coding: utf-8 -*-
# Copyright: sotsync team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Scrub the notes earlier versions wrote: no copy of a device's configuration stays in Nautobot.

Earlier versions of ``sotsync.nautobot.golden_config_deploy`` ended the note of every live commit
with the device's whole running configuration before the push ("**Running configuration before this
push** (secrets masked)", masked by one regular expression that missed many secrets). ``scrub_notes``
finds those notes on devices (``GET /api/extras/notes/?q=...``, every page) and, unless it is a dry
run, rewrites each (``PATCH /api/extras/notes/<id>/``):

- the "before" block is removed;
- the push's diff is masked again with the platform's rules (``masking.mask``; the platform is read
  from the note's ``- driver: <napalm driver> at <host>`` line, every platform's rules without one);
- the rollback point (the fingerprints) is kept, a line naming the device's own restore point is added
  when the note has none, and a line says the note was scrubbed.

A rollback still works from a scrubbed note (``rollback.rollback_diff``: the push's diff, reversed).
Nothing here imports Ansible.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.sotsync.nautobot.plugins.module_utils import masking, platforms, rollback
from ansible_collections.sotsync.nautobot.plugins.module_utils.errors import NautobotError

NOTES_PATH = "extras/notes/"
PAGE_SIZE = 100
WRITER = "sotsync.nautobot.golden_config_deploy"
SCRUBBED_LINE = (
    "- scrubbed: the running configuration before this push was removed from this note "
    "(sotsync.nautobot.rollback_note_scrub); the diff is masked with the platform's rules"
)
_BLOCK = re.compile(r"\n*" + re.escape(rollback.BEFORE_TITLE) + r"[^\n]*\n+```text\n.*?\n```[ \t]*", re.S)
_OPEN_BLOCK = re.compile(r"\n*" + re.escape(rollback.BEFORE_TITLE) + r".*\Z", re.S)  # a block cut short
_DRIVER = re.compile(r"^- driver: (\S+) at ", re.M)
_DIFF_BLOCK = re.compile(r"(```diff\n)(.*?)(\n```)", re.S)


def is_candidate(text):
    """A note this collection wrote that still holds the configuration before a push."""
    text = text or ""
    return WRITER in text and rollback.BEFORE_TITLE in text


def note_platform(text):
    """The NAPALM driver a note names (``- driver: eos at 127.0.1.11``), or None."""
    found = _DRIVER.search(text or "")
    return found.group(1) if found else None


def scrubbed_text(text):
    """``(new_text, removed_lines)`` for a note, or ``(None, 0)`` when it holds no configuration copy."""
    if not is_candidate(text):
        return None, 0
    platform = note_platform(text)
    removed = 0
    found = _BLOCK.search(text)
    if found:
        removed = len(found.group(0).strip("\n").splitlines())
        new = text[: found.start()] + text[found.end() :]
    else:
        found = _OPEN_BLOCK.search(text)
        removed = len(found.group(0).strip("\n").splitlines())
        new = text[: found.start()]
    new = _DIFF_BLOCK.sub(lambda m: m.group(1) + masking.mask(m.group(2), platform) + m.group(3), new)
    lines = new.split("\n")
    at = next((i for i, line in enumerate(lines) if line.startswith(rollback.MARK)), None)
    extra = []
    if platform and rollback.RESTORE_MARK not in new:
        extra.append(rollback.restore_line(platforms.for_driver(platform).rollback_point))
    extra.append(SCRUBBED_LINE)
    if at is None:
        lines.extend([""] + extra)
    else:
        lines[at + 1 : at + 1] = extra
    return "\n".join(lines).rstrip("\n"), removed


def find_notes(client, device_ids=None, page_size=None):
    """The device notes this collection wrote with a configuration copy (every page of Nautobot's answer)."""
    page_size = page_size or PAGE_SIZE
    params = {"q": rollback.BEFORE_TITLE.strip("*"), "assigned_object_type": "dcim.device", "depth": 0}
    if device_ids:
        params["assigned_object_id"] = [str(i) for i in device_ids]
    found = []
    offset = 0
    while True:
        status, body = client.get_json(NOTES_PATH, dict(params, limit=page_size, offset=offset))
        if status != 200 or not isinstance(body, dict):
            raise NautobotError(
                "Nautobot answered {0} listing notes: {1}".format(status, str(body)[:200]), status_code=status
            )
        results = list(body.get("results") or [])
        found.extend(n for n in results if is_candidate(n.get("note")))
        if not body.get("next") or not results:
            return found
        offset += len(results)


def scrub_notes(client, dry_run=True, devices=None, log=None):
    """Find the notes with a configuration copy and (unless ``dry_run``) rewrite them; return the result dict.

    ``devices`` (names or UUIDs) limits the search to those devices. A note that cannot be written is
    reported in ``failed`` and the others are still written.
    """
    log = log or (lambda _msg: None)
    device_ids = None
    if devices:
        named, _selected, missing = client.get_devices(list(devices), None)
        if missing:
            raise list(missing.values())[0]
        device_ids = [str(d["id"]) for d in named]
    notes = find_notes(client, device_ids)
    report = []
    failed = []
    for note in notes:
        new, removed = scrubbed_text(note.get("note"))
        if new is None:
            continue
        entry = {
            "id": str(note.get("id")),
            "device_id": str(note.get("assigned_object_id") or ""),
            "created": note.get("created"),
            "removed_lines": removed,
        }
        if not dry_run:
            status, body = client.patch_json("{0}{1}/".format(NOTES_PATH, entry["id"]), {"note": new})
            if status >= 300:
                entry["error"] = "Nautobot answered {0}: {1}".format(status, str(body)[:200])
                failed.append(entry)
                log("note {0}: not rewritten: {1}".format(entry["id"], entry["error"]))
                continue
            log("note {0}: configuration copy removed ({1} lines)".format(entry["id"], removed))
        report.append(entry)
    verb = "would rewrite" if dry_run else "rewrote"
    msg = "{0} note(s) with a copy of a device's configuration found; {1} {2}".format(
        len(report) + len(failed), verb, len(report)
    )
    if dry_run and report:
        msg += " (dry run: run with dry_run=false to write)"
    if failed:
        msg += "; {0} could not be written".format(len(failed))
    return {
        "changed": bool(report),
        "dry_run": bool(dry_run),
        "notes": report,
        "failed_notes": failed,
        "msg": msg,
    }
