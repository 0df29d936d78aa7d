"""Run the real rulebook daemon against the lab: used by the demo and by the end-to-end tests.

``RulebookDaemon`` starts ``ansible-rulebook --rulebook sotsync.nautobot.device_config_hook`` in the
host's network namespace with the lab's environment and a copy of the settings file (listener on
127.0.0.1, where the lab's relay forwards Nautobot's webhooks), collects its output line by line,
and stops it on exit.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
LAB = Path(os.environ.get("SOTSYNC_LAB_DIR", ROOT / ".lab")).resolve()
SETTINGS = ROOT / "rulebooks" / "vars" / "device_config_hook.yml"
RULEBOOK = "sotsync.nautobot.device_config_hook"

NOISE = re.compile(r"^\s*$|^\*+$|^\*\* \d{4}-\d\d-\d\d .*\*+$")
HIGHLIGHT = re.compile(
    r"Device |Configuration-relevant|No configuration-relevant|Auto-provision|not ready|platform|"
    r"primary IPv4|status |Provisioning triggered|DRY RUN|committed|^[-+] |^[-+]\S|^@@|TASK \[|PLAY RECAP|"
    r"device\(s\): |failed=|ERROR|fatal"
)
QUOTED = re.compile(r'^\s+"(.*)",?$')


def settings(**overrides) -> dict:
    data = yaml.safe_load(SETTINGS.read_text())
    data.update(overrides)
    return data


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


class RulebookDaemon:
    """The real ansible-rulebook with the real webhook source, for the lab."""

    def __init__(
        self,
        lab: dict,
        log_name: str = "rulebook",
        rulebook: str = RULEBOOK,
        keep_cursor: bool = False,
        **overrides,
    ):
        """``overrides`` replace settings of the shipped vars file. The change-log source's cursor is
        ``.lab/rulebook/changelog-<log_name>.json``, removed at start (a fresh daemon starts from now)
        unless ``keep_cursor`` (a restarted daemon catches up from where the last one stopped)."""
        self.lab = lab
        host, port = lab["env"]["SOTSYNC_LAB_SOURCE_LISTEN"].rsplit(":", 1)
        self.listen = (host, int(port))
        self.cursor = LAB / "rulebook" / f"changelog-{log_name}.json"
        self.keep_cursor = keep_cursor
        overrides.setdefault("changelog_cursor_file", str(self.cursor))
        self.vars = settings(webhook_host=host, webhook_port=int(port), **overrides)
        self.rulebook = rulebook
        self.log_path = LAB / "logs" / f"{log_name}.log"
        self.lines: list[str] = []
        self.times: list[float] = []  # time.time() each line was read, for latency measurements
        self._lock = threading.Lock()
        self.proc: subprocess.Popen | None = None

    # -- life cycle ---------------------------------------------------------------------------
    def __enter__(self) -> RulebookDaemon:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self, timeout: float = 90) -> None:
        if _port_open(*self.listen):
            raise RuntimeError(f"{self.listen[0]}:{self.listen[1]} is already taken: another rulebook daemon?")
        run_dir = LAB / "rulebook"
        run_dir.mkdir(exist_ok=True)
        if not self.keep_cursor:
            self.cursor.unlink(missing_ok=True)
        vars_file = run_dir / "vars.yml"
        vars_file.write_text(yaml.safe_dump(self.vars, sort_keys=False))
        inventory = run_dir / "inventory.yml"
        python = ROOT / ".venv" / "bin" / "python"
        inventory.write_text(
            yaml.safe_dump(
                {
                    "all": {
                        "hosts": {
                            "localhost": {"ansible_connection": "local", "ansible_python_interpreter": str(python)}
                        }
                    }
                }
            )
        )
        env = dict(os.environ)
        env.update(self.lab["env"])
        self.marker = f"{os.getpid()}-{id(self)}-{time.monotonic_ns()}"
        env.update(
            SOTSYNC_LAB_DAEMON=self.marker,  # inherited by every playbook it runs: see stop()
            ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".build" / "collections"),
            PYTHONUNBUFFERED="1",
            ANSIBLE_NOCOLOR="1",
            ANSIBLE_FORCE_COLOR="0",
            PATH=f"{ROOT / '.venv' / 'bin'}:{env['PATH']}",
        )
        cmd = [
            str(ROOT / ".venv" / "bin" / "ansible-rulebook"),
            "--rulebook",
            self.rulebook,
            "--vars",
            str(vars_file),
            "--env-vars",
            "SOTSYNC_WEBHOOK_SECRET",
            "-i",
            str(inventory),
        ]
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            env=env,
            cwd=run_dir,
            start_new_session=True,
        )
        threading.Thread(target=self._read, daemon=True).start()
        deadline = time.monotonic() + timeout
        while not _port_open(*self.listen):
            if self.proc.poll() is not None:
                raise RuntimeError(f"ansible-rulebook exited ({self.proc.returncode}):\n{self.text()[-3000:]}")
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(f"ansible-rulebook did not listen within {timeout} s; see {self.log_path}")
            time.sleep(0.2)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGINT)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        if self.proc:
            self._stop_orphans()
        if getattr(self, "_log", None):
            time.sleep(0.1)
            self._log.close()
            self._log = None

    def _stop_orphans(self) -> None:
        """Stop what the daemon left running. ansible-runner starts each playbook in a session of its
        own (a pty), so a daemon stopped during a run leaves that ``ansible-playbook`` behind, waiting
        forever on a worker that is gone and polling a little CPU: found by its environment's marker."""
        needle = f"SOTSYNC_LAB_DAEMON={self.marker}".encode()
        for _attempt in range(2):
            left = []
            for entry in os.listdir("/proc"):
                if not entry.isdigit():
                    continue
                try:
                    if needle in Path(f"/proc/{entry}/environ").read_bytes().split(b"\0"):
                        left.append(int(entry))
                except OSError:
                    continue
            for pid in left:
                try:
                    os.kill(pid, signal.SIGTERM if _attempt == 0 else signal.SIGKILL)
                except ProcessLookupError:
                    pass
            if not left:
                return
            time.sleep(1.0)

    def _read(self) -> None:
        assert self.proc and self.proc.stdout
        for line in self.proc.stdout:
            with self._lock:
                self.lines.append(line.rstrip("\n"))
                self.times.append(time.time())
            if self._log:
                self._log.write(line)
                self._log.flush()

    # -- reading the output ---------------------------------------------------------------------
    def text(self, start: int = 0) -> str:
        with self._lock:
            return "\n".join(self.lines[start:])

    def count(self, needle: str) -> int:
        return self.text().count(needle)

    def timed_lines(self, start: int = 0) -> list[tuple[float, str]]:
        """``(time.time() read, line)`` of every line from ``start``."""
        with self._lock:
            return list(zip(self.times[start:], self.lines[start:], strict=True))

    def mark(self) -> int:
        with self._lock:
            return len(self.lines)

    def wait_for(self, predicate, timeout: float, what: str = "output") -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.text()
            if predicate(text):
                return text
            if self.proc and self.proc.poll() is not None:
                raise RuntimeError(f"ansible-rulebook exited ({self.proc.returncode}):\n{text[-3000:]}")
            time.sleep(0.2)
        raise TimeoutError(f"no {what} from ansible-rulebook within {timeout} s:\n{self.text()[-3000:]}")

    def wait_for_runs(self, n: int, timeout: float = 120) -> str:
        """Wait until ``n`` playbook runs have ended (PLAY RECAP); return the text of the last one."""
        self.wait_for(lambda t: t.count("PLAY RECAP") >= n, timeout, f"{n} playbook run(s)")
        time.sleep(0.5)  # the recap's host lines follow the header
        parts = self.text().split("PLAY RECAP")
        # parts[n - 1] holds run n (after the previous recap's lines); parts[n] starts with its recap
        recap = "\n".join(parts[n].splitlines()[:3])
        return parts[n - 1] + "PLAY RECAP" + recap


def highlights(text: str) -> str:
    """The decision lines, the task names, the diff between its rulers and the recap: what a person
    wants to see. The role prints the diff as a JSON list; it is shown here as plain lines."""
    out, in_diff = [], False
    for line in text.splitlines():
        quoted = QUOTED.match(line)
        if quoted:
            line = json.loads(f'"{quoted.group(1)}"')
        if line.startswith("====="):
            in_diff = not in_diff
            out.append(line)
        elif in_diff or (not NOISE.match(line) and HIGHLIGHT.search(line)):
            out.append(line)
    return "\n".join("  " + line for line in out)
