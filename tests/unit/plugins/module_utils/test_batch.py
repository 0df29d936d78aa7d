"""Many devices in one run (``batch.run_batch``) and the job-based render (``intent.render_by_job``).

A Nautobot double with the batch's calls (``FakeBatchNautobot``) and a ``FakeDriver`` per device: the
tests assert on what reached Nautobot and the devices, and on each device's outcome.
"""

from __future__ import annotations

import datetime
import re
import threading

import pytest

from ansible_collections.sotsync.nautobot.plugins.module_utils import batch, compliance, messages
from ansible_collections.sotsync.nautobot.plugins.module_utils.batch import (
    AUTO_JOB_THRESHOLD,
    FILTER_EXAMPLES,
    NoteWriter,
    check_batch_parameters,
    format_outcome,
    module_result,
    outcome_of,
    summarise,
    target_list,
)
from ansible_collections.sotsync.nautobot.plugins.module_utils.errors import (
    InvalidParameter,
    MissingCredentials,
    NautobotError,
    NautobotUnreachable,
    RenderFailed,
)
from ansible_collections.sotsync.nautobot.plugins.module_utils.intent import (
    GENERATE_PATH,
    INTENDED_JOB,
    STORED_PATH,
    Intent,
    job_record_intent,
    read_stored_records,
    render_by_job,
)

from tests.unit.plugins.module_utils.conftest import FakeBatchNautobot

PASSWORD = "s3cr3t-device-password"
TOKEN = "0123456789abcdef0123456789abcdef01234567"


def params(**overrides):
    data = {
        "device": None,
        "devices": None,
        "device_filter": None,
        "nautobot_url": "http://nautobot.invalid",
        "nautobot_token": TOKEN,
        "validate_certs": True,
        "nautobot_timeout": 30,
        "intent_source": "auto",
        "dry_run": True,
        "username": "admin",
        "password": PASSWORD,
        "optional_args": None,
        "timeout": 60,
        "ready_statuses": ["Active", "Planned", "Staged"],
        "commit_confirm_seconds": 60,
        "verify": True,
        "notes": True,
        "trigger": "manual",
        "workers": 4,
    }
    data.update(overrides)
    return data


def run_batch(*args, **kwargs):
    """``batch.run_batch`` in a thread of its own that must finish within a deadline: a device left waiting
    for an intent that never comes fails the test instead of hanging it. The thread is ``caller``."""
    outcome = {}

    def target():
        try:
            outcome["result"] = batch.run_batch(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test's thread
            outcome["error"] = exc

    caller = threading.Thread(target=target, name="caller", daemon=True)
    caller.start()
    caller.join(DEADLINE)
    assert not caller.is_alive(), f"run_batch did not finish within {DEADLINE} s"
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]


DEADLINE = 30


class _BoundedEvent(threading.Event):
    def wait(self, timeout=None):
        return super().wait(DEADLINE if timeout is None else timeout)


class _Threading:
    """``threading`` as ``batch`` sees it in these tests, except that no event is waited on forever: a
    device whose intent never comes would otherwise keep a pool thread, and pytest, alive after the test."""

    Event = _BoundedEvent

    def __getattr__(self, name):
        return getattr(threading, name)


@pytest.fixture(autouse=True)
def _bounded_waits(monkeypatch):
    monkeypatch.setattr(batch, "threading", _Threading())


def by_device(results):
    return {r["device"]: r for r in results}


def unready(device):
    return dict(device, platform=None)


def job_devices(nautobot):
    return [job["devices"] for job in nautobot.jobs]


# --- who is provisioned, and how each outcome reads ------------------------------------------------
def test_named_selected_missing_and_unready_devices(batch_fakes):
    f = batch_fakes
    named_ok, named_unready = f.batch_device(1), unready(f.batch_device(2))
    selected_ok, selected_unready = f.batch_device(3), f.batch_device(4, status={"name": "Offline"})
    nautobot = f.FakeBatchNautobot(
        inventory=[named_ok, named_unready, selected_ok, selected_unready],
        selection=[named_ok, selected_ok, selected_unready],
    )
    factory = f.DriverFactory()
    seen, lines = [], []
    batch_run = run_batch(
        params(devices=["dev1", "dev2", "ghost"], device_filter={"location": "Site A"}, intent_source="regenerate"),
        client=nautobot,
        driver_factory=factory,
        on_result=lambda outcome: seen.append((outcome["device"], threading.current_thread())),
        progress=lines.append,
    )
    assert len(lines) == 1 and re.fullmatch(
        r"5 device\(s\) read from Nautobot in [0-9.]+ s \(1 not found, 2 ready\); intents: rendered on demand, "
        r"one at a time; 4 NAPALM session\(s\) at once",
        lines[0],
    ), lines
    assert nautobot.calls[0] == ("get_devices", ["dev1", "dev2", "ghost"], {"location": "Site A"})
    results = by_device(batch_run["results"])
    assert sorted(results) == ["dev1", "dev2", "dev3", "dev4", "ghost"]  # dev1 selected too: once

    assert results["ghost"]["failed"] is True and results["ghost"]["error"] == "device_not_found"
    assert results["dev2"]["failed"] is True and results["dev2"]["error"] == "device_not_ready"
    assert results["dev2"]["reasons"] == ["platform missing"]
    assert results["dev4"]["failed"] is False and results["dev4"]["skipped"] is True
    assert results["dev4"]["reasons"] == ["status not Active, Planned or Staged (is Offline)"]
    for name in ("dev1", "dev3"):
        assert results[name]["failed"] is False and results[name]["msg"] == messages.DRY_RUN
        assert results[name]["config_diff"] == f.DIFF

    # Only the ready devices are rendered and connected to.
    assert sorted(nautobot.renders()) == sorted([named_ok["id"], selected_ok["id"]])
    assert sorted(factory.drivers) == ["127.0.2.1", "127.0.2.3"]
    # The named unready device gets a note (a warning), the skipped one is not.
    kinds = {device_id: kind for device_id, kind, _comments in nautobot.note_entries()}
    assert kinds == {named_ok["id"]: "info", named_unready["id"]: "warning", selected_ok["id"]: "info"}
    assert nautobot.note_ids[results["dev2"]["note_id"]] == named_unready["id"]
    assert results["dev4"].get("note_id") is None

    assert sorted(name for name, _thread in seen) == sorted(results)  # once per device
    assert {thread.name for _name, thread in seen} == {"caller"}  # in run_batch's caller's thread
    summary = batch_run["summary"]
    assert {k: summary[k] for k in ("devices", "failed", "skipped", "dry_run", "committed", "unchanged")} == {
        "devices": 5,
        "failed": 2,
        "skipped": 1,
        "dry_run": 2,
        "committed": 0,
        "unchanged": 0,
    }
    assert summary["msg"] == (
        "5 device(s): 0 committed, 2 with differences (dry run), 0 already as intended, 1 skipped (not ready), 2 failed"
    )
    assert summary["intent_source"] == "regenerate"


def test_a_filter_that_selects_nothing_is_logged(batch_fakes):
    f = batch_fakes
    lines = []
    batch_run = run_batch(
        params(device_filter={"location": "Nowhere"}),
        client=f.FakeBatchNautobot(),
        driver_factory=f.DriverFactory(),
        log=lines.append,
    )
    assert batch_run["results"] == [] and batch_run["summary"]["devices"] == 0
    assert lines == ["No device matches the filter {'location': 'Nowhere'}"]


@pytest.mark.parametrize(
    ("dry_run", "diff", "counted"), [(False, None, "committed"), (True, "", "unchanged"), (False, "", "unchanged")]
)
def test_commit_and_nothing_to_do_are_counted(batch_fakes, dry_run, diff, counted):
    f = batch_fakes
    devices = [f.batch_device(i) for i in (1, 2)]
    factory = f.DriverFactory() if diff is None else f.DriverFactory(diff=diff)
    batch_run = run_batch(
        params(devices=["dev1", "dev2"], dry_run=dry_run, intent_source="regenerate"),
        client=f.FakeBatchNautobot(inventory=devices),
        driver_factory=factory,
    )
    assert batch_run["summary"][counted] == 2 and batch_run["summary"]["failed"] == 0
    committed = [host for host, driver in factory.drivers.items() if "commit_config(revert_in)" in driver.calls]
    assert len(committed) == (2 if counted == "committed" else 0)


# --- Golden Config's compliance after live commits ----------------------------------------------------
@pytest.mark.parametrize(
    ("source", "jobs"),
    [
        ("regenerate", [compliance.ALL_JOBS]),  # the intended repository is not what was deployed: render too
        ("job", [compliance.BACKUP_JOB, compliance.COMPLIANCE_JOB]),  # it is: no second render
    ],
)
def test_committed_devices_compliance_is_brought_up_to_date_in_one_run(batch_fakes, source, jobs):
    f = batch_fakes
    devices = [f.batch_device(i) for i in (1, 2, 3)]
    nautobot = f.FakeBatchNautobot(inventory=devices)
    factory = f.DriverFactory(per_host={devices[2]["primary_ip4"]["address"].split("/")[0]: {"diff": ""}})
    lines = []
    batch_run = run_batch(
        params(devices=["dev1", "dev2", "dev3"], dry_run=False, intent_source=source, job_queue="gc"),
        client=nautobot,
        driver_factory=factory,
        progress=lines.append,
    )
    after = [j for j in nautobot.jobs if j["name"] != "Generate Intended Configurations"]
    assert [j["name"] for j in after] == jobs
    ids = [devices[0]["id"], devices[1]["id"]]
    assert all(sorted(j["devices"]) == ids and j["queue"] == "gc" for j in after)  # dev3 had no change
    by_name = {r["device"]: r for r in batch_run["results"]}
    assert by_name["dev1"]["compliance"]["updated"] and by_name["dev1"]["compliance"]["compliant"]
    assert "compliance" not in by_name["dev3"]
    assert batch_run["summary"]["compliance"] == {"updated": 2, "not_updated": [], "noncompliant": []}
    assert "compliance_seconds" in batch_run["summary"]
    assert "dev1: Golden Config compliance brought up to date: compliant (1 feature(s))" in lines


@pytest.mark.parametrize(
    ("dry_run", "check_mode", "update"), [(True, False, True), (False, True, True), (False, False, False)]
)
def test_no_compliance_job_for_a_dry_run_in_check_mode_or_when_turned_off(batch_fakes, dry_run, check_mode, update):
    f = batch_fakes
    nautobot = f.FakeBatchNautobot(inventory=[f.batch_device(1)])
    batch_run = run_batch(
        params(devices=["dev1"], dry_run=dry_run, intent_source="regenerate", update_compliance=update),
        check_mode=check_mode,
        client=nautobot,
        driver_factory=f.DriverFactory(),
    )
    assert nautobot.jobs == []
    assert "compliance" not in batch_run["summary"] and "compliance" not in batch_run["results"][0]


# --- where the intents come from -------------------------------------------------------------------
@pytest.mark.parametrize(("ready", "expected"), [(AUTO_JOB_THRESHOLD, "regenerate"), (AUTO_JOB_THRESHOLD + 1, "job")])
def test_auto_renders_few_devices_on_demand_and_many_by_job(batch_fakes, ready, expected):
    f = batch_fakes
    devices = [f.batch_device(i) for i in range(1, ready + 1)]
    devices.append(unready(f.batch_device(99)))  # an unready device does not count
    nautobot = f.FakeBatchNautobot(inventory=devices)
    batch_run = run_batch(
        params(devices=[d["name"] for d in devices]), client=nautobot, driver_factory=f.DriverFactory()
    )
    assert batch_run["summary"]["intent_source"] == expected
    assert batch_run["summary"]["failed"] == 1  # the unready one
    ok = [r for r in batch_run["results"] if not r["failed"]]
    assert len(ok) == ready and {r["intent_source"] for r in ok} == {expected}
    ready_ids = sorted(d["id"] for d in devices[:-1])
    if expected == "regenerate":
        assert sorted(nautobot.renders()) == ready_ids and nautobot.jobs == []
    else:
        assert nautobot.renders() == []
        assert [job["name"] for job in nautobot.jobs] == [INTENDED_JOB]
        assert sorted(nautobot.jobs[0]["devices"]) == ready_ids


def test_job_runs_per_chunk_and_retries_only_the_failed_devices(batch_fakes, monkeypatch):
    f = batch_fakes
    monkeypatch.setattr(batch, "JOB_CHUNK", 3)
    devices = [f.batch_device(i) for i in range(1, 8)]
    ids = [d["id"] for d in devices]
    nautobot = f.FakeBatchNautobot(
        inventory=devices,
        job_failures={ids[1]: 1, ids[4]: 2},  # dev2 fails once (the retry renders it), dev5 twice
    )
    lines = []
    batch_run = run_batch(
        params(devices=[d["name"] for d in devices], intent_source="job"),
        client=nautobot,
        driver_factory=f.DriverFactory(),
        progress=lines.append,
    )
    assert job_devices(nautobot) == [ids[0:3], [ids[1]], ids[3:6], [ids[4]], [ids[6]]]
    assert "(0 not found, 7 ready); intents: Golden Config's job, 3 device(s) a run" in lines[0]
    assert {job["name"] for job in nautobot.jobs} == {INTENDED_JOB}
    assert nautobot.renders() == []
    results = by_device(batch_run["results"])
    assert results["dev5"]["failed"] is True and results["dev5"]["error"] == "render_failed"
    assert results["dev5"]["msg"] == (
        "Golden Config failed to render the intended configuration of dev5 (job result jr4); the job's log says why"
    )
    assert [name for name, r in sorted(results.items()) if r["failed"]] == ["dev5"]
    assert {r["intent_source"] for r in results.values() if not r["failed"]} == {"job"}
    assert results["dev2"]["msg"] == messages.DRY_RUN
    assert batch_run["summary"]["intent_source"] == "job"


def test_every_job_run_of_a_batch_goes_to_the_job_queue_parameter(batch_fakes, monkeypatch):
    f = batch_fakes
    monkeypatch.setattr(batch, "JOB_CHUNK", 2)
    devices = [f.batch_device(i) for i in range(1, 6)]
    nautobot = f.FakeBatchNautobot(inventory=devices, job_failures={devices[0]["id"]: 1})
    batch_run = run_batch(
        params(devices=[d["name"] for d in devices], intent_source="job", job_queue="renders"),
        client=nautobot,
        driver_factory=f.DriverFactory(),
    )
    assert batch_run["summary"]["failed"] == 0
    assert len(nautobot.jobs) == 4  # three chunks and the retry of the device that failed once
    assert {job["queue"] for job in nautobot.jobs} == {"renders"}


def test_job_mode_renders_a_device_without_network_driver_on_demand(batch_fakes):
    f = batch_fakes
    devices = [f.batch_device(i) for i in range(1, 4)]
    devices[1]["platform"] = {
        "name": "EOS",
        "napalm_driver": "eos",
        "network_driver": "",
        "network_driver_mappings": {},
    }
    ids = [d["id"] for d in devices]
    nautobot = f.FakeBatchNautobot(inventory=devices)
    batch_run = run_batch(
        params(devices=["dev1", "dev2", "dev3"], intent_source="job"), client=nautobot, driver_factory=f.DriverFactory()
    )
    assert job_devices(nautobot) == [[ids[0], ids[2]]]
    assert nautobot.renders() == [ids[1]]
    results = by_device(batch_run["results"])
    assert batch_run["summary"]["failed"] == 0
    assert (results["dev1"]["intent_source"], results["dev2"]["intent_source"]) == ("job", "regenerate")


def test_a_failed_job_fails_its_devices_not_the_run(batch_fakes):
    f = batch_fakes
    devices = [f.batch_device(i) for i in range(1, 4)]
    nautobot = f.FakeBatchNautobot(inventory=devices, job_status="FAILURE", job_stores=False)
    factory = f.DriverFactory()
    batch_run = run_batch(
        params(devices=[d["name"] for d in devices], intent_source="job"), client=nautobot, driver_factory=factory
    )
    assert {r["error"] for r in batch_run["results"]} == {"render_failed"}
    assert all("job ended FAILURE" in r["msg"] for r in batch_run["results"])
    assert factory.drivers == {}


def test_an_unexpected_render_fault_fails_its_devices_and_never_hangs(batch_fakes, monkeypatch):
    """Whatever a job run raises, every device of its chunk (and the chunks after) gets an outcome."""
    f = batch_fakes
    monkeypatch.setattr(batch, "JOB_CHUNK", 2)
    devices = [f.batch_device(i) for i in range(1, 5)]
    nautobot = f.FakeBatchNautobot(inventory=devices)

    def broken_job(*_args, **_kwargs):
        raise TypeError("'NoneType' object is not subscriptable")

    nautobot.run_job = broken_job
    worker = threading.Thread(
        target=lambda: outcome.append(
            run_batch(
                params(devices=[d["name"] for d in devices], intent_source="job"),
                client=nautobot,
                driver_factory=f.DriverFactory(),
            )
        ),
        daemon=True,
    )
    outcome = []
    worker.start()
    worker.join(30)
    assert outcome, "run_batch hung on a render fault"
    results = outcome[0]["results"]
    assert len(results) == 4 and {r["error"] for r in results} == {"render_failed"}
    assert all("TypeError" in r["msg"] for r in results)


def test_stored_intents_are_read_in_one_request(batch_fakes):
    f = batch_fakes
    devices = [f.batch_device(i) for i in range(1, 6)]
    stored = {
        d["id"]: {
            "device": {"id": d["id"]},
            "intended_config": f.INTENT,
            "intended_last_success_date": "2026-11-01T00:00:00Z",
        }
        for d in devices[:4]
    }
    nautobot = f.FakeBatchNautobot(inventory=devices, stored=stored)
    batch_run = run_batch(
        params(devices=[d["name"] for d in devices], intent_source="stored"),
        client=nautobot,
        driver_factory=f.DriverFactory(),
    )
    reads = [c for c in nautobot.calls if c[0] == "get_json"]
    assert reads == [("get_json", STORED_PATH, {"device": [d["id"] for d in devices], "limit": 5})]
    assert nautobot.jobs == []
    results = by_device(batch_run["results"])
    assert results["dev5"]["failed"] is True and results["dev5"]["error"] == "intent_unavailable"
    assert results["dev1"]["intent_source"] == "stored"
    assert results["dev1"]["intent_last_success"] == "2026-11-01T00:00:00Z"
    assert results["dev1"]["intent_age_seconds"] is not None
    assert batch_run["summary"]["dry_run"] == 4


def test_on_demand_renders_never_overlap(batch_fakes):
    f = batch_fakes
    devices = [f.batch_device(i) for i in range(1, 7)]
    nautobot = f.FakeBatchNautobot(inventory=devices, render_seconds=0.03)
    batch_run = run_batch(
        params(devices=[d["name"] for d in devices], intent_source="regenerate", workers=6),
        client=nautobot,
        driver_factory=f.DriverFactory(),
    )
    assert batch_run["summary"]["dry_run"] == 6
    assert sorted(nautobot.renders()) == sorted(d["id"] for d in devices)
    assert nautobot.max_renders_at_once == 1


class LookupAfterRender:
    """A fake Nautobot whose device look-up answers only once an on-demand render has started (or after
    ``wait`` seconds), recording whether it had: what a lone change's early render is for."""

    def __init__(self, base, wait=5.0):
        self.base, self.wait = base, wait
        self.rendering = threading.Event()
        self.render_was_in_flight = None

    def __getattr__(self, name):
        return getattr(self.base, name)

    def get_devices(self, idents, filters):
        self.render_was_in_flight = self.rendering.wait(self.wait)
        return self.base.get_devices(idents, filters)

    def get_json(self, path, params=None):
        if path == GENERATE_PATH:
            self.rendering.set()
        return self.base.get_json(path, params)


def test_a_few_devices_named_by_uuid_are_rendered_while_nautobot_looks_them_up(batch_fakes):
    f = batch_fakes
    devices = [f.batch_device(i) for i in range(1, 3)]
    nautobot = LookupAfterRender(f.FakeBatchNautobot(inventory=devices))
    batch_run = run_batch(
        params(devices=[d["id"] for d in devices]),
        client=nautobot,
        driver_factory=f.DriverFactory(),
    )
    assert nautobot.render_was_in_flight is True
    assert batch_run["summary"]["dry_run"] == 2
    assert sorted(nautobot.base.renders()) == sorted(d["id"] for d in devices)  # once each, not again
    assert nautobot.base.max_renders_at_once == 1


@pytest.mark.parametrize(
    "overrides",
    [
        {"devices": ["dev1", "dev2"]},  # names: the render needs the UUID the look-up gives
        {"devices": [], "device_filter": {"location": "Site A"}},
        {"intent_source": "stored"},
        {"devices": [f"00000000-0000-4000-8000-{i:012d}" for i in range(1, AUTO_JOB_THRESHOLD + 2)]},
    ],
    ids=["names", "filter", "stored", "more-than-the-on-demand-threshold"],
)
def test_no_early_render_unless_a_few_uuids_are_rendered_on_demand(batch_fakes, overrides):
    f = batch_fakes
    devices = [f.batch_device(i) for i in range(1, AUTO_JOB_THRESHOLD + 2)]
    stored = {
        d["id"]: {"device": {"id": d["id"]}, "intended_config": "hostname x\n", "intended_last_success_date": None}
        for d in devices
    }
    nautobot = LookupAfterRender(f.FakeBatchNautobot(inventory=devices, selection=devices[:2], stored=stored), wait=0.2)
    run_batch(
        params(**dict({"devices": [devices[0]["id"], devices[1]["id"]]}, **overrides)),
        client=nautobot,
        driver_factory=f.DriverFactory(),
    )
    assert nautobot.render_was_in_flight is False


def test_an_early_render_that_fails_is_rendered_again_and_reported_with_the_device_name(batch_fakes):
    f = batch_fakes
    devices = [f.batch_device(i) for i in range(1, 3)]
    nautobot = f.FakeBatchNautobot(
        inventory=devices, render={devices[1]["id"]: (400, {"detail": "'hostname' is undefined"})}
    )
    batch_run = run_batch(params(devices=[d["id"] for d in devices]), client=nautobot, driver_factory=f.DriverFactory())
    results = by_device(batch_run["results"])
    assert results["dev2"]["error"] == "render_failed"
    assert "dev2" in results["dev2"]["msg"] and "'hostname' is undefined" in results["dev2"]["msg"]
    assert not results["dev1"]["failed"]
    assert nautobot.renders().count(devices[1]["id"]) == 2 and nautobot.renders().count(devices[0]["id"]) == 1


def test_an_unready_device_rendered_early_is_never_connected_to(batch_fakes):
    f = batch_fakes
    device = unready(f.batch_device(1))
    nautobot = f.FakeBatchNautobot(inventory=[device])
    factory = f.DriverFactory()
    batch_run = run_batch(params(devices=[device["id"]]), client=nautobot, driver_factory=factory)
    assert batch_run["results"][0]["error"] == "device_not_ready"
    assert factory.drivers == {}


def test_a_failed_render_fails_only_its_device(batch_fakes):
    f = batch_fakes
    devices = [f.batch_device(i) for i in range(1, 4)]
    nautobot = f.FakeBatchNautobot(
        inventory=devices, render={devices[1]["id"]: (400, {"detail": "'hostname' is undefined"})}
    )
    batch_run = run_batch(
        params(devices=["dev1", "dev2", "dev3"], intent_source="regenerate"),
        client=nautobot,
        driver_factory=f.DriverFactory(),
    )
    results = by_device(batch_run["results"])
    assert results["dev2"]["error"] == "render_failed" and "'hostname' is undefined" in results["dev2"]["msg"]
    assert not results["dev1"]["failed"] and not results["dev3"]["failed"]


@pytest.mark.parametrize("source", ["regenerate", "job"])
def test_nautobot_unreachable_fails_the_run(batch_fakes, source):
    f = batch_fakes
    devices = [f.batch_device(i) for i in range(1, 4)]
    down = NautobotUnreachable("Nautobot at http://nautobot.invalid is unreachable")

    class Down(f.FakeBatchNautobot):
        def run_job(self, name, data, timeout=120, job_queue=None):
            raise down

    nautobot = Down(inventory=devices, render={devices[1]["id"]: down})
    with pytest.raises(NautobotUnreachable, match="unreachable"):
        run_batch(
            params(devices=["dev1", "dev2", "dev3"], intent_source=source),
            client=nautobot,
            driver_factory=f.DriverFactory(),
        )


# --- notes -------------------------------------------------------------------------------
def test_notes_are_written_in_bulk_off_the_device_threads(batch_fakes):
    f = batch_fakes
    devices = [f.batch_device(i) for i in range(1, 21)]
    nautobot = f.FakeBatchNautobot(inventory=devices)
    batch_run = run_batch(
        params(devices=[d["name"] for d in devices], intent_source="regenerate", workers=8),
        client=nautobot,
        driver_factory=f.DriverFactory(),
    )
    assert all(isinstance(call, list) for call in nautobot.note_calls)
    assert len(nautobot.note_calls) < len(devices)
    assert sorted(e[0] for e in nautobot.note_entries()) == sorted(d["id"] for d in devices)
    assert {c[1] for c in nautobot.calls if c[0] == "create_notes"} == {"sotsync-notes"}
    for result in batch_run["results"]:
        assert nautobot.note_ids[result["note_id"]] == result["device_id"]
    assert batch_run["warnings"] == []


@pytest.mark.parametrize(("notes", "check_mode"), [(False, False), (True, True)])
def test_no_notes_without_notes_or_in_check_mode(batch_fakes, notes, check_mode):
    f = batch_fakes
    devices = [f.batch_device(1), unready(f.batch_device(2))]
    nautobot = f.FakeBatchNautobot(inventory=devices)
    factory = f.DriverFactory()
    batch_run = run_batch(
        params(devices=["dev1", "dev2"], notes=notes, dry_run=False, intent_source="regenerate"),
        check_mode=check_mode,
        client=nautobot,
        driver_factory=factory,
    )
    assert nautobot.note_calls == []
    assert [r.get("note_id") for r in batch_run["results"]] == [None, None]
    committed = bool([c for c in factory.drivers["127.0.2.1"].calls if c.startswith("commit")])
    assert committed is not check_mode


def test_a_note_failure_is_a_warning_not_a_device_failure(batch_fakes):
    f = batch_fakes
    devices = [f.batch_device(i) for i in (1, 2)]
    nautobot = f.FakeBatchNautobot(inventory=devices, note_error=NautobotError("HTTP 500 writing notes"))
    batch_run = run_batch(
        params(devices=["dev1", "dev2"], intent_source="regenerate"), client=nautobot, driver_factory=f.DriverFactory()
    )
    assert batch_run["summary"]["failed"] == 0
    assert batch_run["warnings"] and all(
        w.startswith("Could not write") and "HTTP 500 writing notes" in w for w in batch_run["warnings"]
    )
    assert [r["note_id"] for r in batch_run["results"]] == [None, None]


def test_note_writer_chunks_and_maps_ids(batch_fakes):
    nautobot = batch_fakes.FakeBatchNautobot()
    writer = NoteWriter(nautobot, chunk=3)
    for index in range(7):
        assert writer.submit(f"d{index}", "info", f"entry {index}") is None
    writer.close(timeout=5)
    assert not writer.thread.is_alive()
    assert max(len(call) for call in nautobot.note_calls) <= 3
    assert [e[0] for e in nautobot.note_entries()] == [f"d{i}" for i in range(7)]
    assert {device_id: nautobot.note_ids[entry_id] for device_id, entry_id in writer.ids.items()} == {
        f"d{i}": f"d{i}" for i in range(7)
    }


# --- parameters ------------------------------------------------------------------------------------
def test_nothing_selected_is_refused_before_any_request(batch_fakes):
    nautobot = batch_fakes.FakeBatchNautobot()
    with pytest.raises(InvalidParameter, match="Name the devices to provision") as info:
        run_batch(params(), client=nautobot)
    assert FILTER_EXAMPLES in info.value.message
    assert nautobot.calls == []


def test_filter_as_a_json_string_is_parsed():
    assert check_batch_parameters(params(device_filter='{"location": "Site A", "role": ["Access"]}')) == (
        [],
        {"location": "Site A", "role": ["Access"]},
    )


@pytest.mark.parametrize("bad", ["location=Site A", '["Site A"]', ["Site A"], "42"])
def test_a_filter_that_is_not_a_dict_shows_the_examples(bad):
    with pytest.raises(InvalidParameter) as info:
        check_batch_parameters(params(device_filter=bad))
    assert info.value.message.startswith("The device filter must be a dict of Nautobot device filters")
    assert FILTER_EXAMPLES in info.value.message and repr(bad) in info.value.message


@pytest.mark.parametrize("workers", [-1, 0, 65, 1000])
def test_workers_out_of_range(workers):
    with pytest.raises(InvalidParameter, match="workers must be 1 to 64"):
        check_batch_parameters(params(device="dev1", workers=workers))


@pytest.mark.parametrize("workers", [1, 64])
def test_workers_at_the_bounds(workers):
    assert check_batch_parameters(params(device="dev1", workers=workers)) == (["dev1"], {})


def test_names_come_from_devices_then_device():
    targets, device_filter = check_batch_parameters(params(device="a, b", devices=["c", "a"]))
    assert list(dict.fromkeys(targets)) == ["c", "a", "b"] and device_filter == {}


def test_bad_intent_source_and_a_missing_global_login():
    with pytest.raises(InvalidParameter, match="intent_source must be one of auto, regenerate, job, stored"):
        check_batch_parameters(params(device="dev1", intent_source="cached"))
    # the login is per device (inventory, secrets group, global): not refused before the devices are read
    assert check_batch_parameters(params(device="dev1", password=None)) == (["dev1"], {})


def test_a_run_where_no_device_has_a_login_fails_with_missing_credentials(batch_fakes):
    nautobot = batch_fakes.FakeBatchNautobot(inventory=[batch_fakes.batch_device(1), batch_fakes.batch_device(2)])
    factory = batch_fakes.DriverFactory()
    with pytest.raises(MissingCredentials, match="NAPALM credentials missing: password") as info:
        run_batch(params(devices=["dev1", "dev2"], password=None), client=nautobot, driver_factory=factory)
    assert factory.drivers == {} and nautobot.renders() == []
    assert set(info.value.details["credentials_tried"]) == {"dev1", "dev2"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, []), ("a,b, a ,,", ["a", "b"]), (["x", " y ", "x", ""], ["x", "y"]), ([], [])],
)
def test_target_list(value, expected):
    assert target_list(value) == expected


# --- the task result and the lines a user reads ----------------------------------------------------
OK = {
    "device": "dev1",
    "device_id": "id1",
    "failed": False,
    "changed": True,
    "committed": False,
    "msg": messages.DRY_RUN,
    "config_diff": "-hostname old\n+hostname dev1",
    "warnings": ["device warning"],
}
FAILED = {"device": "dev2", "device_id": "id2", "failed": True, "error": "render_failed", "msg": "boom"}


def test_single_device_result_is_flat():
    result, failed = module_result(
        {"results": [dict(OK)], "summary": summarise([OK]), "warnings": ["run warning"]}, single=True
    )
    assert failed is False
    assert (result["device"], result["msg"], result["config_diff"]) == ("dev1", messages.DRY_RUN, OK["config_diff"])
    assert result["changed"] is True and "failed" not in result
    assert result["warnings"] == ["run warning", "device warning"]
    assert result["results"] == [OK]


def test_single_failed_device_result_is_flat_and_failed():
    result, failed = module_result({"results": [dict(FAILED)], "summary": summarise([FAILED])}, single=True)
    assert failed is True
    assert (result["msg"], result["error"], result["changed"]) == ("boom", "render_failed", False)
    assert "failed" not in result


def test_batch_result_names_the_failed_devices():
    results = [OK, FAILED, dict(FAILED, device=None, device_id="id3")]
    result, failed = module_result({"results": results, "summary": summarise(results)}, single=True)
    assert failed is True
    assert result["failed_devices"] == ["dev2", "id3"]
    assert result["msg"] == summarise(results)["msg"] + ": dev2, id3"
    assert result["changed"] is True
    assert "device" not in result


def test_batch_result_without_failures():
    result, failed = module_result({"results": [OK], "summary": summarise([OK])})
    assert failed is False and "failed_devices" not in result and result["msg"] == summarise([OK])["msg"]


def test_summarise_counts_each_outcome_once():
    results = [
        OK,
        FAILED,
        dict(OK, committed=True),
        dict(OK, changed=False),
        {"device": "s", "failed": False, "skipped": True, "changed": False},
    ]
    counts = summarise(results)
    assert (counts["devices"], counts["dry_run"], counts["failed"], counts["committed"]) == (5, 1, 1, 1)
    assert (counts["unchanged"], counts["skipped"]) == (1, 1)


def test_summarise_names_the_drifted_skipped_and_failed_devices_sorted():
    results = [
        dict(OK, device="dist1"),
        dict(OK, device="access1", committed=True),
        dict(OK, device="access2", changed=False, config_diff=""),
        dict(FAILED, device="zz-failed", config_diff="+differed before failing"),
        dict(FAILED, device=None, device_id="id3"),
        {"device": "unready-no-ip", "failed": False, "skipped": True, "changed": False},
    ]
    summary = summarise(results)
    assert summary["drifted"] == ["access1", "dist1"]  # shown or committed; a failed device is not here
    assert summary["skipped_devices"] == ["unready-no-ip"]
    assert summary["failed_devices"] == ["id3", "zz-failed"]
    assert (summary["dry_run"], summary["committed"], summary["unchanged"]) == (1, 1, 1)
    assert len(summary["drifted"]) == summary["dry_run"] + summary["committed"]


def test_summarise_of_nothing():
    summary = summarise([])
    assert summary["devices"] == 0
    assert summary["drifted"] == summary["skipped_devices"] == summary["failed_devices"] == []


def test_the_failed_devices_of_the_result_are_the_summarys():
    summary = summarise([FAILED])
    summary["failed_devices"] = ["named by the summary"]
    result, failed = module_result({"results": [FAILED], "summary": summary})
    assert failed is True and result["failed_devices"] == ["named by the summary"]


@pytest.mark.parametrize(("dry_run", "drift_kind"), [(True, "info"), (False, "success")])
@pytest.mark.parametrize("notes_unchanged", [True, False])
def test_a_drift_check_reports_and_notes_the_devices_that_differ(batch_fakes, dry_run, drift_kind, notes_unchanged):
    """What the reconcile playbook runs: a filter's devices compared with their intent; the summary names
    the drifted, skipped and failed ones; with notes_unchanged false only differences and failures are noted."""
    f = batch_fakes
    drifted, in_sync, broken = f.batch_device(1), f.batch_device(2), f.batch_device(3)
    offline = f.batch_device(4, status={"name": "Offline"})
    nautobot = f.FakeBatchNautobot(
        selection=[drifted, in_sync, broken, offline],
        render={broken["id"]: (400, {"detail": "'hostname' is undefined"})},
    )
    factory = f.DriverFactory(per_host={"127.0.2.2": {"diff": ""}})
    batch_run = run_batch(
        params(
            device_filter={"status": ["Active", "Planned", "Staged"]},
            dry_run=dry_run,
            notes_unchanged=notes_unchanged,
            trigger="drift check: nightly",
            intent_source="regenerate",
        ),
        client=nautobot,
        driver_factory=factory,
    )
    summary = batch_run["summary"]
    assert summary["drifted"] == ["dev1"] and summary["unchanged"] == 1
    assert summary["skipped_devices"] == ["dev4"] and summary["failed_devices"] == ["dev3"]
    assert summary["committed" if not dry_run else "dry_run"] == 1
    results = by_device(batch_run["results"])
    assert results["dev1"]["config_diff"] == f.DIFF
    committed = [h for h, d in factory.drivers.items() if any(c.startswith("commit_config") for c in d.calls)]
    assert committed == ([] if dry_run else ["127.0.2.1"])  # only the drifted device is committed

    notes = {device_id: (kind, text) for device_id, kind, text in nautobot.note_entries()}
    expected = {drifted["id"], broken["id"]} | ({in_sync["id"]} if notes_unchanged else set())
    assert set(notes) == expected
    assert notes[drifted["id"]][0] == drift_kind and f.DIFF in notes[drifted["id"]][1]
    assert notes[broken["id"]][0] == "warning"
    assert all("- trigger: drift check: nightly" in text for _kind, text in notes.values())
    assert (results["dev2"]["note_id"] is None) is not notes_unchanged
    assert results["dev1"]["note_id"] and results["dev3"]["note_id"]


def test_outcome_of_an_error_carries_its_code_and_details():
    outcome = outcome_of(error=RenderFailed("no template", device="dev1", intent_source="job"))
    assert outcome == {
        "device": "dev1",
        "intent_source": "job",
        "failed": True,
        "msg": "no template",
        "error": "render_failed",
    }
    assert outcome_of({"device": "dev1", "changed": True}) == {"device": "dev1", "changed": True, "failed": False}


@pytest.mark.parametrize(
    ("outcome", "lines"),
    [
        (OK, [f"dev1: {messages.DRY_RUN}", "dev1: device warning", "-hostname old", "+hostname dev1"]),
        (
            dict(OK, config_diff="", msg=messages.NO_CHANGES, warnings=[]),
            [f"dev1: {messages.NO_CHANGES}", "(no differences)"],
        ),
        (FAILED, ["dev2: FAILED (render_failed): boom"]),
        (
            dict(FAILED, error="config_rejected", config_diff="+bogus"),
            ["dev2: FAILED (config_rejected): boom", "+bogus"],
        ),
        ({"device": "s1", "skipped": True, "msg": "not ready", "config_diff": "x"}, ["s1: SKIPPED: not ready"]),
        ({"device_id": "id9"}, ["id9: done", "(no differences)"]),
    ],
)
def test_format_outcome(outcome, lines):
    assert format_outcome(outcome) == lines


# --- the intent one job run stored -----------------------------------------------------------------
JOB_STARTED = datetime.datetime(2026, 11, 25, 10, 0, tzinfo=datetime.UTC)


def record(attempt="2026-11-25T10:00:05Z", success="2026-11-25T10:00:05Z", config="hostname dev1\n"):
    return {"intended_last_attempt_date": attempt, "intended_last_success_date": success, "intended_config": config}


@pytest.mark.parametrize(
    ("stored", "words"),
    [
        (None, "job stored no intended configuration for dev1 (job result jr1): is the device in the scope"),
        ({}, "job stored no intended configuration for dev1"),
        (record(attempt="2026-11-25T09:59:59Z"), "job did not render dev1 (job result jr1)"),
        (record(attempt=None), "job did not render dev1"),
        (
            record(success="2026-11-24T10:00:00Z"),
            "failed to render the intended configuration of dev1 (job result jr1); the job's log says why",
        ),
        (record(success=None), "failed to render the intended configuration of dev1"),
        (record(config="!\nend\n"), "rendered an empty intended configuration for dev1"),
    ],
)
def test_job_record_without_a_usable_intent(stored, words):
    with pytest.raises(RenderFailed) as info:
        job_record_intent(stored, JOB_STARTED, "dev1", "jr1")
    assert words in info.value.message
    assert info.value.details["device"] == "dev1"


def test_job_record_with_a_fresh_success_is_the_intent():
    intent = job_record_intent(record(), JOB_STARTED, "dev1", "jr1")
    assert isinstance(intent, Intent)
    assert (intent.source, intent.config, intent.age_seconds) == ("job", "hostname dev1\n", 0)
    assert intent.last_success == "2026-11-25T10:00:05Z"


def test_render_by_job_reads_the_records_once_per_run(batch_fakes):
    nautobot = batch_fakes.FakeBatchNautobot()
    outcomes = render_by_job(nautobot, [("id1", "dev1"), ("id2", "dev2")])
    assert {k: v.source for k, v in outcomes.items()} == {"id1": "job", "id2": "job"}
    assert job_devices(nautobot) == [["id1", "id2"]]
    assert nautobot.jobs[0]["data"]["commit_message"] == "sotsync.nautobot render"
    assert nautobot.jobs[0]["timeout"] == 122
    assert [c for c in nautobot.calls if c[0] == "get_json"] == [
        ("get_json", STORED_PATH, {"device": ["id1", "id2"], "limit": 2})
    ]


def test_render_by_job_runs_on_the_queue_given_else_the_jobs_default(batch_fakes):
    nautobot = batch_fakes.FakeBatchNautobot()
    render_by_job(nautobot, [("id1", "dev1")], job_queue="renders")
    render_by_job(nautobot, [("id2", "dev2")])
    assert [job["queue"] for job in nautobot.jobs] == ["renders", None]


@pytest.mark.parametrize(
    "nautobot_kwargs",
    [{"job_stores": False}, {"job_failures": {"id1": 1, "id2": 1}}],
    ids=["nothing-stored", "attempted-not-rendered"],
)
def test_render_by_job_ending_failure_fails_every_device_naming_the_job(batch_fakes, nautobot_kwargs):
    nautobot = batch_fakes.FakeBatchNautobot(job_status="FAILURE", **nautobot_kwargs)
    outcomes = render_by_job(nautobot, [("id1", "dev1"), ("id2", "dev2")], retry=False)
    assert set(outcomes) == {"id1", "id2"}
    for device_id, name in (("id1", "dev1"), ("id2", "dev2")):
        error = outcomes[device_id]
        assert isinstance(error, RenderFailed)
        assert error.message == (
            f"Golden Config's '{INTENDED_JOB}' job ended FAILURE (job result jr1); {name} was not rendered"
        )


def test_a_failed_job_keeps_what_it_rendered_and_retries_the_rest(batch_fakes):
    nautobot = batch_fakes.FakeBatchNautobot(job_status="FAILURE", job_failures={"id2": 2})
    outcomes = render_by_job(nautobot, [("id1", "dev1"), ("id2", "dev2")])
    assert job_devices(nautobot) == [["id1", "id2"], ["id2"]]
    assert isinstance(outcomes["id1"], Intent) and outcomes["id1"].source == "job"
    assert isinstance(outcomes["id2"], RenderFailed)
    assert "job ended FAILURE (job result jr2); dev2 was not rendered" in outcomes["id2"].message


def test_render_by_job_retries_only_what_failed(batch_fakes):
    nautobot = batch_fakes.FakeBatchNautobot(job_failures={"id2": 1, "id3": 2})
    outcomes = render_by_job(nautobot, [("id1", "dev1"), ("id2", "dev2"), ("id3", "dev3")])
    assert job_devices(nautobot) == [["id1", "id2", "id3"], ["id2", "id3"]]
    assert isinstance(outcomes["id1"], Intent) and isinstance(outcomes["id2"], Intent)
    assert isinstance(outcomes["id3"], RenderFailed) and "(job result jr2)" in outcomes["id3"].message


def test_render_by_job_without_retry(batch_fakes):
    nautobot = batch_fakes.FakeBatchNautobot(job_failures={"id2": 1})
    outcomes = render_by_job(nautobot, [("id1", "dev1"), ("id2", "dev2")], retry=False)
    assert job_devices(nautobot) == [["id1", "id2"]]
    assert isinstance(outcomes["id2"], RenderFailed)


def test_read_stored_records_in_chunks(batch_fakes):
    stored = {f"id{i}": {"device": {"id": f"id{i}"}, "intended_config": "x"} for i in range(5)}
    stored["id4"] = {"device": "id4", "intended_config": "y"}  # the device as a bare id
    nautobot = batch_fakes.FakeBatchNautobot(stored=stored)
    records = read_stored_records(nautobot, [f"id{i}" for i in range(5)], chunk=2)
    assert records == stored
    assert [c[2] for c in nautobot.calls] == [
        {"device": ["id0", "id1"], "limit": 2},
        {"device": ["id2", "id3"], "limit": 2},
        {"device": ["id4"], "limit": 1},
    ]


# --- the names before 0.2.0: journal (option), journal_entry_id (result), deprecated --------------------
@pytest.mark.parametrize("spec", ["GOLDEN_CONFIG_DEPLOY_ARGUMENT_SPEC", "CONFIG_ROLLBACK_ARGUMENT_SPEC"])
def test_journal_still_sets_notes_with_a_deprecation(spec):
    from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

    from ansible_collections.sotsync.nautobot.plugins.module_utils import arguments

    result = ArgumentSpecValidator(getattr(arguments, spec)).validate(
        {"device": "access1", "journal": False, "nautobot_url": "http://nautobot.invalid", "nautobot_token": "t" * 40}
    )
    assert result.error_messages == [] and result.validated_parameters["notes"] is False
    assert [(d["version"], d["collection_name"]) for d in result._deprecations] == [("2.0.0", "sotsync.nautobot")]


def test_results_keep_the_deprecated_journal_entry_id():
    results = [{"device": "a", "note_id": "n-1", "changed": False}]
    batch = {"results": results, "summary": summarise(results)}
    result, failed = module_result(batch, single=True)
    assert (result["note_id"], result["journal_entry_id"], failed) == ("n-1", "n-1", False)


# --- the run's steps, one at a time (``batch.BatchRun``) -----------------------------------------------
# Each test builds a run, sets what the earlier steps would have left, calls one step and checks what it
# leaves for the next ones. The whole run is the tests above.
def steps(f, inventory, selection=(), nautobot=None, **overrides):
    """A ``BatchRun`` naming the devices of ``inventory`` unless told otherwise; what it passes ``on_result``,
    ``log`` and ``progress`` kept in ``seen``, ``logged`` and ``lines``."""
    nautobot = nautobot or f.FakeBatchNautobot(inventory=inventory, selection=selection)
    seen, logged, lines = [], [], []
    options = dict({"devices": [d["name"] for d in inventory], "intent_source": "regenerate"}, **overrides)
    run = batch.BatchRun(
        params(**options),
        client=nautobot,
        driver_factory=f.DriverFactory(),
        log=logged.append,
        on_result=seen.append,
        progress=lines.append,
    )
    run.seen, run.logged, run.lines = seen, logged, lines
    return run


def read_and_check(run):
    run.read_devices()
    run.assess_readiness()
    run.resolve_logins()
    return run


def test_step_read_devices_keeps_named_selected_and_missing_apart(batch_fakes):
    f = batch_fakes
    named, selected = f.batch_device(1), f.batch_device(2)
    run = steps(f, [named, selected], selection=[selected], devices=["dev1", "ghost"], device_filter={"role": "x"})
    run.read_devices()
    assert (run.named, run.selected, list(run.missing)) == ([named], [selected], ["ghost"])
    assert run.devices == [named, selected] and run.named_ids == {named["id"]}
    assert run.timings["lookup_seconds"] >= 0 and run.early.done == {}  # names, not UUIDs: no early render


def test_step_readiness_and_logins_leave_the_ready_devices_with_a_login(batch_fakes):
    f = batch_fakes
    with_login, without, not_ready = f.batch_device(1), f.batch_device(2), unready(f.batch_device(3))
    run = steps(
        f,
        [with_login, without, not_ready],
        password=None,
        device_credentials={"dev1": {"username": "inv-user", "password": PASSWORD}},
    )
    read_and_check(run)
    assert [run.verdicts[d["id"]].ready for d in (with_login, without, not_ready)] == [True, True, False]
    assert run.ready == [with_login] and list(run.logins) == [with_login["id"]]
    assert [device for device, _resolution in run.no_login] == [without]
    assert run.scrubber.text(f"token {TOKEN}") == "token ********"


def test_step_logins_fail_the_run_when_no_ready_device_has_one(batch_fakes):
    f = batch_fakes
    run = steps(f, [f.batch_device(1)], password=None)
    run.read_devices()
    run.assess_readiness()
    with pytest.raises(MissingCredentials):
        run.resolve_logins()


def test_step_report_unprovisionable_finishes_the_missing_and_the_devices_without_login(batch_fakes):
    f = batch_fakes
    run = steps(
        f,
        [f.batch_device(1), f.batch_device(2)],
        devices=["dev1", "dev2", "ghost"],
        password=None,
        device_credentials={"dev1": {"username": "inv-user", "password": PASSWORD}},
    )
    read_and_check(run).report_unprovisionable()
    assert [(r["device"], r["failed"], r.get("skipped")) for r in run.results] == [
        ("ghost", True, None),
        ("dev2", False, True),
    ]
    assert run.seen == run.results and run.logged == []


def test_step_report_unprovisionable_logs_a_filter_that_selects_nothing(batch_fakes):
    run = steps(batch_fakes, [], devices=None, device_filter={"location": "Nowhere"})
    read_and_check(run).report_unprovisionable()
    assert run.results == [] and run.logged == ["No device matches the filter {'location': 'Nowhere'}"]


@pytest.mark.parametrize(
    ("asked", "ready", "chosen"),
    [
        ("auto", AUTO_JOB_THRESHOLD, "regenerate"),
        ("auto", AUTO_JOB_THRESHOLD + 1, "job"),
        ("stored", 1, "stored"),
        ("job", 1, "job"),
    ],
)
def test_step_choose_intent_source(batch_fakes, asked, ready, chosen):
    run = steps(batch_fakes, [batch_fakes.batch_device(1)], intent_source=asked)
    run.ready = [batch_fakes.batch_device(i) for i in range(1, ready + 1)]
    run.choose_intent_source()
    assert run.source == chosen and run.device_params["intent_source"] == chosen
    assert run.params["intent_source"] == asked  # the caller's parameters are left alone


def test_step_read_stored_intents_reads_once_and_keeps_each_devices_error(batch_fakes):
    f = batch_fakes
    devices = [f.batch_device(1), f.batch_device(2)]
    stored = {devices[0]["id"]: {"device": {"id": devices[0]["id"]}, "intended_config": f.INTENT}}
    nautobot = f.FakeBatchNautobot(inventory=devices, stored=stored)
    run = steps(f, devices, nautobot=nautobot, intent_source="stored")
    read_and_check(run).choose_intent_source()
    run.read_stored_intents()
    assert [c[1] for c in nautobot.calls if c[0] == "get_json"] == [STORED_PATH]
    assert run.intents[devices[0]["id"]].config == f.INTENT
    assert "dev2" in run.intents[devices[1]["id"]].message
    with pytest.raises(type(run.intents[devices[1]["id"]])):
        run.intent_for(devices[1]["id"], "dev2")


def test_step_read_stored_intents_reads_nothing_for_other_sources(batch_fakes):
    f = batch_fakes
    run = steps(f, [f.batch_device(1)])
    read_and_check(run).choose_intent_source()
    run.read_stored_intents()
    assert run.intents == {} and [c for c in run.client.calls if c[0] == "get_json"] == []


def test_step_render_jobs_settles_every_device_whatever_happens(batch_fakes, monkeypatch):
    f = batch_fakes
    monkeypatch.setattr(batch, "JOB_CHUNK", 2)
    devices = [f.batch_device(i) for i in (1, 2, 3)]

    def render_by_job(client, pairs, job_queue=None):
        if pairs[0][1] == "dev3":
            raise KeyError("surprise")
        return {device_id: Intent(f.INTENT, "job") for device_id, _name in pairs}

    monkeypatch.setattr(batch, "render_by_job", render_by_job)
    run = steps(f, devices, intent_source="job")
    run.by_job = devices
    run.intents_ready = {d["id"]: threading.Event() for d in devices}
    run.render_jobs()  # in this thread: the step itself, not its thread
    assert all(event.is_set() for event in run.intents_ready.values())
    assert [run.intents[d["id"]].config for d in devices[:2]] == [f.INTENT, f.INTENT]
    failed = run.intents[devices[2]["id"]]
    assert isinstance(failed, RenderFailed) and "1 device(s)" in failed.message and "KeyError" in failed.message


def test_step_start_job_renders_leaves_devices_without_network_driver_to_on_demand(batch_fakes):
    f = batch_fakes
    plain = f.batch_device(1)
    no_driver = f.batch_device(2, platform=dict(plain["platform"], network_driver=""))
    run = steps(f, [plain, no_driver], intent_source="job")
    read_and_check(run).choose_intent_source()
    run.start_job_renders()
    assert run.by_job == [plain] and list(run.intents_ready) == [plain["id"]]
    assert run.intent_for(plain["id"], "dev1").source == "job"  # waits for the job's thread
    assert run.intent_for(no_driver["id"], "dev2").source == "regenerate"
    assert run.client.renders() == [no_driver["id"]]


def test_step_start_job_renders_starts_nothing_for_other_sources(batch_fakes):
    f = batch_fakes
    run = steps(f, [f.batch_device(1)])
    read_and_check(run).choose_intent_source()
    run.start_job_renders()
    assert run.intents_ready == {} and run.client.jobs == []


def test_step_record_intent_keeps_the_intent_a_plan_is_filed_with(batch_fakes):
    f = batch_fakes
    device = f.batch_device(1)
    run = steps(f, [device])
    read_and_check(run).choose_intent_source()
    intent = run.record_intent(device["id"], "dev1")
    assert run.used_intents == {device["id"]: intent} and intent.config == f.INTENT


@pytest.mark.parametrize(
    ("notes", "check_mode", "started"), [(True, False, True), (False, False, False), (True, True, False)]
)
def test_step_start_notes(batch_fakes, notes, check_mode, started):
    run = steps(batch_fakes, [batch_fakes.batch_device(1)], notes=notes)
    run.check_mode = check_mode
    run.start_notes()
    assert (run.notes is not None) is started
    if run.notes is not None:
        run.notes.close(timeout=5)


def test_step_announce_says_what_was_read_and_how_the_intents_come(batch_fakes):
    f = batch_fakes
    run = steps(
        f,
        [f.batch_device(1), f.batch_device(2)],
        devices=["dev1", "dev2", "ghost"],
        intent_source="job",
        password=None,
        device_credentials={"dev1": {"username": "inv-user", "password": PASSWORD}},
    )
    read_and_check(run).choose_intent_source()
    run.timings["lookup_seconds"] = 0.25
    run.announce()
    assert run.lines == [
        "3 device(s) read from Nautobot in 0.25 s (1 not found, 2 ready, 1 of them without a NAPALM login); "
        "intents: Golden Config's job, 100 device(s) a run; 4 NAPALM session(s) at once"
    ]


def test_step_provision_devices_takes_the_unready_first_and_finishes_in_the_callers_thread(batch_fakes):
    f = batch_fakes
    devices = [f.batch_device(1), unready(f.batch_device(2)), f.batch_device(3)]
    run = steps(f, devices, workers=1, notes=False)
    read_and_check(run).choose_intent_source()
    order, finished_in = [], []
    provision_device = run.provision_device
    run.provision_device = lambda device: order.append(device["name"]) or provision_device(device)
    run.on_result = lambda outcome: finished_in.append(threading.current_thread())
    run.provision_devices()
    assert order == ["dev2", "dev1", "dev3"]
    assert {r["device"]: r["failed"] for r in run.results} == {"dev1": False, "dev2": True, "dev3": False}
    assert finished_in == [threading.current_thread()] * 3


def test_step_provision_device_skips_an_unready_device_the_filter_selected(batch_fakes):
    f = batch_fakes
    offline = f.batch_device(1, status={"name": "Offline"})
    run = steps(f, [offline], selection=[offline], devices=None, device_filter={"role": "x"})
    read_and_check(run).choose_intent_source()
    outcome = run.provision_device(offline)
    assert (outcome["skipped"], outcome["failed"], outcome["reasons"]) == (
        True,
        False,
        ["status not Active, Planned or Staged (is Offline)"],
    )


def test_step_provision_device_keeps_nautobot_down_for_the_summary(batch_fakes):
    f = batch_fakes
    device = f.batch_device(1)
    down = NautobotUnreachable("Nautobot at http://nautobot.invalid is unreachable")
    run = steps(f, [device], nautobot=f.FakeBatchNautobot(inventory=[device], render={device["id"]: down}))
    read_and_check(run).choose_intent_source()
    outcome = run.provision_device(device)
    assert outcome["failed"] and outcome["error"] == down.code and run.fatal == [down]
    with pytest.raises(NautobotUnreachable):
        run.summary()


def test_step_provision_device_files_a_plan_for_a_device_with_differences(batch_fakes, monkeypatch):
    f = batch_fakes
    device = f.batch_device(1)
    filed = []
    monkeypatch.setattr(
        batch, "create_plan", lambda client, device_id, name, config, note: filed.append((name, config)) or ("p1", [])
    )
    run = steps(f, [device], plan=True, notes=False)
    read_and_check(run).choose_intent_source()
    outcome = run.provision_device(device)
    assert filed == [("dev1", f.INTENT)] and outcome["plan_id"] == "p1"
    assert outcome["msg"] == "PLANNED (config plan p1, waiting for approval)"


def test_step_update_compliance_times_only_what_ran(batch_fakes):
    f = batch_fakes
    run = steps(f, [f.batch_device(1)])
    run.source = "regenerate"
    run.results = [{"device": "dev1", "device_id": f.batch_device(1)["id"], "changed": True, "committed": False}]
    run.update_compliance()  # a dry run: nothing committed
    assert not run.after and "compliance_seconds" not in run.timings and run.client.jobs == []


def test_step_close_notes_sets_each_note_id_and_scrubs_the_warnings(batch_fakes):
    f = batch_fakes
    device = f.batch_device(1)
    run = steps(f, [device])
    read_and_check(run)
    run.notes = NoteWriter(f.FakeBatchNautobot())
    run.notes.submit(device["id"], "info", "pushed")
    run.notes.errors.append(f"Could not write 1 notes: token {TOKEN} refused")
    run.results = [{"device": "dev1", "device_id": device["id"]}, {"device": "ghost"}]
    run.close_notes()
    assert run.results[0]["note_id"] == "note-1" and "note_id" not in run.results[1]
    assert run.warnings == ["Could not write 1 notes: token ******** refused"]


def test_step_summary_adds_the_timings_and_the_source(batch_fakes):
    run = steps(batch_fakes, [batch_fakes.batch_device(1)])
    run.results = [{"device": "dev1", "changed": False}]
    run.timings = {"lookup_seconds": 0.1, "total_seconds": 0.5}
    run.source = "stored"
    result = run.summary()
    assert result["results"] is run.results and result["warnings"] == []
    summary = result["summary"]
    assert (summary["unchanged"], summary["lookup_seconds"], summary["total_seconds"]) == (1, 0.1, 0.5)
    assert summary["intent_source"] == "stored" and "compliance" not in summary


# --- stopping ------------------------------------------------------------------------------------------
def test_a_stopped_run_begins_no_further_device(batch_fakes):
    """Once the lifeline stops (a signal, the daemon gone), devices not yet begun fail with run_stopped and
    never open a session; the summary counts them as failed."""
    from ansible_collections.sotsync.nautobot.plugins.module_utils.lifeline import Lifeline

    f = batch_fakes
    devices = [f.batch_device(i) for i in (1, 2, 3)]
    factory = f.DriverFactory(diff="+hostname new\n")
    line = Lifeline()
    line.stop("the run was stopped (SIGTERM)")
    batch_run = run_batch(
        params(devices=["dev1", "dev2", "dev3"], dry_run=False, intent_source="regenerate"),
        client=f.FakeBatchNautobot(inventory=devices),
        driver_factory=factory,
        lifeline=line,
    )
    results = by_device(batch_run["results"])
    assert set(results) == {"dev1", "dev2", "dev3"}
    for result in results.values():
        assert result["failed"] and result["error"] == "run_stopped", result
        assert "the run was stopped (SIGTERM)" in result["msg"] and "nothing on it changed" in result["msg"]
    assert batch_run["summary"]["failed"] == 3
    assert factory.drivers == {}, "a session was opened after the stop"


def test_a_device_in_its_session_when_the_stop_comes_finishes_the_others_never_begin(batch_fakes):
    from ansible_collections.sotsync.nautobot.plugins.module_utils.lifeline import Lifeline

    f = batch_fakes
    line = Lifeline()

    class StopAtFirstCommit(f.DriverFactory):
        def __call__(self, *args):
            driver = super().__call__(*args)
            commit = driver.commit_config

            def stop_then_commit(*a, **k):
                line.stop("the run was stopped (SIGTERM)")
                return commit(*a, **k)

            driver.commit_config = stop_then_commit
            return driver

    devices = [f.batch_device(i) for i in (1, 2, 3)]
    factory = StopAtFirstCommit(diff="+hostname new\n")
    batch_run = run_batch(
        params(devices=["dev1", "dev2", "dev3"], dry_run=False, intent_source="regenerate", workers=1),
        client=f.FakeBatchNautobot(inventory=devices),
        driver_factory=factory,
        lifeline=line,
    )
    results = by_device(batch_run["results"])
    assert not results["dev1"]["failed"] and results["dev1"]["changed"], results["dev1"]
    assert [results[n]["error"] for n in ("dev2", "dev3")] == ["run_stopped", "run_stopped"]
    assert len(factory.drivers) == 1, "a session began after the stop"
    assert line.idle()


def test_each_outcome_is_settled_before_the_lifeline_counts_its_device_done(batch_fakes):
    """A daemon's run writes each device's outcome in the daemon's ledger (``settled``) while the device still
    counts as in its session: the lifeline ends a run whose daemon is gone once its devices are done, and must
    not end it before the outcome is written."""
    from ansible_collections.sotsync.nautobot.plugins.module_utils.lifeline import Lifeline

    f = batch_fakes
    line = Lifeline()
    settled = []

    def settle(outcome):
        settled.append((outcome["device"], outcome.get("error"), line.idle()))

    devices = [f.batch_device(i) for i in (1, 2)] + [f.batch_device(3, status={"name": "Offline"})]
    batch_run = run_batch(
        params(devices=["dev1", "dev2", "dev3"], dry_run=False, intent_source="regenerate"),
        client=f.FakeBatchNautobot(inventory=devices),
        driver_factory=f.DriverFactory(diff="+hostname new\n"),
        lifeline=line,
        settled=settle,
    )
    assert sorted(settled) == [("dev1", None, False), ("dev2", None, False), ("dev3", "device_not_ready", False)]
    assert len(batch_run["results"]) == 3 and line.idle()


# --- a drift check beyond the merge (compliance_drift) -------------------------------------------------
COMMUNITY = "s3cret-community"
PROBE = "ip host drift-probe 192.0.2.77"
EOS = {"name": "Arista EOS 4.30", "network_driver": "arista_eos"}  # another platform, the same network driver
DRIFT_RULES = [
    {"feature": {"name": "system"}, "platform": EOS, "config_type": "cli", "match_config": "hostname\nsnmp-server"},
    {"feature": {"name": "interfaces"}, "platform": EOS, "config_type": "cli", "match_config": "interface "},
    {"feature": {"name": "all"}, "platform": {"network_driver": "cisco_nxos"}, "match_config": "ip host"},
]


class DriftNautobot(FakeBatchNautobot):
    """The batch's Nautobot double, with Golden Config's compliance details and rules: ``extra`` gives a
    device's ``system`` feature its extra lines (Golden Config's text) once a job checked it, or when its
    stored record says it was checked; ``settings`` replaces Golden Config's settings list."""

    def __init__(self, *args, extra=None, rules=None, settings=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.extra = dict(extra or {})
        self.rules = DRIFT_RULES if rules is None else rules
        self.settings = settings

    def get_json(self, path, params=None):
        if path == compliance.RULES_PATH and "depth" in (params or {}):
            self._record("get_json", path, params)
            return 200, {"count": len(self.rules), "next": None, "results": self.rules}
        if path == compliance.SETTINGS_PATH and self.settings is not None:
            return 200, {"count": len(self.settings), "results": self.settings}
        return super().get_json(path, params)

    def graphql(self, query, variables=None, what=""):
        if query != compliance.COMPLIANCE_QUERY:
            return super().graphql(query, variables, what)
        with self.lock:
            checked = [d for d in variables["devices"] if "compliance_last_success_date" in self.stored.get(d, {})]
        return {
            "config_compliances": [
                {
                    "device": {"id": d},
                    "rule": {"feature": {"name": "system"}},
                    "compliance": not self.extra.get(d),
                    "ordered": not self.extra.get(d),
                    "missing": "",
                    "extra": self.extra.get(d, ""),
                    "remediation": "",
                }
                for d in checked
            ]
        }


def drift_world(f, **nautobot_kwargs):
    """dev1 differs (the merge would change its hostname: Golden Config's system feature shows the old one as
    extra); dev2 is in sync but has a community (in a feature) and a host entry (in none) added by hand; dev3
    is in sync; dev4 is not ready."""
    devices = [f.batch_device(i) for i in (1, 2, 3)] + [unready(f.batch_device(4))]
    by_hand = f.INTENT.replace("end\n", f"{PROBE}\n!\nsnmp-server community {COMMUNITY} ro\n!\nend\n")
    factory = f.DriverFactory(
        per_host={"127.0.2.2": {"diff": "", "running": by_hand}, "127.0.2.3": {"diff": "", "running": f.INTENT}}
    )
    extra = {devices[0]["id"]: "hostname old-name", devices[1]["id"]: f"snmp-server community {COMMUNITY} ro"}
    nautobot = DriftNautobot(selection=devices, extra=extra, **nautobot_kwargs)
    return devices, factory, nautobot


def drift_params(**overrides):
    return params(
        **dict(
            {
                "device_filter": {"location": "Site A"},
                "intent_source": "regenerate",
                "notes_unchanged": False,
                "trigger": "drift check: nightly",
                "compliance_drift": True,
            },
            **overrides,
        )
    )


def test_a_drift_check_reports_extra_lines_by_feature_and_lines_in_no_feature(batch_fakes):
    f = batch_fakes
    devices, factory, nautobot = drift_world(f)
    lines = []
    batch_run = run_batch(drift_params(), client=nautobot, driver_factory=factory, progress=lines.append)
    ids = sorted(d["id"] for d in devices[:3])
    assert [(j["name"], sorted(j["devices"])) for j in nautobot.jobs] == [(compliance.ALL_JOBS, ids)]  # one run
    results = by_device(batch_run["results"])
    assert "drift" not in results["dev4"]  # skipped: not compared
    dev1, dev2, dev3 = (results[n]["drift"] for n in ("dev1", "dev2", "dev3"))
    assert dev1["golden_config"] == "fresh" and dev1["extra"] == {"system": ["hostname old-name"]}
    assert dev1["not_covered"] == {"count": 0, "lines": [], "more": 0}  # its old hostname is in a feature
    assert dev2["extra"] == {"system": ["snmp-server community <removed> ro"]}
    assert dev2["not_covered"] == {"count": 1, "lines": [PROBE], "more": 0}
    assert dev3["extra"] == {} and dev3["compliant"] is True and not drift_findings(dev3)
    assert all(any(c == "get_config" for c in d.calls) for d in factory.drivers.values() if d.candidate is None)

    summary = batch_run["summary"]
    assert summary["drifted"] == ["dev1"]  # what a merge would add: its meaning unchanged
    assert summary["compliance"]["extra"] == {
        "dev1": {"system": ["hostname old-name"]},
        "dev2": {"system": ["snmp-server community <removed> ro"]},
    }
    assert summary["compliance"]["not_covered"] == {"dev2": {"count": 1, "lines": [PROBE], "more": 0}}
    assert summary["compliance"]["not_checked"] == {} and summary["compliance"]["updated"] == 3
    assert "compliance_seconds" in summary
    assert (
        f"dev2:   not covered: {PROBE}" in lines
        and "dev2:   extra [system] snmp-server community <removed> ro" in lines
    )
    assert not any(line.startswith("dev3:") for line in lines)  # nothing to say beyond the merge
    assert COMMUNITY not in str(batch_run) and COMMUNITY not in str(lines)

    # the notes wait for the check: dev1's says both; dev2, in sync, gets one for its extra lines; dev3 none
    notes = {device_id: (kind, text) for device_id, kind, text in nautobot.note_entries()}
    assert set(notes) == {devices[0]["id"], devices[1]["id"]}
    kind, text = notes[devices[0]["id"]]
    assert kind == "info" and f.DIFF in text and "**Beyond the merge**" in text and "hostname old-name" in text
    kind, text = notes[devices[1]["id"]]
    assert kind == "info" and "The merge would add nothing" in text and "- trigger: drift check: nightly" in text
    assert "snmp-server community <removed> ro" in text and PROBE in text and COMMUNITY not in text
    assert results["dev1"]["note_id"] and results["dev2"]["note_id"] and results["dev3"]["note_id"] is None


def drift_findings(report):
    return bool(report.get("extra")) or bool(report["not_covered"].get("count"))


def test_a_remediation_merges_only_and_one_job_run_checks_the_committed_and_the_others(batch_fakes):
    f = batch_fakes
    devices, factory, nautobot = drift_world(f)
    batch_run = run_batch(drift_params(dry_run=False), client=nautobot, driver_factory=factory)
    assert [j["name"] for j in nautobot.jobs] == [compliance.ALL_JOBS]  # no second run after the commits
    results = by_device(batch_run["results"])
    assert results["dev1"]["committed"] and not results["dev2"]["committed"]
    assert results["dev1"]["compliance"]["updated"] and "compliance" not in results["dev2"]
    # dev2's extra lines are reported, not removed: nothing was committed to it
    assert not any(c.startswith("commit") for c in factory.drivers["127.0.2.2"].calls)
    assert batch_run["summary"]["compliance"]["extra"]["dev2"] == {"system": ["snmp-server community <removed> ro"]}
    # the running configuration dev1's verification read after its commit: its intent, nothing outside
    assert results["dev1"]["drift"]["not_covered"]["count"] == 0
    notes = {device_id: kind for device_id, kind, _text in nautobot.note_entries()}
    assert notes == {devices[0]["id"]: "success", devices[1]["id"]: "info"}


def recent(seconds):
    stamp = datetime.datetime.now(datetime.UTC) - datetime.timedelta(seconds=seconds)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def checked_record(device_id, seconds):
    at = recent(seconds)
    return {
        "device": {"id": device_id},
        "backup_last_attempt_date": at,
        "backup_last_success_date": at,
        "compliance_last_attempt_date": at,
        "compliance_last_success_date": at,
    }


def test_compliance_max_age_reuses_what_golden_config_stored_and_says_its_age(batch_fakes):
    f = batch_fakes
    devices, factory, nautobot = drift_world(f)
    nautobot.stored = {devices[0]["id"]: checked_record(devices[0]["id"], 60)}
    nautobot.stored[devices[1]["id"]] = checked_record(devices[1]["id"], 7200)  # older than allowed
    batch_run = run_batch(drift_params(compliance_max_age=3600), client=nautobot, driver_factory=factory)
    assert [sorted(j["devices"]) for j in nautobot.jobs] == [sorted(d["id"] for d in devices[1:3])]
    drift = by_device(batch_run["results"])["dev1"]["drift"]
    assert drift["golden_config"] == "stored" and 60 <= drift["age_seconds"] < 120
    assert drift["msg"].startswith("Golden Config compliance (stored, 6")
    assert "s old (compliance_max_age 3600 s)): extra lines in system (1 line(s))" in drift["msg"]
    assert list(batch_run["summary"]["compliance"]["stored"]) == ["dev1"]


def test_check_mode_runs_no_job_writes_no_note_and_says_what_it_could_not_check(batch_fakes):
    f = batch_fakes
    devices, factory, nautobot = drift_world(f)
    nautobot.stored = {devices[0]["id"]: checked_record(devices[0]["id"], 86400)}
    batch_run = run_batch(drift_params(dry_run=False), check_mode=True, client=nautobot, driver_factory=factory)
    assert nautobot.jobs == [] and nautobot.note_calls == []
    results = by_device(batch_run["results"])
    assert results["dev1"]["drift"]["golden_config"] == "stored" and results["dev1"]["drift"]["age_seconds"] >= 86400
    assert results["dev2"]["drift"]["golden_config"] == "not checked"
    assert results["dev2"]["drift"]["error"].startswith("check mode runs no Golden Config job")
    assert results["dev2"]["drift"]["not_covered"]["count"] == 1  # from the session: known without Golden Config
    assert set(batch_run["summary"]["compliance"]["not_checked"]) == {"dev2", "dev3"}


def test_golden_config_not_set_up_is_said_once_and_every_device_is_not_checked(batch_fakes):
    f = batch_fakes
    devices, factory, nautobot = drift_world(f, settings=[])
    lines = []
    batch_run = run_batch(drift_params(), client=nautobot, driver_factory=factory, progress=lines.append)
    assert nautobot.jobs == []
    not_checked = batch_run["summary"]["compliance"]["not_checked"]
    assert set(not_checked) == {"dev1", "dev2", "dev3"}
    assert all("not set up to back the devices up" in why for why in not_checked.values())
    assert len([line for line in lines if "not set up to back the devices up" in line]) == 2  # once, and dev2's
    assert [line for line in lines if line.startswith("dev2:")][0].startswith("dev2: Golden Config could NOT check it")
    assert batch_run["summary"]["compliance"]["extra"] == {}  # not known: never "no extra lines"


def test_a_stopping_run_writes_the_held_notes_without_the_check(batch_fakes):
    from ansible_collections.sotsync.nautobot.plugins.module_utils.lifeline import Lifeline

    f = batch_fakes
    line = Lifeline()

    class StopAfterFirstCompare(f.DriverFactory):
        def __call__(self, *args):
            driver = super().__call__(*args)
            compare = driver.compare_config

            def compare_then_stop(*a, **k):
                line.stop("the run was stopped (SIGTERM)")
                return compare(*a, **k)

            driver.compare_config = compare_then_stop
            return driver

    devices = [f.batch_device(i) for i in (1, 2)]
    nautobot = DriftNautobot(inventory=devices)
    batch_run = run_batch(
        params(devices=["dev1", "dev2"], intent_source="regenerate", workers=1, compliance_drift=True),
        client=nautobot,
        driver_factory=StopAfterFirstCompare(),
        lifeline=line,
    )
    assert nautobot.jobs == [] and "compliance" not in batch_run["summary"]
    assert batch_run["warnings"] == ["The drift check beyond the merge did not run: the run was stopped (SIGTERM)"]
    ((device_id, kind, text),) = nautobot.note_entries()
    assert device_id == devices[0]["id"] and kind == "info" and "Beyond the merge" not in text
    assert line.idle()


def test_a_negative_compliance_max_age_is_refused():
    with pytest.raises(InvalidParameter, match="compliance_max_age must be 0"):
        check_batch_parameters(params(devices=["dev1"], compliance_max_age=-1))


def test_step_check_drift_with_nothing_compared_writes_the_held_notes(batch_fakes):
    f = batch_fakes
    device = f.batch_device(1)
    run = steps(f, [device], compliance_drift=True)
    read_and_check(run)
    run.start_notes()
    run.hold_note(device["id"], "warning", "FAILED")
    run.results = [{"device": "dev1", "device_id": device["id"], "failed": True}]
    run.update_compliance()
    run.close_notes()
    assert run.client.note_entries() == [(device["id"], "warning", "FAILED")]
    assert not run.drift_checked and run.client.jobs == [] and run.held_notes == {}
