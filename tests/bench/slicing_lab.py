"""AWX job slicing on the lab: one inventory of N devices a platform (EOS, NX-OS, Junos) provisioned by
``provision_device`` as one unsliced run and as K slices at once (K ``ansible-playbook`` processes, each
with its slice of the inventory, as AWX's sliced job template hands them out), dry run and live.

    source .venv/bin/activate && scripts/lab up
    python -m tests.bench.slicing_lab                    # 100 devices a platform (300), 3 slices
    python -m tests.bench.slicing_lab --per-platform 5   # a quick round

Each round renames every device in Nautobot first (one bulk PATCH), so each run has a real difference to
show (dry run) or commit (live), then writes the inventory again from Nautobot (an inventory source updated
on launch), as lab/inventory.py does in gql_inventory's shape. Printed, measured in this run: per run and
per slice, the devices, their outcomes, the wall time and devices/s, the slices' total against the
unsliced run; and whether every device was provisioned exactly once (by exactly one slice).

Correctness is asserted by the smoke test (tests/bench/test_bench_slicing_lab.py), not time.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from lab import fleet, seed
from lab import inventory as lab_inventory
from tests.bench.scale_lab import ROOT, celery_idle, fmt, lab_facts, playbook_env

OUTCOME = re.compile(r"^(bench-[\w-]+): (.*)$", re.M)
SUMMARY = re.compile(
    r"^(\d+) device\(s\): (\d+) committed, (\d+) with differences \(dry run\), (\d+) already as intended, "
    r"(\d+) skipped \(not ready\), (\d+) failed",
    re.M,
)


def rename_all(api, devices: list[dict], suffix: str) -> list[dict]:
    """One bulk PATCH: every device (as ``fleet.ensure`` named it) gets ``<name><suffix>``; returns them renamed."""
    renamed = [{**d, "name": f"{d['name']}{suffix}"} for d in devices]
    api.dcim.devices.update([{"id": d["id"], "name": d["name"]} for d in renamed])
    return renamed


def outcome_lines(devices: list[str]) -> re.Pattern:
    """The outcome lines (``<device>: ...``) of these devices."""
    return re.compile(r"^(" + "|".join(re.escape(d) for d in devices) + r"): (.*)$", re.M)


def inventory_hosts(path: Path) -> list[str]:
    """The hosts of an inventory written by ``lab/inventory.py``."""
    return lab_inventory.host_names(yaml.safe_load(path.read_text()))


def outcome(run_output: str, lines: re.Pattern = OUTCOME) -> dict:
    """What one ``ansible-playbook`` printed: its devices (by outcome line) and its summary line's counts."""
    names = sorted({name for name, _rest in lines.findall(run_output)})  # a device may print several lines
    failed = sorted({name for name, rest in lines.findall(run_output) if rest.startswith("FAILED (")})
    match = SUMMARY.search(run_output)
    counts = dict(
        zip(
            ("devices", "committed", "differences", "unchanged", "skipped", "failed"),
            (int(v) for v in match.groups()) if match else (0,) * 6,
            strict=True,
        )
    )
    return {"names": names, "failed_names": failed, **counts}


def run_slices(lab: dict, inventories: list[Path], dry_run: bool, trigger: str) -> dict:
    """``ansible-playbook provision_device -i <slice>`` for each inventory, all at once; their figures."""
    env = playbook_env(lab)
    extra = json.dumps({"dry_run": dry_run, "trigger": trigger})
    # every slice's devices: a device printed by a slice that does not hold it still counts (and shows)
    lines = outcome_lines(sorted({host for path in inventories for host in inventory_hosts(path)}))
    started = time.monotonic()
    procs = [
        (
            path,
            time.monotonic(),
            subprocess.Popen(
                [str(ROOT / ".venv" / "bin" / "ansible-playbook"), "sotsync.nautobot.provision_device"]
                + ["-i", str(path), "-e", extra],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                env=env,
                cwd="/",
            ),
        )
        for path in inventories
    ]
    slices = []
    for path, began, proc in procs:
        output, _ = proc.communicate(timeout=1800)
        seconds = time.monotonic() - began
        row = outcome(output, lines)
        row.update(inventory=path.name, rc=proc.returncode, seconds=seconds, devices_per_s=row["devices"] / seconds)
        if proc.returncode != 0 and not row["devices"]:
            row["tail"] = output[-2000:]
        slices.append(row)
    total = time.monotonic() - started
    names = [name for row in slices for name in row["names"]]  # a device in two slices counts twice
    return {
        "mode": "dry run" if dry_run else "live",
        "slices": slices,
        "seconds": total,
        "devices": sum(row["devices"] for row in slices),
        "distinct": len(set(names)),
        "names": names,
        "failures": sum(row["failed"] for row in slices),
        "committed": sum(row["committed"] for row in slices),
        "devices_per_s": len(names) / total if total else 0.0,
    }


def run(per_platform: int = 100, count: int = 3, live: bool = True, log=print) -> dict:
    lab = lab_facts()
    api = seed.connect(lab["nautobot_url"], lab["nautobot_token"])
    devices = [
        d
        for driver in fleet.KINDS
        for d in fleet.ensure(api, per_platform, lab["sim_controls"][driver], lab["sim_port"], log=log, driver=driver)
    ]
    stamp = time.strftime("%H%M%S")
    folder = Path(tempfile.mkdtemp(prefix="sotsync-slices-"))
    figures: dict = {"per_platform": per_platform, "count": count, "n": len(devices), "rounds": []}
    modes = (True, False) if live else (True,)
    try:
        for dry_run in modes:
            mode = "dry run" if dry_run else "live"
            for sliced in (False, True):
                # live: each run needs its own change (the previous one committed the last); dry run: one change
                if not dry_run or not sliced:
                    suffix = f"-s{'d' if dry_run else 'l'}{'k' if sliced else 'u'}{stamp}"
                    renamed = rename_all(api, devices, suffix)
                    data = lab_inventory.build(
                        lab_inventory.fetch(
                            lab["env"]["NAUTOBOT_URL"], lab["env"]["NAUTOBOT_TOKEN"], {"id": [d["id"] for d in devices]}
                        )
                    )
                    assert sorted(data["all"]["hosts"]) == sorted(d["name"] for d in renamed), "inventory != Nautobot"
                    written = lab_inventory.write(folder / f"fleet{suffix}.yml", data, count=count)
                celery_idle(log)
                inventories = written[1:] if sliced else written[:1]
                label = f"{count} slices at once" if sliced else "unsliced"
                log(f"{mode}: {len(devices)} devices, {label}")
                row = run_slices(lab, inventories, dry_run, trigger=f"bench slicing {stamp}")
                row["sliced"] = sliced
                figures["rounds"].append(row)
                log(
                    f"  {row['devices']} devices in the summaries ({row['distinct']} distinct), "
                    f"{row['failures']} failed, {row['committed']} committed, {row['seconds']:.1f} s"
                )
    finally:
        for driver in fleet.KINDS:  # names back in Nautobot (the simulators keep the last pushed names)
            fleet.ensure(api, per_platform, lab["sim_controls"][driver], lab["sim_port"], log=log, driver=driver)
    report(figures)
    return figures


def report(figures: dict) -> None:
    print()  # noqa: T201
    print(  # noqa: T201
        f"AWX job slicing on the lab: {figures['n']} devices ({figures['per_platform']} a platform), "
        f"{figures['count']} slices at once against one unsliced run, same run"
    )
    header = (
        f"{'mode':8} {'run':18} {'devices':>8} {'once':>5} {'failed':>6} {'committed':>9} {'s':>8} {'dev/s':>7} "
        f"{'vs unsliced':>11}"
    )
    print(header)  # noqa: T201
    print("-" * len(header))  # noqa: T201
    unsliced = {}
    for row in figures["rounds"]:
        if not row["sliced"]:
            unsliced[row["mode"]] = row["seconds"]
        ratio = unsliced.get(row["mode"], 0) / row["seconds"] if row["sliced"] and row["seconds"] else 1.0
        once = "yes" if row["devices"] == row["distinct"] == figures["n"] else "NO"
        print(  # noqa: T201
            f"{row['mode']:8} {'slices: all' if row['sliced'] else 'unsliced':18} {row['devices']:>8} {once:>5} "
            f"{row['failures']:>6} {row['committed']:>9} {fmt(row['seconds'], '.1f'):>8} "
            f"{fmt(row['devices_per_s'], '.1f'):>7} {fmt(ratio, '.2f') + 'x':>11}"
        )
        if row["sliced"]:
            for number, part in enumerate(row["slices"], start=1):
                print(  # noqa: T201
                    f"{'':8} {'  slice ' + str(number):18} {part['devices']:>8} {'':>5} {part['failed']:>6} "
                    f"{part['committed']:>9} {fmt(part['seconds'], '.1f'):>8} {fmt(part['devices_per_s'], '.1f'):>7}"
                )
    print("(vs unsliced: the unsliced run's wall time over the slices'; above 1 the slices finished sooner)")  # noqa: T201


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--per-platform", type=int, default=100, help="devices a platform (default 100)")
    parser.add_argument("--slices", type=int, default=3, help="slices (default 3)")
    parser.add_argument("--dry-run-only", action="store_true", help="skip the live rounds")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    figures = run(per_platform=args.per_platform, count=args.slices, live=not args.dry_run_only)
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
