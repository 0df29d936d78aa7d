"""The mixed-fleet benchmark on the lab: N devices of each platform (Arista EOS, Cisco NX-OS, Juniper Junos),
one bulk edit of all of them, through the real daemon and the shipped rulebook, dry run and live; and, in
the same run, Golden Config's own path for the same devices as the peer baseline.

    source .venv/bin/activate && scripts/lab up
    python -m tests.bench.mixed_fleet_lab                    # N = 100 a platform (300 devices); about 10 min
    python -m tests.bench.mixed_fleet_lab --per-platform 10  # a quick round

Printed, measured in this run:

- **NAPALM session cost per platform**: ``--sessions`` dry-run sessions a platform, one after another, with
  the real driver against the lab's simulator (open, ``load_merge_candidate``, ``compare_config``,
  ``discard_config``, ``close``): wall time and this process's CPU per session.
- **The hook**: one bulk PATCH renames all 3N devices while the daemon runs; per platform, the results,
  failures, the time from Nautobot's answer to the platform's last result and its devices/s, p50/p95.
- **Golden Config's own path** (the peer baseline), for the same 3N devices renamed again, with the daemon
  stopped: its jobs "Generate Intended Configurations", "Backup Configurations" and "Perform Configuration
  Compliance" (what "Generate Config Plans" of type ``intended`` reads), "Generate Config Plans", the
  plans set Approved (what an engineer does in its UI), then "Deploy Config Plans" (NAPALM merge and
  commit, no commit-confirm, no verification). Each job timed; per platform, the plans Completed or
  Failed and the devices that carry the new name afterwards. Its plans are deleted afterwards.

Correctness is asserted by the smoke test (tests/bench/test_bench_mixed_fleet_lab.py), not time.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from napalm import get_network_driver

from lab import fleet, seed
from tests.bench import plots
from tests.bench.scale_lab import bulk_edit, celery_idle, fmt, lab_facts, percentile, write_outputs

NAPALM = {"arista_eos": "eos", "cisco_nxos": "nxos", "juniper_junos": "junos"}
LABEL = {"arista_eos": "EOS", "cisco_nxos": "NX-OS", "juniper_junos": "Junos"}
PLAN_PATH = "plugins/golden-config/config-plan/"
# a candidate each platform merges without a change to the fleet's intent: its hostname line
HOSTNAME = {
    "arista_eos": "hostname {}\n",
    "cisco_nxos": "hostname {}\n",
    "juniper_junos": "system {{\n    host-name {};\n}}\n",
}


# --- NAPALM sessions -----------------------------------------------------------------------------
def session_cost(lab: dict, devices: dict[str, list[dict]], count: int) -> dict[str, dict]:
    """``count`` dry-run sessions a platform, one after another: wall and CPU milliseconds per session."""
    env = lab["env"]
    passwords = lab["device_passwords"]
    figures = {}
    for driver, fleet_devices in devices.items():
        walls, cpus = [], []
        for device in (fleet_devices * (count // max(len(fleet_devices), 1) + 1))[:count]:
            napalm = get_network_driver(NAPALM[driver])(
                device["address"],
                env["NAPALM_USERNAME"],
                passwords[driver],  # each platform's own login (the lab keeps them apart)
                timeout=30,
                optional_args={"transport": "http", "port": lab["sim_port"]},
            )
            wall, cpu = time.monotonic(), time.process_time()
            napalm.open()
            try:
                napalm.load_merge_candidate(config=HOSTNAME[driver].format(device["name"]))
                napalm.compare_config()
                napalm.discard_config()
            finally:
                napalm.close()  # Junos: closed here, never by the garbage collector (ncclient deadlock)
            walls.append(1000 * (time.monotonic() - wall))
            cpus.append(1000 * (time.process_time() - cpu))
        figures[driver] = {
            "sessions": len(walls),
            "wall_ms_p50": statistics.median(walls),
            "wall_ms_max": max(walls),
            "cpu_ms_p50": statistics.median(cpus),
        }
    return figures


# --- the hook ------------------------------------------------------------------------------------
def by_platform(row: dict, devices: dict[str, list[dict]], suffix: str) -> dict[str, dict]:
    """A bulk edit's results split by platform."""
    out = {}
    for driver, fleet_devices in devices.items():
        names = {f"{d['name']}{suffix}" for d in fleet_devices}
        seen = {n: v for n, v in row["latency_by_name"].items() if n in names}
        latencies = [seconds for seconds, _outcome in seen.values()]
        last = max(latencies, default=None)
        out[driver] = {
            "n": len(names),
            "results": len(seen),
            "failures": sum(1 for _s, outcome in seen.values() if outcome == "FAILED") + len(names) - len(seen),
            "last_s": last,
            "devices_per_s": len(seen) / last if last else None,
            "p50_s": percentile(latencies, 0.5) if latencies else None,
            "p95_s": percentile(latencies, 0.95) if latencies else None,
        }
    return out


# --- Golden Config's own path --------------------------------------------------------------------
def _job(api, name: str, data: dict, timeout: float = 1800) -> tuple[str, float]:
    job = api.extras.jobs.get(name=name)
    if job is None:
        raise RuntimeError(f"Golden Config's job {name!r} is not installed")
    if not job.enabled:
        job.update({"enabled": True})
    started = time.monotonic()
    status = seed._start_and_wait(api, f"extras/jobs/{job.id}/run/", {"data": data}, name, timeout)
    return status, time.monotonic() - started


def _plans(api, device_ids: list[str], leave_out: set[str] = frozenset()) -> list[dict]:
    """The config plans of the devices (depth 1), but those in ``leave_out``."""
    found = []
    for start in range(0, len(device_ids), 100):
        part = device_ids[start : start + 100]
        body = api.http_session.get(
            f"{api.base_url}/{PLAN_PATH}", params={"device_id": part, "depth": 1, "limit": 1000}, timeout=60
        ).json()
        found.extend(plan for plan in body["results"] if plan["id"] not in leave_out)
    return found


def golden_config_path(lab: dict, api, devices: dict[str, list[dict]], suffix: str, log=print) -> dict:
    """Rename the devices (no daemon), then Golden Config's own jobs for them; per-job seconds, per
    platform the plans Completed/Failed and the devices renamed on the simulator."""
    every = [d for fleet_devices in devices.values() for d in fleet_devices]
    ids = [d["id"] for d in every]
    body = [{"id": d["id"], "name": f"{d['name']}{suffix}"} for d in every]
    response = api.http_session.patch(f"{api.base_url}/dcim/devices/", json=body, timeout=900)
    response.raise_for_status()
    before = {plan["id"] for plan in _plans(api, ids)}
    celery_idle(log)
    figures: dict = {"jobs": [], "n": len(every)}
    started = time.monotonic()
    for name in ("Generate Intended Configurations", "Backup Configurations", "Perform Configuration Compliance"):
        status, seconds = _job(api, name, {"device": ids})
        figures["jobs"].append({"job": name, "status": status, "seconds": seconds})
        log(f"golden config: {name}: {status} in {seconds:.1f} s")
    status, seconds = _job(api, "Generate Config Plans", {"plan_type": "intended", "device": ids})
    figures["jobs"].append({"job": "Generate Config Plans", "status": status, "seconds": seconds})
    log(f"golden config: Generate Config Plans: {status} in {seconds:.1f} s")
    plans = _plans(api, ids, before)
    approved = api.http_session.get(f"{api.base_url}/extras/statuses/", params={"name": "Approved"}, timeout=30).json()[
        "results"
    ][0]["id"]
    approve_started = time.monotonic()
    for start in range(0, len(plans), 250):
        api.http_session.patch(
            f"{api.base_url}/{PLAN_PATH}",
            json=[{"id": p["id"], "status": approved} for p in plans[start : start + 250]],
            timeout=300,
        ).raise_for_status()
    approving = time.monotonic() - approve_started
    figures["jobs"].append({"job": "plans set Approved (REST)", "status": "-", "seconds": approving})
    if plans:
        status, seconds = _job(api, "Deploy Config Plans", {"config_plan": [p["id"] for p in plans]})
    else:
        status, seconds = "no plans", 0.0
    figures["jobs"].append({"job": "Deploy Config Plans", "status": status, "seconds": seconds})
    log(f"golden config: Deploy Config Plans ({len(plans)} plans): {status} in {seconds:.1f} s")
    figures["total_s"] = time.monotonic() - started
    figures["deploy_s"] = seconds
    final = {p["id"]: p for p in _plans(api, ids, before)}
    device_driver = {d["id"]: d["driver"] for d in every}
    per: dict[str, dict] = {}
    for driver, fleet_devices in devices.items():
        mine = [p for p in final.values() if device_driver.get(str(p["device"]["id"])) == driver]
        states = [p["status"]["name"] if isinstance(p["status"], dict) else str(p["status"]) for p in mine]
        control = lab["sim_controls"][driver]
        renamed = 0
        for d in fleet_devices:
            state = api.http_session.get(f"{control}/devices/{d['name']}", timeout=30).json()
            renamed += state.get("hostname") == f"{d['name']}{suffix}"
        per[driver] = {
            "n": len(fleet_devices),
            "plans": len(mine),
            "completed": states.count("Completed"),
            "failed": states.count("Failed"),
            "renamed": renamed,
        }
    figures["per_platform"] = per
    for start in range(0, len(plans), 250):  # the plans are the benchmark's, not the lab's
        api.http_session.delete(
            f"{api.base_url}/{PLAN_PATH}", json=[{"id": p["id"]} for p in plans[start : start + 250]], timeout=300
        )
    return figures


# --- the run -------------------------------------------------------------------------------------
def run(per_platform: int = 100, live: bool = True, native: bool = True, sessions: int = 10, log=print) -> dict:
    lab = lab_facts()
    api = seed.connect(lab["nautobot_url"], lab["nautobot_token"])
    devices = {
        driver: fleet.ensure(api, per_platform, lab["sim_controls"][driver], lab["sim_port"], log=log, driver=driver)
        for driver in fleet.KINDS
    }
    every = [d for fleet_devices in devices.values() for d in fleet_devices]
    figures: dict = {"per_platform": per_platform, "sessions": None, "hook": [], "golden_config": None}
    if sessions:
        log(f"NAPALM: {sessions} dry-run sessions a platform, one after another")
        figures["sessions"] = session_cost(lab, devices, sessions)
    stamp = time.strftime("%H%M%S")
    for dry_run in (True, False) if live else (True,):
        celery_idle(log)
        suffix = f"-m{'d' if dry_run else 'l'}{stamp}"
        mode = "dry run" if dry_run else "live"
        log(f"hook: one bulk edit of {len(every)} devices ({per_platform} a platform), {mode}")
        row = bulk_edit(lab, api, every, suffix, dry_run, label="mixed")
        row["platforms"] = by_platform(row, devices, suffix)
        row["seconds_by_platform"] = {
            driver: sorted(
                when for name, (when, _o) in row["latency_by_name"].items() if fleet.driver_of(name) == driver
            )
            for driver in devices
        }
        row.pop("latency_by_name")
        figures["hook"].append(row)
    if native:
        celery_idle(log)
        log(f"golden config: its own path for the same {len(every)} devices (daemon stopped)")
        figures["golden_config"] = golden_config_path(lab, api, devices, f"-g{stamp}", log=log)
    for driver in fleet.KINDS:  # names back in Nautobot (the simulators keep the last pushed names)
        fleet.ensure(api, per_platform, lab["sim_controls"][driver], lab["sim_port"], log=log, driver=driver)
    report(figures)
    return figures


def report(figures: dict) -> None:
    print()
    n = figures["per_platform"]
    if figures["sessions"]:
        print("NAPALM dry-run session (open, load_merge_candidate, compare_config, discard_config, close), one by one:")
        print(f"{'platform':<8} {'sessions':>8} {'wall p50 ms':>11} {'wall max ms':>11} {'CPU p50 ms':>10}")
        for driver, row in figures["sessions"].items():
            print(
                f"{LABEL[driver]:<8} {row['sessions']:>8} {row['wall_ms_p50']:>11.0f} {row['wall_ms_max']:>11.0f} "
                f"{row['cpu_ms_p50']:>10.1f}"
            )
        print()
    print(f"The hook: one bulk edit of {3 * n} devices ({n} a platform), through the daemon:")
    head = (
        f"{'mode':<8} {'platform':<8} {'N':>4} {'results':>7} {'fail':>4} {'last s':>7} {'dev/s':>6} {'p50 s':>6} "
        f"{'p95 s':>6}"
    )
    print(head)
    print("-" * len(head))
    for row in figures["hook"]:
        for driver, p in row["platforms"].items():
            print(
                f"{row['mode']:<8} {LABEL[driver]:<8} {p['n']:>4} {p['results']:>7} {p['failures']:>4} "
                f"{fmt(p['last_s']):>7} {fmt(p['devices_per_s'], '.1f'):>6} {fmt(p['p50_s']):>6} {fmt(p['p95_s']):>6}"
            )
        print(
            f"{row['mode']:<8} {'all':<8} {row['n']:>4} {row['results']:>7} {row['failures']:>4} "
            f"{fmt(row['hook_s']):>7} {fmt(row['devices_per_s'], '.1f'):>6} {fmt(row['p50_s']):>6} "
            f"{fmt(row['p95_s']):>6}   (Nautobot's save {fmt(row['save_s'])} s; {row['runs']} runs; daemon tree "
            f"{fmt(row['peak_rss_mb'], '.0f')} MB)"
        )
    gc = figures["golden_config"]
    if gc:
        print()
        print(f"Golden Config's own path for the same {gc['n']} devices (the peer baseline):")
        for job in gc["jobs"]:
            print(f"  {job['job']:<36} {job['status']:<8} {job['seconds']:>7.1f} s")
        print(f"  {'all of it':<36} {'':<8} {gc['total_s']:>7.1f} s")
        for driver, p in gc["per_platform"].items():
            print(
                f"  {LABEL[driver]:<6} {p['plans']} plan(s): {p['completed']} Completed, {p['failed']} Failed; "
                f"{p['renamed']} of {p['n']} devices carry the new name"
            )
        live = next((r for r in figures["hook"] if r["mode"] == "live"), None)
        if live:
            print(
                f"  the hook, live, from Nautobot's answer to the last result: {fmt(live['hook_s'])} s "
                f"({fmt(gc['total_s'] / live['hook_s'], '.1f')}x faster than Golden Config's path, "
                f"{fmt(gc['deploy_s'] / live['hook_s'], '.1f')}x its deploy job alone)"
            )


def draw(figures: dict, folder: Path) -> list[Path]:
    """Devices done over time, one line a platform, for each round of the hook (``mixed-fleet-*.svg``)."""
    written = []
    for row in figures["hook"]:
        series = {LABEL[driver]: values for driver, values in row["seconds_by_platform"].items()}
        svg = plots.done_over_time(
            series, f"One bulk edit of {row['n']} devices, {row['mode']}, through the daemon: each platform"
        )
        written.append(plots.write(folder / f"mixed-fleet-{row['mode'].replace(' ', '-')}.svg", svg))
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--per-platform", type=int, default=100, help="devices a platform (default 100)")
    parser.add_argument("--dry-run-only", action="store_true", help="skip the live round")
    parser.add_argument("--no-golden-config", action="store_true", help="skip Golden Config's own path")
    parser.add_argument("--sessions", type=int, default=10, help="NAPALM sessions a platform (0 skips)")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--plots", help="also draw devices done over time as SVG files in this folder (docs/images)")
    args = parser.parse_args()
    started = time.monotonic()
    figures = run(
        args.per_platform,
        live=not args.dry_run_only,
        native=not args.no_golden_config,
        sessions=args.sessions,
        log=lambda m: print(f"[{time.monotonic() - started:7.1f}s] {m}", flush=True),
    )
    write_outputs(figures, args.json, args.plots, draw)
    return 1 if any(row["failures"] for row in figures["hook"]) else 0


if __name__ == "__main__":
    sys.exit(main())
