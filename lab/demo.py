#!/usr/bin/env python3
"""The main job on the lab: the device configuration hook, end to end.

1. Golden Config renders access1's intended configuration (shown).
2. The rulebook daemon starts (ansible-rulebook, the real sotsync.nautobot.webhook source).
3. access1 is renamed access-switch-1 in Nautobot; Nautobot's webhook reaches the daemon, which logs
   its decision and runs the provisioning playbook: a dry run, whose diff is printed.
4. The name is put back (another dry run), and the daemon stops.

Run by scripts/demo after scripts/lab up (``python -m lab.demo`` from the checkout's root). Uses the
collection's virtual environment.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import time

from lab import hookrun, seed


def _mask(config: str) -> str:
    """The configuration as the collection shows it, device secrets masked, by the collection's own
    masking (plain Python, loaded from the checkout: the lab does not import the collection)."""
    path = hookrun.ROOT / "plugins" / "module_utils" / "masking.py"
    spec = importlib.util.spec_from_file_location("sotsync_masking", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.mask(config, "eos")


NEW_NAME = "access-switch-1"


def step(n: int, text: str) -> None:
    print(f"\n\033[1m[demo {n}/4] {text}\033[0m", flush=True)


def main() -> int:
    lab = json.loads((hookrun.LAB / "lab.json").read_text())
    api = seed.connect(lab["nautobot_url"], lab["nautobot_token"])
    device = api.dcim.devices.get(serial="SOTSYNC-ACCESS1")

    def rename(name: str) -> None:
        # fetched fresh each time: pynautobot's update() sends only what differs from the fetched record
        api.dcim.devices.get(device.id).update({"name": name})

    if device.name != "access1":
        rename("access1")

    step(1, "Golden Config renders access1's intended configuration (on demand, from the templates)")
    # shown as the collection shows configurations: device secrets masked (what is pushed is not)
    print(_mask(seed.render_intended(api, device.id)), flush=True)

    step(2, "Starting the rulebook daemon: ansible-rulebook --rulebook sotsync.nautobot.device_config_hook")
    with hookrun.RulebookDaemon(lab, log_name="demo-rulebook") as daemon:
        print(
            f"  listening on {lab['env']['SOTSYNC_LAB_SOURCE_LISTEN']}; Nautobot posts to "
            f"{lab['env']['SOTSYNC_LAB_SOURCE_URL']} (network namespace {lab['netns']}); "
            f"log {daemon.log_path}",
            flush=True,
        )

        step(3, f"Renaming access1 -> {NEW_NAME} in Nautobot; the hook decides and dry-runs")
        started = time.monotonic()
        rename(NEW_NAME)
        run = daemon.wait_for_runs(1, timeout=120)
        print(hookrun.highlights(run), flush=True)
        print(f"  (webhook to playbook recap: {time.monotonic() - started:.1f} s)", flush=True)

        step(4, "Putting the name back (another dry run), stopping the daemon")
        rename("access1")
        daemon.wait_for_runs(2, timeout=120)
    print("  device unchanged on the network: dry_run is the default (rulebooks/vars/device_config_hook.yml)")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
