"""An Ansible inventory of the lab's devices, read from Nautobot's GraphQL in the shape
networktocode.nautobot's ``gql_inventory`` gives (that plugin comes from Galaxy, which this machine cannot
reach): one host per device, named like the device, with ``ansible_host`` (its primary IPv4) and
``ansible_network_os`` (the Ansible network OS of its platform) as host variables beside the queried
fields (``id``, ``primary_ip4``, ``platform``, ``location``, ``role``, ``status``), and a group for each
value of ``group_by: [platform.network_driver, location.name, role.name]`` (``arista_eos``,
``Lab_Site_A``, ``Access_Switch``: gql_inventory's names with ``force_valid_group_names = always``).

``slices(inventory, count)`` pares an inventory down to AWX's job slices: hosts in name order, slice k
of K taking every K-th host from the k-th, each slice an inventory with only its hosts (and their groups).

    python -m lab.inventory                          # the ready lab devices, to stdout
    python -m lab.inventory --out .lab/inventory.yml --filter '{"name__isw": "bench-"}'
    python -m lab.inventory --out /tmp/inv.yml --slices 3   # /tmp/inv-1.yml .. /tmp/inv-3.yml too
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import requests
import yaml

# What gql_inventory's default query asks, plus the fields the groups are made from.
QUERY = """
query {
  devices(%s) {
    id
    name
    status { name }
    role { name }
    location { name }
    platform { name napalm_driver network_driver network_driver_mappings }
    primary_ip4 { host }
  }
}
"""
READY_STATUSES = ["Active", "Planned", "Staged"]


def group_name(value: str) -> str:
    """``"Lab Site A"`` -> ``Lab_Site_A``: Ansible's valid group name (``force_valid_group_names = always``)."""
    return re.sub(r"[^A-Za-z0-9_]", "_", value)


def build(devices: list[dict]) -> dict:
    """GraphQL devices -> a YAML inventory (``all.children.<group>.hosts`` and ``all.hosts`` vars)."""
    hosts: dict[str, dict] = {}
    groups: dict[str, dict] = {}
    for device in sorted(devices, key=lambda d: d["name"]):
        platform = device.get("platform") or {}
        mappings = platform.get("network_driver_mappings") or {}
        napalm = platform.get("napalm_driver") or mappings.get("napalm")  # Nautobot derives it from the network driver
        address = (device.get("primary_ip4") or {}).get("host")
        host = {
            "ansible_host": address or device["name"],
            "id": device["id"],
            "primary_ip4": device.get("primary_ip4"),
            "status": device.get("status"),
            "role": device.get("role"),
            "location": device.get("location"),
            "platform": {
                "name": platform.get("name"),
                "napalm_driver": napalm,
                "network_driver": platform.get("network_driver"),
            }
            if platform
            else None,
        }
        if mappings.get("ansible"):
            host["ansible_network_os"] = mappings["ansible"]
        hosts[device["name"]] = host
        for value in (
            platform.get("network_driver"),
            (device.get("location") or {}).get("name"),
            (device.get("role") or {}).get("name"),
        ):
            if value:
                groups.setdefault(group_name(value), {"hosts": {}})["hosts"][device["name"]] = None
    return {"all": {"hosts": hosts, "children": dict(sorted(groups.items()))}}


def host_names(inventory: dict) -> list[str]:
    return sorted(inventory["all"]["hosts"])


def slices(inventory: dict, count: int) -> list[dict]:
    """The inventory as AWX's job slices see it: slice k (1-based) of ``count`` has the k-th, (k+count)-th...
    host in name order, and only those hosts (in their groups)."""
    if count < 1:
        raise ValueError("count must be 1 or more")
    names = host_names(inventory)
    parts = []
    for number in range(1, count + 1):
        mine = set(names[number - 1 :: count])
        children = {
            group: {"hosts": {h: None for h in body["hosts"] if h in mine}}
            for group, body in inventory["all"]["children"].items()
        }
        parts.append(
            {
                "all": {
                    "hosts": {h: v for h, v in inventory["all"]["hosts"].items() if h in mine},
                    "children": {g: b for g, b in children.items() if b["hosts"]},
                }
            }
        )
    return parts


def fetch(url: str, token: str, filters: dict | None = None, timeout: float = 120) -> list[dict]:
    """The devices Nautobot's GraphQL returns: the ready ones (status Active, Planned, Staged) by default, or
    those a filter of GraphQL arguments selects (``{"name__isw": "bench-"}``)."""
    filters = filters or {"status": READY_STATUSES}
    body = {"query": QUERY % ", ".join(f"{key}: {json.dumps(value)}" for key, value in filters.items())}
    response = requests.post(
        f"{url.rstrip('/')}/api/graphql/",
        json=body,
        headers={"Authorization": f"Token {token}", "Accept": "application/json"},
        timeout=timeout,
    )
    response.raise_for_status()
    data = response.json()
    if data.get("errors"):
        raise RuntimeError(f"GraphQL: {data['errors'][0].get('message')}")
    return data["data"]["devices"]


def dump(inventory: dict) -> str:
    return "---\n# Written by lab/inventory.py from Nautobot (gql_inventory's shape)\n" + yaml.safe_dump(
        inventory, sort_keys=False, default_flow_style=False
    )


def write(path: Path, inventory: dict, count: int = 0) -> list[Path]:
    """Write the inventory to ``path`` and, with ``count``, its slices beside it (``<stem>-<k><suffix>``)."""
    path.write_text(dump(inventory))
    written = [path]
    for number, part in enumerate(slices(inventory, count) if count else [], start=1):
        sliced = path.with_name(f"{path.stem}-{number}{path.suffix}")
        sliced.write_text(dump(part))
        written.append(sliced)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--filter", help="GraphQL device arguments as JSON (default: the ready devices)")
    parser.add_argument("--out", help="write to this file (default: stdout)")
    parser.add_argument("--slices", type=int, default=0, help="also write K slice inventories beside --out")
    args = parser.parse_args(argv)
    lab = json.loads((Path(__file__).resolve().parents[1] / ".lab" / "lab.json").read_text())
    env = lab["env"]
    inventory = build(fetch(env["NAUTOBOT_URL"], env["NAUTOBOT_TOKEN"], json.loads(args.filter or "null")))
    if not args.out:
        sys.stdout.write(dump(inventory))
        return 0
    for path in write(Path(args.out), inventory, args.slices):
        print(f"{path}: {len(yaml.safe_load(path.read_text())['all']['hosts'])} hosts")  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main())
