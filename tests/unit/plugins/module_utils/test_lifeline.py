"""The run's lifeline (module_utils/lifeline.py): the daemon named by pid and start time, signals turned
into a stop, and a run of a vanished daemon ending its own ansible-playbook session."""

from __future__ import annotations

import signal
import threading

import pytest

from ansible_collections.sotsync.nautobot.plugins.module_utils import lifeline
from ansible_collections.sotsync.nautobot.plugins.module_utils.lifeline import Lifeline


def write_stat(proc, pid, started, comm="ansible-rulebook", state="S"):
    folder = proc / str(pid)
    folder.mkdir(parents=True, exist_ok=True)
    # fields after the command: state, ppid, pgrp, session, ... field 22 (starttime) is the 20th after ")"
    rest = [state, "1", str(pid), str(pid)] + ["0"] * 15 + [str(started)] + ["0"] * 10
    (folder / "stat").write_text(f"{pid} ({comm}) " + " ".join(rest) + "\n")


def test_start_time_reads_field_22_even_with_spaces_and_parentheses_in_the_command(tmp_path):
    write_stat(tmp_path, 4242, 987654, comm="py (x) y")
    assert lifeline.start_time(4242, str(tmp_path)) == 987654
    assert lifeline.start_time(4243, str(tmp_path)) is None


def test_the_real_proc_names_this_process():
    token = lifeline.parse_token(lifeline.daemon_token())
    assert token[0] > 1 and token[1] > 0
    assert lifeline.alive(token)


@pytest.mark.parametrize("value", [None, "", "abc", "12", "1:5", "x:y", "-3:4"])
def test_a_foreign_or_empty_token_is_ignored(value):
    assert lifeline.parse_token(value) is None


def test_export_daemon_puts_this_process_in_the_environment():
    environ = {lifeline.ENV: "123:456"}  # a daemon started by another daemon's run names itself
    value = lifeline.export_daemon(environ)
    assert environ == {lifeline.ENV: value} and lifeline.alive(lifeline.parse_token(value))


def test_alive_until_the_pid_is_gone_or_reused(tmp_path):
    write_stat(tmp_path, 500, 100)
    assert lifeline.alive((500, 100), str(tmp_path))
    write_stat(tmp_path, 500, 200)  # the pid now names another process
    assert not lifeline.alive((500, 100), str(tmp_path))
    write_stat(tmp_path, 500, 100, state="Z")  # exited, not yet reaped by its parent: gone
    assert not lifeline.alive((500, 100), str(tmp_path))
    (tmp_path / "500" / "stat").unlink()
    assert not lifeline.alive((500, 100), str(tmp_path))


def test_no_daemon_to_watch_never_stops_by_itself(tmp_path):
    line = Lifeline.from_environment({}, proc=str(tmp_path), killpg=pytest.fail)
    assert line.daemon is None and line.check_daemon() and not line.stopping
    assert line.end_orphaned_session() is False


def test_the_daemon_gone_stops_the_run_with_the_reason(tmp_path):
    write_stat(tmp_path, 600, 1)
    line = Lifeline.from_environment({lifeline.ENV: "600:1"}, proc=str(tmp_path))
    assert line.check_daemon() and not line.stopping
    (tmp_path / "600" / "stat").unlink()
    assert not line.check_daemon()
    assert line.stopping and line.daemon_gone
    assert line.reason == "the ansible-rulebook daemon that started this run (pid 600) is gone"


def test_the_watcher_notices_the_daemon_gone(tmp_path):
    write_stat(tmp_path, 601, 1)
    line = Lifeline(daemon=(601, 1), proc=str(tmp_path), poll=0.01)
    line.watch()
    try:
        (tmp_path / "601" / "stat").unlink()
        assert line._stopped.wait(10), "the watcher never noticed"
        assert line.daemon_gone
    finally:
        line.close()


def test_signals_become_a_stop_and_are_restored():
    installed = {}

    def install(signum, handler):
        previous = installed.get(signum, signal.SIG_DFL)
        installed[signum] = handler
        return previous

    line = Lifeline(killpg=pytest.fail)
    previous = line.handle_signals(install=install)
    assert set(previous) == {signal.SIGTERM, signal.SIGINT, signal.SIGHUP}
    installed[signal.SIGTERM](signal.SIGTERM, None)
    assert line.stopping and line.reason == "the run was stopped (SIGTERM)"
    installed[signal.SIGINT](signal.SIGINT, None)
    assert line.reason == "the run was stopped (SIGTERM)", "the first reason stays"
    Lifeline.restore(previous, install=install)
    assert all(handler == signal.SIG_DFL for handler in installed.values())
    assert not line.daemon_gone  # a signal is not the daemon gone: the session is left alone
    assert line.end_orphaned_session() is False


def test_a_run_of_a_vanished_daemon_ends_its_own_session_only(tmp_path):
    killed = []
    line = Lifeline(  # no such process
        daemon=(602, 1),
        proc=str(tmp_path),
        getpgrp=lambda: 90,
        getsid=lambda _pid: 90,
        killpg=lambda *a: killed.append(a),
    )
    assert line.end_orphaned_session()
    assert killed == [(90, signal.SIGKILL)]
    # a process group that does not lead its session (a terminal's job) is never signalled
    other = Lifeline(daemon=(602, 1), proc=str(tmp_path), getpgrp=lambda: 91, getsid=lambda _pid: 7, killpg=pytest.fail)
    assert not other.end_orphaned_session()


def test_a_live_daemon_leaves_the_session_alone(tmp_path):
    write_stat(tmp_path, 603, 5)
    line = Lifeline(daemon=(603, 5), proc=str(tmp_path), getpgrp=lambda: 1, getsid=lambda _pid: 1, killpg=pytest.fail)
    assert line.end_orphaned_session() is False


def test_no_session_begins_after_the_stop_and_idle_counts_sessions_and_waits():
    line = Lifeline()
    notes_written = threading.Event()
    line.waits.append(notes_written.is_set)
    assert line.begin()
    assert not line.idle()
    line.end()
    assert not line.idle(), "the notes are not written yet"
    notes_written.set()
    assert line.idle()
    line.stop("the run was stopped (SIGINT)")
    assert not line.begin() and line.idle()


def test_the_watcher_ends_the_session_once_the_devices_in_their_session_are_done(tmp_path):
    """The run's own thread may be stuck writing to a parent that is gone: the watcher ends the session,
    but only after the device in its session finished."""
    write_stat(tmp_path, 604, 1)
    killed = threading.Event()
    line = Lifeline(
        daemon=(604, 1),
        proc=str(tmp_path),
        poll=0.01,
        getpgrp=lambda: 95,
        getsid=lambda _pid: 95,
        killpg=lambda *_a: killed.set(),
    )
    assert line.begin()  # a device is in its session
    line.watch()
    try:
        (tmp_path / "604" / "stat").unlink()
        assert line._stopped.wait(10) and not line.begin(), "no new session once the daemon is gone"
        assert not killed.wait(0.5), "the session was ended while a device was in it"
        line.end()
        assert killed.wait(10), "the session was never ended"
    finally:
        line.close()


def test_a_run_that_ends_by_itself_is_not_ended_by_the_watcher(tmp_path):
    write_stat(tmp_path, 605, 1)
    line = Lifeline(daemon=(605, 1), proc=str(tmp_path), poll=0.01, killpg=pytest.fail)
    assert line.begin()
    line.watch()
    (tmp_path / "605" / "stat").unlink()
    assert line._stopped.wait(10)
    line.close()  # the run's thread finished first: it ends the session itself
    line.end()
    line._watcher.join(5)
    assert not line._watcher.is_alive()
