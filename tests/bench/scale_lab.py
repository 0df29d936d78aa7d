#!/usr/bin/env python3
"""The hook at network scale, on the lab: one bulk edit of N devices, end to end.

    .venv/bin/python -m tests.bench.scale_lab                       # N = 50, 200, 500; baseline at 50; 20 renames
    .venv/bin/python -m tests.bench.scale_lab --sizes 20 --baseline 0 --renames 3  # a quick look

(from the checkout's root: ``lab`` and ``tests`` are imported as packages)

For each N: N extra devices in Nautobot (``lab/fleet.py``: bench-0001..., each on its own simulated EOS
device running its intended configuration), the real ``ansible-rulebook`` with the shipped rulebook,
then ONE bulk PATCH of ``/api/dcim/devices/`` renaming all N (a configuration-relevant field), in dry
run and then live. Measured: Nautobot's own time to save the edit (the floor of any hook); from the
edit's start to the last device's result line; the hook's own part (from Nautobot's answer to the last
result) and its devices/s; p50/p95 of each device's latency (from Nautobot's answer to its result line);
failures; provisioning runs; the peak RSS of the daemon's whole process tree (sampled every 0.25 s).

Baseline in the same run: the per-event path as it was (the same rulebook with the batch window taken
out, so every event starts its own ``run_playbook``, runs of different devices in parallel), at the
baseline's N, dry run, bounded in time. One change: p50/p95 over single renames (dry run and live),
from Nautobot's answer to the result line. Live rounds also time Golden Config's compliance of the
committed devices after the commits (issue 12), and one live round at the largest N runs with
``golden_config_compliance: false``: what that step costs, against a baseline of the same run.

Figures are printed against the issue's targets, never asserted; ``run()`` returns them and raises
only when a result is wrong (a device missing or failed). Everything is bounded in count and time.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import NamedTuple

from lab import fleet, hookrun, seed
from tests.bench import plots

ROOT = Path(__file__).resolve().parents[2]

# Searched anywhere in a line: ansible-rulebook's own banners can run into a playbook's output line.
# The fleets' names: bench-0001 (EOS), bench-nx-0001 (NX-OS), bench-jn-0001 (Junos), then a rename suffix.
RESULT = re.compile(r"(bench-(?:nx-|jn-)?\d{4}\S*): (DRY RUN|Configuration committed|No configuration|FAILED|SKIPPED)")
# After live commits: each committed device's line on Golden Config's compliance (issue 12).
COMPLIANCE = re.compile(
    r"(bench-(?:nx-|jn-)?\d{4}\S*): Golden Config compliance (brought up to date|NOT brought up to date)"
)
PAGE = os.sysconf("SC_PAGE_SIZE")
TARGETS = {
    "failures": "0",
    "hook devices/s": ">= 20",
    "end to end": "<= 2x Nautobot's save",
    "peak daemon-tree RSS": "<= 1 GB",
    "vs per-event path": ">= 10x devices/s",
    "one change dry run p50": "<= 1.5 s",
    "one change live p50": "<= 2.0 s",
}


# --- measuring ------------------------------------------------------------------------------------
TICKS = os.sysconf("SC_CLK_TCK")
# The lab's parts whose CPU the benchmark accounts (PID files in .lab/pids), plus PostgreSQL and the daemon.
CPU_PARTS = ("nautobot", "celery", "celery-render", "eos-sim", "nxos-sim", "junos-sim", "webhook-relay", "redis")


class Proc(NamedTuple):
    ppid: int
    name: str
    cpu: float  # seconds: its own and its reaped children's (utime, stime, cutime, cstime)
    rss: int  # bytes


def processes() -> dict[int, Proc]:
    """Every process of the machine, from /proc."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                stat = handle.read()
            with open(f"/proc/{entry}/statm") as handle:
                pages = int(handle.read().split()[1])
        except OSError:
            continue
        rest = stat.rsplit(")", 1)[1].split()
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        table[int(entry)] = Proc(int(rest[1]), name, sum(int(x) for x in rest[11:15]) / TICKS, pages * PAGE)
    return table


def tree_total(table: dict[int, Proc], roots: list[int], field: str) -> float:
    """The sum of ``field`` over the processes ``roots`` and all their descendants."""
    children: dict[int, list[int]] = {}
    for pid, proc in table.items():
        children.setdefault(proc.ppid, []).append(pid)
    total, todo = 0, list(roots)
    while todo:
        pid = todo.pop()
        if pid in table:
            total += getattr(table[pid], field)
        todo.extend(children.get(pid, []))
    return total


def tree_rss(root_pid: int) -> int:
    """RSS in bytes of a process and all its descendants."""
    return int(tree_total(processes(), [root_pid], "rss"))


def cpu_snapshot(daemon_pid: int) -> dict[str, float]:
    """CPU seconds used so far by each lab part's process tree, PostgreSQL's and the daemon's."""
    table = processes()
    roots: dict[str, list[int]] = {"daemon": [daemon_pid]}
    for part in CPU_PARTS:
        try:
            roots[part] = [int((ROOT / ".lab" / "pids" / f"{part}.pid").read_text().split()[0])]
        except (OSError, ValueError, IndexError):
            roots[part] = []
    # the postmaster: a postgres process whose parent is not a postgres process
    roots["postgres"] = [
        pid
        for pid, proc in table.items()
        if proc.name == "postgres" and (proc.ppid not in table or table[proc.ppid].name != "postgres")
    ]
    return {part: tree_total(table, pids, "cpu") for part, pids in roots.items()}


def cpu_per_device(before: dict[str, float], after: dict[str, float], n: int) -> dict[str, float]:
    """Milliseconds of CPU per device, by part, between two snapshots."""
    return {part: round(1000 * (after[part] - before.get(part, 0.0)) / max(n, 1), 1) for part in after}


class RssSampler:
    def __init__(self, pid: int, interval: float = 0.25):
        self.pid, self.interval, self.peak = pid, interval, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, tree_rss(self.pid))
            self._stop.wait(self.interval)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def celery_idle(log=print, timeout: float = 300) -> None:
    """Wait until Nautobot's Celery queue is empty: webhooks of an earlier edit must not reach a new daemon."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        out = subprocess.run(["redis-cli", "llen", "celery"], capture_output=True, text=True, check=False).stdout
        if out.strip() == "0":
            time.sleep(1.0)
            return
        time.sleep(0.5)
    log("Celery's queue did not empty within the timeout; going on")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(fraction * len(ordered) + 0.5)))
    return ordered[rank - 1]


def lab_facts() -> dict:
    lab_json = ROOT / ".lab" / "lab.json"
    if not lab_json.exists():
        raise SystemExit("the lab is not up: run scripts/lab up")
    return json.loads(lab_json.read_text())


def first_lines(
    daemon, start: int, names: set[str], timeout: float, pattern: re.Pattern
) -> dict[str, tuple[float, str]]:
    """Each device's first line after ``start`` that ``pattern`` matches (group 1 the device's name):
    ``name -> (time, group 2)``."""
    seen: dict[str, tuple[float, str]] = {}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and len(seen) < len(names):
        for when, line in daemon.timed_lines(start):
            match = pattern.search(line)
            if match and match.group(1) in names and match.group(1) not in seen:
                seen[match.group(1)] = (when, match.group(2))
        time.sleep(0.25)
    return seen


def wait_results(daemon, start: int, names: set[str], timeout: float) -> dict[str, tuple[float, str]]:
    """Each device's first result line after ``start``: ``name -> (time, outcome)``."""
    return first_lines(daemon, start, names, timeout, RESULT)


def wait_compliance(daemon, start: int, names: set[str], timeout: float) -> dict[str, tuple[float, bool]]:
    """Each committed device's compliance line after ``start``: ``name -> (time, brought up to date)``."""
    lines = first_lines(daemon, start, names, timeout, COMPLIANCE)
    return {name: (when, said == "brought up to date") for name, (when, said) in lines.items()}


def bulk_edit(
    lab: dict,
    api,
    devices: list[dict],
    suffix: str,
    dry_run: bool,
    rulebook=hookrun.RULEBOOK,
    timeout: float | None = None,
    label: str = "batch",
    **settings,
) -> dict:
    """Start the daemon, rename every device in one bulk PATCH, wait for every result; the figures."""
    names = {f"{d['name']}{suffix}" for d in devices}
    timeout = timeout or 120 + 1.5 * len(devices)
    with (
        hookrun.RulebookDaemon(
            lab, log_name=f"bench-{label}-{len(devices)}", rulebook=rulebook, dry_run=dry_run, **settings
        ) as daemon,
        RssSampler(daemon.proc.pid) as rss,
    ):
        start = daemon.mark()
        body = [{"id": d["id"], "name": f"{d['name']}{suffix}"} for d in devices]
        cpu_start = cpu_snapshot(daemon.proc.pid)
        edit_start = time.time()
        response = api.http_session.patch(f"{api.base_url}/dcim/devices/", json=body, timeout=900)
        response.raise_for_status()
        saved = time.time()
        cpu_saved = cpu_snapshot(daemon.proc.pid)
        seen = wait_results(daemon, start, names, timeout)
        cpu_end = cpu_snapshot(daemon.proc.pid)
        # live: the run goes on with Golden Config's backup and compliance of the committed devices; wait
        # for it (the next round's renders would queue behind it) and time it apart from the results
        committed = {name for name, (_when, outcome) in seen.items() if outcome == "Configuration committed"}
        expected = committed if settings.get("golden_config_compliance", True) else set()
        checked = wait_compliance(daemon, start, expected, 120 + 0.5 * len(expected)) if expected else {}
        text = daemon.text(start)
    last = max((when for when, _ in seen.values()), default=saved)
    compliance_end = max((when for when, _ in checked.values()), default=None)
    latencies = [when - saved for when, _ in seen.values()]
    hook = max(last - saved, 1e-9)
    return {
        "label": label,
        "n": len(devices),
        "mode": "dry run" if dry_run else "live",
        "save_s": saved - edit_start,
        "end_to_end_s": last - edit_start,
        "hook_s": hook,
        "devices_per_s": len(seen) / hook,
        "p50_s": percentile(latencies, 0.5) if latencies else None,
        "p95_s": percentile(latencies, 0.95) if latencies else None,
        "results": len(seen),
        "failures": sum(1 for _, outcome in seen.values() if outcome == "FAILED") + len(names) - len(seen),
        "runs": text.count("Provisioning triggered"),
        "peak_rss_mb": rss.peak / 2**20,
        "missing": sorted(names - set(seen))[:5],
        # each device's result: seconds from Nautobot's answer, and the outcome (per-platform figures)
        "latency_by_name": {name: (when - saved, outcome) for name, (when, outcome) in seen.items()},
        # CPU milliseconds per device by part: during Nautobot's save, and from its answer to the last result
        "cpu_ms_save": cpu_per_device(cpu_start, cpu_saved, len(devices)),
        "cpu_ms_hook": cpu_per_device(cpu_saved, cpu_end, len(devices)),
        # Golden Config's compliance after the commits: seconds from the last result, devices brought up to date
        "committed": len(committed),
        "compliance_on": bool(expected),
        "compliance_s": (compliance_end - last) if compliance_end else None,
        "compliance_updated": sum(1 for _when, ok in checked.values() if ok),
    }


def per_event_rulebook(directory: Path) -> Path:
    """The shipped rulebook with the batch window taken out: one run_playbook per event, in parallel."""
    text = (ROOT / "rulebooks" / "device_config_hook.yml").read_text()
    window = re.compile(r"^      throttle:\n(?:^        .*\n)+", re.M)
    assert len(window.findall(text)) == 1, "the rulebook's batch window was not found"
    text = window.sub("", text)
    text = text.replace("lock: sotsync.nautobot.provision", 'lock: "{{ event.sotsync_provision.id }}"')
    path = directory / "per_event_rulebook.yml"
    path.write_text(text)
    return path


def playbook_env(lab: dict) -> dict:
    """The environment of an ``ansible-playbook`` of the checkout's collection against the lab."""
    env = dict(os.environ)
    env.update(lab["env"])
    env.update(
        ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".build" / "collections"),
        ANSIBLE_NOCOLOR="1",
        PATH=f"{ROOT / '.venv' / 'bin'}:{env['PATH']}",
    )
    return env


def manual_run(lab: dict, n: int) -> dict:
    """``ansible-playbook provision_device`` by Nautobot filter over the fleet's site, dry run."""
    env = playbook_env(lab)
    extra = json.dumps({"filter": {"location": seed.SITE_B}})  # the fleet is all of Lab Site B
    started = time.monotonic()
    proc = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "ansible-playbook"), "sotsync.nautobot.provision_device", "-e", extra],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
        check=False,
        cwd="/",
    )
    seconds = time.monotonic() - started
    summary = re.search(r"^(\d+) device\(s\): .*?(\d+) failed", proc.stdout, re.M)
    return {
        "n": int(summary.group(1)) if summary else 0,
        "failures": int(summary.group(2)) if summary else n,
        "seconds": seconds,
        "devices_per_s": (int(summary.group(1)) / seconds) if summary else 0.0,
        "rc": proc.returncode,
    }


def one_change(lab: dict, api, device: dict, count: int, dry_run: bool) -> dict:
    """``count`` renames of one device, each alone; latency from Nautobot's answer to the result line."""
    latencies, failures, compliance = [], 0, []
    with hookrun.RulebookDaemon(lab, log_name="bench-one-change", dry_run=dry_run) as daemon:
        for index in range(count):
            name = f"{device['name']}-{'d' if dry_run else 'l'}{index}"
            start = daemon.mark()
            response = api.http_session.patch(
                f"{api.base_url}/dcim/devices/{device['id']}/", json={"name": name}, timeout=60
            )
            response.raise_for_status()
            saved = time.time()
            seen = wait_results(daemon, start, {name}, 60)
            if name in seen and seen[name][1] != "FAILED":
                latencies.append(seen[name][0] - saved)
            else:
                failures += 1
            if name in seen and seen[name][1] == "Configuration committed":
                # the run ends with Golden Config's backup and compliance of the device: timed apart
                checked = wait_compliance(daemon, start, {name}, 60)
                if name in checked and checked[name][1]:
                    compliance.append(checked[name][0] - seen[name][0])
            time.sleep(2.5)  # longer than lone_event_seconds: the next rename comes alone
    return {
        "mode": "dry run" if dry_run else "live",
        "n": count,
        "p50_s": percentile(latencies, 0.5) if latencies else None,
        "p95_s": percentile(latencies, 0.95) if latencies else None,
        "failures": failures,
        "compliance_p50_s": percentile(compliance, 0.5) if compliance else None,
        "compliance_updated": len(compliance),
    }


# --- report ---------------------------------------------------------------------------------------
def fmt(value, spec=".2f"):
    return "-" if value is None else format(value, spec)


def print_batches(rows: list[dict], baseline: dict | None) -> None:
    head = (
        f"{'path':<10} {'mode':<8} {'N':>4} {'save s':>7} {'e2e s':>7} {'e2e/save':>8} {'hook s':>7} "
        f"{'dev/s':>6} {'p50 s':>6} {'p95 s':>6} {'fail':>4} {'runs':>4} {'RSS MB':>7} {'vs base':>7}"
    )
    print(head)
    print("-" * len(head))
    for row in ([baseline] if baseline else []) + rows:
        ratio = (
            row["devices_per_s"] / baseline["devices_per_s"]
            if baseline and row is not baseline and row["n"] == baseline["n"] and baseline["devices_per_s"]
            else None
        )
        print(
            f"{row['label']:<10} {row['mode']:<8} {row['n']:>4} {fmt(row['save_s']):>7} "
            f"{fmt(row['end_to_end_s']):>7} {fmt(row['end_to_end_s'] / row['save_s']):>8} {fmt(row['hook_s']):>7} "
            f"{fmt(row['devices_per_s'], '.1f'):>6} "
            f"{fmt(row['p50_s']):>6} {fmt(row['p95_s']):>6} {row['failures']:>4} {row['runs']:>4} "
            f"{fmt(row['peak_rss_mb'], '.0f'):>7} {fmt(ratio, '.1f') + 'x' if ratio else '-':>7}"
        )
    print("targets: " + "; ".join(f"{k} {v}" for k, v in TARGETS.items()))
    for row in rows:
        if row.get("compliance_on"):
            seconds = row["compliance_s"]
            print(
                f"Golden Config compliance after the live commits, N = {row['n']}: {row['compliance_updated']} of "
                f"{row['committed']} committed devices brought up to date, {fmt(seconds)} s after the last result"
                + (f" ({1000 * seconds / row['committed']:.0f} ms/device)" if seconds else "")
            )
    rows_cpu = [r for r in ([baseline] if baseline else []) + rows if "cpu_ms_hook" in r]
    if rows_cpu:
        parts = list(rows_cpu[0]["cpu_ms_hook"])
        print()
        print("CPU ms per device, by part, during the hook's part (Nautobot's save in brackets); 2 cores:")
        print(f"{'path':<10} {'mode':<8} {'N':>4} " + " ".join(f"{p:>15}" for p in parts + ["all"]))
        for row in rows_cpu:
            hook, save = row["cpu_ms_hook"], row["cpu_ms_save"]
            cells = [f"{hook[p]:.0f} ({save[p]:.0f})" for p in parts]
            cells.append(f"{sum(hook.values()):.0f} ({sum(save.values()):.0f})")
            print(f"{row['label']:<10} {row['mode']:<8} {row['n']:>4} " + " ".join(f"{c:>15}" for c in cells))


def run(
    sizes=(50, 200, 500),
    baseline_n=50,
    renames=20,
    live=True,
    manual=True,
    shared_queue_n=None,
    no_compliance_n=None,
    log=print,
) -> dict:
    """``shared_queue_n``: also a dry-run round of that N with Golden Config's job on its default queue,
    the one Nautobot's webhook deliveries use (the lab's daemon uses a queue of its own); None: the
    largest size, 0: none. ``no_compliance_n``: also a live round of that N with
    ``golden_config_compliance: false`` (the same run's baseline for what compliance after the commits
    costs); None: the largest size when ``live``, 0: none."""
    lab = lab_facts()
    api = seed.connect(lab["nautobot_url"], lab["nautobot_token"])
    figures: dict = {"batches": [], "baseline": None, "one_change": [], "manual": None}
    biggest = max(list(sizes) + [baseline_n, 1])
    devices = fleet.ensure(api, biggest, lab["sim_control_url"], lab["sim_port"], log=log)
    stamp = time.strftime("%H%M%S")
    celery_idle(log)
    if baseline_n:
        with tempfile.TemporaryDirectory() as tmp:
            log(f"baseline: the per-event path, N = {baseline_n}, dry run (bounded to 300 s)")
            figures["baseline"] = bulk_edit(
                lab,
                api,
                devices[:baseline_n],
                f"-b{stamp}",
                True,
                rulebook=str(per_event_rulebook(Path(tmp))),
                timeout=300,
                label="per-event",
            )
    for n in sizes:
        for dry_run in (True, False) if live else (True,):
            celery_idle(log)
            log(f"batch: N = {n}, {'dry run' if dry_run else 'live'}")
            figures["batches"].append(
                bulk_edit(lab, api, devices[:n], f"-{'d' if dry_run else 'l'}{n}-{stamp}", dry_run, label="batch")
            )
    shared_queue_n = max(sizes) if shared_queue_n is None else shared_queue_n
    if shared_queue_n:
        celery_idle(log)
        log(f"batch: N = {shared_queue_n}, dry run, Golden Config's job on its default queue (shared with webhooks)")
        figures["batches"].append(
            bulk_edit(
                lab,
                api,
                devices[:shared_queue_n],
                f"-s{shared_queue_n}-{stamp}",
                True,
                label="shared-q",
                golden_config_job_queue="",
            )
        )
    no_compliance_n = (max(sizes) if live else 0) if no_compliance_n is None else no_compliance_n
    if no_compliance_n:
        celery_idle(log)
        log(f"batch: N = {no_compliance_n}, live, golden_config_compliance false")
        figures["batches"].append(
            bulk_edit(
                lab,
                api,
                devices[:no_compliance_n],
                f"-c{no_compliance_n}-{stamp}",
                False,
                label="no-compl",
                golden_config_compliance=False,
            )
        )
    if renames:
        celery_idle(log)
        for dry_run in (True, False) if live else (True,):
            log(f"one change: {renames} renames, {'dry run' if dry_run else 'live'}")
            figures["one_change"].append(one_change(lab, api, devices[0], renames, dry_run))
    fleet.ensure(api, biggest, lab["sim_control_url"], lab["sim_port"], log=log)  # names back
    if manual:
        celery_idle(log)
        log(f"manual: ansible-playbook provision_device by filter over the {biggest} fleet devices, dry run")
        figures["manual"] = manual_run(lab, biggest)
    print()
    print_batches(figures["batches"], figures["baseline"])
    for row in figures["one_change"]:
        print(
            f"one change, {row['mode']}: p50 {fmt(row['p50_s'])} s, p95 {fmt(row['p95_s'])} s over {row['n']} "
            f"renames, {row['failures']} failed"
            + (
                f"; Golden Config compliance after each commit: p50 {fmt(row['compliance_p50_s'])} s after the "
                f"result ({row['compliance_updated']} brought up to date)"
                if row.get("compliance_updated") or row["mode"] == "live"
                else ""
            )
        )
    return figures


def write_outputs(figures: dict, json_path: str | None, plots_dir: str | None, draw_figures) -> None:
    """What a benchmark's command line asked for besides the tables: the figures as JSON, the SVG pictures
    ``draw_figures(figures, folder)`` makes."""
    if json_path:
        Path(json_path).write_text(json.dumps(figures, indent=2))
    if plots_dir:
        for path in draw_figures(figures, Path(plots_dir)):
            print(f"drawn: {path}")


def draw(figures: dict, folder: Path) -> list[Path]:
    """Devices done over time: the batch path against the per-event one at the baseline's N, and every
    batch round (``scale-*.svg``)."""

    def seconds(row):
        return [when for when, _outcome in row["latency_by_name"].values()]

    written = []
    baseline = figures.get("baseline")
    rows = [r for r in figures["batches"] if r["label"] == "batch"]
    same = [r for r in rows if baseline and r["n"] == baseline["n"] and r["mode"] == "dry run"]
    if baseline and same:
        svg = plots.done_over_time(
            {"batch path, dry run": seconds(same[0]), "per-event path, dry run": seconds(baseline)},
            f"One bulk edit of {baseline['n']} devices: the batch path and the per-event path",
        )
        written.append(plots.write(folder / "scale-batch-vs-per-event.svg", svg))
    if rows:
        svg = plots.done_over_time(
            {f"{r['mode']}, N = {r['n']}": seconds(r) for r in rows}, "One bulk edit of N devices (EOS), batch path"
        )
        written.append(plots.write(folder / "scale-batch.svg", svg))
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="50,200,500", help="comma-separated N (default 50,200,500)")
    parser.add_argument("--baseline", type=int, default=50, help="N of the per-event baseline; 0 skips it")
    parser.add_argument("--renames", type=int, default=20, help="single renames for the one-change figures")
    parser.add_argument("--dry-run-only", action="store_true", help="skip the live rounds")
    parser.add_argument("--no-manual", action="store_true", help="skip the manual run by filter")
    parser.add_argument(
        "--shared-queue",
        type=int,
        default=None,
        help="N of a dry-run round with Golden Config's job on its default queue (default: the largest N; 0 skips)",
    )
    parser.add_argument(
        "--no-compliance",
        type=int,
        default=None,
        help="N of a live round with golden_config_compliance false (default: the largest N when live; 0 skips)",
    )
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--plots", help="also draw devices done over time as SVG files in this folder (docs/images)")
    args = parser.parse_args()
    sizes = [int(x) for x in args.sizes.split(",") if x.strip()]
    started = time.monotonic()
    figures = run(
        sizes,
        args.baseline,
        args.renames,
        live=not args.dry_run_only,
        manual=not args.no_manual,
        shared_queue_n=args.shared_queue,
        no_compliance_n=args.no_compliance,
        log=lambda m: print(f"[{time.monotonic() - started:7.1f}s] {m}", flush=True),
    )
    write_outputs(figures, args.json, args.plots, draw)
    wrong = [r for r in figures["batches"] if r["failures"]]
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
