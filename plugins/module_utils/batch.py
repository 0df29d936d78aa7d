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
5. notes: queued and written in bulk by a background thread, never holding up a device;
6. Golden Config's compliance: after live commits, of the committed devices (``compliance.after_commit``);
   with ``compliance_drift`` (a drift check), of every device compared, fresh enough, with the lines each
   has that its intent does not, by compliance feature and outside them (``check_drift``; the running
   configuration is the one its NAPALM session read, ``keep_running``). The notes then wait
   for it, so that each device's note says it too.

A failing device fails only itself; Nautobot being unreachable or refusing the token fails the run.

``run_batch`` is ``BatchRun(...).run()``: one method per step above, the run's state in named attributes.
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
    RunStopped,
)
from ansible_collections.sotsync.nautobot.plugins.module_utils.lifeline import Lifeline
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
from ansible_collections.sotsync.nautobot.plugins.module_utils import compliance, drift, messages, platforms
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
    if (params.get("compliance_max_age") or 0) < 0:
        raise InvalidParameter(
            "compliance_max_age must be 0 (always run Golden Config's jobs) or a number of seconds (reuse its stored "
            "compliance when at most that old)"
        )
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
        self.posting = False
        self.thread = threading.Thread(target=self._run, name="sotsync-notes", daemon=True)
        self.thread.start()

    def idle(self):
        """Nothing waiting or being written."""
        return self.queue.empty() and not self.posting

    def submit(self, device_id, kind, comments):
        self.queue.put((device_id, kind, comments))
        return None  # the id is known once written: see ``ids``

    def _run(self):
        done = False
        while not done:
            self.posting = False
            entries = [self.queue.get()]
            self.posting = True
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
        self.posting = False

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
    params,
    check_mode=False,
    client=None,
    driver_factory=make_driver,
    log=None,
    on_result=None,
    progress=None,
    lifeline=None,
    settled=None,
):
    """Provision every device ``params`` names or selects; return ``{"results": [...], "summary": {...}}``.

    ``on_result(outcome)`` is called in the caller's thread as each device finishes; ``progress(line)``
    with a line on what the batch does next (before the first result can take a while). Once ``lifeline``
    (a ``Lifeline``) is stopping, no further device begins its session: those fail with ``run_stopped``.
    ``settled(outcome)`` is called in the device's thread with each device's outcome before the lifeline counts
    it done (a daemon's run writes it in the daemon's ledger: ``ledger.py``).
    Raises ``ProvisionError`` only for what concerns the whole run (parameters, Nautobot unreachable or
    refusing the token, no device with a NAPALM login); each device's failure is in its outcome.
    """
    return BatchRun(params, check_mode, client, driver_factory, log, on_result, progress, lifeline, settled).run()


class BatchRun(object):
    """One run of ``run_batch``: its steps as methods, called in order by ``run``; what a step leaves for
    the next ones in the attributes set in ``__init__``.

    Threads: the device threads (``provision_device``) read the run's state, wait on ``intents_ready`` and
    write ``used_intents`` and ``fatal``; the job render thread (``render_jobs``) writes ``intents`` and
    sets ``intents_ready``; ``results`` and ``on_result`` belong to the caller's thread alone.
    """

    def __init__(
        self,
        params,
        check_mode=False,
        client=None,
        driver_factory=make_driver,
        log=None,
        on_result=None,
        progress=None,
        lifeline=None,
        settled=None,
    ):
        self.params = params
        self.lifeline = lifeline or Lifeline()
        self.settled = settled or (lambda _outcome: None)
        self.check_mode = check_mode
        self.driver_factory = driver_factory
        self.log = log or (lambda _msg: None)
        self.on_result = on_result or (lambda _outcome: None)
        self.progress = progress or (lambda _line: None)
        self.targets, self.device_filter = check_batch_parameters(params)
        self.client = client or make_client(params)
        self.started = time.monotonic()
        self.timings = {}
        self.render_lock = threading.Lock()  # Golden Config's on-demand render must not run twice at once
        # read_devices: found by name or UUID, selected by the filter only, not found (name -> error)
        self.early = None
        self.named, self.selected, self.missing = [], [], {}
        self.named_ids = set()
        self.devices = []
        # assess_readiness, resolve_logins: device id -> verdict; the ready devices with a login, in order
        self.verdicts = {}
        self.ready = []
        self.resolver = None
        self.logins = {}  # device id -> its NAPALM login
        self.no_login = []  # (device, resolution) of each ready device without one
        self.scrubber = None
        # choose_intent_source, read_stored_intents, start_job_renders
        self.source = None
        self.device_params = None
        self.intents = {}  # device id -> Intent or ProvisionError (intent_source stored or job)
        self.intents_ready = {}  # device id -> Event, set once the job render settled its intent (job)
        self.by_job = []  # the ready devices Golden Config's job can render
        # provision_devices
        self.notes = None
        self.used_intents = {}  # device id -> the Intent its session loaded (filed as its config plan)
        self.fatal = []  # errors that concern the whole run (Nautobot unreachable or refusing the token)
        self.results = []
        # update_compliance (check_drift), close_notes
        self.after = None
        self.warnings = []
        # compliance_drift: the running configuration each session read (device id -> text or the exception
        # reading it), the notes held until the drift check (device id -> (kind, comments)), whether it ran
        self.drift_on = bool(params.get("compliance_drift"))
        self.running = {}
        self.held_notes = {}
        self.held_lock = threading.Lock()
        self.drift_checked = False

    def run(self):
        """Every step in order; the batch's result (see ``run_batch``)."""
        self.read_devices()
        self.assess_readiness()
        self.resolve_logins()
        self.report_unprovisionable()
        self.choose_intent_source()
        self.read_stored_intents()
        self.start_notes()
        self.announce()
        self.start_job_renders()
        self.provision_devices()
        self.update_compliance()
        self.timings["total_seconds"] = round(time.monotonic() - self.started, 3)
        self.close_notes()
        return self.summary()

    # --- the devices, their readiness and their logins -----------------------------------------------
    def read_devices(self):
        """The devices from Nautobot (a few named by UUID rendering meanwhile: ``EarlyRenders``)."""
        source = self.params.get("intent_source") or "auto"
        self.early = EarlyRenders(self.client, self.targets, self.device_filter, source, self.render_lock)
        self.named, self.selected, self.missing = self.client.get_devices(self.targets, self.device_filter)
        self.named_ids = set(str(d.get("id")) for d in self.named)
        self.devices = self.named + self.selected
        self.timings["lookup_seconds"] = round(time.monotonic() - self.started, 3)

    def assess_readiness(self):
        """Each device's readiness verdict, from the data just read; ``ready`` the ready ones."""
        statuses = self.params.get("ready_statuses") or messages.DEFAULT_READY_STATUSES
        self.verdicts = dict((str(d.get("id")), check_readiness(d, statuses)) for d in self.devices)
        self.ready = [d for d in self.devices if self.verdicts[str(d.get("id"))].ready]

    def resolve_logins(self):
        """Each ready device's NAPALM login, once: inventory, its secrets group, the global options.

        A ready device without one leaves ``ready`` for ``no_login``; all of them without one fails the run.
        """
        self.resolver = CredentialResolver.from_params(self.params)
        for device in self.ready:
            resolution = self.resolver.resolve(
                device,
                self.verdicts[str(device.get("id"))].napalm_driver,
                merged_optional_args(device, self.params.get("optional_args")),
            )
            if resolution.login is None:
                self.no_login.append((device, resolution))
            else:
                self.logins[str(device.get("id"))] = resolution.login
        self.scrubber = self.resolver.scrubber([self.params.get("nautobot_token")])
        if self.ready and not self.logins:
            error = no_login_error([resolution for _device, resolution in self.no_login], self.resolver)
            error.message = self.scrubber.text(error.message)
            raise error
        self.ready = [d for d in self.ready if str(d.get("id")) in self.logins]

    def finish(self, outcome):
        """One device done: its outcome, without any login value, in ``results`` and to ``on_result``."""
        outcome = self.scrubber.result(outcome)  # no login value in a result or a line, whatever its source
        self.results.append(outcome)
        self.on_result(outcome)

    def report_unprovisionable(self):
        """The devices not found (failed) and the ready ones without a login (skipped), done at once."""
        for error in self.missing.values():
            self.finish(outcome_of(error=error))
        for device, resolution in self.no_login:
            self.finish(
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
        if self.device_filter and not self.selected:
            self.log("No device matches the filter {0}".format(self.device_filter))

    # --- the intents -----------------------------------------------------------------------------------
    def choose_intent_source(self):
        """``auto``: on demand for a few ready devices, Golden Config's job for more."""
        source = self.params.get("intent_source") or "auto"
        if source == "auto":
            source = "job" if len(self.ready) > AUTO_JOB_THRESHOLD else "regenerate"
        self.source = source
        self.device_params = dict(self.params, intent_source=source)

    def read_stored_intents(self):
        """intent_source stored: every ready device's stored intent (or why it has none) in one read."""
        if self.source != "stored":
            return
        records = read_stored_records(self.client, [str(d.get("id")) for d in self.ready])
        for device in self.ready:
            device_id = str(device.get("id"))
            name = str(device.get("name") or device_id)
            try:
                config, age, last_success = parse_stored(
                    200, {"results": [records[device_id]]} if device_id in records else {"results": []}, name
                )
                self.intents[device_id] = Intent(config, "stored", age_seconds=age, last_success=last_success)
            except ProvisionError as error:
                self.intents[device_id] = error

    def start_job_renders(self):
        """intent_source job: render the ready devices by chunks in a thread of their own (``render_jobs``).

        Golden Config's job fails as a whole when one device's platform has no network driver (its
        template path needs it): such devices are rendered on demand, alone, and fail alone.
        """
        self.by_job = [d for d in self.ready if ((d.get("platform") or {}).get("network_driver") or "").strip()]
        if self.source != "job":
            return
        for device in self.by_job:
            self.intents_ready[str(device.get("id"))] = threading.Event()
        threading.Thread(target=self.render_jobs, name="sotsync-render", daemon=True).start()

    def render_jobs(self):
        """One Golden Config job run per chunk; every device's intent settled, whatever happens."""
        chunks = [self.by_job[i : i + JOB_CHUNK] for i in range(0, len(self.by_job), JOB_CHUNK)]
        for chunk in chunks:
            pairs = [(str(d.get("id")), str(d.get("name") or d.get("id"))) for d in chunk]
            try:
                self.intents.update(render_by_job(self.client, pairs, job_queue=self.params.get("job_queue") or None))
            except ProvisionError as error:
                for device_id, _name in pairs:
                    self.intents[device_id] = error
            except Exception as exc:  # noqa: BLE001 - never leave a device waiting for its intent
                error = RenderFailed(
                    "Rendering {0} device(s) with Golden Config's job failed: {1}: {2}".format(
                        len(pairs), type(exc).__name__, exc
                    ),
                    intent_source="job",
                )
                for device_id, _name in pairs:
                    self.intents[device_id] = error
            finally:
                for device_id, _name in pairs:
                    self.intents.setdefault(device_id, ProvisionError("no intent"))
                    self.intents_ready[device_id].set()

    def intent_for(self, device_id, name):
        """A device's ``Intent`` (or its error, raised): stored or by job once settled, else on demand."""
        if self.source == "stored" or device_id in self.intents_ready:
            if device_id in self.intents_ready:
                self.intents_ready[device_id].wait()
            intent = self.intents[device_id]
            if isinstance(intent, ProvisionError):
                raise intent
            return intent
        intent = self.early.take(device_id)
        if intent is not None:
            return intent
        with self.render_lock:  # the on-demand render must not run twice at once
            return fetch_intent(self.client, device_id, name, "regenerate")

    def record_intent(self, device_id, name):
        """``intent_for``, remembered: the config a plan is filed with is what a live merge would load."""
        intent = self.intent_for(device_id, name)
        self.used_intents[device_id] = intent
        return intent

    # --- the NAPALM sessions -----------------------------------------------------------------------------
    def start_notes(self):
        """The background note writer, unless notes are off or in check mode."""
        if self.params.get("notes", True) and not self.check_mode:
            self.notes = NoteWriter(self.client)
            self.lifeline.waits.append(self.notes.idle)  # a stopped run ends once its notes are written
            if self.drift_on:
                self.lifeline.waits.append(lambda: not self.held_notes)

    def note_writer(self):
        """What a device's session writes its note with: the note writer's ``submit``; with ``compliance_drift``
        ``hold_note``, so that the note says what the drift check finds too (``flush_notes``)."""
        if self.notes is None:
            return lambda *_a: None
        return self.hold_note if self.drift_on else self.notes.submit

    def hold_note(self, device_id, kind, comments):
        with self.held_lock:
            self.held_notes[str(device_id)] = (kind, comments)
        return None  # the id is known once written: see ``close_notes``

    def running_keeper(self, device_id):
        """With ``compliance_drift``, what keeps the running configuration the device's session read (the
        session's ``keep_running``) in ``running``; None otherwise (nothing read)."""
        if not self.drift_on:
            return None
        return lambda running: self.running.__setitem__(device_id, running)

    def announce(self):
        """The progress line on what was read and how the intents come, before the first result."""
        self.progress(
            "{0} device(s) read from Nautobot in {1} s ({2} not found, {3} ready{6}); intents: {4}; {5} NAPALM "
            "session(s) at once".format(
                len(self.devices) + len(self.missing),
                self.timings["lookup_seconds"],
                len(self.missing),
                len(self.ready) + len(self.no_login),
                "Golden Config's job, {0} device(s) a run".format(JOB_CHUNK)
                if self.source == "job"
                else ("stored" if self.source == "stored" else "rendered on demand, one at a time"),
                self.params.get("workers") or 8,
                ", {0} of them without a NAPALM login".format(len(self.no_login)) if self.no_login else "",
            )
        )

    def provision_devices(self):
        """Every device read on a bounded pool, each outcome to ``finish`` in the caller's thread.

        Unready devices first (no wait), then the ready ones in the order their intents arrive.
        """
        order = [d for d in self.devices if not self.verdicts[str(d.get("id"))].ready] + self.ready
        workers = self.params.get("workers") or 8  # validated: 1 to 64
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sotsync-device") as pool:
            futures = [pool.submit(self.provision_device, device) for device in order]
            for future in as_completed(futures):
                self.finish(future.result())

    def provision_device(self, device):
        """One device's outcome (in a device thread), handed to ``settled`` (the daemon's ledger) before the device
        counts as done for the lifeline: a run whose daemon is gone ends once its devices are done."""
        begun = []
        try:
            outcome = self.device_outcome(device, begun)
            self.settled(outcome)
            return outcome
        finally:
            if begun:
                self.lifeline.end()

    def device_outcome(self, device, begun):
        """Skipped, or ``provision_one``'s outcome, filed as a plan; ``begun`` gets an item once the lifeline
        counts the device in its session."""
        device_id = str(device.get("id"))
        verdict = self.verdicts[device_id]
        if device_id not in self.named_ids and not verdict.ready:
            # Selected by the filter, not named: an unready device is reported and skipped, not failed.
            return {
                "device": str(device.get("name") or device.get("id")),
                "device_id": device_id,
                "failed": False,
                "skipped": True,
                "changed": False,
                "msg": verdict.message,
                "reasons": list(verdict.reasons),
            }
        if not self.lifeline.begin():
            # Not begun: its session never opened, so nothing on it changed; devices in a session finish.
            return outcome_of(
                error=RunStopped(
                    "Not provisioned: {0}; its session never began, nothing on it changed: run it again".format(
                        self.lifeline.reason
                    ),
                    device=str(device.get("name") or device_id),
                    device_id=device_id,
                )
            )
        begun.append(True)
        try:
            result = provision_one(
                device,
                self.device_params,
                self.check_mode,
                self.record_intent,
                self.note_writer(),
                self.driver_factory,
                self.log,
                previous_hosts=self.previous_hosts,
                login=self.logins.get(device_id),
                scrubber=self.scrubber,
                keep_running=self.running_keeper(device_id),
            )
            if self.params.get("plan") and not self.check_mode and result.get("changed"):
                self.file_plan(result, self.used_intents[device_id])
            return outcome_of(result)
        except (NautobotUnreachable, NautobotAuthenticationFailed) as error:
            self.fatal.append(error)
            return outcome_of(error=error)
        except ProvisionError as error:
            return outcome_of(error=error)

    def previous_hosts(self, device, host):
        """The management addresses ``device`` had before ``host`` (a re-addressed device is found there)."""
        return previous_hosts_from(self.client, device, host)

    def file_plan(self, result, intent):
        """A device with differences, in plan mode: its intent filed as a config plan waiting for approval."""
        name = result["device"]
        try:
            plan_id, plan_warnings = create_plan(
                self.client,
                result["device_id"],
                name,
                intent.config,
                note=self.scrubber.text(
                    note_text(
                        name,
                        "config plan ({0})".format(NOT_APPROVED),
                        "Planned: the device differs from its intended configuration. Approve this plan (set its "
                        "status to Approved) to deploy its config set with commit-confirm and verification.",
                        self.params.get("trigger") or "manual",
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

    # --- compliance, notes, summary ----------------------------------------------------------------------
    def update_compliance(self):
        """After live commits, Golden Config's backup and compliance of the committed devices (not once the
        run is stopping: the next run's compliance, or Golden Config's schedule, brings it up to date); with
        ``compliance_drift``, the drift check of every compared device instead (``check_drift``)."""
        if self.drift_on:
            self.check_drift()
            return
        if self.lifeline.stopping:
            if any(outcome_kind(r) == "committed" for r in self.results) and self.params.get("update_compliance"):
                self.warnings.append(
                    "Golden Config's compliance was not brought up to date after the commits: {0}".format(
                        self.lifeline.reason
                    )
                )
            return
        began = time.monotonic()
        # the intended repository holds what was deployed when the intents came from Golden Config's job
        self.after = compliance.after_commit(
            self.client, self.params, self.check_mode, self.results, self.progress, self.source in ("job", "stored")
        )
        if self.after:
            self.timings["compliance_seconds"] = round(time.monotonic() - began, 3)

    def check_drift(self):
        """``compliance_drift``: what each compared device has that its intent does not, in ``drift`` on its result.

        Golden Config's compliance of every device compared (committed or not; ``compliance.for_drift``: its
        jobs run, or its stored compliance when at most ``compliance_max_age`` seconds old; in check mode the
        stored one), each feature's extra lines; and the lines in no compliance feature, from the running
        configuration the session read and the compliance rules Golden Config checks the device with (those
        of its platform's network driver; ``drift.device_drift``). The committed devices' ``compliance`` too
        (``update_compliance``). Then the held notes are written (``flush_notes``), whatever happens. Not once
        the run is stopping.
        """
        try:
            if self.lifeline.stopping:
                self.warnings.append("The drift check beyond the merge did not run: {0}".format(self.lifeline.reason))
                return
            compared = [r for r in self.results if r.get("device_id") and not r.get("failed") and not r.get("skipped")]
            if not compared:
                return
            began = time.monotonic()
            states, reports = compliance.for_drift(
                self.client,
                [(str(r["device_id"]), str(r.get("device") or r["device_id"])) for r in compared],
                max_age=self.params.get("compliance_max_age") or 0,
                check_mode=self.check_mode,
                must_refresh=set(str(r["device_id"]) for r in compared if r.get("committed")),
                job_queue=self.params.get("job_queue") or None,
                # the intended repository holds the intents when they came from Golden Config's job
                intended_fresh=self.source in ("job", "stored"),
                progress=self.progress,
            )
            driver_of = dict((str(d.get("id")), (d.get("platform") or {}).get("network_driver")) for d in self.devices)
            try:
                rules = compliance.rules_by_driver(compliance.read_rules(self.client))
            except ProvisionError as error:
                rules = error
            # why Golden Config could not check every device (not set up...) was said once, by for_drift
            said = set(s.get("error") for s in states.values()) if len(states) > 1 else set()
            said = said if len(said) == 1 else set()
            for result in compared:
                device_id = str(result["device_id"])
                intent = self.used_intents.get(device_id)
                report = drift.device_drift(
                    states[device_id],
                    platforms.for_driver(result.get("napalm_driver")),
                    intent=intent.config if intent is not None else None,
                    running=self.running.get(device_id),
                    rules=rules if isinstance(rules, ProvisionError) else rules.get(str(driver_of.get(device_id)), []),
                    masked_as=result.get("napalm_driver"),
                )
                result["drift"] = self.scrubber.result(report)
                if drift.findings(report) or states[device_id].get("error") not in said | {None}:
                    for line in drift.printed_lines(result.get("device") or device_id, result["drift"]):
                        self.progress(line)
            if self.params.get("update_compliance", True):
                compliance.attach([r for r in compared if r.get("committed")], reports)
            self.drift_checked = True
            self.timings["compliance_seconds"] = round(time.monotonic() - began, 3)
        finally:
            self.flush_notes()

    def flush_notes(self):
        """Write the notes held for the drift check, each with what it found, and a note on each device with
        extra lines that had none (in sync with its intent, ``notes_unchanged`` false)."""
        with self.held_lock:
            held, self.held_notes = self.held_notes, {}
        if self.notes is None:
            return
        compared = dict((str(r.get("device_id")), r) for r in self.results if r.get("device_id"))
        for device_id, (kind, comments) in held.items():
            report = (compared.get(device_id) or {}).get("drift")
            if report:
                comments += "\n\n" + self.scrubber.text(drift.note_section(report), usernames=False)
            self.notes.submit(device_id, kind, comments)
        for device_id, result in compared.items():
            report = result.get("drift")
            if device_id in held or not report or not report.get("extra"):
                continue
            text = note_text(
                result.get("device") or device_id,
                "dry run" if result.get("dry_run", True) else "commit",
                "The merge would add nothing (the device has every intended line), but the device has lines its "
                "intent does not: below.",
                self.params.get("trigger") or "manual",
                result.get("intent_source"),
                None,
                appendix=drift.note_section(report),
                platform=result.get("napalm_driver"),
            )
            self.notes.submit(device_id, "info", self.scrubber.text(text, usernames=False))

    def close_notes(self):
        """Wait for the notes; their failures as warnings, each written note's id in its device's outcome."""
        if self.notes is None:
            return
        self.notes.close()
        self.warnings.extend(self.scrubber.text(warning) for warning in self.notes.errors)
        for result in self.results:
            if result.get("device_id") in self.notes.ids:
                result["note_id"] = self.notes.ids[result["device_id"]]

    def summary(self):
        """The batch's result: outcomes, summary and warnings; raises what failed the whole run."""
        if self.fatal:
            raise self.fatal[0]
        summary = summarise(self.results)
        summary.update(self.timings)
        if self.drift_checked:
            summary["compliance"] = drift.summary(self.results)
        elif self.after:
            summary["compliance"] = compliance.summary(self.results)
        summary["intent_source"] = self.source
        return {"results": self.results, "summary": summary, "warnings": self.warnings}


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
