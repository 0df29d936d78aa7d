"""Helpers shared by the benchmarks: tables, statistics, free ports and the EOS simulator process.

The simulator runs as its own process (``python -m lab.simulator.eos_sim``): one asyncio loop serving
every device, as in the lab, but not on the lab's addresses or ports (devices on 127.0.2.x, every port
picked by the kernel, the control API on a free port). A separate process keeps the simulator's work
out of the measuring process's GIL, so a thread pool in the client can overlap with it.
"""

from __future__ import annotations

import json
import os
import re
import select
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


# --- figures -------------------------------------------------------------------------------------
def percentile(values, fraction):
    """Nearest-rank percentile (``fraction`` in 0..1) of a non-empty sequence."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(fraction * len(ordered) + 0.5)))
    return ordered[rank - 1]


def median(values):
    return statistics.median(values)


def table(title, headers, rows):
    """An aligned plain-text table: text columns left-aligned, the others right-aligned."""
    cells = [[str(c) for c in headers]] + [[_cell(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    numeric = [all(_is_number(row[i]) for row in rows) for i in range(len(headers))]

    def line(row):
        return "  ".join(
            c.rjust(w) if num else c.ljust(w) for c, w, num in zip(row, widths, numeric, strict=True)
        ).rstrip()

    rule = "-" * len(line(cells[0]))
    return "\n".join([title, rule, line(cells[0]), rule, *(line(r) for r in cells[1:]), rule])


_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?(x|-\d+(\.\d+)?)?")


def _is_number(value):
    """Numbers and numeric text (``1.02x``, ``+0.079``, ``0.41-0.47``) are right-aligned."""
    return isinstance(value, int | float) or bool(_NUMBER.fullmatch(str(value)))


def _cell(value):
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 100 else f"{value:.1f}"
    return str(value)


# --- the simulator process -----------------------------------------------------------------------
class SimulatorProcess:
    """``python -m lab.simulator.eos_sim --config`` in a child process; ``devices`` maps name -> (address, port)."""

    def __init__(self, workdir, username, password, devices, start_timeout=60.0):
        """``devices``: ``[(name, address, running_config)]``; every port is chosen by the kernel."""
        self.username, self.password = username, password
        config = {
            "username": username,
            "password": password,
            "port": 0,
            "devices": [{"name": n, "address": a, "port": 0, "running_config": c} for n, a, c in devices],
        }
        path = Path(workdir) / "eos-sim.json"
        path.write_text(json.dumps(config), encoding="utf-8")
        os.chmod(path, 0o600)
        self._stderr = open(Path(workdir) / "eos-sim.log", "wb")  # closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "lab.simulator.eos_sim"]
            + ["--config", str(path), "--control-port", "0", "--log-level", "WARNING"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
        )
        try:
            line = self._ready_line(start_timeout)
            match = re.search(r"control http://127\.0\.0\.1:(\d+)", line)
            if not match:
                raise RuntimeError(f"unexpected simulator output: {line!r}")
            self.control = f"http://127.0.0.1:{match.group(1)}"
            self.devices = {d["name"]: (d["address"], d["port"]) for d in self.summary()}
        except BaseException:
            self.stop()
            raise

    def _ready_line(self, timeout):
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"the simulator did not start within {timeout:.0f} s")
            readable, _, _ = select.select([self.process.stdout], [], [], remaining)
            if readable:
                line = self.process.stdout.readline()
                if not line:
                    raise RuntimeError(f"the simulator exited (code {self.process.wait(5)}); see eos-sim.log")
                if line.startswith("eos-sim ready"):
                    return line

    def summary(self):
        """``GET /devices``: name, address, port, hostname, open_sessions, pending_commit, requests."""
        with urllib.request.urlopen(self.control + "/devices", timeout=10) as response:  # loopback only
            return json.load(response)

    def requests(self, names=None):
        """eAPI requests served so far (to the named devices, or to all)."""
        return sum(d["requests"] for d in self.summary() if names is None or d["name"] in names)

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        if self.process.stdout is not None:
            self.process.stdout.close()
        self._stderr.close()
