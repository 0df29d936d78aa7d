#!/usr/bin/env python3
"""Cisco NX-OS NX-API simulator: one process (one asyncio loop) serving many stateful devices.

It answers the JSON-RPC 2.0 requests that NAPALM's ``nxos`` driver (``nxapi_plumbing`` RPCClient)
posts to ``POST /ins`` (``content-type: application/json-rpc``, one request object per command,
method ``cli`` for structured output and configuration, ``cli_ascii`` for text): open, get_facts,
get_interfaces, compare_config of a merge (``show running-config all``), commit_config (checkpoint
``rollback_config.txt``, the lines as one batch, ``copy run startup-config``), its automatic
rollback when a line is refused, rollback, get_config. NX-OS has no commit confirm and neither has
this simulator. See nxos.md beside this file.

Use from tests (``NxosSimulator``) and from the command line (``python -m lab.simulator.nxos_sim``):
nxos.md. Registry, listeners, control API and command line: common.py.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
import logging
import re
import sys
import time
from typing import Any

from aiohttp import web

from lab.simulator.common import HttpSimulator, SimDevice
from lab.simulator.eos_sim import redact

LOG = logging.getLogger("nxos_sim")

NXOS_VERSION = "10.3(4a)"
NXOS_IMAGE = "nxos64-cs.10.3.4a.M.bin"
CHASSIS = "cisco Nexus9000 C9300v Chassis"
PRODUCT_ID = "N9K-C9300v"
DEFAULT_PORT = 9082
DEFAULT_CONTROL_PORT = 9078
DEFAULT_ETHERNET_PORTS = 8
INDENT = "  "
VERSION_LINE = f"version {NXOS_VERSION} Bios:version"
INVALID = "% Invalid command at '^' marker."
INCOMPLETE = "% Incomplete command at '^' marker."
NO_SUCH_FILE = "No such file or directory"
STRUCTURED_UNSUPPORTED = "Structured output unsupported"
SPECIAL_CHARS = "Request contains invalid special characters"
AUTH_FAILED_BODY = (
    "<html>\r\n<head><title>401 Authorization Required</title></head>\r\n<body>\r\n"
    "<center><h1>401 Authorization Required</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)
COPY_OK = (
    "[########################################] 100%\n"
    "Copy complete, now saving to disk (please wait)...\nCopy complete.\n"
)
ROLLBACK_OK = (
    "Note: Applying config parallelly may fail Rollback verification\nCollecting Running-Config\n"
    "#Generating Rollback Patch\nExecuting Rollback Patch\n#Generating Running-config for verification\n"
    "#Generating Patch for verification\nVerification is Successful.\n\nRollback completed successfully.\n\n"
)
FEATURES = (
    "telnet ssh scp-server sftp-server bash-shell nxapi netconf restconf grpc ospf ospfv3 bgp eigrp isis pim "
    "interface-vlan hsrp vrrp vpc lacp lldp dhcp udld bfd tacacs+ private-vlan port-security sflow ptp "
    "vn-segment-vlan-based"
).split()
FEATURE_ORDER = {name: i for i, name in enumerate(FEATURES + ["nv overlay"])}


class CliError(Exception):
    """A command the device refuses: NX-API answers JSON-RPC -32602 with ``data.msg``."""

    def __init__(self, msg: str):
        super().__init__(msg)
        self.msg = msg if msg.endswith("\n") else msg + "\n"


def _range_error(low: int, high: int) -> CliError:
    return CliError(f"% Invalid number, range is ({low}:{high}) at '^' marker.")


# ---------------------------------------------------------------------------------------------
# Configuration tree
# ---------------------------------------------------------------------------------------------
class Node:
    """One configuration line and its children (2-space indented lines under it)."""

    __slots__ = ("line", "children")

    def __init__(self, line: str, children: list[Node] | None = None):
        self.line = line
        self.children = children if children is not None else []

    def clone(self) -> Node:
        return Node(self.line, [c.clone() for c in self.children])


def clone_tree(nodes: list[Node]) -> list[Node]:
    return [n.clone() for n in nodes]


def _words_key(text: str) -> list[int | str]:
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", text)]


_IF_ORDER = {"Vlan": 0, "port-channel": 1, "Ethernet": 2, "mgmt": 3, "loopback": 4, "nve": 5, "Tunnel": 6}


def _rank(node: Node) -> tuple:
    """Top-level order of ``show running-config`` (NX-OS renders by component, not by entry order)."""
    line = node.line
    if line.startswith("hostname "):
        return (1,)
    if line.startswith("feature "):
        return (2, FEATURE_ORDER.get(line[8:], 99), line)
    if line.endswith("password strength-check"):
        return (3,)
    if line.startswith("username "):
        return (4,)
    if line.startswith(("ip domain-", "no ip domain-", "ip name-server")):
        return (5,)
    if line.startswith("snmp-server "):
        return (7,)
    if line.startswith("ntp "):
        return (8,)
    if line.startswith("ip route "):
        return (9,)
    if line.startswith("vlan "):
        return (10, int(line.split()[1]))
    if line.startswith("vrf context "):
        return (11, line)
    if line.startswith("interface "):
        m = re.fullmatch(r"interface ([A-Za-z-]+)(.*)", line)
        kind, rest = (m.group(1), m.group(2)) if m else ("", line)
        return (12, _IF_ORDER.get(kind, 9), _words_key(rest))
    if line.startswith("line "):
        return (13, line != "line console")
    if line.startswith("boot "):
        return (14,)
    if line.startswith("router "):
        return (15, _words_key(line))
    return (6,)


def compress_vlans(ids: list[int]) -> str:
    parts: list[str] = []
    ids = sorted(set(ids))
    i = 0
    while i < len(ids):
        j = i
        while j + 1 < len(ids) and ids[j + 1] == ids[j] + 1:
            j += 1
        parts.append(str(ids[i]) if i == j else f"{ids[i]}-{ids[j]}")
        i = j + 1
    return ",".join(parts)


def _render_children(nodes: list[Node], depth: int, out: list[str]) -> None:
    for node in nodes:
        out.append(INDENT * depth + node.line)
        _render_children(node.children, depth + 1, out)


def _all_defaults(node: Node) -> list[Node]:
    """A few of the default lines ``show running-config all`` adds to an interface."""
    name = node.line.split(None, 1)[1]
    lines = {c.line for c in node.children}
    extra = []
    if name.startswith(("Ethernet", "port-channel")) and not any(ln.startswith("mtu ") for ln in lines):
        extra.append(Node("mtu 1500"))
    if not name.startswith("Vlan") and "shutdown" not in lines:
        extra.append(Node("no shutdown"))
    return extra


def render_body(nodes: list[Node], full: bool = False) -> list[str]:
    """The configuration as NX-OS prints it after its header (``version`` line first)."""
    out = [VERSION_LINE]
    ordered = sorted(nodes, key=_rank)
    vlan_done = False
    prev_group = None
    for node in ordered:
        group = _rank(node)[0]
        if group == 10:
            if not vlan_done:
                out.append("vlan " + compress_vlans([int(n.line.split()[1]) for n in ordered if _rank(n)[0] == 10]))
                vlan_done = True
            if node.children:
                out.append(node.line)
                _render_children(node.children, 1, out)
            prev_group = group
            continue
        blank = group in (11, 12, 15) or (group != prev_group and (group in (2, 13) or prev_group == 2))
        if blank and out[-1] != "":
            out.append("")
        out.append(node.line)
        children = node.children + (_all_defaults(node) if full and group == 12 else [])
        _render_children(children, 1, out)
        prev_group = group
    return out


def nxos_time(epoch: float) -> str:
    """``Thu Apr 14 09:18:57 2022`` (day padded with a space, like NX-OS)."""
    t = time.localtime(epoch)
    return time.strftime("%a %b ", t) + f"{t.tm_mday:2d}" + time.strftime(" %H:%M:%S %Y", t)


def parse_lines(text: str) -> list[tuple[int, str]]:
    """(indent, stripped line) for each configuration line; comments, blanks and ``end`` dropped."""
    out = []
    for raw in text.splitlines():
        stripped = raw.strip()
        if not stripped or stripped.startswith("!") or stripped == "end":
            continue
        out.append((len(raw) - len(raw.lstrip(" ")), stripped))
    return out


# ---------------------------------------------------------------------------------------------
# Command schema: modes, keywords, normalizers
# ---------------------------------------------------------------------------------------------
def _ip_if(words: list[str]) -> str:
    """``A.B.C.D/len`` from ``A.B.C.D/len`` or ``A.B.C.D M.M.M.M`` (consumes 1 or 2 words)."""
    try:
        if len(words) >= 2 and re.fullmatch(r"\d+\.\d+\.\d+\.\d+", words[1]):
            return str(ipaddress.IPv4Interface(f"{words[0]}/{words[1]}"))
        if "/" not in words[0]:
            raise ValueError
        return str(ipaddress.IPv4Interface(words[0]))
    except (ValueError, IndexError):
        raise CliError(INVALID) from None


def canonical_interface(words: list[str]) -> tuple[str, str]:
    """(type, rest) of an interface name as NX-OS spells it: ``eth1/1`` -> (Ethernet, 1/1)."""
    text = "".join(words)
    m = re.fullmatch(
        r"(?i)(ethernet|eth|e|loopback|lo|port-channel|po|vlan|mgmt|nve|tunnel)(\d+(?:/\d+)*(?:\.\d+)?)", text
    )
    if not m:
        raise CliError(INVALID)
    kind = m.group(1).lower()
    canon = {
        "ethernet": "Ethernet",
        "eth": "Ethernet",
        "e": "Ethernet",
        "loopback": "loopback",
        "lo": "loopback",
        "port-channel": "port-channel",
        "po": "port-channel",
        "vlan": "Vlan",
        "mgmt": "mgmt",
        "nve": "nve",
        "tunnel": "Tunnel",
    }[kind]
    return canon, m.group(2)


class Schema:
    """Per-mode keyword rules. A rule: (prefix words, min words, normalizer, section kind, feature)."""

    def __init__(self) -> None:
        self.rules: dict[str, list[tuple[tuple[str, ...], int, Any, str | None, str | None]]] = {}

    def add(self, kind: str, spec: str, min_words: int | None = None, norm=None, section=None, feature=None):
        prefix = tuple(spec.split())
        self.rules.setdefault(kind, []).append(
            (prefix, min_words if min_words is not None else len(prefix) + 1, norm, section, feature)
        )

    def expand(self, kind: str, body: list[str]) -> list[str]:
        """Keywords abbreviated as NX-OS allows (``int e1/1``, ``ip addr``): unique prefixes, word by word."""
        words = list(body)
        for i in range(min(len(words), 3)):
            choices = {
                rule[0][i] for rule in self.rules.get(kind, ()) if len(rule[0]) > i and tuple(words[:i]) == rule[0][:i]
            }
            if not choices or words[i] in choices:
                continue
            found = [c for c in choices if c.startswith(words[i])]
            if len(found) != 1:
                break
            words[i] = found[0]
        return words

    def find(self, kind: str, body: list[str]):
        best = None
        for rule in self.rules.get(kind, ()):
            prefix = rule[0]
            if tuple(body[: len(prefix)]) == prefix and (best is None or len(prefix) > len(best[0])):
                best = rule
        return best


def _plain(body: list[str], ctx: _Ctx) -> str:
    return " ".join(body)


class _Ctx:
    """What a normalizer may look at: the device, the current frame, whether it is a ``no`` form."""

    def __init__(self, dev: Device, negate: bool, frame: _Frame | None):
        self.dev = dev
        self.negate = negate
        self.frame = frame

    def feature_on(self, name: str) -> bool:
        return any(n.line == f"feature {name}" for n in self.dev._running)


def _n_hostname(body, ctx):
    if ctx.negate:
        return "hostname"
    if len(body) != 2 or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}", body[1]):
        raise CliError(INVALID)
    return f"hostname {body[1]}"


def _n_feature(body, ctx):
    name = " ".join(body[1:])
    if name not in FEATURE_ORDER:
        raise CliError(INVALID)
    return f"feature {name}"


def _n_username(body, ctx):
    name = body[1]
    if not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,31}", name):
        raise CliError(INVALID)
    rest = body[2:]
    if ctx.negate:
        return f"username {name}" + (" " + " ".join(rest) if rest else "")
    if not rest:
        raise CliError(INCOMPLETE)
    if rest[0] == "sshkey":
        return " ".join(body)
    password = role = None
    i = 0
    while i < len(rest):
        word = rest[i]
        if word == "password":
            if i + 1 >= len(rest):
                raise CliError(INCOMPLETE)
            if rest[i + 1] in ("0", "5") and i + 2 < len(rest):
                kind, value, i = rest[i + 1], rest[i + 2], i + 3
            else:
                kind, value, i = "0", rest[i + 1], i + 2
            password = value if kind == "5" else hash_password(name, value)
        elif word == "role" and i + 1 < len(rest):
            role, i = rest[i + 1], i + 2
        else:
            raise CliError(INVALID)
    return format_username(name, password, role)


def hash_password(user: str, clear: str) -> str:
    """A sha256-crypt shaped hash (NX-OS stores ``password 5 $5$...``; the clear text is never kept)."""
    digest = hashlib.sha256(f"{user}:{clear}".encode()).digest()
    salt = base64.b64encode(digest[:6], b"./").decode()
    return f"$5${salt}${base64.b64encode(hashlib.sha256(digest).digest(), b'./').decode().rstrip('=')}"


def format_username(name: str, password: str | None, role: str | None) -> str:
    line = f"username {name}"
    if password:
        line += f" password 5 {password} "  # NX-OS prints two spaces before "role"
    if role:
        line += f" role {role}"
    return line.rstrip()


def _parse_username(line: str) -> tuple[str, str | None, str | None]:
    m = re.fullmatch(r"username (\S+)(?: password 5 (\S+))?\s*(?:role (\S+))?", line)
    return (m.group(1), m.group(2), m.group(3)) if m else (line.split()[1], None, None)


def _n_community(body, ctx):
    name = body[2]
    if ctx.negate:
        return f"snmp-server community {name}"
    opts = body[3:]
    group = "network-operator"
    if opts in (["ro"], []):
        pass
    elif opts == ["rw"]:
        group = "network-admin"
    elif len(opts) == 2 and opts[0] == "group":
        group = opts[1]
    else:
        raise CliError(INVALID)
    return f"snmp-server community {name} group {group}"


def _n_ntp(body, ctx):
    try:
        ipaddress.ip_address(body[2])
    except ValueError:
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9.-]*", body[2]):
            raise CliError(INVALID) from None
    opts = body[3:]
    i = 0
    while i < len(opts):
        if opts[i] == "prefer":
            i += 1
        elif opts[i] in ("use-vrf", "key", "minpoll", "maxpoll") and i + 1 < len(opts):
            i += 2
        else:
            raise CliError(INVALID)
    return " ".join(body)


def _n_route(body, ctx):
    """``ip route P/L NH ...`` (``P M.M.M.M`` accepted); NX-OS prints the prefix with host bits cleared."""
    words = body[2:]
    try:
        if "/" not in words[0]:
            if len(words) < 2:
                raise CliError(INCOMPLETE)
            words = [f"{words[0]}/{words[1]}"] + words[2:]
        prefix = ipaddress.IPv4Network(words[0], strict=False)
    except ValueError:
        raise CliError(INVALID) from None
    if ctx.negate and len(words) == 1:
        return f"ip route {prefix}"
    if len(words) < 2:
        raise CliError(INCOMPLETE)
    if re.fullmatch(r"[\d.]+", words[1]):
        try:
            ipaddress.IPv4Address(words[1])
        except ValueError:
            raise CliError(INVALID) from None
    elif not words[1].startswith(("Ethernet", "Vlan", "loopback", "port-channel", "mgmt0", "Null0")):
        raise CliError(INVALID)
    return " ".join(["ip route", str(prefix), *words[1:]])


def _n_ip_address(body, ctx):
    if ctx.negate and len(body) == 2:
        return "ip address"
    addr = _ip_if(body[2:])
    extra = body[3:] if "/" in body[2] else body[4:]
    if extra not in ([], ["secondary"]) and not (extra[-2:-1] == ["tag"] and extra[-1].isdigit()):
        raise CliError(INVALID)
    return " ".join(["ip address", addr, *extra])


def _n_mtu(body, ctx):
    if ctx.negate:
        return "mtu"
    if len(body) != 2 or not body[1].isdigit():
        raise CliError(INVALID)
    if not 576 <= int(body[1]) <= 9216:
        raise _range_error(576, 9216)
    return f"mtu {int(body[1])}"


def _n_ospf_area(body, ctx):
    # ip router ospf TAG area AREA: NX-OS prints the area dotted ("0" -> "0.0.0.0")
    if ctx.negate and len(body) == 4:
        return " ".join(body)
    if len(body) != 6 or body[4] != "area":
        raise CliError(INCOMPLETE if len(body) < 6 else INVALID)
    area = body[5]
    if area.isdigit():
        area = str(ipaddress.IPv4Address(int(area)))
    return f"ip router ospf {body[3]} area {area}"


def _n_state(body, ctx):
    if len(body) != 2 or body[1] not in ("active", "suspend"):
        raise CliError(INVALID)
    return " ".join(body)


def _n_shutdown(body, ctx):
    if len(body) != 1:
        raise CliError(INVALID)
    return "shutdown"


def _n_description(body, ctx):
    return " ".join(body) if not ctx.negate else "description"


def _n_name(body, ctx):
    if ctx.negate:
        return "name"
    if len(body) != 2 or len(body[1]) > 32:
        raise CliError(INVALID)
    return " ".join(body)


def _n_router_tag(body, ctx):
    if len(body) != 3 or not re.fullmatch(r"[A-Za-z0-9_-]{1,20}", body[2]):
        raise CliError(INVALID)
    return " ".join(body)


def _n_asn(body, ctx):
    if len(body) != 3 or not re.fullmatch(r"\d+(\.\d+)?", body[2]):
        raise CliError(INVALID)
    return " ".join(body)


def _n_vrf_context(body, ctx):
    if len(body) != 3 or not re.fullmatch(r"[A-Za-z0-9_.:-]{1,32}", body[2]):
        raise CliError(INVALID)
    return " ".join(body)


def _n_route_map(body, ctx):
    words = body[1:]
    if len(words) == 1:
        words += ["permit", "10"]
    elif len(words) == 2:
        words += ["10"] if words[1] in ("permit", "deny") else []
    if len(words) != 3 or words[1] not in ("permit", "deny") or not words[2].isdigit():
        raise CliError(INVALID)
    return "route-map " + " ".join(words)


def _n_nothing(body, ctx):
    return ""  # accepted, not stored ("version ..." when a saved configuration is replayed)


SCHEMA = Schema()
for spec, extra in (
    ("hostname", dict(min_words=2, norm=_n_hostname)),
    ("switchname", dict(min_words=2, norm=_n_hostname)),
    ("feature", dict(norm=_n_feature)),
    ("username", dict(norm=_n_username)),
    ("password strength-check", dict(min_words=2)),
    ("ip domain-name", {}),
    ("ip domain-lookup", dict(min_words=2)),
    ("ip name-server", {}),
    ("ip route", dict(norm=_n_route)),
    ("ip access-list", dict(section="acl")),
    ("ipv6 route", dict(min_words=4)),
    ("interface", dict(section="interface")),
    ("vlan", dict(section="vlan")),
    ("router ospf", dict(norm=_n_router_tag, section="router-ospf", feature="ospf")),
    ("router bgp", dict(norm=_n_asn, section="router-bgp", feature="bgp")),
    ("vrf context", dict(norm=_n_vrf_context, section="vrf")),
    ("line console", dict(min_words=2, section="line")),
    ("line vty", dict(min_words=2, section="line")),
    ("ntp server", dict(norm=_n_ntp)),
    ("ntp source-interface", {}),
    ("ntp logging", dict(min_words=2)),
    ("snmp-server community", dict(norm=_n_community)),
    ("snmp-server location", {}),
    ("snmp-server contact", {}),
    ("snmp-server user", {}),
    ("snmp-server host", {}),
    ("snmp-server enable", {}),
    ("logging", {}),
    ("spanning-tree", {}),
    ("clock", {}),
    ("boot nxos", {}),
    ("version", dict(norm=_n_nothing)),
    ("copp profile", {}),
    ("banner motd", {}),
    ("route-map", dict(norm=_n_route_map, section="route-map")),
    ("role name", dict(section="role")),
    ("system", {}),
    ("errdisable", {}),
    ("lacp", dict(feature="lacp")),
    ("port-channel", {}),
    ("aaa", {}),
    ("radius-server", {}),
    ("tacacs-server", dict(feature="tacacs+")),
    ("lldp", dict(feature="lldp")),
    ("cdp", {}),
    ("vpc domain", dict(section="vpc", feature="vpc")),
    ("nxapi", dict(feature="nxapi")),
    ("mac", {}),
    ("ssh", {}),
    ("rmon", {}),
    ("cli", {}),
):
    SCHEMA.add("", spec, **extra)

_IF_RULES = (
    ("description", dict(min_words=2, norm=_n_description)),
    ("shutdown", dict(min_words=1, norm=_n_shutdown)),
    ("switchport", dict(min_words=1)),
    ("ip address", dict(norm=_n_ip_address)),
    ("ip router ospf", dict(norm=_n_ospf_area, feature="ospf")),
    ("ip ospf", dict(feature="ospf")),
    ("ip pim", dict(feature="pim")),
    ("ip dhcp", dict(feature="dhcp")),
    ("ip redirects", dict(min_words=2)),
    ("ip unreachables", dict(min_words=2)),
    ("ip proxy-arp", dict(min_words=2)),
    ("ip access-group", dict(min_words=4)),
    ("ipv6 address", {}),
    ("mtu", dict(min_words=2, norm=_n_mtu)),
    ("speed", {}),
    ("duplex", {}),
    ("channel-group", {}),
    ("vrf member", {}),
    ("bandwidth", {}),
    ("delay", {}),
    ("load-interval", {}),
    ("spanning-tree", {}),
    ("lacp", dict(feature="lacp")),
    ("cdp", {}),
    ("lldp", dict(feature="lldp")),
    ("link", {}),
    ("medium", {}),
    ("negotiation", {}),
    ("service-policy", dict(min_words=3)),
    ("storm-control", {}),
    ("udld", dict(feature="udld")),
    ("vpc", dict(min_words=1, feature="vpc")),
    ("hsrp", dict(feature="hsrp")),
    ("vrrp", dict(feature="vrrp")),
    ("mac-address", {}),
    ("encapsulation", {}),
    ("logging", {}),
    ("beacon", dict(min_words=1)),
    ("fec", {}),
)
for _kind in ("interface", "interface-svi"):
    for spec, extra in _IF_RULES:
        SCHEMA.add(_kind, spec, **extra)
for spec, extra in (
    ("name", dict(min_words=2, norm=_n_name)),
    ("state", dict(norm=_n_state)),
    ("shutdown", dict(min_words=1, norm=_n_shutdown)),
    ("mode", {}),
    ("vn-segment", dict(feature="vn-segment-vlan-based")),
):
    SCHEMA.add("vlan", spec, **extra)
for _kind in ("router-ospf", "router-ospf-vrf"):
    for spec in (
        "router-id",
        "area",
        "redistribute",
        "passive-interface",
        "default-information",
        "auto-cost",
        "timers",
        "max-metric",
        "maximum-paths",
        "distance",
        "summary-address",
    ):
        SCHEMA.add(_kind, spec)
    SCHEMA.add(_kind, "log-adjacency-changes", min_words=1)
    SCHEMA.add(_kind, "shutdown", min_words=1)
    SCHEMA.add(_kind, "bfd", min_words=1)
SCHEMA.add("router-ospf", "vrf", section="router-ospf-vrf")
for _kind in ("router-bgp", "bgp-vrf"):
    SCHEMA.add(_kind, "router-id")
    SCHEMA.add(_kind, "log-neighbor-changes", min_words=1)
    SCHEMA.add(_kind, "bestpath")
    SCHEMA.add(_kind, "timers")
    SCHEMA.add(_kind, "graceful-restart", min_words=1)
    SCHEMA.add(_kind, "neighbor", section="bgp-neighbor")
    SCHEMA.add(_kind, "address-family", min_words=3, section="bgp-af")
SCHEMA.add("router-bgp", "vrf", section="bgp-vrf")
for spec in ("remote-as", "description", "update-source", "timers", "ebgp-multihop", "inherit"):
    SCHEMA.add("bgp-neighbor", spec)
SCHEMA.add("bgp-neighbor", "password", min_words=3)
SCHEMA.add("bgp-neighbor", "shutdown", min_words=1)
SCHEMA.add("bgp-neighbor", "bfd", min_words=1)
SCHEMA.add("bgp-neighbor", "address-family", min_words=3, section="bgp-neighbor-af")
for spec, n in (
    ("send-community", 1),
    ("route-map", 3),
    ("next-hop-self", 1),
    ("soft-reconfiguration", 2),
    ("allowas-in", 1),
    ("maximum-prefix", 2),
    ("route-reflector-client", 1),
):
    SCHEMA.add("bgp-neighbor-af", spec, min_words=n)
for spec in ("network", "maximum-paths", "aggregate-address", "advertise"):
    SCHEMA.add("bgp-af", spec)
SCHEMA.add("bgp-af", "redistribute", min_words=3)
SCHEMA.add("vrf", "ip route", norm=_n_route)
SCHEMA.add("vrf", "ip domain-name")
SCHEMA.add("vrf", "ip name-server")
SCHEMA.add("vrf", "rd")
SCHEMA.add("vrf", "vni")
SCHEMA.add("vrf", "description")
SCHEMA.add("vrf", "shutdown", min_words=1)
SCHEMA.add("vrf", "address-family", min_words=3, section="vrf-af")
SCHEMA.add("vrf-af", "route-target", min_words=3)
for spec in ("exec-timeout", "session-limit", "speed", "databits", "stopbits", "parity", "absolute-timeout"):
    SCHEMA.add("line", spec)
SCHEMA.add("line", "access-class", min_words=3)
for spec in ("permit", "deny"):
    SCHEMA.add("acl", spec, min_words=3)
SCHEMA.add("acl", "remark")
SCHEMA.add("acl", "statistics")
for spec in ("match", "set", "description", "continue"):
    SCHEMA.add("route-map", spec)
SCHEMA.add("role", "rule", min_words=4)
SCHEMA.add("role", "description")
for spec in ("peer-keepalive", "role"):
    SCHEMA.add("vpc", spec, min_words=3)
for spec in ("peer-gateway", "auto-recovery"):
    SCHEMA.add("vpc", spec, min_words=1)
SCHEMA.add("vpc", "system-priority")
SCHEMA.add("vpc", "delay")

# Merge keys: a line whose key equals an existing sibling's key replaces it (in place); other lines
# are added. First matching rule wins; the key is the matched prefix; no rule -> the full line.
_KEY_RULES = [
    re.compile(p)
    for p in (
        r"hostname\b",
        r"description\b",
        r"name\b",
        r"ip address(?= \S+$)",
        r"ip domain-name\b",
        r"ntp server \S+",
        r"username \S+ sshkey\b",
        r"username \S+",
        r"switchport access vlan\b",
        r"switchport mode\b",
        r"switchport trunk native vlan\b",
        r"switchport trunk allowed vlan\b",
        r"switchport$",
        r"shutdown$",
        r"mtu\b",
        r"speed\b",
        r"duplex\b",
        r"channel-group\b",
        r"vrf member\b",
        r"router-id\b",
        r"state\b",
        r"mode\b",
        r"vn-segment\b",
        r"rd\b",
        r"vni\b",
        r"remote-as\b",
        r"update-source\b",
        r"bandwidth\b",
        r"delay\b",
        r"load-interval\b",
        r"exec-timeout\b",
        r"session-limit\b",
        r"ip router ospf \S+",
        r"ip redirects$",
        r"log-adjacency-changes$",
        r"snmp-server (location|contact)\b",
        r"snmp-server community \S+",
        r"spanning-tree mode\b",
        r"clock timezone\b",
        r"copp profile\b",
        r"banner motd\b",
        r"boot nxos\b",
        r"password strength-check$",
        r"ip domain-lookup$",
    )
]

# "no X" removes X, but these negations are what the running-config shows (X being the default).
SHOWN_NEGATIONS = {
    ("", "password strength-check"),
    ("", "ip domain-lookup"),
    ("interface", "switchport"),
    ("interface", "ip redirects"),
    ("interface-svi", "shutdown"),
    ("interface-svi", "ip redirects"),
}
# ... and these positive forms are the default, so they are not shown.
DEFAULT_POSITIVES = {("", "password strength-check"), ("interface-svi", "shutdown")}
# Sections that disappear with their feature ("no feature ospf" removes "router ospf 1", ...).
FEATURE_SECTIONS = {
    "ospf": (r"router ospf ", r"ip router ospf ", r"ip ospf "),
    "bgp": (r"router bgp ",),
    "interface-vlan": (r"interface Vlan",),
    "vpc": (r"vpc domain ", r"vpc\b"),
    "hsrp": (r"hsrp ",),
    "lldp": (r"lldp ",),
    "lacp": (r"lacp ",),
}


def line_key(line: str) -> str:
    if line.startswith("no "):
        line = line[3:]
    for rx in _KEY_RULES:
        m = rx.match(line)
        if m:
            return m.group(0)
    return line


def _set_line(siblings: list[Node], line: str) -> None:
    key = line_key(line)
    for node in siblings:
        if not node.children and line_key(node.line) == key:
            if key.startswith("username ") and not key.endswith(" sshkey"):
                name, pw, role = _parse_username(node.line)
                _, new_pw, new_role = _parse_username(line)
                line = format_username(name, new_pw or pw, new_role or role)
            node.line = line
            return
    siblings.append(Node(line))


def _remove(siblings: list[Node], body: str) -> int:
    key = line_key(body)
    before = len(siblings)
    siblings[:] = [
        n
        for n in siblings
        if not (n.line == body or n.line.startswith(body + " ") or (not n.children and line_key(n.line) == key))
    ]
    return before - len(siblings)


def _strip_feature(nodes: list[Node], patterns: tuple[str, ...]) -> None:
    nodes[:] = [n for n in nodes if not any(re.match(p, n.line) for p in patterns)]
    for n in nodes:
        _strip_feature(n.children, patterns)


# ---------------------------------------------------------------------------------------------
# Device
# ---------------------------------------------------------------------------------------------
class _Frame:
    __slots__ = ("kind", "targets")

    def __init__(self, kind: str, targets: list[list[Node]]):
        self.kind = kind
        self.targets = targets  # several for "vlan 10-12": each line applies to each


class Device(SimDevice):
    """One simulated switch. Public state is read under a lock, so tests may poll it from any thread.
    Faults: ``unresponsive``, ``fail_after_commit`` and ``delay`` (see ``SimDevice``)."""

    log = LOG

    def __init__(
        self,
        name: str,
        address: str,
        port: int,
        running_config: str | None = None,
        ethernet_ports: int = DEFAULT_ETHERNET_PORTS,
    ):
        if not 1 <= int(ethernet_ports) <= 64:
            raise ValueError("ethernet_ports must be 1..64")
        super().__init__(name, address, port)
        self.ethernet_ports = int(ethernet_ports)
        digest = hashlib.sha256(name.encode()).hexdigest()
        self.serial_number = "9" + digest[:10].upper()
        self.mac = f"5254.{digest[10:14]}.{digest[14:18]}"
        self.boot_monotonic = time.monotonic()
        self._running: list[Node] = []
        self._reset(running_config if running_config is not None else default_config(name))

    # -- state -----------------------------------------------------------------------------
    def _reset(self, running_config: str) -> None:
        with self.lock:
            self._running = self.load(running_config)
            self._startup = clone_tree(self._running)
            self._files: dict[str, tuple[list[Node], float]] = {}
            self.changed_at = self.saved_at = time.time()
            self._clear_faults()

    def load(self, text: str) -> list[Node]:
        """Replay a configuration text (indentation = hierarchy) on an empty device, as NX-OS does at
        boot. A line NX-OS would refuse raises ValueError."""
        saved = self._running
        tree: list[Node] = []
        self._running = tree  # feature checks read the tree being built
        try:
            run = _Run(self)
            run.frames = [_Frame("", [tree])]
            indents = [-1]
            for number, (indent, line) in enumerate(parse_lines(text), start=1):
                while len(indents) > 1 and indents[-1] >= indent:
                    indents.pop()
                    run.frames.pop()
                try:
                    run.config_line(line)
                except CliError as exc:
                    raise ValueError(f"{self.name}: config line {number} {line!r}: {exc.msg.strip()}") from None
                if len(run.frames) > len(indents):
                    indents.append(indent)
                del indents[len(run.frames) :]
            self._add_fixed(tree)
            return tree
        finally:
            self._running = saved

    def _add_fixed(self, tree: list[Node]) -> None:
        """What every NX-OS box has whatever its configuration: ports, mgmt0, VLAN 1, VRF management."""
        lines = {n.line for n in tree}
        if not any(ln.startswith("hostname ") for ln in lines):
            tree.insert(0, Node("hostname switch"))
        if "vlan 1" not in lines:
            tree.append(Node("vlan 1"))
        if "vrf context management" not in lines:
            tree.append(Node("vrf context management"))
        for i in range(1, self.ethernet_ports + 1):
            if f"interface Ethernet1/{i}" not in lines:
                tree.append(Node(f"interface Ethernet1/{i}"))
        if "interface mgmt0" not in lines:
            tree.append(Node("interface mgmt0", [Node("vrf member management")]))
        for line in ("line console", "line vty"):
            if line not in lines:
                tree.append(Node(line))

    def reset(self, running_config: str | None = None) -> None:
        """Back to a fresh device: running = startup = ``running_config`` (default: the current
        running-config), no checkpoint files, no faults."""
        with self.lock:
            text = running_config if running_config is not None else self.running_config
            self._reset(text)
        LOG.info("%s: reset (%d config lines)", self.name, len(render_body(self._running)))
        self._running_changed()

    def management_address(self) -> str | None:
        """The address of ``interface mgmt0`` in the running-config (``ip address A/M``), or None."""
        with self.lock:
            for node in self._running:
                if node.line == "interface mgmt0":
                    for child in node.children:
                        found = re.fullmatch(r"ip address (\S+)/\d+", child.line)
                        if found:
                            return found.group(1)
        return None

    def render(self, which: str, full: bool = False) -> str:
        with self.lock:
            now = time.time()
            if which == "running":
                cmd = "show running-config" + (" all" if full else "")
                head = [f"!Command: {cmd}", f"!Running configuration last done at: {nxos_time(self.changed_at)}"]
                head.append(f"!Time: {nxos_time(now)}")
                tree = self._running
            else:
                head = [
                    "!Command: show startup-config",
                    f"!Running configuration last done at: {nxos_time(self.changed_at)}",
                    f"!Time: {nxos_time(now)}",
                    f"!Startup config saved at: {nxos_time(self.saved_at)}",
                ]
                tree = self._startup
            return "\n".join(["", *head, "", *render_body(tree, full)]) + "\n"

    @property
    def running_config(self) -> str:
        return self.render("running")

    @property
    def startup_config(self) -> str:
        return self.render("startup")

    def file_text(self, name: str) -> str:
        with self.lock:
            tree, taken = self._files[name]
            head = ["", "!Command: Checkpoint cmd vdc 1", f"!Time: {nxos_time(taken)}", ""]
            return "\n".join(head + render_body(tree)) + "\n"

    @property
    def files(self) -> dict[str, str]:
        """Checkpoint files on bootflash: ``{"bootflash:NAME": text}``."""
        with self.lock:
            return {n: self.file_text(n) for n in self._files}

    @property
    def hostname(self) -> str:
        with self.lock:
            return next((n.line.split()[1] for n in self._running if n.line.startswith("hostname ")), "switch")

    def domain(self) -> str:
        return next((n.line.split()[2] for n in self._running if n.line.startswith("ip domain-name ")), "")

    def uptime(self) -> float:
        return time.monotonic() - self.boot_monotonic

    def _summary_state(self) -> dict[str, Any]:
        # NX-OS has no configuration sessions and no commit confirm
        return {"open_sessions": [], "pending_commit": None}

    def _summary_detail(self) -> dict[str, Any]:
        return {
            "running_config": self.running_config,
            "startup_config": self.startup_config,
            "files": sorted(self._files),
        }

    # -- NX-API ----------------------------------------------------------------------------
    def execute(self, requests: list[dict]) -> tuple[list[dict], bool]:
        """Run one NX-API JSON-RPC batch (each request: ``method``, ``params.cmd``, ``id``).

        Commands run in order in one CLI context (configuration mode is entered by the first
        configuration command and kept across the batch). The first refused command is answered with
        an error and stops the batch: the commands before it stay applied, the ones after it are not
        run and not answered (NX-API's default stop-on-error). Returns (replies, any error)."""
        with self.lock:
            self.request_count += 1
            run = _Run(self)
            replies: list[dict] = []
            failed = False
            for req in requests:
                req_id = req.get("id") if isinstance(req, dict) else None
                params = req.get("params") if isinstance(req, dict) else None
                method = req.get("method") if isinstance(req, dict) else None
                cmd = params.get("cmd") if isinstance(params, dict) else None
                if not isinstance(req, dict) or req.get("jsonrpc") != "2.0" or not isinstance(cmd, str):
                    replies.append(_rpc_error(-32600, "Invalid Request", None, req_id))
                    failed = True
                    break
                if method not in ("cli", "cli_ascii"):
                    replies.append(_rpc_error(-32601, "Method not found", None, req_id))
                    failed = True
                    break
                try:
                    result = run.command(cmd, method == "cli_ascii")
                except CliError as exc:
                    replies.append(_rpc_error(-32602, "Invalid params", exc.msg, req_id))
                    failed = True
                    break
                replies.append({"jsonrpc": "2.0", "result": result, "id": req_id})
            if run.config_changed:
                self.changed_at = time.time()
                LOG.info("%s: running-config changed (%d lines applied)", self.name, run.config_changed)
                self._committed()
        if run.config_changed or run.restored:
            self._running_changed()
        return replies, failed


def _rpc_error(code: int, message: str, msg: str | None, req_id: Any) -> dict:
    error: dict[str, Any] = {"code": code, "message": message}
    if msg is not None:
        error["data"] = {"msg": msg}
    return {"jsonrpc": "2.0", "error": error, "id": req_id}


def default_config(name: str) -> str:
    """What a freshly booted Nexus 9300v shows (abridged), with ``name`` as hostname."""
    return (
        f"hostname {name}\n"
        "feature nxapi\n"
        "no password strength-check\n"
        "ip domain-lookup\n"
        "copp profile strict\n"
        "vlan 1\n"
        "vrf context management\n"
        "interface mgmt0\n"
        "  vrf member management\n"
        "line console\n"
        "line vty\n"
        f"boot nxos bootflash:/{NXOS_IMAGE}\n"
    )


def _file_name(name: str) -> str:
    m = re.fullmatch(r"(?:bootflash:(?:/{1,3})?)?([A-Za-z0-9_.+-]+)", name)
    if not m:
        raise CliError(INVALID)
    return "bootflash:" + m.group(1)


def _expand(word: str, choices: tuple[str, ...]) -> str | None:
    """NX-OS accepts any unambiguous prefix of a keyword (``run`` for ``running-config``)."""
    if word in choices:
        return word
    found = [c for c in choices if c.startswith(word)]
    return found[0] if len(found) == 1 else None


class _Run:
    """The CLI context of one NX-API request: exec mode until a configuration command comes."""

    def __init__(self, dev: Device):
        self.dev = dev
        self.frames: list[_Frame] | None = None
        self.config_changed = 0
        self.restored = False

    # -- dispatch --------------------------------------------------------------------------
    def command(self, text: str, ascii_out: bool) -> Any:
        if ";" in text:
            raise CliError(SPECIAL_CHARS)
        words = text.split()
        if not words or words[0].startswith("!"):
            return None
        if len(words) > 1 and words[0] == "do":
            words = words[1:]
        first = _expand(words[0], ("show", "copy", "checkpoint", "rollback", "dir", "delete", "terminal"))
        if first == "show":
            return self.show(words, ascii_out)
        if first in ("copy", "checkpoint", "rollback", "dir", "delete"):
            return self.out(self.exec_command(first, words), ascii_out)
        if first == "terminal" or words[:2] == ["no", "terminal"]:
            args = words[1:] if first == "terminal" else words[2:]
            if not args or args[0] not in ("dont-ask", "length", "width", "session-timeout", "monitor"):
                raise CliError(INCOMPLETE if not args else INVALID)
            return self.out("", ascii_out)
        if words[0] in ("configure", "config", "conf") and len(words) <= 2:
            if len(words) == 2 and not "terminal".startswith(words[1]):
                raise CliError(INVALID)
            self.frames = [_Frame("", [self.dev._running])]
            return None
        if text.strip() == "end":
            self.frames = None
            return None
        if text.strip() == "exit":
            if self.frames is not None:
                self.frames.pop()
                if not self.frames:
                    self.frames = None
            return None
        if self.frames is None:  # a configuration command: NX-API enters configuration mode
            self.frames = [_Frame("", [self.dev._running])]
        self.config_line(text.strip())
        self.config_changed += 1
        return None

    @staticmethod
    def out(text: str, ascii_out: bool) -> Any:
        return {"msg": text} if ascii_out else None

    # -- exec commands ---------------------------------------------------------------------
    def exec_command(self, first: str, words: list[str]) -> str:
        dev = self.dev
        args = words[1:]
        if first == "checkpoint":
            if len(args) == 2 and args[0] == "file":
                name = _file_name(args[1])
                dev._files[name] = (clone_tree(dev._running), time.time())
                LOG.info("%s: checkpoint file %s", dev.name, name)
                return "Done\n"
            raise CliError(INCOMPLETE if len(args) < 2 else INVALID)
        if first == "rollback":
            if len(args) >= 3 and _expand(args[0], ("running-config",)) and args[1] == "file":
                extra = args[3:]
                if extra and extra[0] not in ("atomic", "best-effort", "stop-at-first-failure", "verbose"):
                    raise CliError(INVALID)
                name = _file_name(args[2])
                if name not in dev._files:
                    raise CliError(f"{NO_SUCH_FILE}\n")
                dev._running[:] = clone_tree(dev._files[name][0])
                dev.changed_at = time.time()
                self.restored = True
                LOG.info("%s: rollback running-config file %s", dev.name, name)
                return ROLLBACK_OK
            raise CliError(INCOMPLETE if len(args) < 3 else INVALID)
        if first == "copy":
            if len(args) != 2:
                raise CliError(INCOMPLETE if len(args) < 2 else INVALID)
            src = _expand(args[0], ("running-config", "startup-config"))
            dst = _expand(args[1], ("running-config", "startup-config"))
            if src == "running-config" and dst == "startup-config":
                dev._startup = clone_tree(dev._running)
                dev.saved_at = time.time()
                LOG.info("%s: copy running-config startup-config", dev.name)
                return COPY_OK
            if src == "running-config" and dst is None:
                dev._files[_file_name(args[1])] = (clone_tree(dev._running), time.time())
                return "Copy complete.\n"
            raise CliError(INVALID)
        if first == "dir":
            if len(args) > 1:
                raise CliError(INVALID)
            names = sorted(dev._files) if not args else [_file_name(args[0])]
            if args and names[0] not in dev._files:
                return f"{NO_SUCH_FILE}\n"
            rows = []
            for name in names:
                stamp = time.strftime("%b %d %H:%M:%S %Y", time.localtime(dev._files[name][1]))
                rows.append(f"{len(dev.file_text(name)):>11}    {stamp}  {name.split(':', 1)[1]}")
            used = sum(len(dev.file_text(n)) for n in dev._files)
            return (
                "\n".join(rows) + "\n\nUsage for bootflash://sup-local\n"
                f" {used + 2147483648} bytes used\n {5000000000 - used} bytes free\n 7147483648 bytes total\n"
            )
        if first == "delete":
            if not args or len(args) > 2 or (len(args) == 2 and args[1] != "no-prompt"):
                raise CliError(INCOMPLETE if not args else INVALID)
            name = _file_name(args[0])
            if name not in dev._files:
                raise CliError(f"{NO_SUCH_FILE}\n")
            del dev._files[name]
            return ""
        raise CliError(INVALID)

    # -- configuration lines ---------------------------------------------------------------
    def config_line(self, text: str) -> None:
        frames = self.frames
        assert frames is not None
        words = text.split()
        negate = words[0] in ("no", "default")
        body = words[1:] if negate else words
        if not body:
            raise CliError(INCOMPLETE)
        for depth in range(len(frames) - 1, -1, -1):
            frame = frames[depth]
            rule = SCHEMA.find(frame.kind, body)
            if rule is None:
                expanded = SCHEMA.expand(frame.kind, body)
                rule = SCHEMA.find(frame.kind, expanded)
                if rule is None:
                    continue
                body = expanded
            prefix, min_words, norm, section, feature = rule
            ctx = _Ctx(self.dev, negate, frame)
            if feature and not ctx.feature_on(feature):
                continue  # the command does not exist until its feature is enabled
            if len(body) < (len(prefix) if negate else min_words):
                raise CliError(INCOMPLETE)
            del frames[depth + 1 :]
            if section:
                self.section(frame, section, body, ctx, norm, words[0] == "default")
            else:
                line = (norm or _plain)(body, ctx)
                if line:
                    self.apply(frame, line, negate, shown=words[0] == "no")
            return
        raise CliError(INVALID)

    def apply(self, frame: _Frame, line: str, negate: bool, shown: bool) -> None:
        kind = frame.kind
        key = line_key(line)
        for siblings in frame.targets:
            if line.startswith("hostname") and negate:
                _set_line(siblings, "hostname switch")
            elif line.startswith("feature ") and negate:
                _remove(siblings, line)
                name = line[8:]
                for pattern in FEATURE_SECTIONS.get(name, ()):
                    _strip_feature(siblings, (pattern,))
            elif line.startswith("snmp-server community ") and negate:
                if not _remove(siblings, line):
                    raise CliError("SNMP community entry not found.")
            elif negate:
                _remove(siblings, line)
                if shown and (kind, key) in SHOWN_NEGATIONS:
                    _set_line(siblings, "no " + line)
            elif (kind, key) in DEFAULT_POSITIVES:
                _remove(siblings, "no " + line)
            else:
                _set_line(siblings, line)
                if kind.startswith("interface") and line.startswith("channel-group "):
                    self.ensure_port_channel(line.split()[1])

    def ensure_port_channel(self, number: str) -> None:
        root = self.dev._running
        if not any(n.line == f"interface port-channel{number}" for n in root):
            root.append(Node(f"interface port-channel{number}"))

    def section(self, frame: _Frame, kind: str, body: list[str], ctx: _Ctx, norm, default: bool) -> None:
        dev = self.dev
        if kind == "interface":
            itype, rest = canonical_interface(body[1:])
            line = f"interface {itype}{rest}"
            if itype != "Ethernet" and not rest.isdigit():
                raise CliError(INVALID)
            if itype == "Ethernet":
                m = re.fullmatch(r"1/(\d+)(?:\.(\d+))?", rest)
                if not m or not 1 <= int(m.group(1)) <= dev.ethernet_ports:
                    raise CliError(INVALID)
                physical = m.group(2) is None
            elif itype == "mgmt":
                if rest != "0":
                    raise CliError(INVALID)
                physical = True
            elif itype == "Vlan":
                if not ctx.feature_on("interface-vlan"):
                    raise CliError(INVALID)
                if not 1 <= int(rest) <= 4094:
                    raise _range_error(1, 4094)
                physical = False
                kind = "interface-svi"
            elif itype == "loopback":
                if not 0 <= int(rest) <= 1023:
                    raise _range_error(0, 1023)
                physical = False
            elif itype == "port-channel":
                if not 1 <= int(rest) <= 4096:
                    raise _range_error(1, 4096)
                physical = False
            elif itype == "nve" and ctx.feature_on("nv overlay") and rest == "1":
                physical = False
            else:
                raise CliError(INVALID)
            lines = [line]
        elif kind == "vlan":
            ids = []
            for part in "".join(body[1:]).split(","):
                m = re.fullmatch(r"(\d+)(?:-(\d+))?", part)
                if not m:
                    raise CliError(INVALID)
                low, high = int(m.group(1)), int(m.group(2) or m.group(1))
                if not (1 <= low <= 4094 and 1 <= high <= 4094) or high < low:
                    raise _range_error(1, 4094)
                ids.extend(range(low, high + 1))
            lines = [f"vlan {i}" for i in ids]
            physical = False
        else:
            lines = [(norm or _plain)(body, ctx)]
            physical = False
        root = frame.targets[0]
        if ctx.negate:
            if (kind.startswith("interface") and physical) or lines == ["vlan 1"]:
                if not default:
                    raise CliError(INVALID)
            for line in lines:
                for siblings in frame.targets:
                    if default and physical:
                        for node in siblings:
                            if node.line == line:
                                node.children[:] = [Node("vrf member management")] if line == "interface mgmt0" else []
                    else:
                        siblings[:] = [n for n in siblings if n.line != line]
            del self.frames[self.frames.index(frame) + 1 :]
            return
        targets = []
        for line in lines:
            node = next((n for n in root if n.line == line), None)
            if node is None:
                node = Node(line)
                root.append(node)
            targets.append(node.children)
        self.frames.append(_Frame(kind, targets))

    # -- show ------------------------------------------------------------------------------
    def show(self, words: list[str], ascii_out: bool) -> Any:
        dev = self.dev
        if len(words) < 2:
            raise CliError(INCOMPLETE)
        what = _expand(
            words[1], ("hostname", "version", "inventory", "interface", "running-config", "startup-config", "file")
        )
        args = words[2:]
        if what == "hostname" and not args:
            domain = dev.domain()
            fqdn = f"{dev.hostname}.{domain}" if domain else dev.hostname
            return {"msg": f"{fqdn} \n"} if ascii_out else {"body": {"hostname": fqdn}}
        if what == "version" and not args:
            return {"msg": self.version_text()} if ascii_out else {"body": self.version_json()}
        if what == "inventory" and not args:
            return {"msg": self.inventory_text()} if ascii_out else {"body": self.inventory_json()}
        if what == "interface" and not args:
            return {"msg": self.interface_text()} if ascii_out else {"body": self.interface_json()}
        if what == "running-config" and args in ([], ["all"]):
            if not ascii_out:
                raise CliError(STRUCTURED_UNSUPPORTED)
            return {"msg": dev.render("running", full=bool(args))}
        if what == "startup-config" and not args:
            if not ascii_out:
                raise CliError(STRUCTURED_UNSUPPORTED)
            return {"msg": dev.render("startup")}
        if what == "file" and len(args) == 1:
            if not ascii_out:
                raise CliError(STRUCTURED_UNSUPPORTED)
            name = _file_name(args[0])
            if name not in dev._files:
                raise CliError(f"{NO_SUCH_FILE}\n")
            return {"msg": dev.file_text(name)}
        raise CliError(INVALID if what is None or args else INCOMPLETE)

    def uptime_parts(self) -> tuple[int, int, int, int]:
        secs = int(self.dev.uptime())
        return secs // 86400, secs // 3600 % 24, secs // 60 % 60, secs % 60

    def version_json(self) -> dict:
        dev = self.dev
        days, hrs, mins, secs = self.uptime_parts()
        return {
            "header_str": "Cisco Nexus Operating System (NX-OS) Software\nTAC support: http://www.cisco.com/tac\n"
            "Copyright (C) 2002-2023, Cisco and/or its affiliates.\nAll rights reserved.\n",
            "bios_ver_str": "",
            "kickstart_ver_str": NXOS_VERSION,
            "nxos_ver_str": NXOS_VERSION,
            "bios_cmpl_time": "",
            "kick_file_name": f"bootflash:///{NXOS_IMAGE}",
            "nxos_file_name": f"bootflash:///{NXOS_IMAGE}",
            "kick_cmpl_time": "12/7/2023 23:00:00",
            "nxos_cmpl_time": "12/7/2023 23:00:00",
            "kick_tmstmp": "12/08/2023 08:22:59",
            "nxos_tmstmp": "12/08/2023 08:22:59",
            "chassis_id": CHASSIS,
            "cpu_name": "Intel(R) Xeon(R) CPU E5-2699 v4 @ 2.20GHz",
            "memory": 16400328,
            "mem_type": "kB",
            "proc_board_id": dev.serial_number,
            "host_name": dev.hostname,
            "bootflash_size": 4287040,
            "kern_uptm_days": days,
            "kern_uptm_hrs": hrs,
            "kern_uptm_mins": mins,
            "kern_uptm_secs": secs,
            "rr_reason": "Unknown",
            "rr_sys_ver": "",
            "rr_service": None,
            "plugins": "Core Plugin, Ethernet Plugin",
            "manufacturer": "Cisco Systems, Inc.",
        }

    def version_text(self) -> str:
        dev = self.dev
        days, hrs, mins, secs = self.uptime_parts()
        return (
            "Cisco Nexus Operating System (NX-OS) Software\nTAC support: http://www.cisco.com/tac\n\n"
            f"Software\n  BIOS: version \n  NXOS: version {NXOS_VERSION}\n"
            f"  NXOS image file is: bootflash:///{NXOS_IMAGE}\n\n"
            f"Hardware\n  {CHASSIS}\n  Processor Board ID {dev.serial_number}\n\n"
            f"  Device name: {dev.hostname}\n  bootflash:    4287040 kB\n\n"
            f"Kernel uptime is {days} day(s), {hrs} hour(s), {mins} minute(s), {secs} second(s)\n"
        )

    def inventory_json(self) -> dict:
        serial = self.dev.serial_number
        return {
            "TABLE_inv": {
                "ROW_inv": [
                    {
                        "name": "Chassis",
                        "desc": "Nexus9000 C9300v Chassis",
                        "productid": PRODUCT_ID,
                        "vendorid": "V02",
                        "serialnum": serial,
                    },
                    {
                        "name": "Slot 1",
                        "desc": "Nexus 9000v 64 port Ethernet Module",
                        "productid": PRODUCT_ID,
                        "vendorid": "V02",
                        "serialnum": serial,
                    },
                ]
            }
        }

    def inventory_text(self) -> str:
        rows = self.inventory_json()["TABLE_inv"]["ROW_inv"]
        return "".join(
            f'NAME: "{r["name"]}",  DESCR: "{r["desc"]}"\n'
            f"PID: {r['productid']:<20} ,  VID: {r['vendorid']} ,  SN: {r['serialnum']}\n\n"
            for r in rows
        )

    def interfaces(self) -> list[Node]:
        return sorted((n for n in self.dev._running if n.line.startswith("interface ")), key=_rank)

    def interface_json(self) -> dict:
        rows = []
        for node in self.interfaces():
            name = node.line.split(None, 1)[1]
            lines = [c.line for c in node.children]
            desc = next((ln.split(None, 1)[1] for ln in lines if ln.startswith("description ")), None)
            mtu = next((ln.split()[1] for ln in lines if ln.startswith("mtu ")), "1500")
            if name.startswith("Vlan"):
                up = "no shutdown" in lines
                row: dict[str, Any] = {
                    "interface": name,
                    "svi_admin_state": "up" if up else "down",
                    "svi_line_proto": "up" if up else "down",
                    "svi_mac": self.dev.mac,
                    "svi_mtu": int(mtu),
                    "svi_bw": 1000000,
                }
                if desc is not None:
                    row["svi_desc"] = desc
            else:
                up = "shutdown" not in lines
                row = {
                    "interface": name,
                    "state": "up" if up else "down",
                    "admin_state": "up" if up else "down",
                    "eth_hw_desc": "100/1000/10000 Ethernet" if name.startswith("Ethernet") else "Ethernet",
                    "eth_hw_addr": self.dev.mac,
                    "eth_bia_addr": self.dev.mac,
                    "eth_mtu": mtu,
                    "eth_bw": 1000000 if not name.startswith("loopback") else 8000000,
                    "eth_duplex": "full",
                    "eth_speed": "1000 Mb/s",
                    "eth_link_flapped": "never",
                }
                if not up:
                    row["state_rsn_desc"] = "Administratively down"
                if desc is not None:
                    row["desc"] = desc
            for ln in lines:
                m = re.fullmatch(r"ip address (\S+)/(\d+)", ln)
                if m:
                    iface = ipaddress.IPv4Interface(f"{m.group(1)}/{m.group(2)}")
                    row.update(eth_ip_addr=m.group(1), eth_ip_mask=int(m.group(2)), eth_ip_prefix=str(iface.network[0]))
            rows.append(row)
        return {"TABLE_interface": {"ROW_interface": rows if len(rows) != 1 else rows[0]}}

    def interface_text(self) -> str:
        out = []
        for row in self.interface_json()["TABLE_interface"]["ROW_interface"]:
            state = row.get("state", row.get("svi_admin_state"))
            out.append(f"{row['interface']} is {state}\nadmin state is {row.get('admin_state', state)}\n")
        return "\n".join(out)


# ---------------------------------------------------------------------------------------------
# HTTP: NX-API per device (listeners, lifecycle, control API and CLI: lab/simulator/common.py)
# ---------------------------------------------------------------------------------------------
class NxosSimulator(HttpSimulator):
    """NX-API devices in one asyncio loop: one listening socket per device, one shared aiohttp app
    (the API, the control API and the command line: ``HttpSimulator``/``Simulator`` in common.py).

    ``follow_management_address``: a device answers on the address of ``interface mgmt0`` in its
    running-config, as a real switch does: when a configuration batch (or a rollback, or a reset)
    changes that address, the device stops answering on the old one and listens on the new one (same
    port). A device whose configuration has no mgmt0 address stays where it is.
    A device takes one option, ``ethernet_ports`` (1..64, default 8).
    """

    NAME = "nxos-sim"
    DESCRIPTION = "Cisco NX-OS NX-API simulator (many devices, one process)"
    CREDENTIAL_ENV = "NXOS_SIM_PASSWORD"
    DEFAULT_PORT = DEFAULT_PORT
    DEFAULT_CONTROL_PORT = DEFAULT_CONTROL_PORT
    DEVICE_OPTIONS = ("ethernet_ports",)
    log = LOG

    def _new_device(
        self, name: str, address: str, port: int, running_config: str | None, ethernet_ports: int | None = None
    ) -> Device:
        return Device(name, address, port, running_config, ethernet_ports or DEFAULT_ETHERNET_PORTS)

    def _routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/ins", self._handle_nxapi)

    def _not_here(self, request: web.Request) -> web.StreamResponse:
        # an address the device just left: nobody answers there
        if request.transport is not None:
            request.transport.abort()
        raise web.HTTPServiceUnavailable()

    def _auth_failed(self) -> web.Response:
        return web.Response(
            status=401,
            text=AUTH_FAILED_BODY,
            content_type="text/html",
            headers={"WWW-Authenticate": 'Basic realm="Secure Zone"'},
        )

    # -- NX-API handler --------------------------------------------------------------------
    async def _handle_nxapi(self, request: web.Request) -> web.StreamResponse:
        dev, refused = await self._gate(request)
        if refused is not None:
            return refused
        if request.method != "POST":
            raise web.HTTPMethodNotAllowed(request.method, ["POST"])
        if request.content_type != "application/json-rpc":
            # JSON-RPC only: the "ins_api" JSON/XML message formats are not simulated
            reply = _rpc_error(-32600, "Invalid Request", "content-type must be application/json-rpc\n", None)
            return web.json_response(reply, status=400, content_type="application/json-rpc")
        try:
            payload = json.loads(await request.read())
        except ValueError:
            return web.json_response(
                _rpc_error(-32700, "Parse error", None, None), status=500, content_type="application/json-rpc"
            )
        batch = isinstance(payload, list)
        items = payload if batch else [payload]
        if not items:
            return web.json_response(
                _rpc_error(-32600, "Invalid Request", None, None), status=500, content_type="application/json-rpc"
            )
        replies, failed = dev.execute(items)
        if LOG.isEnabledFor(logging.DEBUG):
            shown = [
                f"{i.get('method')}:{redact(str((i.get('params') or {}).get('cmd', '')))}"
                for i in items
                if isinstance(i, dict) and isinstance(i.get("params"), dict)
            ]
            LOG.debug("%s: %s: %s -> %s", dev.name, request.remote, shown, "error" if failed else "ok")
        if self.follow_management_address and dev.management_address() not in (None, dev.address):
            # the old address stops answering at once (this reply still goes out); the device listens
            # on the new one a moment later (_follow_management)
            self._by_socket.pop((dev.address, dev.port), None)
        dev.take_silence()
        body = replies if batch else replies[0]
        return web.json_response(body, status=500 if failed else 200, content_type="application/json-rpc")


def main(argv: list[str] | None = None) -> int:
    """``python -m lab.simulator.nxos_sim --config sim.json [--control-port 9078] [--log-level INFO]``."""
    return NxosSimulator.main(argv)


if __name__ == "__main__":
    sys.exit(main())
