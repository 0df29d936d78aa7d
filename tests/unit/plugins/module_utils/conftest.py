"""Fakes for the provisioning logic's unit tests: a NAPALM-like driver and a Nautobot-like client.

They record what was called, so tests assert on behaviour (what reached the device) rather than on
how the code is written. No mock library: plain objects with the same methods.
"""

from __future__ import annotations

import threading
import time

import pytest

from ansible_collections.sotsync.nautobot.plugins.module_utils import compliance
from ansible_collections.sotsync.nautobot.plugins.module_utils.errors import DeviceNotFound

INTENT = """! intended configuration for access1
hostname access1
!
interface Management1
   description management
   ip address 127.0.1.11/24
!
end
"""
RUNNING = INTENT.replace("hostname access1", "hostname old-name")
DIFF = "-hostname old-name\n+hostname access1"


class FakeDriver:
    """A NAPALM driver double: ``fail={"method": exc}`` raises from that method;
    ``fail_after_commit={"method": exc}`` only once a commit was made (a device gone silent)."""

    def __init__(
        self, diff=DIFF, running=RUNNING, fail=None, running_after_commit=None, fail_once=None, fail_after_commit=None
    ):
        self.fail_after_commit = dict(fail_after_commit or {})
        self.committed = False
        self.diff = diff
        self.running = running
        self.fail = dict(fail or {})
        self.fail_once = dict(fail_once or {})
        self.running_after_commit = running_after_commit
        self.calls: list[str] = []
        self.candidate = None
        self.pending = False
        self.revert_in = None

    def _enter(self, name):
        self.calls.append(name)
        if name in self.fail_once:
            raise self.fail_once.pop(name)
        if name in self.fail:
            raise self.fail[name]
        if self.committed and name in self.fail_after_commit:
            raise self.fail_after_commit[name]

    def open(self):
        self._enter("open")

    def load_merge_candidate(self, filename=None, config=None):
        self._enter("load_merge_candidate")
        self.candidate = config

    def compare_config(self):
        self._enter("compare_config")
        return self.diff

    def discard_config(self):
        self._enter("discard_config")
        self.candidate = None

    def commit_config(self, message="", revert_in=None):
        self._enter("commit_config" if revert_in is None else "commit_config(revert_in)")
        self.revert_in = revert_in
        self.committed = True
        self.pending = revert_in is not None
        self.running = self.running_after_commit if self.running_after_commit is not None else self.candidate
        self.candidate = None

    def has_pending_commit(self):
        self._enter("has_pending_commit")
        return self.pending

    def confirm_commit(self):
        self._enter("confirm_commit")
        self.pending = False

    def rollback(self):
        self._enter("rollback")
        self.pending = False
        self.running = RUNNING

    def get_config(self, retrieve="all", full=False, sanitized=False, format="text"):
        self._enter("get_config")
        return {"startup": "", "running": self.running, "candidate": ""}

    def close(self):
        self._enter("close")


class NoConfirmDriver(FakeDriver):
    """A driver without commit-confirm (no has_pending_commit / confirm_commit)."""

    has_pending_commit = None
    confirm_commit = None


class FakeNautobot:
    """What ``provision_one`` (through ``fetch_intent`` and its note writer) calls on Nautobot, with
    canned answers; ``device`` is the device as the batch read it."""

    def __init__(self, device, render=(200, {"intended_config": INTENT}), stored=None, note_error=None):
        self.device = device
        self.render = render
        self.stored = stored
        self.note_error = note_error
        self.calls: list[tuple] = []
        self.notes: list[dict] = []

    def get_json(self, path, params=None):
        self.calls.append(("get_json", path, params))
        return self.stored if "golden-config/golden-config" in path else self.render

    def create_note(self, device_id, kind, comments):
        self.calls.append(("note", kind))
        if self.note_error:
            raise self.note_error
        self.notes.append({"device_id": device_id, "kind": kind, "comments": comments})
        return f"note-{len(self.notes)}"


def ready_device(**overrides):
    device = {
        "id": "0b0e6c0e-1111-4222-8333-444455556666",
        "name": "access1",
        "platform": {
            "name": "Arista EOS",
            "napalm_driver": "",
            "network_driver": "arista_eos",
            "network_driver_mappings": {"napalm": "eos", "netmiko": "arista_eos"},
        },
        "primary_ip4": {"address": "127.0.1.11/24"},
        "status": {"name": "Active"},
        "config_context": {"napalm": {"optional_args": {"transport": "http", "port": 9080}}},
    }
    device.update(overrides)
    return device


@pytest.fixture
def fakes():
    """The fake classes and data, as one namespace."""

    class Namespace:
        pass

    ns = Namespace()
    ns.FakeDriver = FakeDriver
    ns.NoConfirmDriver = NoConfirmDriver
    ns.FakeNautobot = FakeNautobot
    ns.ready_device = ready_device
    ns.INTENT = INTENT
    ns.RUNNING = RUNNING
    ns.DIFF = DIFF
    return ns


# --- the batch: a Nautobot double with the batch's calls, and a driver factory ----------------------
GENERATE_PATH = "plugins/golden-config/generate-intended-config/"
STORED_PATH = "plugins/golden-config/golden-config/"
GC_SETTINGS_PATH = compliance.SETTINGS_PATH
GC_RULES_PATH = compliance.RULES_PATH
OLD_SUCCESS = "2026-11-24T09:00:00.000000Z"


def batch_device(index, **overrides):
    """A ready device ``dev<index>`` with its own id and address."""
    device = ready_device(
        id=f"00000000-0000-4000-8000-{index:012d}",
        name=f"dev{index}",
        primary_ip4={"address": f"127.0.2.{index}/24"},
    )
    device.update(overrides)
    return device


GOLDEN_CONFIG_STAGES = {
    compliance.ALL_JOBS: ("backup", "compliance"),
    compliance.BACKUP_JOB: ("backup",),
    compliance.COMPLIANCE_JOB: ("compliance",),
}


class FakeBatchNautobot:
    """What ``run_batch`` and ``render_by_job`` call, thread-safe, with canned answers.

    ``inventory``: every device Nautobot knows (named ones are found by name or id); ``selection``: what
    the device filter selects. ``render``: ``{device_id: (status, body) or exception}`` overriding the
    on-demand render. ``job_failures``: ``{device_id: n}``, the next ``n`` job runs fail to render that
    device (keeping an older success date). ``job_status``: how each job run ends; ``job_stores``: whether
    it stores records at all (a job can end FAILURE having stored the devices it rendered). ``stored``:
    ``{device_id: record}`` for intent_source stored; job runs write their records there too.
    ``render_seconds`` keeps each on-demand render busy so that overlapping renders are seen
    (``max_renders_at_once``).
    """

    def __init__(
        self,
        inventory=(),
        selection=(),
        render=None,
        job_failures=None,
        job_status="SUCCESS",
        job_stores=True,
        stored=None,
        note_error=None,
        render_seconds=0.0,
    ):
        self.inventory = list(inventory)
        self.selection = list(selection)
        self.render = dict(render or {})
        self.job_failures = dict(job_failures or {})
        self.job_status = job_status
        self.job_stores = job_stores
        self.stored = dict(stored or {})
        self.note_error = note_error
        self.render_seconds = render_seconds
        self.lock = threading.Lock()
        self.calls: list[tuple] = []
        self.jobs: list[dict] = []
        self.note_calls: list[list] = []
        self.note_ids: dict[str, str] = {}  # entry id -> device id
        self.renders_now = 0
        self.max_renders_at_once = 0

    def _record(self, *call):
        with self.lock:
            self.calls.append(call)

    def get_devices(self, idents, filters):
        self._record("get_devices", list(idents), dict(filters or {}))
        named, missing = [], {}
        for ident in idents:
            found = [d for d in self.inventory if ident in (d["id"], d["name"])]
            if not found:
                missing[ident] = DeviceNotFound(f"Device {ident} was not found in Nautobot", device=ident)
            elif found[0] not in named:
                named.append(found[0])
        selected = [d for d in self.selection if d not in named] if filters else []
        return named, selected, missing

    def get_json(self, path, params=None):
        self._record("get_json", path, params)
        if path == GENERATE_PATH:
            with self.lock:
                self.renders_now += 1
                self.max_renders_at_once = max(self.max_renders_at_once, self.renders_now)
            try:
                time.sleep(self.render_seconds)
                answer = self.render.get(params["device_id"], (200, {"intended_config": INTENT}))
                if isinstance(answer, Exception):
                    raise answer
                return answer
            finally:
                with self.lock:
                    self.renders_now -= 1
        if path == STORED_PATH:
            ids = params["device"] if isinstance(params["device"], list) else [params["device"]]
            with self.lock:
                results = [self.stored[i] for i in ids if i in self.stored]
            return 200, {"count": len(results), "results": results}
        if path == GC_SETTINGS_PATH:  # set up for backup and compliance, as the lab's Golden Config is
            setting = {"backup_repository": {"id": "backup"}, "backup_path_template": "{{obj.name}}.cfg"}
            return 200, {"count": 1, "results": [setting]}
        if path == GC_RULES_PATH:
            return 200, {"count": 4, "results": [{}]}
        return 404, {"detail": "Not found."}

    def run_job(self, name, data, timeout=120, job_queue=None):
        with self.lock:
            run = len(self.jobs) + 1
            self.jobs.append(
                {"name": name, "devices": list(data["device"]), "data": data, "timeout": timeout, "queue": job_queue}
            )
            created = f"2026-11-25T10:{run:02d}:00.000000Z"
            attempt = f"2026-11-25T10:{run:02d}:01.000000Z"
            stages = GOLDEN_CONFIG_STAGES.get(name)
            if stages:  # Golden Config's backup and compliance (after live commits): each device backed up and checked
                for device_id in data["device"]:
                    record = self.stored.setdefault(device_id, {"device": {"id": device_id}})
                    for stage in stages:
                        record[f"{stage}_last_attempt_date"] = attempt
                        record[f"{stage}_last_success_date"] = attempt
            elif self.job_stores:
                for device_id in data["device"]:
                    failing = self.job_failures.get(device_id, 0) > 0
                    if failing:
                        self.job_failures[device_id] -= 1
                    previous = self.stored.get(device_id, {}).get("intended_last_success_date") or OLD_SUCCESS
                    self.stored[device_id] = {
                        "device": {"id": device_id},
                        "intended_config": INTENT,
                        "intended_last_attempt_date": attempt,
                        "intended_last_success_date": previous if failing else attempt,
                    }
        return {"id": f"jr{run}", "status": {"value": self.job_status}, "date_created": created}

    def graphql(self, query, variables=None, what=""):
        """Golden Config's compliance records: one feature, compliant, for each device a job checked."""
        assert query == compliance.FEATURES_QUERY
        with self.lock:
            checked = [d for d in variables["devices"] if "compliance_last_success_date" in self.stored.get(d, {})]
        return {
            "config_compliances": [
                {"device": {"id": d}, "rule": {"feature": {"name": "system"}}, "compliance": True} for d in checked
            ]
        }

    def create_notes(self, entries):
        with self.lock:
            self.note_calls.append(entries)
            self.calls.append(("create_notes", threading.current_thread().name))
            if self.note_error:
                raise self.note_error
            ids = []
            for device_id, _kind, _comments in entries:
                entry_id = f"note-{len(self.note_ids) + 1}"
                self.note_ids[entry_id] = device_id
                ids.append(entry_id)
            return ids

    def note_entries(self):
        """Every entry written, ``(device_id, kind, comments)``, in order."""
        return [entry for call in self.note_calls for entry in call]

    def renders(self):
        """The device ids rendered on demand, in order."""
        return [c[2]["device_id"] for c in self.calls if c[0] == "get_json" and c[1] == GENERATE_PATH]


class DriverFactory:
    """A new ``FakeDriver`` per device; ``drivers`` maps each host to its driver. ``per_host`` gives some
    hosts other driver arguments, e.g. ``{"127.0.2.2": {"diff": ""}}`` for a device already as intended."""

    def __init__(self, per_host=None, **driver_kwargs):
        self.driver_kwargs = driver_kwargs
        self.per_host = dict(per_host or {})
        self.drivers: dict[str, FakeDriver] = {}
        self.lock = threading.Lock()

    def __call__(self, driver_name, host, username, password, timeout, optional_args):
        driver = FakeDriver(**dict(self.driver_kwargs, **self.per_host.get(host, {})))
        with self.lock:
            self.drivers[host] = driver
        return driver


@pytest.fixture
def batch_fakes():
    """The batch's fakes, as one namespace."""

    class Namespace:
        pass

    ns = Namespace()
    ns.FakeBatchNautobot = FakeBatchNautobot
    ns.DriverFactory = DriverFactory
    ns.batch_device = batch_device
    ns.ready_device = ready_device
    ns.INTENT = INTENT
    ns.DIFF = DIFF
    ns.OLD_SUCCESS = OLD_SUCCESS
    return ns
