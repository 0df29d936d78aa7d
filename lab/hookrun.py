"""Run the real rulebook daemon against the lab: used by the demo and by the end-to-end tests.

``RulebookDaemon`` starts ``ansible-rulebook --rulebook sotsync.nautobot.device_config_hook`` in the
host's network namespace with the lab's environment and a copy of the settings file (listener on
127.0.0.1, where the lab's relay forwards Nautobot's webhooks), collects its output line by line,
and stops it on exit. ``settle()`` waits for a definite end: everything Nautobot changed before the
call decided, provisioned and finished, so that a test counting runs afterwards sees a surplus one.
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
from datetime import UTC, datetime
from pathlib import Path

import requests
import yaml

from lab import seed

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

# The rulebook's own lines (searched anywhere in a line: its banners can run into a playbook's output).
READY = re.compile(r"Device (\S+) is ready for provisioning")
TRIGGERED = re.compile(r"Provisioning triggered \(dry_run=\w+, \d+ device\(s\) in one run: ([^)\n]*)\)")
# The approval gate: an approved config plan's deployment (a run of deploy_config_plan) is owed too.
DEPLOYING = re.compile(r"Config plan \S+ for \S+ approved by .*?: deploying")
RUN_ENDED = "PLAY RECAP"
# settle()'s sentinel: a seeded device (lab/seed.py) whose comments it edits, a change no rule provisions.
SENTINEL_SERIAL = "SOTSYNC-UNREADY-OFFLINE"


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
        host_vars: dict | None = None,
        **overrides,
    ):
        """``overrides`` replace settings of the shipped vars file. The change-log source's cursor is
        ``.lab/rulebook/changelog-<log_name>.json`` and the daemon's ledger ``.lab/rulebook/ledger-<log_name>.jsonl``,
        removed at start (a fresh daemon starts from now) unless ``keep_cursor`` (a restarted daemon catches up
        from where the last one stopped and hands over again what it owed)."""
        self.lab = lab
        host, port = lab["env"]["SOTSYNC_LAB_SOURCE_LISTEN"].rsplit(":", 1)
        self.listen = (host, int(port))
        self.cursor = LAB / "rulebook" / f"changelog-{log_name}.json"
        # the lab runs Golden Config's job on a queue of its own (lab/labctl.py), as README recommends
        overrides.setdefault("golden_config_job_queue", lab.get("render_queue", ""))
        self.keep_cursor = keep_cursor
        overrides.setdefault("changelog_cursor_file", str(self.cursor))
        # the daemon's ledger of the devices owed a run: kept with the cursor (a restart hands over what it owes)
        self.ledger = LAB / "rulebook" / f"ledger-{log_name}.jsonl"
        overrides.setdefault("ledger_file", str(self.ledger))
        self.vars = settings(webhook_host=host, webhook_port=int(port), **overrides)
        self.rulebook = rulebook
        self.host_vars = dict(host_vars or {})  # the inventory's localhost: e.g. a role default for its runs
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
            self.ledger.unlink(missing_ok=True)
        vars_file = run_dir / "vars.yml"
        vars_file.write_text(yaml.safe_dump(self.vars, sort_keys=False))
        inventory = run_dir / "inventory.yml"
        python = ROOT / ".venv" / "bin" / "python"
        inventory.write_text(
            yaml.safe_dump(
                {
                    "all": {
                        "hosts": {
                            "localhost": dict(
                                self.host_vars, ansible_connection="local", ansible_python_interpreter=str(python)
                            )
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

    def _marked(self, command: bytes = b"") -> list[int]:
        """The processes whose environment has this daemon's marker (the daemon and what it started),
        those whose command line contains ``command``."""
        needle = f"SOTSYNC_LAB_DAEMON={self.marker}".encode()
        found = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                if needle in Path(f"/proc/{entry}/environ").read_bytes().split(b"\0") and (
                    command in Path(f"/proc/{entry}/cmdline").read_bytes()
                ):
                    found.append(int(entry))
            except OSError:
                continue
        return found

    def _stop_orphans(self) -> None:
        """Stop what the daemon left running. ansible-runner starts each playbook in a session of its
        own (a pty), so a daemon stopped during a run leaves that ``ansible-playbook`` behind, waiting
        forever on a worker that is gone and polling a little CPU: found by its environment's marker."""
        for _attempt in range(2):
            left = self._marked()
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

    # -- a definite end -------------------------------------------------------------------------
    def owes(self, start: int = 0) -> list[str]:
        """What the daemon still owes for its output from line ``start``; empty when it is idle.

        - a device decided ready for provisioning with no run triggered for it since (its batch window
          has not fired yet, or the lone rule has not acted yet);
        - a run triggered that has not ended (queued behind the lock, or running), an approved config
          plan's deployment included;
        - an ``ansible-playbook`` of this daemon still alive.
        """
        text = self.text(start)
        last_ready = {m.group(1): m.start() for m in READY.finditer(text)}
        last_triggered: dict[str, int] = {}
        triggered = 0
        for m in TRIGGERED.finditer(text):
            triggered += 1
            for name in m.group(1).split(", "):
                last_triggered[name] = m.start()
        # A device renamed again within one batch window is decided under each name but triggered under
        # the name its window opened with (the window groups by device id): a decision is owed a run
        # when no trigger names it afterwards and no trigger at all came after it.
        last_trigger = max(last_triggered.values(), default=-1)
        owed = [
            f"a run for {name}"
            for name, at in last_ready.items()
            if last_triggered.get(name, -1) < at and last_trigger < at
        ]
        triggered += len(DEPLOYING.findall(text))
        ended = text.count(RUN_ENDED)
        if ended < triggered:
            owed.append(f"{triggered - ended} triggered run(s) not ended")
        if self._marked(b"ansible-playbook"):
            owed.append("an ansible-playbook still running")
        return owed

    def settle(self, start: int = 0, timeout: float = 120) -> str:
        """Wait for a definite end, then return the output from line ``start``.

        The end: every change Nautobot made before this call has been decided by the rulebook, through
        both sources, and everything those decisions started has finished. So a test counts runs after
        this and a late or duplicate run is counted, not missed. Shown with a sentinel, comments edits
        of a seeded device (a change no rule provisions):

        1. edit its comments; its decision line comes through the webhook;
        2. wait until the change-log source's cursor file has passed that edit: the change log has read
           every change made before it and queued what it delivers (the cursor is saved after that);
        3. put the comments back and wait for that decision: the rulebook takes its events in order, so
           every event queued before it (webhook or change log) has been decided;
        4. wait until the daemon owes nothing (``owes``): every batch window fired, every run ended.
        """
        api = seed.connect(self.lab["nautobot_url"], self.lab["nautobot_token"])
        sentinel = api.dcim.devices.get(serial=SENTINEL_SERIAL).id
        self._edit_sentinel(api, sentinel, f"settle {time.time_ns()}", timeout)  # 1
        edited = self._latest_change_time(sentinel)
        self.wait_for(lambda _: self._cursor_time() >= edited, timeout, f"the change log to read past {edited}")  # 2
        self._edit_sentinel(api, sentinel, "", timeout)  # 3
        self.wait_for(lambda _: not self.owes(start), timeout, "the daemon to owe nothing (see owes())")  # 4
        return self.text(start)

    def _edit_sentinel(self, api, device_id, comments: str, timeout: float) -> None:
        """Set the sentinel device's comments, then wait for the rulebook's decision on that change."""
        mark = self.mark()
        record = api.dcim.devices.get(device_id)  # fresh: update() sends only what differs from the fetch
        record.update({"comments": comments})
        decided = f"Device {record.name}: changed ['comments']"
        self.wait_for(lambda _: decided in self.text(mark), timeout, f"the sentinel's decision ({decided!r})")

    def _latest_change_time(self, object_id) -> datetime:
        """The time of the newest entry in Nautobot's change log for ``object_id`` (newest first)."""
        response = requests.get(
            f"{self.lab['nautobot_url']}/api/extras/object-changes/",
            params={"changed_object_id": str(object_id), "limit": 1, "depth": 0},
            headers={"Authorization": f"Token {self.lab['nautobot_token']}", "Accept": "application/json"},
            timeout=30,
        )
        response.raise_for_status()
        return _aware(response.json()["results"][0]["time"])

    def _cursor_time(self) -> datetime:
        """The change-log source's cursor: the time of the latest change it has handled (and queued)."""
        try:
            return _aware(json.loads(Path(self.vars["changelog_cursor_file"]).read_text())["time"])
        except (OSError, ValueError, KeyError):
            return datetime.min.replace(tzinfo=UTC)

    def wait_for_runs(self, n: int, timeout: float = 120) -> str:
        """Wait until ``n`` playbook runs have ended (PLAY RECAP); return the text of the last one."""
        self.wait_for(lambda t: t.count("PLAY RECAP") >= n, timeout, f"{n} playbook run(s)")
        time.sleep(0.5)  # the recap's host lines follow the header
        parts = self.text().split("PLAY RECAP")
        # parts[n - 1] holds run n (after the previous recap's lines); parts[n] starts with its recap
        recap = "\n".join(parts[n].splitlines()[:3])
        return parts[n - 1] + "PLAY RECAP" + recap


def _aware(text: str) -> datetime:
    """An ISO 8601 time with its zone (``Z`` or ``+00:00``) -> an aware datetime, compared as such."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


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
