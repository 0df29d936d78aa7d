"""What the simulator suites share: polling, the control API, the command line, scale figures."""

from __future__ import annotations

import contextlib
import json
import os
import re
import selectors
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def wait_until(predicate, timeout: float = 5.0, interval: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())


def read_line_matching(proc: subprocess.Popen, pattern: str, timeout: float) -> re.Match:
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        if not sel.select(timeout=max(deadline - time.monotonic(), 0)):
            break
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line)
        m = re.search(pattern, line)
        if m:
            return m
    raise AssertionError(f"no line matching {pattern!r} within {timeout} s; got {seen!r}")


def control(base: str, path: str, method: str = "GET", data: bytes | None = None):
    """One control API request: (HTTP status, decoded JSON body)."""
    req = urllib.request.Request(base + path, data=data, method=method)
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@contextlib.contextmanager
def cli_simulator(tmp_path: Path, platform: str, config: dict, env: dict[str, str]) -> Iterator[tuple[str, Path]]:
    """``python -m lab.simulator.<platform>_sim`` with ``config`` (DEBUG logs to a file), up to its
    ready line: yields (control URL, log file); the number of devices it announces must be the
    config's. Stopped with SIGTERM on the way out, which must end it with exit code 0."""
    cfg = tmp_path / "sim.json"
    cfg.write_text(json.dumps(config))
    log = tmp_path / "stderr.log"
    with open(log, "w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", f"lab.simulator.{platform}_sim"]
            + ["--config", str(cfg), "--control-port", "0", "--log-level", "DEBUG"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            env=dict(os.environ, **env),
        )
    try:
        m = read_line_matching(proc, rf"^{platform}-sim ready: (\d+) devices \(control (http://\S+)\)", 20)
        assert int(m.group(1)) == len(config["devices"])
        yield m.group(2), log
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            assert proc.wait(timeout=10) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.stdout.close()


# ---------------------------------------------------------------------------------------------
# Scale: many devices through the control API
# ---------------------------------------------------------------------------------------------
def rss_mb() -> float:
    """This process's resident memory (simulator and clients: the tests run both)."""
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def add_through_control(base: str, count: int, network: str, config_for: Callable[[str], str]) -> list[dict]:
    """``count`` devices ``d000``..., each on its own address ``<network>.N``, all on one port (the
    first device gets a free one, the others share it), added one request at a time as the
    benchmark does. Returns their summaries (201 answers)."""
    added = []
    port = 0
    for i in range(count):
        name = f"d{i:03d}"
        body = {"name": name, "address": f"{network}.{i + 1}", "port": port, "running_config": config_for(name)}
        status, summary = control(base, "/devices", "POST", json.dumps(body).encode())
        assert status == 201, summary
        port = summary["port"]
        added.append(summary)
    return added


def settled_threads(baseline: int, timeout: float = 10.0) -> int:
    """The thread count once it is back to ``baseline`` (or after ``timeout``): sessions have ended."""
    wait_until(lambda: threading.active_count() <= baseline, timeout=timeout, interval=0.05)
    return threading.active_count()


def drive_sample(cycle: Callable[[dict], object], picks: list[dict]) -> tuple[list, float]:
    """``cycle`` (one NAPALM session) on the first device alone, then on the others at once (one
    thread each): (results in order, seconds)."""
    started = time.monotonic()
    results = [cycle(picks[0])]
    with ThreadPoolExecutor(max_workers=max(len(picks) - 1, 1)) as pool:
        results += list(pool.map(cycle, picks[1:]))
    return results, time.monotonic() - started


def scale_figures(
    platform: str,
    count: int,
    add_seconds: float,
    sessions: int,
    drive_seconds: float,
    rss: tuple[float, float, float],
    threads: tuple[int, int],
) -> str:
    """One line for the test log: how long adding took, the sample's sessions, memory and threads
    (``rss``: before adding, after adding, after the sessions; ``threads``: after adding, idle after
    the sessions; this process runs the simulator and the drivers)."""
    return (
        f"\n[{platform}-sim] {count} devices added through the control API in {add_seconds:.2f} s "
        f"({add_seconds / count * 1000:.1f} ms/device); {sessions} NAPALM sessions (1 alone, then "
        f"{sessions - 1} at once) in {drive_seconds:.2f} s; RSS {rss[0]:.0f} -> {rss[1]:.0f} MB after adding, "
        f"{rss[2]:.0f} MB after the sessions; threads {threads[0]} after adding, {threads[1]} idle after the sessions"
    )
