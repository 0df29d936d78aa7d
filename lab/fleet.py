"""A fleet of extra lab devices for the scale benchmarks: N devices in Nautobot, each with its own
simulated device holding its intended configuration.

One fleet per platform (``KINDS``, by Nautobot network driver):

- Arista EOS: ``bench-0001``... (serial ``SOTSYNC-BENCH-0001``), addresses in 127.0.8.0/21;
- Cisco NX-OS: ``bench-nx-0001``... (``SOTSYNC-BENCH-NX-0001``), addresses in 127.0.16.0/22;
- Juniper Junos: ``bench-jn-0001``... (``SOTSYNC-BENCH-JN-0001``), addresses in 127.0.20.0/22.

Each device is an Access Switch, Active, in Lab Site B, of its platform's device type, with its
platform's management interface (Management1, mgmt0, fxp0) holding its primary IPv4, served by that
platform's simulator. Everything is created with Nautobot's bulk REST calls (one list per kind),
rendered once by Golden Config's intended job, and loaded into the simulator with that intent as its
running configuration. ``ensure(n)`` is idempotent (it creates only what is missing); ``remove()``
deletes the fleets from Nautobot and the simulators.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass

import pynautobot
import requests

from lab import seed

CHUNK = 250

Log = Callable[[str], None]


@dataclass(frozen=True)
class Kind:
    """One platform's fleet: its Nautobot platform, the tag in its names and serials, its addresses."""

    platform: str
    tag: str  # "" for EOS (the first fleet, named before there were others), "nx-", "jn-"
    octet: int  # third octet of the first /24 of its management addresses
    length: int  # prefix length of its management prefix

    def name(self, index: int) -> str:
        return f"bench-{self.tag}{index:04d}"

    def serial(self, index: int) -> str:
        return f"SOTSYNC-BENCH-{self.tag.upper()}{index:04d}"

    @property
    def prefix(self) -> str:
        return f"127.0.{self.octet}.0/{self.length}"

    def address(self, index: int) -> str:
        """Device ``index`` (1-based) -> its management address (250 a /24)."""
        k = index - 1
        return f"127.0.{self.octet + k // 250}.{k % 250 + 1}"

    @property
    def capacity(self) -> int:
        return 250 * 2 ** (24 - self.length)

    def owns(self, serial: str) -> bool:
        return bool(re.fullmatch(rf"SOTSYNC-BENCH-{re.escape(self.tag.upper())}\d{{4}}", serial or ""))


# by Nautobot network driver
KINDS = {
    "arista_eos": Kind(seed.PLATFORM_EOS, "", 8, 21),
    "cisco_nxos": Kind(seed.PLATFORM_NXOS, "nx-", 16, 22),
    "juniper_junos": Kind(seed.PLATFORM_JUNOS, "jn-", 20, 22),
}
EOS = KINDS["arista_eos"]
# a device's name -> its fleet's network driver ("bench-nx-0001-renamed" -> "cisco_nxos")
_TAGS = re.compile(r"^bench-(nx-|jn-)?\d{4}")


def driver_of(name: str) -> str | None:
    match = _TAGS.match(name)
    if not match:
        return None
    tag = match.group(1) or ""
    return next(driver for driver, kind in KINDS.items() if kind.tag == tag)


def address(index: int) -> str:
    """EOS device ``index`` (1-based) -> its management address (mask /21)."""
    return EOS.address(index)


def _chunks(items: list, size: int = CHUNK):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _bulk_create(endpoint, rows: list[dict]) -> list:
    created = []
    for part in _chunks(rows):
        created.extend(endpoint.create(part))
    return created


def existing(api: pynautobot.api, kind: Kind = EOS) -> dict[str, dict]:
    """The fleet's devices in Nautobot by serial (depth 1)."""
    devices = api.dcim.devices.filter(serial__isw=f"SOTSYNC-BENCH-{kind.tag.upper()}", depth=1)
    return {d.serial: dict(d) for d in devices if kind.owns(d.serial)}


def ensure(
    api: pynautobot.api, n: int, sim_control: str, sim_port: int, log: Log = print, driver: str = "arista_eos"
) -> list[dict]:
    """Make sure the ``driver`` fleet's devices 1 .. ``n`` exist, named as created, each with its simulated
    device (``sim_control``: the control API of that platform's simulator).

    Returns ``[{"id", "name", "address", "driver"}]`` in order.
    """
    kind = KINDS[driver]
    if n > kind.capacity:
        raise ValueError(f"the {kind.platform} fleet holds at most {kind.capacity} devices ({kind.prefix})")
    model, mgmt = seed.PLATFORMS[kind.platform][1], seed.PLATFORMS[kind.platform][3]
    started = time.monotonic()
    site = api.dcim.locations.get(name=seed.SITE_B)
    role = api.extras.roles.get(name=seed.ACCESS)
    platform = api.dcim.platforms.get(name=kind.platform)
    dtype = api.dcim.device_types.get(model=model).id
    login = api.extras.secrets_groups.get(name=seed.login_group_name(kind.platform))  # from the lab's seed
    namespace = api.ipam.namespaces.get(name="Global")
    active = "Active"
    seed._ensure(api.ipam.prefixes, {"prefix": kind.prefix, "namespace": namespace.id}, {"status": active})

    have = existing(api, kind)
    rows = [
        {
            "name": kind.name(i),
            "serial": kind.serial(i),
            "role": role.id,
            "location": site.id,
            "device_type": dtype,
            "platform": platform.id,
            "status": active,
            "secrets_group": login.id if login else None,
        }
        for i in range(1, n + 1)
        if kind.serial(i) not in have
    ]
    if rows:
        log(f"fleet: creating {len(rows)} {kind.platform} device(s) in Nautobot (bulk)")
        _bulk_create(api.dcim.devices, rows)
        have = existing(api, kind)
    # names back to their original ones (a benchmark renames them); the platform's login (a fleet made
    # before the lab's devices had secrets groups)
    want_group = str(login.id) if login else None

    def group_of(device: dict) -> str | None:
        group = device.get("secrets_group")
        return str(group["id"] if isinstance(group, dict) else group) if group else None

    renames = [
        {"id": have[kind.serial(i)]["id"], "name": kind.name(i), "secrets_group": want_group}
        for i in range(1, n + 1)
        if have[kind.serial(i)]["name"] != kind.name(i) or group_of(have[kind.serial(i)]) != want_group
    ]
    for part in _chunks(renames):
        api.dcim.devices.update(part)
    missing_ip = [i for i in range(1, n + 1) if not have[kind.serial(i)].get("primary_ip4")]
    if missing_ip:
        log(f"fleet: {len(missing_ip)} management interface(s) and address(es) (bulk)")
        ids = {i: have[kind.serial(i)]["id"] for i in missing_ip}
        ifaces = {str(f.device.id): f for f in api.dcim.interfaces.filter(device_id=list(ids.values()), name=mgmt)}
        new_ifaces = [
            {"device": ids[i], "name": mgmt, "type": "virtual", "status": active}
            for i in missing_ip
            if str(ids[i]) not in ifaces
        ]
        for iface in _bulk_create(api.dcim.interfaces, new_ifaces):
            ifaces[str(iface.device.id)] = iface
        ips = {str(ip.address).split("/")[0]: ip for ip in api.ipam.ip_addresses.filter(prefix=kind.prefix)}
        new_ips = [
            {"address": f"{kind.address(i)}/{kind.length}", "namespace": namespace.id, "status": active}
            for i in missing_ip
            if kind.address(i) not in ips
        ]
        for ip in _bulk_create(api.ipam.ip_addresses, new_ips):
            ips[str(ip.address).split("/")[0]] = ip
        links = [{"ip_address": ips[kind.address(i)].id, "interface": ifaces[str(ids[i])].id} for i in missing_ip]
        try:
            _bulk_create(api.ipam.ip_address_to_interface, links)
        except pynautobot.RequestError:
            for link in links:  # some were attached by an interrupted run
                if not api.ipam.ip_address_to_interface.get(**link):
                    api.ipam.ip_address_to_interface.create(**link)
        for part in _chunks([{"id": ids[i], "primary_ip4": ips[kind.address(i)].id} for i in missing_ip]):
            api.dcim.devices.update(part)
        have = existing(api, kind)
    fleet = [
        {"id": str(have[kind.serial(i)]["id"]), "name": kind.name(i), "address": kind.address(i), "driver": driver}
        for i in range(1, n + 1)
    ]
    _load_simulator(api, fleet, sim_control, sim_port, log)
    log(f"fleet: {n} {kind.platform} device(s) ready in {time.monotonic() - started:.1f} s")
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


def remove(api: pynautobot.api, sim_controls: dict[str, str], log: Log = print) -> None:
    """Delete the fleets (devices, their addresses) from Nautobot and the simulators
    (``sim_controls``: network driver -> the control API of its simulator)."""
    session = requests.Session()
    for driver, kind in KINDS.items():
        have = existing(api, kind)
        for device in have.values():
            session.delete(f"{sim_controls[driver]}/devices/{device['name']}", timeout=10)
        ids = [{"id": d["id"]} for d in have.values()]
        for part in _chunks(ids):
            api.dcim.devices.delete(part)
        ips = [{"id": ip.id} for ip in api.ipam.ip_addresses.filter(prefix=kind.prefix)]
        for part in _chunks(ips):
            api.ipam.ip_addresses.delete(part)
        log(f"fleet: removed {len(ids)} {kind.platform} device(s)")
