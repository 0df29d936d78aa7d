"""The lab's readiness checks (``lab/labctl.py``) on real leftovers: pid files of dead, reused and
zombie processes, logs from earlier starts, and peers that answer something other than the service.
No lab needed; the lab test ``test_lab_up_brings_back_a_stopped_worker`` covers the live path."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading

import pytest

from lab import labctl

# What ``nautobot-server celery inspect ping --json -d celery@vm,render@vm`` printed on the lab (Celery
# 5.6), with one worker answering; Celery also prints its warning banner on stderr, not here.
PING_ONE = '{"render@vm": {"ok": "pong"}}\n'
PING_CELERY = '{"celery@vm": {"ok": "pong"}}\n'
PING_BOTH = '{"celery@vm": {"ok": "pong"}, "render@vm": {"ok": "pong"}}\n'


@pytest.fixture
def pids(tmp_path, monkeypatch):
    monkeypatch.setattr(labctl, "PIDS", tmp_path)
    return tmp_path


def _write_pid(pids, name, pid):
    (pids / f"{name}.pid").write_text(f"{pid}\n")


def test_no_pid_file_is_not_running(pids):
    assert labctl.pid_alive("celery-render") is None


def test_pid_of_a_dead_process_is_stale(pids):
    proc = subprocess.Popen(["true"])
    proc.wait()
    _write_pid(pids, "celery-render", proc.pid)
    assert labctl.pid_alive("celery-render") is None


def test_pid_reused_by_another_program_is_stale(pids):
    # this pytest process is alive, but it is not the render worker
    _write_pid(pids, "celery-render", os.getpid())
    assert labctl.pid_alive("celery-render") is None


def test_garbage_pid_file_is_stale(pids):
    (pids / "redis.pid").write_text("not a pid\n")
    assert labctl.pid_alive("redis") is None


def test_zombie_is_not_running(pids):
    # a child that exited but was not reaped: kill(pid, 0) still succeeds for it
    proc = subprocess.Popen([sys.executable, "-c", "import sys; sys.exit(0)", "eos_sim"])
    _write_pid(pids, "eos-sim", proc.pid)
    try:
        for _attempt in range(200):
            state = open(f"/proc/{proc.pid}/stat").read().rsplit(")", 1)[1].split()[0]
            if state == "Z":
                break
            threading.Event().wait(0.01)
        assert state == "Z"
        assert labctl.pid_alive("eos-sim") is None
    finally:
        proc.wait()


def test_live_process_of_the_service_is_running(pids):
    proc = subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.stdin.read()", "-Q", labctl.RENDER_QUEUE], stdin=subprocess.PIPE
    )
    try:
        _write_pid(pids, "celery-render", proc.pid)
        assert labctl.pid_alive("celery-render") == proc.pid
        _write_pid(pids, "redis", proc.pid)
        assert labctl.pid_alive("redis") is None
    finally:
        proc.stdin.close()
        proc.wait()


def test_celery_ping_output_names_the_nodes_that_answered():
    assert labctl.celery_pong_nodes(PING_BOTH) == {"celery@vm", "render@vm"}
    assert labctl.celery_pong_nodes(PING_ONE) == {"render@vm"}
    # no worker answered: Celery prints an error, not JSON
    assert labctl.celery_pong_nodes("Error: No nodes replied within time constraint\n") == set()
    assert labctl.celery_pong_nodes("") == set()
    assert labctl.celery_pong_nodes('{"celery@vm": {"error": "no"}}') == set()
    assert labctl.celery_pong_nodes("{not json") == set()


def test_worker_log_saying_ready_does_not_make_a_worker_ready(tmp_path):
    """The failure of issue 20: the render worker's log had ``ready.`` and then a ``sync with
    celery@vm`` line. Readiness no longer reads the log: only Celery's ping counts."""
    log = tmp_path / "celery-render.log"
    log.write_text(
        "[2026-12-06 05:09:50,100: INFO/MainProcess] Connected to redis://localhost:6379/0\n"
        "[2026-12-06 05:09:52,300: INFO/MainProcess] render@vm ready.\n"
        "[2026-12-06 05:09:53,000: INFO/MainProcess] sync with celery@vm\n"
    )
    # what the workers' ping answered: the default worker only
    with pytest.raises(labctl.NotReady) as err:
        labctl.poll("Celery render worker", lambda: "render@vm" in labctl.celery_pong_nodes(PING_CELERY), 0, 0, log)
    text = str(err.value)
    assert "Celery render worker did not answer within 0 s" in text
    assert str(log) in text
    assert "sync with celery@vm" in text  # the log's last lines are in the error


def test_poll_returns_the_first_true_answer_and_error_without_log():
    answers = iter([False, None, "up"])
    assert labctl.poll("x", lambda: next(answers), 5, 0) == "up"
    with pytest.raises(labctl.NotReady, match=r"^Redis did not answer within 0 s$"):
        labctl.poll("Redis", lambda: False, 0, 0)


def test_log_tail_reads_only_the_end_of_a_long_log(tmp_path):
    log = tmp_path / "nautobot.log"
    log.write_text("".join(f"line {i}\n" for i in range(100000)))
    tail = labctl.log_tail(log, lines=3).splitlines()
    assert [ln.strip() for ln in tail] == ["line 99997", "line 99998", "line 99999"]
    assert labctl.log_tail(tmp_path / "absent.log") == ""


class _Peer:
    """A TCP listener that answers each connection with fixed bytes (another service on the port)."""

    def __init__(self, answer: bytes):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.port = self.sock.getsockname()[1]
        self.answer = answer
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _peer = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.recv(64)
                conn.sendall(self.answer)


def test_redis_ready_wants_pong_not_just_an_open_port():
    other = _Peer(b"HTTP/1.0 400 Bad Request\r\n\r\n")
    loading = _Peer(b"-LOADING Redis is loading the dataset in memory\r\n")
    redis = _Peer(b"+PONG\r\n")
    try:
        assert labctl.redis_ready(port=other.port) is False
        assert labctl.redis_ready(port=loading.port) is False
        assert labctl.redis_ready(port=redis.port) is True
    finally:
        for peer in (other, loading, redis):
            peer.sock.close()
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    assert labctl.redis_ready(port=port) is False
