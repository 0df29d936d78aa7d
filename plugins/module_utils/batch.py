# -*- coding: utf-8 -*-
# Copyright: sotsync team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Provision many devices in one run, paying per device only for what that device needs.

1. the devices: a few Nautobot queries for all of them (names and UUIDs ``100`` per request, or a
   Nautobot device filter such as ``{"location": "Site A"}``), each with its config context;
2. readiness of each (live data, ``readiness.check_readiness``): an unready device fails alone; the
   NAPALM login of each ready device (``credentials``: inventory, its secrets group, the global options),
   resolved once; a device without one is skipped with every source tried (all of them without: the run
   fails, ``missing_credentials``);
3. the intents: for a few devices, Golden Config's on-demand render one device at a time (the endpoint
   re-syncs the template repository on every call and has no lock, so renders must not overlap); for
   more, one "Generate Intended Configurations" job per chunk of devices and the stored results read
   in a few requests (``intent.render_by_job``), the next chunk rendering while the previous one deploys;
4. NAPALM: ``provision.provision_one`` on a bounded pool of threads (one session per device, never
   more than ``workers`` at once), results handed to ``on_result`` as each device finishes;
5. notes: queued and written in bulk by a background thread, never holding up a device.

A failing device fails only itself; Nautobot being unreachable or refusing the token fails the run.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import threading
import time

try:
    import queue
except ImportError:  # pragma: no cover - Python 2 is not supported, this keeps sanity's compile test quiet
    import Queue as queue  # noqa: N813

from concurrent.futures import ThreadPoolExecutor, as_completed

from ansible_collections.sotsync.nautobot.plugins.module_utils.config_plan import NOT_APPROVED, create_plan
from ansible_collections.sotsync.nautobot.plugins.module_utils.credentials import CredentialResolver, no_login_error
from ansible_collections.sotsync.nautobot.plugins.module_utils.deploy import make_driver
from ansible_collections.sotsync.nautobot.plugins.module_utils.errors import (
    InvalidParameter,
    RenderFailed,
    NautobotAuthenticationFailed,
    NautobotUnreachable,
    ProvisionError,
)
from ansible_collections.sotsync.nautobot.plugins.module_utils.intent import (
    Intent,
    fetch_intent,
    parse_stored,
    read_stored_records,
    render_by_job,
)
from ansible_collections.sotsync.nautobot.plugins.module_utils.provision import (
    check_parameters,
    make_client,
    merged_optional_args,
    note_text,
    provision_one,
)
from ansible_collections.sotsync.nautobot.plugins.module_utils import compliance, messages
from ansible_collections.sotsync.nautobot.plugins.module_utils.nautobot import canonical_uuid, is_uuid
from ansible_collections.sotsync.nautobot.plugins.module_utils.readdress import previous_hosts_from
from ansible_collections.sotsync.nautobot.plugins.module_utils.readiness import check_readiness

INTENT_SOURCES = ("auto", "regenerate", "job", "stored")
# With intent_source=auto, batches of up to this many devices are rendered on demand one by one
# (0.15-0.3 s each, no job start-up), larger ones by Golden Config's job (1.5-2.5 s to start, then
# about 0.1 s a device). Measured on the lab: 10 devices cost the same either way.
AUTO_JOB_THRESHOLD = 8
# Devices per Golden Config job run: the next chunk renders while the previous one deploys.
JOB_CHUNK = 100
NOTE_CHUNK = 50
FILTER_EXAMPLES = (
    '-e \'{"filter": {"location": "Lab Site A"}}\' or -e \'filter={"role":"Access"}\' '
    "(-e key=value splits at spaces: write the JSON without them)"
)


def target_list(value):
    """``"a,b"`` / ``["a", "b"]`` / ``None`` -> a list of unique, non-empty names or UUIDs."""
    if value is None:
        return []
    items = value.split(",") if isinstance(value, str) else list(value)
    result = []
    for item in items:
        text = str(item).strip()
        if text and text not in result:
            result.append(text)
    return result


def check_batch_parameters(params):
    """What the batch needs on top of ``check_parameters``: something to provision."""
    check_parameters(dict(params, device=params.get("device") or "batch"))
    if params.get("intent_source", "auto") not in INTENT_SOURCES:
        raise InvalidParameter("intent_source must be one of {0}".format(", ".join(INTENT_SOURCES)))
    targets = target_list(target_list(params.get("devices")) + target_list(params.get("device")))
    device_filter = params.get("device_filter") or {}
    if isinstance(device_filter, str):
        try:
            device_filter = json.loads(device_filter)
        except ValueError:
            device_filter = None
    if not isinstance(device_filter, dict):
        raise InvalidParameter(
            "The device filter must be a dict of Nautobot device filters, e.g. "
            + FILTER_EXAMPLES
            + "; got {0!r}".format(params.get("device_filter"))
        )
    if not targets and not device_filter:
        raise InvalidParameter(
            "Name the devices to provision (option device or devices, names or UUIDs; in the playbook "
            "-e device=access1,access2) or select them with Nautobot device filters (option device_filter; in the "
            "playbook " + FILTER_EXAMPLES + ")"
        )
    workers = 8 if params.get("workers") is None else params.get("workers")
    if not 1 <= workers <= 64:
        raise InvalidParameter("workers must be 1 to 64")
    if params.get("plan") and not params.get("dry_run", True):
        raise InvalidParameter(
            "plan files Golden Config config plans from a dry run, to be approved in Nautobot and deployed by "
            "sotsync.nautobot.config_plan_deploy: it cannot be combined with dry_run: false"
        )
    return targets, device_filter


class NoteWriter(object):
    """Writes notes in bulk from a background thread; ``submit`` never blocks a device."""

    def __init__(self, client, chunk=NOTE_CHUNK):
        self.client = client
        self.chunk = chunk
        self.queue = queue.Queue()
        self.ids = {}
        self.errors = []
        self.thread = threading.Thread(target=self._run, name="sotsync-notes", daemon=True)
        self.thread.start()

    def submit(self, device_id, kind, comments):
        self.queue.put((device_id, kind, comments))
        return None  # the id is known once written: see ``ids``

    def _run(self):
        done = False
        while not done:
            entries = [self.queue.get()]
            while len(entries) < self.chunk:
                try:
                    entries.append(self.queue.get(timeout=0.2))
                except queue.Empty:
                    break
            if entries[-1] is None:
                entries.pop()
                done = True
            if None in entries:
                entries = [e for e in entries if e is not None]
                done = True
            if not entries:
                continue
            try:
                entry_ids = self.client.create_notes(entries)
                for index, entry_id in enumerate(entry_ids):
                    self.ids[entries[index][0]] = entry_id
            except ProvisionError as exc:
                self.errors.append("Could not write {0} notes: {1}".format(len(entries), exc.message))
            except Exception as exc:  # noqa: BLE001 - a failed note is a warning, never a device failure
                self.errors.append("Could not write {0} notes: {1}".format(len(entries), exc))

    def close(self, timeout=120):
        self.queue.put(None)
        self.thread.join(timeout)


class EarlyRenders(object):
    """On-demand renders started before the devices are read, for a few devices named by UUID.

    A lone change reaches the playbook as its device's UUID: Golden Config can render it while Nautobot
    answers the device look-up, instead of after it (about 0.2 s of a one-device run). The renders run
    one at a time in a background thread, under the batch's render lock. ``take(device_id)`` waits for
    that device's render and returns its ``Intent``, or ``None`` when it was not rendered early or
    failed (the caller then renders it the usual way, with the device's name in any error). A device
    that turns out not to be ready is never connected to: its early render is simply not used.
    """

    def __init__(self, client, targets, device_filter, source, render_lock, limit=AUTO_JOB_THRESHOLD):
        self.results = {}
        self.done = {}
        ids = []
        if source in ("auto", "regenerate") and not device_filter and 0 < len(targets) <= limit:
            if all(is_uuid(target) for target in targets):
                ids = [canonical_uuid(target) for target in targets]
        for device_id in ids:
            self.done[device_id] = threading.Event()
        if ids:
            thread = threading.Thread(
                target=self._run, args=(client, ids, render_lock), name="sotsync-early-render", daemon=True
            )
            thread.start()

    def _run(self, client, ids, render_lock):
        for device_id in ids:
            try:
                with render_lock:
                    self.results[device_id] = fetch_intent(client, device_id, device_id, "regenerate")
            except Exception:  # noqa: BLE001 - rendered again the usual way, which reports the error
                self.results[device_id] = None
            finally:
                self.done[device_id].set()

    def take(self, device_id):
        done = self.done.get(str(device_id))
        if done is None:
            return None
        done.wait()
        return self.results.pop(str(device_id), None)


def outcome_of(result=None, error=None):
    """One device's line in ``results``: the result dict, or the failure with its error code."""
    if error is None:
        outcome = dict(result)
        outcome["failed"] = False
        return outcome
    outcome = dict(error.details)
    outcome.update({"failed": True, "msg": error.message, "error": error.code})
    return outcome


def outcome_kind(result):
    """How a device's outcome counts: failed, skipped, unchanged, committed, planned or dry_run."""
    if result.get("failed"):
        return "failed"
    if result.get("skipped"):
        return "skipped"
    if not result.get("changed"):
        return "unchanged"
    if result.get("committed"):
        return "committed"
    return "planned" if result.get("plan_id") else "dry_run"


def summarise(results):
    """Counts by outcome, the devices that drifted, skipped or failed (by name), and the line that says them.

    ``drifted``: the devices that differed from their intent when compared (shown and discarded, or
    committed); a device that failed is in ``failed_devices`` only, whatever it showed before failing.
    ``planned``: the devices with differences for which a config plan now waits for approval (``plan``),
    also in ``drifted`` and named in ``planned_devices``.
    """
    counts = {
        "devices": len(results),
        "failed": 0,
        "committed": 0,
        "dry_run": 0,
        "planned": 0,
        "unchanged": 0,
        "skipped": 0,
    }
    listed = {"committed": "drifted", "dry_run": "drifted", "skipped": "skipped_devices", "failed": "failed_devices"}
    names = dict((key, []) for key in list(listed.values()) + ["planned_devices"])
    for result in results:
        kind = outcome_kind(result)
        counts[kind] += 1
        name = str(result.get("device") or result.get("device_id") or "?")
        if kind == "planned":
            names["drifted"].append(name)
            names["planned_devices"].append(name)
        elif kind in listed:
            names[listed[kind]].append(name)
    for key, found in names.items():
        counts[key] = sorted(found)
    no_login = sum(1 for result in results if result.get("skipped") and result.get("credentials_tried"))
    why = "not ready"
    if no_login:
        why = "{0} not ready, {1} without a NAPALM login".format(counts["skipped"] - no_login, no_login)
    counts["msg"] = (
        "{devices} device(s): {committed} committed, {dry_run} with differences (dry run), "
        "{unchanged} already as intended, {skipped} skipped ({why}), {failed} failed".format(why=why, **counts)
    )
    if counts["planned"]:
        counts["msg"] += ", {planned} planned (config plans waiting for approval)".format(**counts)
    return counts


def run_batch(
    params, check_mode=False, client=None, driver_factory=make_driver, log=None, on_result=None, progress=None
):
    """Provision every device ``params`` names or selects; return ``{"results": [...], "summary": {...}}``.

    ``on_result(outcome)`` is called in the caller's thread as each device finishes; ``progress(line)``
    with a line on what the batch does next (before the first result can take a while).
    Raises ``ProvisionError`` only for what concerns the whole run (parameters, Nautobot unreachable or
    refusing the token, no device with a NAPALM login); each device's failure is in its outcome.
    """
    log = log or (lambda _msg: None)
    on_result = on_result or (lambda _outcome: None)
    progress = progress or (lambda _line: None)
    targets, device_filter = check_batch_parameters(params)
    client = client or make_client(params)
    started = time.monotonic()
    render_lock = threading.Lock()
    early = EarlyRenders(client, targets, device_filter, params.get("intent_source") or "auto", render_lock)
    named, selected, missing = client.get_devices(targets, device_filter)
    devices = named + selected
    results = []
    timings = {"lookup_seconds": round(time.monotonic() - started, 3)}

    statuses = params.get("ready_statuses") or messages.DEFAULT_READY_STATUSES
    verdicts = {str(d.get("id")): check_readiness(d, statuses) for d in devices}
    ready = [d for d in devices if verdicts[str(d.get("id"))].ready]
    # Each ready device's NAPALM login, once: inventory, its secrets group, the global options.
    resolver = CredentialResolver.from_params(params)
    logins, no_login = {}, []
    for device in ready:
        resolution = resolver.resolve(
            device,
            verdicts[str(device.get("id"))].napalm_driver,
            merged_optional_args(device, params.get("optional_args")),
        )
        if resolution.login is None:
            no_login.append((device, resolution))
        else:
            logins[str(device.get("id"))] = resolution.login
    scrubber = resolver.scrubber([params.get("nautobot_token")])
    if ready and not logins:
        error = no_login_error([resolution for _device, resolution in no_login], resolver)
        error.message = scrubber.text(error.message)
        raise error
    ready = [d for d in ready if str(d.get("id")) in logins]

    def finish(outcome):
        outcome = scrubber.result(outcome)  # no login value in a result or a line, whatever its source
        results.append(outcome)
        on_result(outcome)

    for error in missing.values():
        finish(outcome_of(error=error))
    for device, resolution in no_login:
        finish(
            {
                "device": str(device.get("name") or device.get("id")),
                "device_id": str(device.get("id")),
                "failed": False,
                "skipped": True,
                "changed": False,
                "msg": resolution.message,
                "credentials_tried": list(resolution.tried),
            }
        )
    if device_filter and not selected:
        log("No device matches the filter {0}".format(device_filter))
    source = params.get("intent_source") or "auto"
    if source == "auto":
        source = "job" if len(ready) > AUTO_JOB_THRESHOLD else "regenerate"
    device_params = dict(params, intent_source=source)
    intents = {}
    intents_ready = {}
    if source == "stored":  # one read for the whole batch
        records = read_stored_records(client, [str(d.get("id")) for d in ready])
        for device in ready:
            device_id = str(device.get("id"))
            name = str(device.get("name") or device_id)
            try:
                config, age, last_success = parse_stored(
                    200, {"results": [records[device_id]]} if device_id in records else {"results": []}, name
                )
                intents[device_id] = Intent(config, "stored", age_seconds=age, last_success=last_success)
            except ProvisionError as error:
                intents[device_id] = error
    fatal = []

    notes = NoteWriter(client) if params.get("notes", True) and not check_mode else None

    def intent_for(device_id, name):
        if source == "stored" or device_id in intents_ready:
            if device_id in intents_ready:
                intents_ready[device_id].wait()
            intent = intents[device_id]
            if isinstance(intent, ProvisionError):
                raise intent
            return intent
        intent = early.take(device_id)
        if intent is not None:
            return intent
        with render_lock:  # the on-demand render must not run twice at once
            return fetch_intent(client, device_id, name, "regenerate")

    named_ids = set(str(d.get("id")) for d in named)
    planning = bool(params.get("plan")) and not check_mode
    used_intents = {}

    def intent_recorded(device_id, name):
        intent = intent_for(device_id, name)
        used_intents[device_id] = intent  # the config a plan is filed with: what a live merge would load
        return intent

    def provision(device):
        verdict = verdicts[str(device.get("id"))]
        if str(device.get("id")) not in named_ids and not verdict.ready:
            # Selected by the filter, not named: an unready device is reported and skipped, not failed.
            return {
                "device": str(device.get("name") or device.get("id")),
                "device_id": str(device.get("id")),
                "failed": False,
                "skipped": True,
                "changed": False,
                "msg": verdict.message,
                "reasons": list(verdict.reasons),
            }
        try:
            result = provision_one(
                device,
                device_params,
                check_mode,
                intent_recorded,
                notes.submit if notes else (lambda *_a: None),
                driver_factory,
                log,
                previous_hosts=lambda dev, host: previous_hosts_from(client, dev, host),
                login=logins.get(str(device.get("id"))),
                scrubber=scrubber,
            )
            if planning and result.get("changed"):
                file_plan(result, used_intents[str(device.get("id"))])
            return outcome_of(result)
        except (NautobotUnreachable, NautobotAuthenticationFailed) as error:
            fatal.append(error)
            return outcome_of(error=error)
        except ProvisionError as error:
            return outcome_of(error=error)

    def file_plan(result, intent):
        """A device with differences, in plan mode: its intent filed as a config plan waiting for approval."""
        name = result["device"]
        try:
            plan_id, plan_warnings = create_plan(
                client,
                result["device_id"],
                name,
                intent.config,
                note=scrubber.text(
                    note_text(
                        name,
                        "config plan ({0})".format(NOT_APPROVED),
                        "Planned: the device differs from its intended configuration. Approve this plan (set its "
                        "status to Approved) to deploy its config set with commit-confirm and verification.",
                        params.get("trigger") or "manual",
                        result.get("intent_source"),
                        result.get("config_diff"),
                        extra={"device": name, "driver": "{0} at {1}".format(result["napalm_driver"], result["host"])},
                        platform=result.get("napalm_driver"),
                    ),
                    usernames=False,
                ),
            )
        except ProvisionError as error:
            for key in ("device", "device_id", "config_diff", "intent_source", "dry_run"):
                error.details.setdefault(key, result.get(key))
            raise
        result["warnings"] = list(result.get("warnings") or []) + plan_warnings
        result["plan_id"] = plan_id
        result["msg"] = "PLANNED (config plan {0}, waiting for approval)".format(plan_id)

    # Golden Config's job fails as a whole when one device's platform has no network driver (its
    # template path needs it): such devices are rendered on demand, alone, and fail alone.
    by_job = [d for d in ready if ((d.get("platform") or {}).get("network_driver") or "").strip()]

    def render_jobs():
        chunks = [by_job[i : i + JOB_CHUNK] for i in range(0, len(by_job), JOB_CHUNK)]
        for chunk in chunks:
            pairs = [(str(d.get("id")), str(d.get("name") or d.get("id"))) for d in chunk]
            try:
                intents.update(render_by_job(client, pairs, job_queue=params.get("job_queue") or None))
            except ProvisionError as error:
                for device_id, _name in pairs:
                    intents[device_id] = error
            except Exception as exc:  # noqa: BLE001 - never leave a device waiting for its intent
                error = RenderFailed(
                    "Rendering {0} device(s) with Golden Config's job failed: {1}: {2}".format(
                        len(pairs), type(exc).__name__, exc
                    ),
                    intent_source="job",
                )
                for device_id, _name in pairs:
                    intents[device_id] = error
            finally:
                for device_id, _name in pairs:
                    intents.setdefault(device_id, ProvisionError("no intent"))
                    intents_ready[device_id].set()

    progress(
        "{0} device(s) read from Nautobot in {1} s ({2} not found, {3} ready{6}); intents: {4}; {5} NAPALM "
        "session(s) at once".format(
            len(devices) + len(missing),
            timings["lookup_seconds"],
            len(missing),
            len(ready) + len(no_login),
            "Golden Config's job, {0} device(s) a run".format(JOB_CHUNK)
            if source == "job"
            else ("stored" if source == "stored" else "rendered on demand, one at a time"),
            params.get("workers") or 8,
            ", {0} of them without a NAPALM login".format(len(no_login)) if no_login else "",
        )
    )
    if source == "job":
        for device in by_job:
            intents_ready[str(device.get("id"))] = threading.Event()
        threading.Thread(target=render_jobs, name="sotsync-render", daemon=True).start()

    # Unready devices first (no wait), then the ready ones in the order their intents arrive.
    order = [d for d in devices if not verdicts[str(d.get("id"))].ready] + ready
    workers = params.get("workers") or 8  # validated above: 1 to 64
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sotsync-device") as pool:
        futures = [pool.submit(provision, device) for device in order]
        for future in as_completed(futures):
            finish(future.result())
    began = time.monotonic()
    # the intended repository holds what was deployed when the intents came from Golden Config's job
    after = compliance.after_commit(client, params, check_mode, results, progress, source in ("job", "stored"))
    if after:
        timings["compliance_seconds"] = round(time.monotonic() - began, 3)
    timings["total_seconds"] = round(time.monotonic() - started, 3)
    warnings = []
    if notes is not None:
        notes.close()
        warnings.extend(scrubber.text(warning) for warning in notes.errors)
        for result in results:
            if result.get("device_id") in notes.ids:
                result["note_id"] = notes.ids[result["device_id"]]
    if fatal:
        raise fatal[0]
    summary = summarise(results)
    summary.update(timings)
    if after:
        summary["compliance"] = compliance.summary(results)
    summary["intent_source"] = source
    return {"results": results, "summary": summary, "warnings": warnings}


def module_result(batch, single=False):
    """The task result of a batch: ``results``, ``summary``, and for one device its keys at the top too.

    Returns ``(result, failed)``. With one device named (``single``), the result is what the module
    returned before batches existed (``msg``, ``config_diff``, ``error``...), plus ``results``.
    """
    results = batch["results"]
    summary = batch["summary"]
    result = {
        "results": results,
        "summary": summary,
        "changed": any(r.get("changed") for r in results if not r.get("failed")),
        "warnings": list(batch.get("warnings") or []),
    }
    for outcome in results:
        if "note_id" in outcome:  # its name before 0.2.0, deprecated: removed in 2.0.0
            outcome["journal_entry_id"] = outcome["note_id"]
    failed_devices = summary["failed_devices"]
    if single and len(results) == 1:
        only = dict(results[0])
        result["warnings"].extend(only.pop("warnings", None) or [])
        only.pop("failed", None)
        result.update(only)
    else:
        result["msg"] = summary["msg"]
        if failed_devices:
            result["failed_devices"] = failed_devices
            result["msg"] += ": " + ", ".join(str(d) for d in failed_devices)
    return result, bool(failed_devices)


def format_outcome(outcome):
    """The lines a user reads for one device: its outcome, then its diff (or why it failed)."""
    name = outcome.get("device") or outcome.get("device_id") or "?"
    lines = ["{0}: {1}".format(name, outcome.get("msg") or ("failed" if outcome.get("failed") else "done"))]
    if outcome.get("failed"):
        lines[0] = "{0}: FAILED ({1}): {2}".format(name, outcome.get("error"), outcome.get("msg"))
    elif outcome.get("skipped"):
        return ["{0}: SKIPPED: {1}".format(name, outcome.get("msg"))]
    lines.extend("{0}: {1}".format(name, warning) for warning in outcome.get("warnings") or [])
    diff = outcome.get("config_diff") or ""
    if diff:
        lines.extend(diff.splitlines())
    elif not outcome.get("failed"):
        lines.append("(no differences)")
    return lines
