"""Helpers for the provisioning lab tests: run the playbook, drive the simulator, restore Nautobot."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import time
import uuid
from pathlib import Path

import requests
from tests.integration.labfacts import Masked

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOK = "sotsync.nautobot.provision_device"


class PlaybookRun:
    """One ``ansible-playbook`` run: exit code, output and each device's outcome."""

    def __init__(self, args, returncode, stdout, seconds):
        self.args = args
        self.returncode = returncode
        self.stdout = stdout
        self.seconds = seconds

    def recap(self, device):
        """The device's outcome from the line the module printed for it: ``{"failed": 0|1, "changed": 0|1}``.

        ``name: <outcome>`` then its diff, or ``(no differences)``; ``name: FAILED (code): ...``.
        """
        lines = self.stdout.splitlines()
        for index, line in enumerate(lines):
            if line.startswith(f"{device}: "):
                failed = line.startswith(f"{device}: FAILED (")
                after = lines[index + 1] if index + 1 < len(lines) else ""
                changed = not failed and not line.startswith(f"{device}: SKIPPED") and after != "(no differences)"
                return {"failed": int(failed), "changed": int(changed)}
        raise AssertionError(f"no outcome line for {device} in:\n{self.stdout[-3000:]}")

    def shows(self, line):
        """True when the module printed ``line`` as one line of a device's outcome."""
        return line in self.stdout.splitlines()

    def __repr__(self):
        return f"PlaybookRun(rc={self.returncode}, {self.seconds:.1f}s)\n{self.stdout[-4000:]}"


def assert_ok(run, host):
    """The run ended well and ``host`` did not fail; returns its outcome."""
    recap = run.recap(host)
    assert run.returncode == 0 and recap["failed"] == 0, run
    return recap


WHOLE_RUN_ERRORS = ("missing_credentials", "nautobot_unreachable", "nautobot_authentication")


def assert_failed(run, host, error):
    """The run failed with ``error`` for ``host`` (or, for the errors before any device, as a whole)."""
    assert run.returncode != 0, run
    if error in WHOLE_RUN_ERRORS:  # before any device: the run fails with the code
        assert f"({error})" in run.stdout, run
    else:
        assert run.recap(host)["failed"] == 1, run
        assert f"{host}: FAILED ({error})" in run.stdout, run


def playbook_env(lab, **overrides):
    """The lab's environment (NAUTOBOT_*, NAPALM_*) for a subprocess; ``NAME=None`` removes NAME."""
    env = Masked(os.environ)
    env.update(lab["env"])
    env["ANSIBLE_COLLECTIONS_PATH"] = str(ROOT / ".build" / "collections")
    env["PATH"] = "{}:{}".format(ROOT / ".venv" / "bin", env.get("PATH", ""))
    env["ANSIBLE_NOCOLOR"] = "1"
    env["ANSIBLE_FORCE_COLOR"] = "0"
    env.pop("ANSIBLE_STDOUT_CALLBACK", None)
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def run_playbook(
    lab,
    device,
    dry_run=True,
    trigger=None,
    check=False,
    diff=False,
    extra=None,
    env=None,
    timeout=300,
    playbook=PLAYBOOK,
    inventory=None,
    limit=None,
):
    """``ansible-playbook sotsync.nautobot.provision_device -e {...}`` (or ``playbook``) from a neutral folder,
    with ``-i inventory`` and ``--limit`` when given; ``device=None`` passes no device (an inventory run)."""
    extra_vars = {"dry_run": dry_run} if device is None else {"device": device, "dry_run": dry_run}
    if trigger:
        extra_vars["trigger"] = trigger
    extra_vars.update(extra or {})
    args = [str(ROOT / ".venv" / "bin" / "ansible-playbook"), playbook, "-e", json.dumps(extra_vars)]
    if inventory:
        args += ["-i", str(inventory)]
    if limit:
        args += ["--limit", limit]
    if check:
        args.append("--check")
    if diff:
        args.append("--diff")
    started = time.monotonic()
    proc = subprocess.run(
        args, capture_output=True, text=True, env=env or playbook_env(lab), timeout=timeout, cwd="/", check=False
    )
    return PlaybookRun(args, proc.returncode, proc.stdout + proc.stderr, time.monotonic() - started)


def marker(test_name):
    """A unique trigger text, so the test finds (and removes) exactly its own notes."""
    return f"pytest {test_name} {uuid.uuid4().hex[:8]}"


def notes_with(api, text):
    return [n for n in api.extras.notes.all() if text in (n.note or "")]


def delete_notes(api, text):
    for note in notes_with(api, text):
        with contextlib.suppress(Exception):
            note.delete()


# --- the simulators' control APIs -------------------------------------------------------------------
def sim_control(lab, name):
    """The control URL of the simulator serving ``name`` (each platform has its own; the EOS one
    serves the devices without a simulated platform and the benchmark's fleet)."""
    drivers = lab.get("device_drivers") or {}
    return (lab.get("sim_controls") or {}).get(drivers.get(name, ""), lab["sim_control"])


def sim_device(lab, name):
    r = requests.get(f"{sim_control(lab, name)}/devices/{name}", timeout=10)
    r.raise_for_status()
    return r.json()


def sim_set_running(lab, name, running_config):
    r = requests.put(
        f"{sim_control(lab, name)}/devices/{name}/running-config", data=running_config.encode(), timeout=10
    )
    r.raise_for_status()


def sim_faults(lab, name, **faults):
    r = requests.post(f"{sim_control(lab, name)}/devices/{name}/faults", json=faults, timeout=10)
    r.raise_for_status()


def sim_add(lab, name, address, running_config):
    r = requests.post(
        "{}/devices".format(lab["sim_control"]),
        timeout=10,
        json={"name": name, "address": address, "port": lab["sim_port"], "running_config": running_config},
    )
    r.raise_for_status()
    return r.json()


def sim_remove(lab, name):
    requests.delete("{}/devices/{}".format(lab["sim_control"], name), timeout=10)


def wait_for(predicate, timeout=30.0, interval=0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


# --- Nautobot ------------------------------------------------------------------------------------------
def seeded_device(api, name):
    """A seeded device by its stable serial (``SOTSYNC-<NAME>``), so a renamed one is still found."""
    device = api.dcim.devices.get(serial=f"SOTSYNC-{name.upper()}")
    assert device is not None, f"seed device {name} is missing: run scripts/lab up"
    return device


def _ref_id(value):
    if value is None:
        return None
    if isinstance(value, dict):
        return value.get("id")
    return getattr(value, "id", value)


@contextlib.contextmanager
def restored(lab, name):
    """Snapshot a seeded device in Nautobot and its simulated twin; put both back afterwards.

    Restores the name, role, status, primary IPv4 and local config context in Nautobot, removes the
    IP addresses the test created on the device, clears the simulator's faults and puts its running
    configuration back (which also drops any session or commit timer).
    """
    api = lab["api"]
    device = seeded_device(api, name)
    assert device.name == name, (
        f"lab device {name} is not in its seed state (it is named {device.name}): another test is using it "
        "or did not restore it; run scripts/lab reset"
    )
    fields = {
        "name": device.name,
        "role": _ref_id(device.role),
        "status": _ref_id(device.status),
        "primary_ip4": _ref_id(device.primary_ip4),
        "local_config_context_data": device.local_config_context_data,
    }
    running = sim_device(lab, name)["running_config"]
    created_ips = []
    try:
        yield {"device": device, "api": api, "created_ips": created_ips, "running": running}
    finally:
        errors = []
        try:
            sim_faults(lab, name, unresponsive=False, fail_after_commit=False)
            sim_set_running(lab, name, running)
        except Exception as exc:  # noqa: BLE001 - keep restoring the rest
            errors.append(f"simulator: {exc}")
        try:
            fresh = api.dcim.devices.get(device.id)
            fresh.update(dict(fields))
        except Exception as exc:  # noqa: BLE001
            errors.append(f"device: {exc}")
        for ip in created_ips:
            try:
                ip.delete()
            except Exception as exc:  # noqa: BLE001
                errors.append(f"ip {ip}: {exc}")
        assert not errors, "restoring {} failed: {}".format(name, "; ".join(errors))


def run_job(api, name, data, timeout=120, job_queue=None):
    """Run a Nautobot job through the REST API (on ``job_queue`` when given) and wait for its result;
    return the final status."""
    job = api.extras.jobs.get(name=name)
    assert job is not None and job.enabled, f"job {name!r} is missing or disabled in the lab"
    session, base = api.http_session, api.base_url
    headers = {"Authorization": f"Token {api.token}", "Accept": "application/json"}
    body = {"data": data} | ({"job_queue": job_queue} if job_queue else {})
    r = session.post(f"{base}/extras/jobs/{job.id}/run/", json=body, headers=headers, timeout=30)
    r.raise_for_status()
    result_id = r.json()["job_result"]["id"]
    status = None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        res = session.get(f"{base}/extras/job-results/{result_id}/", headers=headers, timeout=30).json()
        status = res["status"]["value"]
        if status in ("SUCCESS", "FAILURE", "REVOKED"):
            break
        time.sleep(0.3)
    return status


def change_primary_ip(api, device, address, created_ips, interface="Management1"):
    """A management IP change as users make it in Nautobot 3: new IP, attach (to ``interface``),
    repoint primary_ip4."""
    namespace = api.ipam.namespaces.get(name="Global")
    active = api.extras.statuses.get(name="Active")
    ip = api.ipam.ip_addresses.create(address=address, namespace=namespace.id, status=active.id)
    created_ips.append(ip)
    iface = api.dcim.interfaces.get(device_id=device.id, name=interface)
    api.ipam.ip_address_to_interface.create(ip_address=ip.id, interface=iface.id)
    api.dcim.devices.get(device.id).update({"primary_ip4": ip.id})
    return ip
