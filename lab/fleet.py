"""A fleet of extra lab devices for the scale benchmark: N devices in Nautobot, each with its own
simulated EOS device holding its intended configuration.

Devices are ``bench-0001``... (serial ``SOTSYNC-BENCH-0001``), Access Switch, Arista EOS, Active, in
Lab Site B, each with a Management1 interface and a primary IPv4 in 127.0.8.0/21 (served by the lab's
simulator). Everything is created with Nautobot's bulk REST calls (one list per kind), rendered once by
Golden Config's intended job, and loaded into the simulator with that intent as its running
configuration. ``ensure(n)`` is idempotent (it creates only what is missing); ``remove()`` deletes
the fleet from Nautobot and the simulator.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pynautobot
import requests

from lab import seed

PREFIX = "127.0.8.0/21"
SERIAL = "SOTSYNC-BENCH-{0:04d}"
NAME = "bench-{0:04d}"
CHUNK = 250

Log = Callable[[str], None]


def address(index: int) -> str:
    """Device ``index`` (1-based) -> its management address (mask /21)."""
    k = index - 1
    return f"127.0.{8 + k // 250}.{k % 250 + 1}"


def _chunks(items: list, size: int = CHUNK):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _bulk_create(endpoint, rows: list[dict]) -> list:
    created = []
    for part in _chunks(rows):
        created.extend(endpoint.create(part))
    return created


def existing(api: pynautobot.api) -> dict[str, dict]:
    """The fleet's devices in Nautobot by serial (depth 1)."""
    devices = api.dcim.devices.filter(serial__isw="SOTSYNC-BENCH-", depth=1)
    return {d.serial: dict(d) for d in devices}


def ensure(api: pynautobot.api, n: int, sim_control: str, sim_port: int, log: Log = print) -> list[dict]:
    """Make sure ``bench-0001`` .. ``bench-n`` exist, named as created, each with its simulated device.

    Returns ``[{"id", "name", "address", "serial"}]`` in order.
    """
    started = time.monotonic()
    site = api.dcim.locations.get(name=seed.SITE_B)
    role = api.extras.roles.get(name=seed.ACCESS)
    platform = api.dcim.platforms.get(name=seed.PLATFORM_EOS)
    access1 = api.dcim.devices.get(name="access1") or api.dcim.devices.get(serial="SOTSYNC-ACCESS1")
    dtype = access1.device_type.id
    namespace = api.ipam.namespaces.get(name="Global")
    active = "Active"
    seed._ensure(api.ipam.prefixes, {"prefix": PREFIX, "namespace": namespace.id}, {"status": active})

    have = existing(api)
    rows = [
        {
            "name": NAME.format(i),
            "serial": SERIAL.format(i),
            "role": role.id,
            "location": site.id,
            "device_type": dtype,
            "platform": platform.id,
            "status": active,
        }
        for i in range(1, n + 1)
        if SERIAL.format(i) not in have
    ]
    if rows:
        log(f"fleet: creating {len(rows)} device(s) in Nautobot (bulk)")
        _bulk_create(api.dcim.devices, rows)
        have = existing(api)
    # names back to their original ones (a benchmark renames them)
    renames = [
        {"id": have[SERIAL.format(i)]["id"], "name": NAME.format(i)}
        for i in range(1, n + 1)
        if have[SERIAL.format(i)]["name"] != NAME.format(i)
    ]
    for part in _chunks(renames):
        api.dcim.devices.update(part)
    missing_ip = [i for i in range(1, n + 1) if not have[SERIAL.format(i)].get("primary_ip4")]
    if missing_ip:
        log(f"fleet: {len(missing_ip)} management interface(s) and address(es) (bulk)")
        ids = {i: have[SERIAL.format(i)]["id"] for i in missing_ip}
        ifaces = {
            str(f.device.id): f for f in api.dcim.interfaces.filter(device_id=list(ids.values()), name="Management1")
        }
        new_ifaces = [
            {"device": ids[i], "name": "Management1", "type": "virtual", "status": active}
            for i in missing_ip
            if str(ids[i]) not in ifaces
        ]
        for iface in _bulk_create(api.dcim.interfaces, new_ifaces):
            ifaces[str(iface.device.id)] = iface
        ips = {str(ip.address).split("/")[0]: ip for ip in api.ipam.ip_addresses.filter(prefix=PREFIX)}
        new_ips = [
            {"address": f"{address(i)}/21", "namespace": namespace.id, "status": active}
            for i in missing_ip
            if address(i) not in ips
        ]
        for ip in _bulk_create(api.ipam.ip_addresses, new_ips):
            ips[str(ip.address).split("/")[0]] = ip
        links = [{"ip_address": ips[address(i)].id, "interface": ifaces[str(ids[i])].id} for i in missing_ip]
        try:
            _bulk_create(api.ipam.ip_address_to_interface, links)
        except pynautobot.RequestError:
            for link in links:  # some were attached by an interrupted run
                if not api.ipam.ip_address_to_interface.get(**link):
                    api.ipam.ip_address_to_interface.create(**link)
        for part in _chunks([{"id": ids[i], "primary_ip4": ips[address(i)].id} for i in missing_ip]):
            api.dcim.devices.update(part)
        have = existing(api)
    fleet = [
        {"id": str(have[SERIAL.format(i)]["id"]), "name": NAME.format(i), "address": address(i)}
        for i in range(1, n + 1)
    ]
    _load_simulator(api, fleet, sim_control, sim_port, log)
    log(f"fleet: {n} device(s) ready in {time.monotonic() - started:.1f} s")
    return fleet


def _load_simulator(api: pynautobot.api, fleet: list[dict], sim_control: str, sim_port: int, log: Log) -> None:
    """Each device on the simulator, running its intended configuration (rendered by one job)."""
    loaded = {d["name"] for d in requests.get(f"{sim_control}/devices", timeout=30).json()}
    todo = [d for d in fleet if d["name"] not in loaded]
    if not todo:
        return
    log(f"fleet: rendering {len(todo)} intended configuration(s) with Golden Config's job")
    job = api.extras.jobs.get(name="Generate Intended Configurations")
    for part in _chunks(todo, 500):
        status = seed._start_and_wait(
            api, f"extras/jobs/{job.id}/run/", {"data": {"device": [d["id"] for d in part]}}, "render", 600
        )
        if status != "SUCCESS":
            raise RuntimeError(f"Golden Config's intended job ended {status}")
    records = {}
    for part in _chunks(todo, 100):
        body = api.http_session.get(
            f"{api.base_url}/plugins/golden-config/golden-config/",
            params={"device": [d["id"] for d in part], "limit": len(part)},
            timeout=60,
        ).json()
        for record in body["results"]:
            device = record["device"]
            records[str(device["id"] if isinstance(device, dict) else device)] = record["intended_config"]
    log(f"fleet: loading {len(todo)} simulated device(s)")
    session = requests.Session()
    for d in todo:
        r = session.post(
            f"{sim_control}/devices",
            json={"name": d["name"], "address": d["address"], "port": sim_port, "running_config": records[d["id"]]},
            timeout=30,
        )
        r.raise_for_status()


def remove(api: pynautobot.api, sim_control: str, log: Log = print) -> None:
    """Delete the fleet (devices, their addresses) from Nautobot and the simulator."""
    have = existing(api)
    session = requests.Session()
    for device in have.values():
        session.delete(f"{sim_control}/devices/{device['name']}", timeout=10)
    ids = [{"id": d["id"]} for d in have.values()]
    for part in _chunks(ids):
        api.dcim.devices.delete(part)
    ips = [{"id": ip.id} for ip in api.ipam.ip_addresses.filter(prefix=PREFIX)]
    for part in _chunks(ips):
        api.ipam.ip_addresses.delete(part)
    log(f"fleet: removed {len(ids)} device(s)")
