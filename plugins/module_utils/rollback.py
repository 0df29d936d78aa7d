# -*- coding: utf-8 -*-
# Copyright: sotsync team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rollback points and the rollback of one device to its configuration before the last push.

Before each live commit the deploy reads the device's running configuration; after it, the running
configuration again. The note of the commit (a Note on the device in Nautobot) records both as
fingerprints, what names the device's own restore point, and the push's diff (secrets masked). No
configuration is copied into Nautobot: every Nautobot user who can see the device's notes reads them.

    - rollback point: before sha256:<hex>, after sha256:<hex>
    - device restore point: flash:rollback-0 (the startup-config copied before the commit)

A rollback finds the newest rollback point in the device's notes and reads the device's running
configuration. It refuses when that is not what the push left (something else changed the device
since), does nothing when it is already the configuration before the push, and otherwise restores
it with NAPALM's own ``rollback()`` (on EOS ``configure replace flash:rollback-0``: the device's copy
of its configuration taken by NAPALM just before that commit), then verifies the result against the
"before" fingerprint. A dry run (the default) changes nothing and shows what the rollback would change:
the push's diff from its note, reversed (a device that is exactly what the push left goes back by
undoing that diff), secrets masked. Notes written by earlier versions also held the configuration before
the push; they are still read (``playbooks/scrub_rollback_notes.yml`` removes that copy).

The fingerprint ignores what changes without a configuration change: blank lines, ``!`` comments
(EOS prints the time there) and ``end``, and runs of spaces.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import difflib
import hashlib
import re

from ansible_collections.sotsync.nautobot.plugins.module_utils import compliance, masking, platforms
from ansible_collections.sotsync.nautobot.plugins.module_utils.credentials import CredentialResolver, no_login_error
from ansible_collections.sotsync.nautobot.plugins.module_utils.errors import (  # noqa: F401 - re-exported
    CommitVerificationFailed,
    DeviceNotReady,
    NoRollbackPoint,
    ProvisionError,
    RollbackRefused,
)
from ansible_collections.sotsync.nautobot.plugins.module_utils.readiness import check_readiness

MARK = "- rollback point: "
RESTORE_MARK = "- device restore point: "
BEFORE_TITLE = "**Running configuration before this push**"
_RESTORE = re.compile(r"^- device restore point: (.+?)\s*$", re.M)
_DIFF = re.compile(r"```diff\n(.*?)\n```", re.S)
_POINT = re.compile(r"^- rollback point: before (sha256:[0-9a-f]{64}), after (sha256:[0-9a-f]{64})\s*$", re.M)
_BEFORE = re.compile(r"\*\*Running configuration before this push\*\*[^\n]*\n+```text\n(.*?)\n```", re.S)
ROLLED_BACK = "Rolled back to the configuration before the push of {when}"
NOTHING_TO_ROLL_BACK = "Nothing to roll back: the device already has its configuration from before the push of {when}"
DRY_RUN = "DRY RUN: the rollback would restore the configuration from before the push of {when}; nothing changed"
DRY_RUN_HOW = (
    " (restored from the device's {restore}; the running configuration {after} is what that push left, the "
    "rollback brings back {before}; the diff is that push's diff from its note, reversed, secrets masked)"
)


# The lines a NAPALM driver adds for its session only (IOS "file prompt quiet"): a push's fingerprints are
# read within its session, a rollback's check after it; the lines are each platform's own, so dropping them
# for every platform changes nothing elsewhere.
SESSION_LINES = frozenset(line for rules in platforms.known_platforms().values() for line in rules.session_lines)


def config_lines(text):
    """The lines that make up a configuration: stripped, whitespace collapsed, comments dropped (``!``
    lines, NX-OS ``!Time:`` among them; Junos ``#`` lines such as ``## Last changed:``, which every commit,
    the confirming one too, rewrites) and the lines a NAPALM driver keeps only for its session
    (``SESSION_LINES``)."""
    lines = []
    for line in (text or "").splitlines():
        collapsed = " ".join(line.split())
        if collapsed and not collapsed.startswith(("!", "#")) and collapsed != "end" and collapsed not in SESSION_LINES:
            lines.append(line.rstrip())
    return lines


def fingerprint(text):
    """``sha256:<hex>`` of the configuration's lines (see ``config_lines``)."""
    canonical = "\n".join(" ".join(line.split()) for line in config_lines(text))
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def point_line(before, after):
    """The note line that records a rollback point."""
    return "{0}before {1}, after {2}".format(MARK, fingerprint(before), fingerprint(after))


def restore_line(restore_point):
    """The note line that names the device's own restore point (``Platform.rollback_point``)."""
    return "{0}{1}".format(RESTORE_MARK, restore_point)


def parse_point(note):
    """From a note: ``{"before": fp, "after": fp, "restore": what names the device's restore point or None,
    "diff": the push's diff (masked) or None, "before_config": the configuration before the push (masked) in a
    note written by an earlier version, else None}``; None when the note records no rollback point."""
    text = note.get("note") if isinstance(note, dict) else str(note or "")
    found = _POINT.search(text or "")
    if not found:
        return None
    config = _BEFORE.search(text)
    restore = _RESTORE.search(text)
    diff = _DIFF.search(text)
    return {
        "before": found.group(1),
        "after": found.group(2),
        "restore": restore.group(1) if restore else None,
        "diff": diff.group(1) if diff else None,
        "before_config": config.group(1) if config else None,
    }


def reverse_diff(diff):
    """A diff read the other way: ``-`` and ``+`` lines swapped (unified headers and hunk ranges too);
    ``~`` lines (a secret changed) and context stay as they are."""
    lines = []
    for line in (diff or "").splitlines():
        if line.startswith("--- "):
            lines.append("+++ " + line[4:])
        elif line.startswith("+++ "):
            lines.append("--- " + line[4:])
        elif line.startswith("@@ "):
            lines.append(re.sub(r"^@@ -(\S+) \+(\S+) @@", r"@@ -\2 +\1 @@", line))
        elif line.startswith("-"):
            lines.append("+" + line[1:])
        elif line.startswith("+"):
            lines.append("-" + line[1:])
        else:
            lines.append(line)
    # a unified diff keeps its headers in order: --- first
    for index in range(len(lines) - 1):
        if lines[index].startswith("+++ ") and lines[index + 1].startswith("--- "):
            lines[index], lines[index + 1] = lines[index + 1], lines[index]
    return "\n".join(lines)


def rollback_diff(point, running, mask):
    """What the rollback changes, for people to read (masked): the push's diff reversed; for an older note
    without a diff, the diff from the running configuration to the one it kept; else empty."""
    if point.get("diff"):
        return mask(reverse_diff(point["diff"]))
    if point.get("before_config") is not None:
        return mask(masked_diff(mask(running), point["before_config"]))
    return ""


def latest_point(notes):
    """The newest note with a rollback point (notes are Nautobot note dicts with ``created``)."""
    ordered = sorted(notes or [], key=lambda n: str(n.get("created") or ""), reverse=True)
    for note in ordered:
        point = parse_point(note)
        if point:
            point["note_id"] = str(note.get("id"))
            point["when"] = str(note.get("created") or "?")
            return point
    return None


def masked_diff(current_masked, before_masked):
    """Unified diff from the current configuration to the one before the push (both masked)."""
    return "\n".join(
        difflib.unified_diff(
            config_lines(current_masked), config_lines(before_masked), "running", "before the push", lineterm=""
        )
    )


def plan(point, running):
    """What a rollback would do given the device's running configuration: ``rollback``, ``nothing``
    or raise ``RollbackRefused``."""
    now = fingerprint(running)
    if now == point["before"]:
        return "nothing"
    if now != point["after"]:
        raise RollbackRefused(
            "The device's configuration changed since the push of {0} (it is neither what that push left nor "
            "what was there before it): rollback refused, nothing changed. Compare the running configuration "
            "with the note of that push in Nautobot.".format(point["when"]),
            running_fingerprint=now,
            rollback_point=point["note_id"],
        )
    return "rollback"


def rollback(driver, point, dry_run, mask=None, host=None, log=None, platform=None):
    """Roll the device behind ``driver`` back to the rollback point. Returns a result dict.

    ``mask(text)`` masks what people read (default: ``masking.mask`` with the ``platform``'s rules)."""
    log = log or (lambda _msg: None)
    if mask is None:

        def mask(text):
            return masking.mask(text, platform)

    when = point["when"]
    driver.open()
    try:
        running = (driver.get_config(retrieve="running") or {}).get("running", "")
        action = plan(point, running)
        result = {"changed": False, "committed": False, "dry_run": bool(dry_run), "rollback_point": point["note_id"]}
        if action == "nothing":
            result.update(msg=NOTHING_TO_ROLL_BACK.format(when=when), config_diff="")
            return result
        result["config_diff"] = rollback_diff(point, running, mask)
        result["changed"] = True
        if point.get("restore"):
            result["restore_point"] = point["restore"]
        if dry_run:
            result["msg"] = DRY_RUN.format(when=when) + DRY_RUN_HOW.format(
                restore=point.get("restore") or "own rollback point (NAPALM rollback())",
                after=point["after"],
                before=point["before"],
            )
            return result
        rules = platforms.for_driver(platform)
        restored = rules.restore(driver, lambda text: fingerprint(text) == point["before"])
        log("%s: restored %s; verifying" % (host, restored))
        after = (driver.get_config(retrieve="running") or {}).get("running", "")
        if fingerprint(after) != point["before"]:
            caveat = " ({0})".format(rules.restore_caveat) if rules.restore_caveat else ""
            raise CommitVerificationFailed(
                "The rollback of {0} did not restore the configuration from before the push of {1}: the device's "
                "restore point ({2}) holds another configuration{3}. Check the device against the note of that "
                "push.".format(host, when, restored, caveat),
                host=host,
                rolled_back=False,
                config_diff=result["config_diff"],
            )
        result.update(committed=True, verified=True, restore_point=restored, msg=ROLLED_BACK.format(when=when))
        return result
    finally:
        try:
            driver.close()
        except Exception as exc:  # noqa: BLE001 - closing must not mask the outcome
            log("%s: close failed: %s" % (host, exc))


def require_point(notes, device_name):
    point = latest_point(notes)
    if point is None:
        raise NoRollbackPoint(
            "No rollback point for {0}: none of its notes in Nautobot records a live push by "
            "sotsync.nautobot.golden_config_deploy (only live commits leave one).".format(device_name)
        )
    return point


def run_rollback(
    params, check_mode, client, driver_factory, optional_args_for, mask=None, note_text=None, log=None, resolver=None
):
    """Roll back the device ``params["device"]``: look it up, find its rollback point, roll back.

    ``optional_args_for(device)`` gives the NAPALM optional args; ``mask(text, platform)`` masks secrets
    (default ``masking.mask``); ``note_text(name, mode, msg, diff, platform)`` formats the note written after
    a rollback (not in check mode, not for a dry run). ``resolver`` (a ``credentials.CredentialResolver``,
    default one from ``params``) gives the device's NAPALM login; its ``scrubber()`` scrubs what the caller
    shows. Returns the result dict or raises (``MissingCredentials`` when the device has no login).
    """
    mask = mask or masking.mask
    resolver = resolver or CredentialResolver.from_params(params)
    ident = str(params["device"]).strip()
    named, _selected, missing = client.get_devices(idents=[ident])
    if missing:
        raise missing[ident]
    device = named[0]
    name = str(device.get("name") or device.get("id"))
    readiness = check_readiness(device, params.get("ready_statuses"))
    if not readiness.ready:
        raise DeviceNotReady(readiness.message, reasons=readiness.reasons, status=readiness.status)
    optional_args = optional_args_for(device)
    resolution = resolver.resolve(device, readiness.napalm_driver, optional_args)
    if resolution.login is None:
        raise no_login_error([resolution], resolver)
    login = resolution.login
    point = require_point(client.device_notes(device["id"]), name)
    dry_run = bool(params.get("dry_run", True)) or bool(check_mode)
    driver = driver_factory(
        readiness.napalm_driver,
        readiness.host,
        login.username,
        login.password,
        params.get("timeout") or 60,
        optional_args,
    )
    platform = readiness.napalm_driver
    try:
        result = rollback(
            driver, point, dry_run, lambda text: mask(text, platform), host=readiness.host, log=log, platform=platform
        )
    except ProvisionError as error:
        if error.details.get("config_diff"):
            error.details["config_diff"] = mask(error.details["config_diff"], platform)
        error.details.update(credentials_source=login.source, credentials_from=login.detail)
        raise
    result.update(
        device=name,
        device_id=str(device["id"]),
        host=readiness.host,
        check_mode=bool(check_mode),
        credentials_source=login.source,
        credentials_from=login.detail,
    )
    if result["committed"] and params.get("notes", True) and not check_mode:
        comments = note_text(name, "rollback", result["msg"], result.get("config_diff"), platform)
        result["note_id"] = client.create_note(device["id"], "success", comments)
        result["journal_entry_id"] = result["note_id"]  # its name before 0.2.0, deprecated: removed in 2.0.0
    compliance.after_commit(client, params, check_mode, [result], log)
    return result
