"""The daemon's ledger (module_utils/ledger.py): a device is owed from its hand-over until a run that took it
ends; what is handed over again, when, and what is left alone."""

from __future__ import annotations

import json
import multiprocessing

import pytest

from ansible_collections.sotsync.nautobot.plugins.module_utils import ledger

DAEMON = "100:5000"
OLD_DAEMON = "99:4000"
RUN = "200:6000"


def event(device_id="d1", name="access1", action="updated", model="dcim.device"):
    return {"nautobot": {"model": model, "action": action, "object_id": device_id, "object_name": name, "burst": False}}


def judge(entries, now, alive=lambda _run: False, daemon=DAEMON, **limits):
    return {d: ledger.verdict(s, now, daemon, alive, **limits) for d, s in ledger.owed_devices(entries).items()}


def done(device_id, at, error=None, retry=False, run=RUN):
    return {"op": "done", "run": run, "device": device_id, "at": at, "error": error, "retry": retry, "msg": "m"}


# --- the file ------------------------------------------------------------------------------------------------
def test_lines_are_appended_read_back_and_rewritten(tmp_path):
    book = ledger.Ledger(str(tmp_path / "state" / "ledger.jsonl"))
    assert book.read() == []  # no file yet
    book.append([ledger.owed_entry(event(), DAEMON, 1.0), ledger.claim_entry(RUN, ["d1"], 2.0)])
    book.append([])
    entries = book.read()
    assert [e["op"] for e in entries] == ["owed", "claim"] and entries[0]["event"] == event()
    assert oct((tmp_path / "state" / "ledger.jsonl").stat().st_mode & 0o777) == "0o600"
    book.rewrite(lambda found: found[:1])
    assert [e["op"] for e in book.read()] == ["owed"]


def test_a_line_being_written_or_not_json_is_left_out(tmp_path):
    path = tmp_path / "ledger.jsonl"
    path.write_text(json.dumps(ledger.claim_entry(RUN, ["d1"], 2.0)) + "\nnot json\n[1]\n" + '{"op": "ow')
    assert [e["op"] for e in ledger.Ledger(str(path)).read()] == ["claim"]


def _append_many(path, prefix):
    book = ledger.Ledger(path)
    for index in range(200):
        book.append([ledger.claim_entry(f"{prefix}:{index}", [f"d{index}"], float(index))])


def test_writers_in_several_processes_never_interleave_a_line(tmp_path):
    path = str(tmp_path / "ledger.jsonl")
    workers = [multiprocessing.Process(target=_append_many, args=(path, p)) for p in ("1", "2", "3")]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
    lines = (tmp_path / "ledger.jsonl").read_text().splitlines()
    assert len(lines) == 600 and all(json.loads(line)["op"] == "claim" for line in lines)


# --- the runs' side -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("outcome", "retry"),
    [
        ({"failed": True, "error": "device_unreachable"}, True),
        ({"failed": True, "error": "nautobot_unreachable"}, True),
        ({"failed": True, "error": "run_stopped"}, True),
        ({"failed": True, "error": "commit_verification_failed", "rolled_back": "timer"}, True),
        ({"failed": True, "error": "commit_verification_failed", "rolled_back": "rollback"}, False),
        ({"failed": True, "error": "config_rejected"}, False),
        ({"failed": True, "error": "device_authentication"}, False),
        ({"failed": True, "error": "device_not_ready"}, False),
        ({"failed": False, "changed": True}, False),
    ],
)
def test_a_retry_is_for_what_a_retry_can_fix(outcome, retry):
    assert ledger.retryable(outcome) is retry


def test_done_lines_from_the_outcomes_or_from_the_runs_error(tmp_path):
    lines = ledger.done_entries(RUN, [{"device_id": "d1", "failed": True, "error": "device_locked", "msg": "x"}], 5.0)
    assert lines == [
        {"op": "done", "run": RUN, "device": "d1", "at": 5.0, "error": "device_locked", "retry": True, "msg": "x"}
    ]

    class Unreachable(Exception):
        code = "nautobot_unreachable"
        message = "Nautobot at http://n is unreachable"

    lines = ledger.done_entries(RUN, [], 6.0, run_error=Unreachable(), device_ids=["d1", "d2"])
    assert [(e["device"], e["error"], e["retry"]) for e in lines] == [
        ("d1", "nautobot_unreachable", True),
        ("d2", "nautobot_unreachable", True),
    ]


def test_the_ledger_of_a_run_comes_from_the_environment():
    assert ledger.from_environment({}) is None
    assert ledger.from_environment({ledger.ENV: "/x/ledger.jsonl"}).path == "/x/ledger.jsonl"


# --- what is owed, and what to do about it ------------------------------------------------------------------
def test_a_run_that_took_the_device_and_ended_settles_it():
    entries = [ledger.owed_entry(event(), DAEMON, 10.0), ledger.claim_entry(RUN, ["d1"], 11.0), done("d1", 20.0)]
    assert judge(entries, 21.0)["d1"].action == "settled"


def test_a_run_that_began_before_the_change_does_not_settle_it():
    entries = [ledger.claim_entry(RUN, ["d1"], 9.0), ledger.owed_entry(event(), DAEMON, 10.0), done("d1", 20.0)]
    verdict = judge(entries, 21.0)["d1"]
    assert verdict.action == "wait" and "no run yet" in verdict.why


def test_a_run_in_progress_is_waited_for_and_one_that_died_is_handed_over_again():
    entries = [ledger.owed_entry(event(), DAEMON, 10.0), ledger.claim_entry(RUN, ["d1"], 11.0)]
    assert judge(entries, 500.0, alive=lambda run: run == RUN)["d1"].action == "wait"
    verdict = judge(entries, 500.0, alive=lambda _run: False)["d1"]
    assert verdict.action == "again" and "ended without a result" in verdict.why


def test_a_hand_over_to_a_stopped_daemon_is_handed_over_again_at_once():
    verdict = judge([ledger.owed_entry(event(), OLD_DAEMON, 10.0)], 11.0)["d1"]
    assert verdict.action == "again" and "daemon that stopped" in verdict.why


def test_a_hand_over_no_run_took_is_left_to_the_rulebook_after_the_settle_time():
    entries = [ledger.owed_entry(event(), DAEMON, 10.0)]
    assert judge(entries, 100.0, settle_seconds=900)["d1"].action == "wait"
    verdict = judge(entries, 910.0, settle_seconds=900)["d1"]
    assert verdict.action == "settled" and "the rulebook did not run it" in verdict.why


def test_a_transient_failure_is_retried_with_backoff_then_given_up():
    owed = ledger.owed_entry(event(), DAEMON, 10.0)
    entries = [owed, ledger.claim_entry(RUN, ["d1"], 11.0), done("d1", 20.0, "device_unreachable", True)]
    limits = dict(retry_first=30, retry_max=600, max_attempts=3)
    waiting = judge(entries, 30.0, **limits)["d1"]
    assert waiting.action == "wait" and waiting.at == 50.0 and "try 2 in 20 s (device_unreachable" in waiting.why
    again = judge(entries, 50.0, **limits)["d1"]
    assert again.action == "again" and again.why.startswith("try 2 of 3: the last failed (device_unreachable")
    # the second try, handed over again, fails too: twice the wait
    second = dict(ledger.owed_entry(event(), DAEMON, 50.0, attempt=2), why=again.why)
    entries += [
        second,
        ledger.claim_entry("201:1", ["d1"], 51.0),
        done("d1", 60.0, "device_unreachable", True, "201:1"),
    ]
    assert judge(entries, 119.0, **limits)["d1"].at == 120.0
    third = ledger.owed_entry(event(), DAEMON, 120.0, attempt=3)
    entries += [
        third,
        ledger.claim_entry("202:1", ["d1"], 121.0),
        done("d1", 130.0, "device_unreachable", True, "202:1"),
    ]
    given_up = judge(entries, 131.0, **limits)["d1"]
    assert given_up.action == "give_up" and "still failing after 3 tries" in given_up.why


def test_a_later_change_supersedes_a_waiting_retry():
    entries = [
        ledger.owed_entry(event(), DAEMON, 10.0, attempt=4),
        ledger.claim_entry(RUN, ["d1"], 11.0),
        done("d1", 20.0, "device_unreachable", True),
        ledger.owed_entry(event(), DAEMON, 25.0),  # the device changed again
    ]
    state = ledger.owed_devices(entries)["d1"]
    assert state.attempt == 1 and state.done is None and state.claims == []


def test_a_failure_a_retry_cannot_fix_is_not_retried():
    entries = [ledger.owed_entry(event(), DAEMON, 10.0), ledger.claim_entry(RUN, ["d1"], 11.0)]
    entries.append(done("d1", 20.0, "config_rejected", False))
    verdict = judge(entries, 10000.0)["d1"]
    assert verdict.action == "settled" and "config_rejected" in verdict.why


def test_a_run_stopped_is_handed_over_again_without_waiting():
    entries = [ledger.owed_entry(event(), DAEMON, 10.0), ledger.claim_entry(RUN, ["d1"], 11.0)]
    entries.append(done("d1", 20.0, "run_stopped", True))
    assert judge(entries, 20.0)["d1"].action == "again"


def test_backoff_doubles_up_to_its_maximum():
    assert [ledger.backoff(n, 30, 600) for n in (1, 2, 3, 4, 5, 6)] == [30, 60, 120, 240, 480, 600]


def test_only_device_creations_and_updates_are_tracked():
    assert ledger.provisioning_event(event())
    assert ledger.provisioning_event(event(action="created"))
    assert not ledger.provisioning_event(event(action="deleted"))
    assert not ledger.provisioning_event(event(model="configplan"))
    assert not ledger.provisioning_event({"other": 1})


def test_a_rewrite_keeps_only_what_is_still_owed():
    entries = [
        ledger.owed_entry(event("d1"), DAEMON, 10.0),
        ledger.claim_entry(RUN, ["d1", "d2"], 11.0),
        ledger.owed_entry(event("d2", "access2"), DAEMON, 10.5),  # after the claim: not taken yet
        done("d1", 20.0),
        done("d2", 20.0),
    ]
    kept = ledger.still_owed(entries, DAEMON, lambda _run: False, 21.0)
    assert [(e["op"], e.get("device")) for e in kept] == [("owed", "d2")]
