#!/usr/bin/env python3
"""Cisco IOS-XE simulator (a Catalyst 9300 on 17.9): one process (threads) serving many stateful devices
over SSH.

Each device listens on its own address/port and serves an interactive CLI on an SSH shell channel (a pty,
echo, prompts, ``terminal length 0``/``terminal width 511``, ``enable``, ``configure terminal`` and its
sub-modes) plus an SCP sink/source on an SSH exec channel (``scp -t flash:/merge_config.txt``): what the
real NAPALM ``ios`` driver sends through netmiko (``cisco_ios``) and its ``FileTransfer``. A flash file
system, ``copy`` (to and from running-config, startup-config, flash and ``null:``), ``show archive config
incremental-diffs``, ``configure replace``, the archive and its Rollback Confirmed Change (``configure
terminal revert timer N``, ``configure confirm``, ``configure revert now``). Configuration lines go through
an IOS-like parser (keywords by unique prefix, typed arguments, parent-mode fallback): a line IOS would not
accept is refused with IOS's own ``% Invalid input detected at '^' marker.`` / ``% Incomplete command.`` /
``% Ambiguous command``. See ios.md beside this file.

Use from tests (``IosSimulator``) and from the command line (``python -m lab.simulator.ios_sim``): ios.md.
Registry, listeners (``SshSimulator``), control API and command line: common.py.
"""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
import logging
import re
import shlex
import sys
import threading
import time
from typing import Any, NamedTuple

import paramiko

from lab.simulator.common import SessionDropped, SessionFaults, SimDevice, SshLogin, SshSimulator

LOG = logging.getLogger("ios_sim")

XE_VERSION = "17.09.04a"  # "Cisco IOS XE Software, Version ..."
IOS_VERSION = "17.9.4a"  # the IOS train's spelling
CONFIG_VERSION = "17.9"  # "version 17.9" in the configuration
DEFAULT_PORT = 8022
DEFAULT_CONTROL_PORT = 9076
DEFAULT_PORTS = 24
BOOTED_BEFORE = 300
MGMT_INTERFACE = "GigabitEthernet0/0"
MGMT_VRF = "Mgmt-vrf"
FLASH_TOTAL = 11353194496
FLASH_USED_BASE = 2609713152  # the image, its packages, crashinfo...
NVRAM_SIZE = 2097152
ARCHIVE_DEFAULT_MAXIMUM = 10
REVERT_MAX_MINUTES = 120
SSH_VERSION = "SSH-2.0-Cisco-1.25"
HANGUP_WAIT = 2.0  # seconds a session ended by "exit" waits for its client to hang up

INVALID = "% Invalid input detected at '^' marker."
INCOMPLETE = "% Incomplete command."
NO_ARCHIVE = "Archive feature not enabled"
ARCHIVE_OFF = "%Please turn config archive on before using Rollback Confirmed Change"
NO_PENDING = "%No Rollback Confirmed Change pending"
L2_NO_IP = "% IP addresses may not be configured on L2 links."
NEED_REMOTE_AS = "% Specify remote-as or peer-group commands first"
BAD_HOSTNAME = "% Hostname contains one or more illegal characters."
ENTER_CONFIG = "Enter configuration commands, one per line.  End with CNTL/Z."
NOT_MODELED = "% The IOS simulator does not model this command"


class Word(NamedTuple):
    text: str
    start: int


def split_words(line: str) -> list[Word]:
    return [Word(m.group(0), m.start()) for m in re.finditer(r"\S+", line)]


class CmdError(Exception):
    """A line IOS refuses: its message as IOS prints it, and the caret column (None: no caret line)."""

    def __init__(self, message: str, pos: int | None = None):
        super().__init__(message)
        self.message = message
        self.pos = pos

    def lines(self, prompt_len: int = 0) -> list[str]:
        if self.pos is None:
            return [self.message]
        return [" " * (prompt_len + self.pos) + "^", self.message]


def invalid_at(words: list[Word], index: int, line: str) -> CmdError:
    return CmdError(INVALID, words[index].start if index < len(words) else len(line.rstrip()))


# ---------------------------------------------------------------------------------------------
# Time formats
# ---------------------------------------------------------------------------------------------
def ios_time(epoch: float) -> str:
    """``13:50:47 UTC Mon Feb 5 2024`` (IOS's clock format, no padding of the day)."""
    t = time.gmtime(epoch)
    return time.strftime("%H:%M:%S UTC %a %b ", t) + f"{t.tm_mday} " + time.strftime("%Y", t)


def dir_time(epoch: float) -> str:
    """``Feb 5 2024 13:50:47 +00:00`` (``dir`` on IOS-XE)."""
    t = time.gmtime(epoch)
    return time.strftime("%b ", t) + f"{t.tm_mday} " + time.strftime("%Y %H:%M:%S", t) + " +00:00"


def archive_stamp(epoch: float) -> str:
    """``Jan--6-12-49-44.412-UTC`` (archive file names: the day padded to 2 with ``-``)."""
    t = time.gmtime(epoch)
    millis = int((epoch % 1) * 1000)
    return (
        time.strftime("%b-", t)
        + f"{t.tm_mday:>2}".replace(" ", "-")
        + time.strftime("-%H-%M-%S", t)
        + f".{millis:03d}-UTC"
    )


# ---------------------------------------------------------------------------------------------
# Interfaces
# ---------------------------------------------------------------------------------------------
IF_TYPES = ("GigabitEthernet", "TenGigabitEthernet", "Loopback", "Vlan", "Port-channel", "Tunnel")
IF_ORDER = {"Loopback": 0, "Port-channel": 1, "Tunnel": 2, "GigabitEthernet": 3, "TenGigabitEthernet": 4, "Vlan": 5}
_IFNUM = re.compile(r"\d+(?:/\d+){0,2}$")
VIRTUAL_RANGES = {"Loopback": (0, 2147483647), "Vlan": (1, 4094), "Port-channel": (1, 128), "Tunnel": (0, 2147483647)}


def split_ifname(name: str) -> tuple[str, str]:
    m = re.match(r"([A-Za-z-]+)(.*)$", name)
    return (m.group(1), m.group(2)) if m else ("", name)


def parse_ifname(words: list[Word], i: int) -> tuple[str, int] | None:
    """An interface name from one word (``Gi1/0/1``) or two (``GigabitEthernet 1/0/1``): (canonical, words)."""
    typ, num = split_ifname(words[i].text)
    used = 1
    if not typ:
        return None
    if not num and i + 1 < len(words) and words[i + 1].text[:1].isdigit():
        num, used = words[i + 1].text, 2
    found = [t for t in IF_TYPES if t.lower() == typ.lower()] or [
        t for t in IF_TYPES if t.lower().startswith(typ.lower())
    ]
    if len(found) != 1 or not _IFNUM.match(num):
        return None
    return found[0] + num, used


def if_sort_key(name: str) -> tuple:
    typ, num = split_ifname(name)
    return (IF_ORDER.get(typ, 9), tuple(int(p) for p in re.findall(r"\d+", num)))


def physical_interfaces(ports: int) -> list[str]:
    names = [MGMT_INTERFACE] + [f"GigabitEthernet1/0/{n}" for n in range(1, ports + 1)]
    return names + [f"TenGigabitEthernet1/1/{n}" for n in range(1, 5)]


def is_routed_only(name: str) -> bool:
    """Interfaces that are never switchports: the management port and the virtual L3 ones."""
    typ = split_ifname(name)[0]
    return name == MGMT_INTERFACE or typ in ("Loopback", "Vlan", "Tunnel")


# ---------------------------------------------------------------------------------------------
# Configuration tree
# ---------------------------------------------------------------------------------------------
class Node:
    """One configuration line. ``key`` identifies it among its siblings (a line whose key exists replaces
    it); ``children`` is a list for a mode-entering line (a section), None for a plain line; ``mode`` the
    mode a section enters; ``text`` a banner's lines."""

    __slots__ = ("line", "key", "children", "mode", "text")

    def __init__(self, line: str, key: tuple, children: list[Node] | None = None, mode: str | None = None):
        self.line = line
        self.key = key
        self.children = children
        self.mode = mode
        self.text: str | None = None  # a banner's text (between its delimiters)

    def clone(self) -> Node:
        node = Node(self.line, self.key, None if self.children is None else [c.clone() for c in self.children])
        node.mode = self.mode
        node.text = self.text
        return node


def clone_tree(nodes: list[Node]) -> list[Node]:
    return [n.clone() for n in nodes]


def find(nodes: list[Node], key: tuple) -> Node | None:
    for node in nodes:
        if node.key == key:
            return node
    return None


_GLOBAL_RANK = (
    ("version", 0),
    ("service", 1),
    ("platform", 2),
    ("hostname", 3),
    ("boot-start-marker", 4),
    ("boot system", 5),
    ("boot-end-marker", 6),
    ("vrf definition", 7),
    ("logging", 8),
    ("enable", 9),
    ("aaa", 10),
    ("clock", 11),
    ("switch", 12),
    ("ip routing", 13),
    ("ip domain", 14),
    ("ip host", 14),
    ("ip name-server", 14),
    ("login", 15),
    ("file prompt", 16),
    ("archive", 17),
    ("diagnostic", 18),
    ("license", 19),
    ("username", 21),
    ("redundancy", 22),
    ("transceiver", 23),
    ("lldp", 24),
    ("cdp", 24),
    ("spanning-tree", 25),
    ("vlan", 26),
    ("interface", 27),
    ("router", 28),
    ("ip forward-protocol", 29),
    ("ip http", 30),
    ("ip route", 31),
    ("ip scp", 32),
    ("ip ssh", 33),
    ("snmp-server", 34),
    ("control-plane", 35),
    ("banner", 36),
    ("line", 37),
    ("ntp", 38),
)
_CHILD_RANK = {
    "if": (
        ("description", 0),
        ("no switchport", 9),
        ("switchport access", 10),
        ("switchport trunk native", 11),
        ("switchport trunk allowed", 12),
        ("switchport mode", 13),
        ("switchport nonegotiate", 14),
        ("bandwidth", 19),
        ("vrf forwarding", 20),
        ("ip address", 21),
        ("ip helper-address", 22),
        ("ip ospf", 23),
        ("ipv6", 24),
        ("shutdown", 30),
        ("speed", 31),
        ("duplex", 32),
        ("mtu", 33),
        ("negotiation", 34),
        ("load-interval", 35),
        ("channel-group", 40),
        ("spanning-tree", 50),
        ("service-policy", 60),
    ),
    "bgp": (("bgp", 0), ("neighbor", 1), ("network", 2), ("address-family", 9)),
    "ospf": (
        ("router-id", 0),
        ("log-adjacency-changes", 1),
        ("auto-cost", 2),
        ("passive-interface", 3),
        ("network", 4),
    ),
    "vrf": (("description", 0), ("rd", 1), ("address-family", 9)),
    "archive": (("log config", 0), ("path", 1), ("maximum", 2), ("write-memory", 3), ("time-period", 4)),
}
_LINE_ORDER = {"con": 0, "aux": 1, "vty": 2}


def _prefix_rank(table: tuple, line: str) -> int | None:
    text = line[3:] if line.startswith("no ") else line
    for prefix, rank in table:
        if text == prefix or text.startswith(prefix + " "):
            return rank
    if line.startswith("no "):  # "no switchport" is ranked as itself
        for prefix, rank in table:
            if line == prefix or line.startswith(prefix + " "):
                return rank
    return None


def rank(mode: str, node: Node) -> tuple:
    """Where ``show running-config`` puts a line among its siblings (IOS renders by feature, not by entry
    order); lines of equal rank keep the order they were entered in."""
    line = node.line
    if mode == "global":
        r = _prefix_rank(_GLOBAL_RANK, line)
        r = 40 if r is None else r
        if line.startswith("interface "):
            return (r, if_sort_key(line.split(" ", 1)[1]))
        if line.startswith("vlan "):
            return (r, (int(line.split()[1]),))
        if line.startswith("line "):
            words = line.split()
            return (r, (_LINE_ORDER.get(words[1], 9), int(words[2])))
        return (r, ())
    table = _CHILD_RANK.get(mode)
    if table is None:
        return (0, ())
    r = _prefix_rank(table, line)
    return (50 if r is None else r, ())


def insert(siblings: list[Node], node: Node, mode: str) -> None:
    want = rank(mode, node)
    for index, sibling in enumerate(siblings):
        if rank(mode, sibling) > want:
            siblings.insert(index, node)
            return
    siblings.append(node)


# ---------------------------------------------------------------------------------------------
# Grammar: typed command patterns, keywords matched by unique prefix, as the IOS parser does
# ---------------------------------------------------------------------------------------------
class Elem:
    """One element of a pattern: a keyword (alternatives), a typed parameter, or an optional group."""

    __slots__ = ("kind", "alts", "ptype", "lo", "hi", "many", "group")

    def __init__(self, kind: str, alts=(), ptype="", lo=0, hi=0, many=False, group=None):
        self.kind = kind
        self.alts = alts
        self.ptype = ptype
        self.lo = lo
        self.hi = hi
        self.many = many
        self.group = group or []


def compile_pattern(pattern: str) -> list[Elem]:
    tokens = pattern.replace("[", " [ ").replace("]", " ] ").split()

    def parse(i: int) -> tuple[list[Elem], int]:
        out: list[Elem] = []
        while i < len(tokens):
            tok = tokens[i]
            if tok == "[":
                group, i = parse(i + 1)
                out.append(Elem("opt", group=group))
                continue
            if tok == "]":
                return out, i + 1
            if tok.startswith("<"):
                many = tok.endswith("+")
                body = tok.strip("<>+")
                ptype, _, span = body.partition(":")
                lo = hi = 0
                if span:
                    a, _, b = span.rpartition("-") if span.count("-") > 1 else span.partition("-")
                    lo, hi = int(a), int(b)
                out.append(Elem("param", ptype=ptype, lo=lo, hi=hi, many=many))
            else:
                out.append(Elem("kw", alts=tuple(tok.split("|"))))
            i += 1
        return out, i

    return parse(0)[0]


_V4 = re.compile(r"(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$")


def is_ipv4(text: str) -> bool:
    return bool(_V4.match(text))


def _param(elem: Elem, words: list[Word], i: int, line: str) -> tuple[str, int] | None:
    text = words[i].text
    kind = elem.ptype
    if kind == "word":
        return text, 1
    if kind == "line":
        return line[words[i].start :].rstrip(), len(words) - i
    if kind == "int":
        if not re.fullmatch(r"-?\d+", text) or not elem.lo <= int(text) <= elem.hi:
            return None
        return str(int(text)), 1
    if kind in ("ip", "mask", "wild"):
        return (text, 1) if is_ipv4(text) else None
    if kind == "addr":
        return (text, 1) if is_ipv4(text) or re.fullmatch(r"[A-Za-z][A-Za-z0-9.-]*", text) else None
    if kind == "host":
        return text, 1
    if kind == "ifname":
        return parse_ifname(words, i)
    if kind == "asn":
        if re.fullmatch(r"\d+", text) and 1 <= int(text) <= 4294967295:
            return str(int(text)), 1
        return (text, 1) if re.fullmatch(r"\d+\.\d+", text) else None
    if kind == "area":
        if re.fullmatch(r"\d+", text) and int(text) <= 4294967295:
            return str(int(text)), 1
        return (text, 1) if is_ipv4(text) else None
    if kind == "vlans":
        return (text, 1) if re.fullmatch(r"\d+(-\d+)?(,\d+(-\d+)?)*|all|none", text) else None
    if kind == "ipv6":
        return (text.upper(), 1) if re.fullmatch(r"[0-9A-Fa-f:]+(/\d{1,3})?|autoconfig", text) else None
    raise ValueError(f"unknown parameter type {kind}")


class _Probe:
    """How far the best attempt went: the word where matching failed, and whether it was ambiguous."""

    __slots__ = ("fail", "ambiguous")

    def __init__(self) -> None:
        self.fail = -1
        self.ambiguous = -1

    def failed(self, i: int) -> None:
        self.fail = max(self.fail, i)

    def ambiguous_at(self, i: int) -> None:
        self.ambiguous = max(self.ambiguous, i)
        self.failed(i)


def _walk(elems: list[Elem], k: int, words: list[Word], i: int, toks: list[str], probe: _Probe, line: str, stop):
    """Every way ``elems[k:]`` matches ``words[i:]``: (next word, canonical tokens). ``stop``: the ``no``
    form of a command may end once that many top-level elements matched."""
    if k == len(elems):
        yield i, toks
        return
    if stop is not None and i == len(words) and k >= stop:
        yield i, toks
        return
    elem = elems[k]
    if elem.kind == "opt":
        for j, got in _walk(elem.group, 0, words, i, toks, probe, line, None):
            if j > i:
                yield from _walk(elems, k + 1, words, j, got, probe, line, stop)
        yield from _walk(elems, k + 1, words, i, toks, probe, line, stop)
        return
    if i >= len(words):
        probe.failed(i)
        return
    if elem.kind == "kw":
        word = words[i].text.lower()
        exact = [a for a in elem.alts if a == word]
        found = exact or [a for a in elem.alts if a.startswith(word)]
        if len(found) > 1:
            probe.ambiguous_at(i)
            return
        if not found:
            probe.failed(i)
            return
        yield from _walk(elems, k + 1, words, i + 1, toks + [found[0]], probe, line, stop)
        return
    got = _param(elem, words, i, line)
    if got is None:
        probe.failed(i)
        return
    value, used = got
    values, j = [value], i + used
    while elem.many and j < len(words):
        more = _param(elem, words, j, line)
        if more is None:
            break
        values.append(more[0])
        j += more[1]
    yield from _walk(elems, k + 1, words, j, toks + values, probe, line, stop)


class Spec:
    """A configuration command of one mode. ``action``: ``leaf`` (a line whose first ``key`` tokens exist
    replaces it), ``multi`` (lines accumulate), ``section`` (enters ``enter`` mode). ``shown_no``: the
    ``no`` form shows in the configuration (``no aaa new-model``); ``default_on``: the positive form is the
    default and does not show. ``handler``: a Configurator method name that does it instead."""

    def __init__(
        self,
        pattern: str,
        action: str = "leaf",
        key: int | None = None,
        enter: str | None = None,
        shown_no: bool = False,
        default_on: bool = False,
        handler: str | None = None,
        canon=None,
        nokey: int | None = None,
    ):
        self.pattern = pattern
        self.elems = compile_pattern(pattern)
        self.action = action
        lead = 0
        for elem in self.elems:
            if elem.kind != "kw":
                break
            lead += 1
        self.key = key if key is not None else max(lead, 1)
        self.nokey = nokey if nokey is not None else self.key
        self.enter = enter
        self.shown_no = shown_no
        self.default_on = default_on
        self.handler = handler
        self.canon = canon

    def match(self, words: list[Word], start: int, line: str, negate: bool, probe: _Probe) -> list[str] | None:
        stop = self.nokey if negate else None
        for end, toks in _walk(self.elems, 0, words, start, [], probe, line, stop):
            if end == len(words):
                return self.canon(toks) if self.canon else toks
        return None


def _S(pattern: str, **kw: Any) -> Spec:
    return Spec(pattern, **kw)


SPECS: dict[str, list[Spec]] = {
    "global": [
        _S("version <word>"),
        _S("service timestamps debug|log datetime|uptime [msec] [localtime] [show-timezone] [year]", key=3),
        _S("service password-encryption", shown_no=True),
        _S("service call-home", shown_no=True),
        _S("service pad", shown_no=True, default_on=True),
        _S("platform punt-keepalive disable-kernel-core"),
        _S("hostname <host>", key=1, handler="h_hostname"),
        _S("boot-start-marker"),
        _S("boot-end-marker"),
        _S("boot system <word>", action="multi", key=3),
        _S("vrf definition <word>", action="section", key=3, enter="vrf"),
        _S(
            "logging buffered <int:4096-2147483647>"
            " [alerts|critical|debugging|emergencies|errors|informational|notifications|warnings]",
            key=2,
        ),
        _S("logging host <addr>", action="multi", key=3),
        _S("logging console", shown_no=True, default_on=True),
        _S("enable secret [0|5|8|9] <word>", key=2, handler="h_secret"),
        _S("aaa new-model", shown_no=True),
        _S("clock timezone <word> <int:-23-23> [<int:0-59>]", key=2),
        _S("switch <int:1-16> provision <word>", key=2),
        _S("ip routing", shown_no=True, default_on=True),
        _S("ip domain name <host>", key=3),
        _S("ip domain-name <host>", key=3, canon=lambda t: ["ip", "domain", "name", t[2]]),
        _S("ip domain lookup", shown_no=True, default_on=True),
        _S("ip domain-lookup", shown_no=True, default_on=True, canon=lambda t: ["ip", "domain", "lookup"]),
        _S("ip name-server [vrf <word>] <ip+>", action="multi", key=2, handler="h_name_server"),
        _S("ip host <host> <ip+>", key=3),
        _S("ip route [vrf <word>] <ip> <mask> <ifname> [<ip>] [<int:1-255>] [name <word>]", action="multi", key=2),
        _S("ip route [vrf <word>] <ip> <mask> <ip> [<int:1-255>] [name <word>]", action="multi", key=2),
        _S("ip forward-protocol nd", shown_no=True, default_on=False),
        _S("ip http server", shown_no=True),
        _S("ip http secure-server", shown_no=True),
        _S("ip http authentication local|enable", key=3),
        _S("ip scp server enable"),
        _S("ip ssh version 1|2", key=3),
        _S("ip ssh source-interface <ifname>", key=3),
        _S("login on-success log"),
        _S("login on-failure log"),
        _S("file prompt quiet|noisy", key=2, handler="h_file_prompt"),
        _S("archive", action="section", enter="archive"),
        _S("diagnostic bootup level minimal|complete", key=3),
        _S("license boot level <line>", key=3),
        _S("username <word> privilege <int:0-15> secret|password [0|5|7|8|9] <word>", key=2, handler="h_username"),
        _S("username <word> secret|password [0|5|7|8|9] <word>", key=2, handler="h_username"),
        _S("username <word> privilege <int:0-15>", key=2, handler="h_username"),
        _S("redundancy", action="section", enter="redundancy"),
        _S("transceiver type all", action="section", enter="transceiver"),
        _S("lldp run"),
        _S("cdp run", shown_no=True, default_on=True),
        _S("spanning-tree mode pvst|rapid-pvst|mst", key=2),
        _S("spanning-tree extend system-id"),
        _S("spanning-tree portfast default"),
        _S("vlan <int:1-4094>", action="section", key=2, enter="vlan", handler="h_vlan"),
        _S("interface <ifname>", action="section", key=2, enter="if", handler="h_interface"),
        _S("router bgp <asn>", action="section", key=2, enter="bgp", handler="h_router_bgp"),
        _S("router ospf <int:1-65535> [vrf <word>]", action="section", key=3, enter="ospf"),
        _S("snmp-server community <word> [view <word>] [RO|RW] [<word>]", key=3, canon=lambda t: _upper_rw(t)),
        _S("snmp-server location <line>", key=2),
        _S("snmp-server contact <line>", key=2),
        _S("snmp-server host <addr> [version 1|2c] <word>", action="multi", key=3),
        _S("ntp server [vrf <word>] <addr> [prefer] [source <ifname>]", key=3, handler="h_ntp"),
        _S("ntp source <ifname>", key=2),
        _S("control-plane", action="section", enter="cp"),
        _S("banner motd|login|exec <line>", key=2, handler="h_banner"),
        _S("line con|aux|vty <int:0-1500> [<int:0-1500>]", action="section", key=4, enter="line", handler="h_line"),
    ],
    "if": [
        _S("description <line>", key=1),
        _S("ip address dhcp", key=2, handler="h_ip_address"),
        _S("ip address <ip> <mask> [secondary]", key=2, handler="h_ip_address"),
        _S("ip helper-address <ip>", action="multi", key=2),
        _S("ip ospf cost <int:1-65535>", key=3),
        _S("ip ospf <int:1-65535> area <area>", key=2),
        _S("ipv6 address <ipv6>", action="multi", key=2),
        _S("ipv6 enable"),
        _S("vrf forwarding <word>", key=2, handler="h_vrf_forwarding"),
        _S("shutdown"),
        _S("negotiation auto"),
        _S("speed 10|100|1000|10000|auto", key=1),
        _S("duplex auto|full|half", key=1),
        _S("mtu <int:1500-9198>", key=1),
        _S("bandwidth <int:1-100000000>", key=1),
        _S("load-interval <int:30-600>", key=1),
        _S("switchport", shown_no=True, default_on=True, handler="h_switchport"),
        _S("switchport mode access|trunk", key=2, handler="h_switchport"),
        _S("switchport access vlan <int:1-4094>", key=3, handler="h_switchport"),
        _S("switchport trunk native vlan <int:1-4094>", key=4, handler="h_switchport"),
        _S("switchport trunk allowed vlan <vlans>", key=4, handler="h_switchport"),
        _S("switchport nonegotiate", handler="h_switchport"),
        _S("spanning-tree portfast [trunk|disable]", key=2),
        _S("spanning-tree bpduguard enable|disable", key=2),
        _S("channel-group <int:1-128> mode active|passive|on|auto|desirable", key=1),
        _S("service-policy input|output <word>", key=2),
    ],
    "vlan": [_S("name <word>", key=1, handler="h_vlan_name"), _S("state active|suspend", key=1)],
    "line": [
        _S("exec-timeout <int:0-35791> [<int:0-2147483>]", key=1),
        _S("login local", key=1),
        _S("login", key=1),
        _S("password [0|7] <word>", key=1),
        _S("privilege level <int:0-15>", key=2),
        _S("transport input all|none|ssh|telnet [ssh|telnet]", key=2),
        _S("transport output all|none|ssh|telnet [ssh|telnet]", key=2),
        _S("logging synchronous"),
        _S("stopbits 1|1.5|2", key=1),
        _S("length <int:0-512>", key=1),
        _S("access-class <word> in|out [vrf-also]", key=1),
    ],
    "bgp": [
        _S("bgp router-id <ip>", key=2),
        _S("bgp log-neighbor-changes", shown_no=True, default_on=False),
        _S("neighbor <ip> remote-as <asn>", key=3),
        _S("neighbor <ip> description <line>", key=3, handler="h_bgp_neighbor"),
        _S("neighbor <ip> update-source <ifname>", key=3, handler="h_bgp_neighbor"),
        _S("neighbor <ip> shutdown", key=3, handler="h_bgp_neighbor"),
        _S("neighbor <ip> password [0|7] <word>", key=3, handler="h_bgp_neighbor"),
        _S("network <ip> [mask <mask>]", action="multi", key=2),
        _S("address-family ipv4|ipv6 [unicast|multicast] [vrf <word>]", action="section", key=9, enter="bgp-af"),
    ],
    "bgp-af": [
        _S("neighbor <ip> activate", key=3),
        _S("neighbor <ip> route-map <word> in|out", key=5),
        _S("neighbor <ip> send-community [both|standard|extended]", key=3),
        _S("network <ip> [mask <mask>]", action="multi", key=2),
        _S("redistribute connected|static", key=2),
    ],
    "ospf": [
        _S("router-id <ip>", key=1),
        _S("log-adjacency-changes [detail]", key=1),
        _S("auto-cost reference-bandwidth <int:1-4294967>", key=2),
        _S("passive-interface default", key=2),
        _S("passive-interface <ifname>", action="multi", key=2),
        _S("network <ip> <wild> area <area>", action="multi", key=3),
        _S("default-information originate [always]", key=2),
    ],
    "vrf": [
        _S("description <line>", key=1),
        _S("rd <word>", key=1),
        _S("address-family ipv4|ipv6 [unicast]", action="section", key=2, enter="vrf-af"),
    ],
    "vrf-af": [_S("route-target export|import|both <word>", action="multi", key=3)],
    "archive": [
        _S("path <word>", key=1),
        _S("maximum <int:1-14>", key=1),
        _S("write-memory"),
        _S("time-period <int:1-525600>", key=1),
        _S("log config", action="section", key=2, enter="archive-log"),
    ],
    "archive-log": [
        _S("logging enable"),
        _S("logging size <int:1-1000>", key=2),
        _S("hidekeys"),
        _S("notify syslog [contenttype plaintext|xml]", key=2),
    ],
    "redundancy": [_S("mode sso|rpr", key=1)],
    "cp": [_S("service-policy input|output <word>", key=2)],
    "transceiver": [_S("monitoring")],
}
MODE_PROMPT = {
    "global": "config",
    "if": "config-if",
    "vlan": "config-vlan",
    "line": "config-line",
    "bgp": "config-router",
    "bgp-af": "config-router-af",
    "ospf": "config-router",
    "vrf": "config-vrf",
    "vrf-af": "config-vrf-af",
    "archive": "config-archive",
    "archive-log": "config-archive-log-cfg",
    "redundancy": "config-red",
    "cp": "config-cp",
    "transceiver": "config-xcvr-type",
}
AF_MODES = ("bgp-af", "vrf-af")  # closed by "exit-address-family", shown in the configuration


def _upper_rw(toks: list[str]) -> list[str]:
    return [t.upper() if t in ("ro", "rw") else t for t in toks]


def _first_words(mode: str) -> set[str]:
    words: set[str] = set()
    for spec in SPECS[mode]:
        words.update(spec.elems[0].alts)
    return words


FIRST_WORDS = {mode: _first_words(mode) for mode in SPECS}


def hash_secret(kind: str, name: str, clear: str) -> str:
    """A type-9 (scrypt) shaped hash: ``$9$<14 chars>$<43 chars>`` (the clear text is never kept)."""
    digest = hashlib.sha256(f"{kind}:{name}:{clear}".encode()).digest()
    alphabet = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    chars = "".join(alphabet[b % 64] for b in digest + hashlib.sha256(digest).digest())
    return f"$9${chars[:14]}${chars[14:57]}"


# ---------------------------------------------------------------------------------------------
# Applying configuration lines (configure terminal, copy <file> running-config, configure replace)
# ---------------------------------------------------------------------------------------------
class Frame:
    __slots__ = ("mode", "node")

    def __init__(self, mode: str, node: Node | None):
        self.mode = mode
        self.node = node


class Outcome(NamedTuple):
    """What one configuration line did: the lines IOS prints, whether it was refused, and whether it ended
    configuration mode (``end``, ``exit`` at the top, Ctrl-Z)."""

    out: list[str]
    refused: bool
    ended: bool
    do: str | None = None  # a "do <exec command>" to run


class Configurator:
    """IOS's configuration parser over a configuration tree: modes, parent-mode fallback (a line the
    current mode does not know is tried in the modes above it, which the parser then returns to), ``no``
    forms, banners. ``feed`` takes one line (indentation is ignored, as IOS ignores it)."""

    def __init__(self, tree: list[Node], ports: int):
        self.tree = tree
        self.ports = ports
        self.physical = set(physical_interfaces(ports))
        self.stack: list[Frame] = [Frame("global", None)]
        self._banner: dict | None = None

    @property
    def mode(self) -> str:
        return self.stack[-1].mode

    @property
    def collecting_banner(self) -> bool:
        return self._banner is not None

    def container(self, depth: int | None = None) -> list[Node]:
        frame = self.stack[-1 if depth is None else depth]
        return self.tree if frame.node is None else frame.node.children

    # -- one line ---------------------------------------------------------------------------
    def feed(self, raw: str) -> Outcome:
        if self._banner is not None:
            return self._banner_line(raw)
        line = raw.strip()
        if not line or line.startswith("!"):
            return Outcome([], False, False)
        words = split_words(line)
        first = words[0].text.lower()
        if first == "end" and len(words) == 1:
            self.stack[1:] = []
            return Outcome([], False, True)
        if first == "exit" and len(words) == 1:
            if len(self.stack) == 1:
                return Outcome([], False, True)
            self.stack.pop()
            return Outcome([], False, False)
        if first == "exit-address-family" and len(words) == 1 and self.mode in AF_MODES:
            self.stack.pop()
            return Outcome([], False, False)
        if first == "do" and len(words) > 1:
            return Outcome([], False, False, do=line[words[1].start :])
        if first == "default" and len(words) > 1:  # a real IOS command, outside this model
            return Outcome([NOT_MODELED], True, False)
        negate = first == "no"
        if negate and len(words) == 1:
            return Outcome([INCOMPLETE], True, False)
        start = 1 if negate else 0
        try:
            return self._dispatch(line, words, start, negate)
        except CmdError as err:
            return Outcome(err.lines(), True, False)

    def _dispatch(self, line: str, words: list[Word], start: int, negate: bool) -> Outcome:
        probe = _Probe()
        for depth in range(len(self.stack) - 1, -1, -1):
            mode = self.stack[depth].mode
            expanded = self._expand_first(mode, words, start, probe)
            if expanded is None:
                continue
            for spec in SPECS[mode]:
                if expanded not in spec.elems[0].alts:
                    continue
                toks = spec.match(words, start, line, negate, probe)
                if toks is None:
                    continue
                del self.stack[depth + 1 :]
                out = self._do(spec, toks, negate, words, start, line)
                return Outcome(out, False, False)
        if probe.ambiguous >= 0 and probe.ambiguous == probe.fail:
            raise CmdError(f'% Ambiguous command:  "{line}"')
        if probe.fail >= len(words):
            raise CmdError(INCOMPLETE)
        raise invalid_at(words, max(probe.fail, start), line)

    @staticmethod
    def _expand_first(mode: str, words: list[Word], start: int, probe: _Probe) -> str | None:
        if start >= len(words):
            probe.failed(start)
            return None
        word = words[start].text.lower()
        firsts = FIRST_WORDS[mode]
        if word in firsts:
            return word
        found = [w for w in firsts if w.startswith(word)]
        if len(found) == 1:
            return found[0]
        if found:
            probe.ambiguous_at(start)
        else:
            probe.failed(start)
        return None

    # -- actions ----------------------------------------------------------------------------
    def _do(self, spec: Spec, toks: list[str], negate: bool, words: list[Word], start: int, line: str) -> list[str]:
        if spec.handler:
            return getattr(self, spec.handler)(spec, toks, negate, words, start, line) or []
        return self.apply(spec, toks, negate)

    def apply(self, spec: Spec, toks: list[str], negate: bool, container: list[Node] | None = None) -> list[str]:
        siblings = self.container() if container is None else container
        mode = self.mode
        text = " ".join(toks)
        key = tuple(toks[: spec.key])
        if spec.action == "section":
            node = find(siblings, key)
            if negate:
                if node is not None:
                    siblings.remove(node)
                return []
            if node is None:
                node = Node(text, key, [], spec.enter)
                insert(siblings, node, mode)
            self.stack.append(Frame(spec.enter, node))
            return []
        if spec.action == "multi":
            if negate:
                siblings[:] = [n for n in siblings if not (n.line == text or n.line.startswith(text + " "))]
            elif not any(n.line == text for n in siblings):
                insert(siblings, Node(text, tuple(toks)), mode)
            return []
        # leaf
        no_key = ("no",) + key
        siblings[:] = [n for n in siblings if n.key not in (key, no_key)]
        if negate:
            if spec.shown_no:
                insert(siblings, Node("no " + " ".join(key), no_key), mode)
            return []
        if spec.shown_no and spec.default_on:
            return []
        insert(siblings, Node(text, key), mode)
        return []

    # -- handlers ---------------------------------------------------------------------------
    def h_hostname(self, spec, toks, negate, words, start, line):
        if not negate and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}", toks[1]):
            raise CmdError(BAD_HOSTNAME)
        return self.apply(spec, toks, negate)

    def h_secret(self, spec, toks, negate, words, start, line):
        if negate:
            return self.apply(spec, toks[:2], True)
        value = toks[-1]
        kind = toks[2] if len(toks) == 4 else "0"
        if kind == "0":
            kind, value = "9", hash_secret("enable", "", value)
        return self.apply(spec, ["enable", "secret", kind, value], False)

    def h_username(self, spec, toks, negate, words, start, line):
        name = toks[1]
        if negate:
            self.container()[:] = [n for n in self.container() if n.key != ("username", name)]
            return []
        rest = toks[2:]
        privilege = None
        if rest[:1] == ["privilege"]:
            privilege, rest = rest[1], rest[2:]
        old = find(self.container(), ("username", name))
        if not rest and old is not None:  # "username x privilege 15" keeps the secret it has
            m = re.search(r" (secret|password) .*$", old.line)
            rest = m.group(0).split() if m else []
        if rest:
            verb, value = rest[0], rest[-1]
            kind = rest[1] if len(rest) == 3 else "0"
            if verb == "secret" and kind == "0":
                kind, value = "9", hash_secret("user", name, value)
            rest = [verb, kind, value]
        toks = ["username", name] + (["privilege", privilege] if privilege else []) + rest
        return self.apply(spec, toks, False)

    def h_name_server(self, spec, toks, negate, words, start, line):
        lead = toks[:4] if toks[2:3] == ["vrf"] else toks[:2]
        if negate and len(toks) == len(lead):
            self.container()[:] = [n for n in self.container() if not n.line.startswith(" ".join(lead) + " ")]
            return []
        for address in toks[len(lead) :]:
            self.apply(spec, lead + [address], negate)
        return []

    def h_file_prompt(self, spec, toks, negate, words, start, line):
        if negate or toks[2] == "noisy":  # the default
            self.container()[:] = [n for n in self.container() if n.key != ("file", "prompt")]
            return []
        return self.apply(spec, toks, False)

    def h_ntp(self, spec, toks, negate, words, start, line):
        lead = 4 if toks[2:3] == ["vrf"] else 2
        key = tuple(toks[: lead + 1])
        siblings = self.container()
        siblings[:] = [n for n in siblings if n.key != key]
        if not negate:
            insert(siblings, Node(" ".join(toks), key), self.mode)
        return []

    def h_banner(self, spec, toks, negate, words, start, line):
        kind = toks[1]
        if negate:
            self.container()[:] = [n for n in self.container() if n.key != ("banner", kind)]
            return []
        rest = toks[2]
        delim = "^C" if rest.startswith("^C") else rest[0]
        body = rest[len(delim) :]
        self._banner = {"kind": kind, "delim": delim, "text": None}
        return self._banner_line(body).out

    def _banner_line(self, raw: str) -> Outcome:
        """One line of a banner's text; the line holding the delimiter ends it."""
        banner = self._banner
        text = raw.rstrip("\r\n")
        done = banner["delim"] in text
        if done:
            text = text.split(banner["delim"], 1)[0]
        banner["text"] = text if banner["text"] is None else banner["text"] + "\n" + text
        if done:
            self._banner = None
            key = ("banner", banner["kind"])
            self.tree[:] = [n for n in self.tree if n.key != key]
            node = Node(f"banner {banner['kind']} ^C", key)
            node.text = banner["text"]
            insert(self.tree, node, "global")
        return Outcome([], False, False)

    def h_line(self, spec, toks, negate, words, start, line):
        kind, first = toks[1], int(toks[2])
        last = int(toks[3]) if len(toks) > 3 else first
        limits = {"con": 0, "aux": 0, "vty": 15}
        if first > limits[kind] or last > limits[kind] or last < first:
            raise invalid_at(words, start + (3 if len(toks) > 3 and last > limits[kind] else 2), line)
        if negate:  # lines are not removed
            raise invalid_at(words, start, line)
        toks = ["line", kind, str(first)] + ([str(last)] if last != first else [])
        key = tuple(toks[:3])
        siblings = self.container()
        node = next((n for n in siblings if n.key[:3] == key), None)
        if node is None:
            node = Node(" ".join(toks), key, [], "line")
            insert(siblings, node, "global")
        self.stack.append(Frame("line", node))
        return []

    def h_vlan(self, spec, toks, negate, words, start, line):
        number = int(toks[1])
        if number == 1 or 1002 <= number <= 1005:
            if negate:
                raise CmdError(f"Default VLAN {number} may not be deleted.")
            # the default VLANs exist without showing: their mode is entered, their name cannot change
            self.stack.append(Frame("vlan", Node(" ".join(toks), ("default-vlan", number), [], "vlan")))
            return []
        return self.apply(spec, toks, negate)

    def h_vlan_name(self, spec, toks, negate, words, start, line):
        node = self.stack[-1].node
        if node.key[0] == "default-vlan":
            raise CmdError(f"Default VLAN {node.key[1]} may not have its name changed.")
        return self.apply(spec, toks, negate)

    def h_interface(self, spec, toks, negate, words, start, line):
        name = toks[1]
        typ, num = split_ifname(name)
        index = start + 1
        if name not in self.physical:
            bounds = VIRTUAL_RANGES.get(typ)
            if bounds is None or "/" in num or not bounds[0] <= int(num) <= bounds[1]:
                raise invalid_at(words, index, line)
        elif negate:  # only virtual interfaces can be removed
            raise invalid_at(words, index, line)
        if negate and name == "Vlan1":
            raise invalid_at(words, index, line)
        return self.apply(spec, ["interface", name], negate)

    def h_router_bgp(self, spec, toks, negate, words, start, line):
        running = next((n for n in self.container() if n.key[:2] == ("router", "bgp")), None)
        if running is not None and running.line != " ".join(toks):
            raise CmdError(f"BGP is already running; AS is {running.line.split()[2]}")
        out = self.apply(spec, toks, negate)
        if running is None and not negate:  # IOS-XE adds it to a new BGP process
            insert(
                self.stack[-1].node.children, Node("bgp log-neighbor-changes", ("bgp", "log-neighbor-changes")), "bgp"
            )
        return out

    def h_bgp_neighbor(self, spec, toks, negate, words, start, line):
        peer = toks[1]
        if not any(n.key == ("neighbor", peer, "remote-as") for n in self.container()):
            raise CmdError(NEED_REMOTE_AS)
        return self.apply(spec, toks, negate)

    def _interface(self) -> Node:
        return self.stack[-1].node

    def _switchport(self, node: Node) -> bool:
        name = node.line.split(" ", 1)[1]
        if is_routed_only(name):
            return False
        return not any(c.line == "no switchport" for c in node.children)

    def h_ip_address(self, spec, toks, negate, words, start, line):
        node = self._interface()
        siblings = node.children
        if negate:
            if len(toks) <= 2:
                siblings[:] = [c for c in siblings if not c.line.startswith("ip address ")]
            else:
                siblings[:] = [c for c in siblings if c.line != " ".join(toks)]
            return []
        if self._switchport(node):
            raise CmdError(L2_NO_IP)
        if toks[2] == "dhcp":
            siblings[:] = [c for c in siblings if not c.line.startswith("ip address ")]
            insert(siblings, Node("ip address dhcp", ("ip", "address")), "if")
            return []
        address, mask = toks[2], toks[3]
        bits = int(ipaddress.IPv4Address(mask))
        inverse = ~bits & 0xFFFFFFFF
        if bits == 0 or inverse & (inverse + 1):  # not a contiguous netmask
            raise CmdError(f"Bad mask 0x{bits:08X} for address {address}")
        network = ipaddress.IPv4Interface(f"{address}/{mask}")
        if network.network.prefixlen < 31 and address in (
            str(network.network.network_address),
            str(network.network.broadcast_address),
        ):
            raise CmdError(f"Bad mask /{network.network.prefixlen} for address {address}")
        secondary = len(toks) == 5
        key = ("ip", "address", address) if secondary else ("ip", "address")
        if secondary:
            siblings[:] = [c for c in siblings if c.key != key]
        else:
            siblings[:] = [c for c in siblings if c.key != key and c.line != "ip address dhcp"]
        insert(siblings, Node(" ".join(toks), key), "if")
        return []

    def h_vrf_forwarding(self, spec, toks, negate, words, start, line):
        node = self._interface()
        name = node.line.split(" ", 1)[1]
        current = next((c for c in node.children if c.key == ("vrf", "forwarding")), None)
        had_ip = any(c.line.startswith("ip address ") for c in node.children)
        if negate:
            if current is None:
                return []
            node.children.remove(current)
            node.children[:] = [c for c in node.children if not c.line.startswith("ip address ")]
            vrf = current.line.split()[2]
            return (
                [f"% Interface {name} IPv4 disabled and address(es) removed due to disabling VRF {vrf}"]
                if had_ip
                else []
            )
        vrf = toks[2]
        if find(self.tree, ("vrf", "definition", vrf)) is None:
            raise CmdError(f"% VRF {vrf} not configured.")
        if current is not None and current.line == " ".join(toks):
            return []
        if current is not None:
            node.children.remove(current)
        node.children[:] = [c for c in node.children if not c.line.startswith("ip address ")]
        insert(node.children, Node(" ".join(toks), ("vrf", "forwarding")), "if")
        return [f"% Interface {name} IPv4 disabled and address(es) removed due to enabling VRF {vrf}"] if had_ip else []

    def h_switchport(self, spec, toks, negate, words, start, line):
        node = self._interface()
        name = node.line.split(" ", 1)[1]
        if is_routed_only(name):
            raise invalid_at(words, start, line)
        siblings = node.children
        if toks == ["switchport"]:
            if negate:  # a routed port: its layer-2 configuration goes
                siblings[:] = [c for c in siblings if not c.line.startswith("switchport ")]
            else:
                siblings[:] = [c for c in siblings if not c.line.startswith("ip address ")]
            return self.apply(spec, toks, negate)
        if not self._switchport(node) and not negate:
            raise invalid_at(words, start, line)
        return self.apply(spec, toks, negate)


# ---------------------------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------------------------
def _render_node(node: Node, depth: int, out: list[str]) -> None:
    pad = " " * depth
    if node.text is not None:  # a banner: its text between ^C delimiters
        out.extend((pad + node.line + node.text + "^C").split("\n"))
        return
    out.append(pad + node.line)
    if node.children is None:
        return
    if node.mode == "if":
        name = node.line.split(" ", 1)[1]
        has_ip = any(c.line.startswith("ip address ") for c in node.children)
        routed = is_routed_only(name) or any(c.line == "no switchport" for c in node.children)
        shown = list(node.children)
        if routed and not has_ip:
            marker = Node("no ip address", ("ip", "address"))
            insert(shown, marker, "if")
        for child in shown:
            _render_node(child, depth + 1, out)
        return
    for child in node.children:
        if child.mode in AF_MODES:
            out.append(" " * (depth + 1) + "!")
        _render_node(child, depth + 1, out)
        if child.mode in AF_MODES:
            out.append(" " * (depth + 1) + "exit-address-family")


# Top-level ranks that IOS shows together, without a "!" between them
_GROUPS = {
    0: 0,
    1: 0,
    2: 0,
    4: 2,
    5: 2,
    6: 2,
    8: 4,
    9: 4,
    10: 4,
    11: 4,
    12: 4,
    13: 5,
    14: 5,
    18: 9,
    19: 9,
    24: 13,
    25: 13,
}
_GROUPS.update({r: 17 for r in range(29, 34)})


def _group(node: Node) -> int:
    r = rank("global", node)[0]
    return _GROUPS.get(r, 100 + r)


def render_body(tree: list[Node]) -> list[str]:
    """The configuration's lines between the header comments and ``end``: sections and groups of related
    lines are separated by ``!`` (``line`` sections follow each other without one), as IOS shows them."""
    out: list[str] = []
    previous: Node | None = None
    for node in tree:
        if previous is not None:
            section = node.children is not None or previous.children is not None
            lines = node.line.startswith("line ") and previous.line.startswith("line ")
            if ((section and not lines) or _group(node) != _group(previous)) and out[-1] != "!":
                out.append("!")
        _render_node(node, 0, out)
        previous = node
    return out


# ---------------------------------------------------------------------------------------------
# show archive config incremental-diffs
# ---------------------------------------------------------------------------------------------
def indent_paths(text: str) -> list[tuple[tuple[str, ...], int, str]]:
    """Each configuration line with the lines it is under (by indentation), in file order:
    (path, depth, line). Comments, blank lines and ``end`` are left out."""
    out = []
    stack: list[tuple[int, str]] = []
    for raw in text.splitlines():
        line = raw.rstrip()
        stripped = line.strip()
        if not stripped or stripped.startswith("!") or stripped == "end":
            continue
        indent = len(line) - len(line.lstrip(" "))
        while stack and stack[-1][0] >= indent:
            stack.pop()
        path = tuple(" ".join(t.split()) for _, t in stack) + (" ".join(stripped.split()),)
        out.append((path, len(stack), stripped))
        stack.append((indent, stripped))
    return out


def incremental_diff(running_text: str, file_text: str, ignorecase: bool) -> str:
    """IOS's contextual incremental diff: the lines of the file that the running configuration does not
    have at the same place (compared line by line, whitespace collapsed), each with the lines it is
    under. A file without its final ``end`` gets cfgdiff's error 5."""
    lines = [ln.strip() for ln in file_text.splitlines()]
    if "end" not in lines:
        return (
            "!List of Commands:\nError: received error code 5 when looking for missing lines\n"
            "!Error: cfgdiff returned error 5"
        )

    def norm(path: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(p.lower() for p in path) if ignorecase else path

    have = {norm(path) for path, _, _ in indent_paths(running_text)}
    out = ["!List of Commands:"]
    shown: list[tuple[str, ...]] = []
    changes = 0
    for path, depth, line in indent_paths(file_text):
        if norm(path) in have:
            continue
        changes += 1
        for level in range(depth):
            parent = path[: level + 1]
            if parent not in shown:
                out.append(" " * level + parent[-1])
                shown.append(parent)
        out.append(" " * depth + line)
        shown.append(path)
    out.append("end")
    if not changes:
        out.append("!No changes were found")
    return "\n".join(out)


def contextual_diff(old_text: str, new_text: str) -> str:
    """``show archive config differences A B``: ``-`` lines only in A, ``+`` lines only in B, in context."""
    old = {path for path, _, _ in indent_paths(old_text)}
    new = {path for path, _, _ in indent_paths(new_text)}
    out = ["!Contextual Config Diffs:"]
    shown: set[tuple[str, ...]] = set()

    def emit(items, other, sign):
        for path, depth, line in items:
            if path in other:
                continue
            for level in range(depth):
                parent = path[: level + 1]
                if parent not in shown:
                    out.append(" " * level + parent[-1])
                    shown.add(parent)
            out.append(" " * depth + sign + line)
            shown.add(path)

    emit(indent_paths(new_text), old, "+")
    emit(indent_paths(old_text), new, "-")
    if len(out) == 1:
        out.append("!No changes were found")
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------
# Loading a whole configuration (boot, reset, configure replace)
# ---------------------------------------------------------------------------------------------
def base_tree(ports: int) -> list[Node]:
    """What a switch has with an empty configuration: its physical interfaces and Vlan1."""
    tree: list[Node] = []
    for name in physical_interfaces(ports) + ["Vlan1"]:
        insert(tree, Node(f"interface {name}", ("interface", name), [], "if"), "global")
    return tree


def apply_lines(tree: list[Node], text: str, ports: int) -> list[tuple[int, str, list[str]]]:
    """Every line of ``text`` through the parser onto ``tree`` (stopping at ``end``), as IOS applies a
    file: a refused line is reported and the next ones are applied all the same. Returns the refused
    lines: (line number, line, IOS's messages)."""
    cfg = Configurator(tree, ports)
    refused = []
    for number, raw in enumerate(text.splitlines(), 1):
        outcome = cfg.feed(raw)
        if outcome.refused:
            refused.append((number, raw.strip(), outcome.out))
        if outcome.ended and not cfg.collecting_banner:
            break
    return refused


def load_config(text: str, ports: int) -> list[Node]:
    """A full configuration -> tree (on top of the hardware); a line IOS would refuse raises ValueError."""
    tree = base_tree(ports)
    refused = apply_lines(tree, text, ports)
    if refused:
        number, line, out = refused[0]
        raise ValueError(f"line {number} {line!r} refused: {' '.join(m.strip() for m in out if m.strip(' ^'))}")
    return tree


def default_config(name: str, address: str, ports: int, username: str) -> str:
    model = "c9300-48t" if ports > 24 else "c9300-24t"
    secret = hash_secret("user", username, "factory")
    return f"""version {CONFIG_VERSION}
service timestamps debug datetime msec
service timestamps log datetime msec
service call-home
platform punt-keepalive disable-kernel-core
!
hostname {name}
!
vrf definition {MGMT_VRF}
 !
 address-family ipv4
 exit-address-family
 !
 address-family ipv6
 exit-address-family
!
no aaa new-model
switch 1 provision {model}
!
login on-success log
!
archive
 path flash:archive
 maximum 14
!
username {username} privilege 15 secret 9 {secret}
!
redundancy
 mode sso
!
spanning-tree mode rapid-pvst
spanning-tree extend system-id
!
interface {MGMT_INTERFACE}
 vrf forwarding {MGMT_VRF}
 ip address {address} 255.255.255.0
 negotiation auto
!
interface Vlan1
 no ip address
 shutdown
!
ip forward-protocol nd
no ip http server
no ip http secure-server
ip scp server enable
ip ssh version 2
!
control-plane
 service-policy input system-cpp-policy
!
line con 0
 stopbits 1
line vty 0 4
 login local
 transport input ssh
line vty 5 15
 login local
 transport input ssh
!
end
"""


# ---------------------------------------------------------------------------------------------
# Secrets in logs
# ---------------------------------------------------------------------------------------------
_SECRET_RE = re.compile(r"\b(secret|password|community|key)(\s+(?:[05789]\s+)?)(\S+)", re.IGNORECASE)


def redact(text: str) -> str:
    return _SECRET_RE.sub(lambda m: f"{m.group(1)}{m.group(2)}<removed>", text)


# ---------------------------------------------------------------------------------------------
# Device state
# ---------------------------------------------------------------------------------------------
class FlashFile:
    __slots__ = ("data", "mtime", "size")

    def __init__(self, data: bytes | None, mtime: float, size: int | None = None):
        self.data = data
        self.mtime = mtime
        self.size = len(data) if data is not None else int(size or 0)


def _system_files(now: float) -> dict[str, FlashFile]:
    conf = (
        "#! /usr/binos/bin/packages_conf.sh\n"
        f"sha1sum: {hashlib.sha1(XE_VERSION.encode(), usedforsecurity=False).hexdigest()}\n"
        f"boot  rp 0 0   rp_boot       cat9k-rpboot.{XE_VERSION}.SPA.pkg\n"
        f"iso   rp 0 0   rp_base       cat9k-rpbase.{XE_VERSION}.SPA.pkg\n"
    ).encode()
    return {
        "packages.conf": FlashFile(conf, now - 86400 * 30),
        f"cat9k-rpbase.{XE_VERSION}.SPA.pkg": FlashFile(None, now - 86400 * 30, 537011200),
        f"cat9k-rpboot.{XE_VERSION}.SPA.pkg": FlashFile(None, now - 86400 * 30, 51234816),
    }


class Device(SimDevice):
    """One simulated Catalyst 9300: running configuration (a tree), startup configuration (text), flash,
    the archive and its revert timer, faults (``unresponsive``, ``fail_after_commit``, ``delay``: see
    ``SimDevice``). All state under ``self.lock``."""

    log = LOG

    def __init__(
        self,
        name: str,
        address: str,
        port: int,
        running_config: str | None = None,
        ports: int = DEFAULT_PORTS,
        minute_seconds: float = 60.0,
        management_interface: str = MGMT_INTERFACE,
        username: str = "admin",
    ):
        super().__init__(name, address, port)
        if not 1 <= int(ports) <= 48:
            raise ValueError("ports must be 1..48")
        self.ports = int(ports)
        self.model = "C9300-48T" if self.ports > 24 else "C9300-24T"
        self.minute_seconds = float(minute_seconds)
        self.management_interface = management_interface
        digest = hashlib.sha256(name.encode()).hexdigest()
        self.serial_number = "FOC" + digest[:8].upper()
        self.mac = ":".join(["70", "1f", "53"] + [digest[i : i + 2] for i in range(8, 14, 2)])
        self.boot_seconds = time.time() - BOOTED_BEFORE
        self.boot_monotonic = time.monotonic() - BOOTED_BEFORE
        self.sessions: dict[int, dict] = {}
        self._next_session = 0
        self._archive_counter = 0
        default = default_config(name, address, self.ports, username)
        self._reset(running_config if running_config is not None else default)

    # -- state -----------------------------------------------------------------------------
    def _reset(self, text: str) -> None:
        tree = load_config(text, self.ports)
        now = time.time()
        with self.lock:
            self.running: list[Node] = tree
            self.tree_generation = getattr(self, "tree_generation", 0) + 1
            self.changed_at, self.changed_by = now, "admin"
            self.flash: dict[str, FlashFile] = _system_files(now)
            self.archives: list[str] = []
            self._revert: dict | None = None
            self.startup_text = self.file_text()
            self.saved_at, self.saved_by = now, "admin"
            self._clear_faults()

    def reset(self, running_config: str | None = None) -> None:
        """Fresh device: running = startup = ``running_config`` (default: the current one), flash back to
        its system files, no archives, no revert timer, no faults."""
        with self.lock:
            text = running_config if running_config is not None else self.running_config
            self._reset(text)
        LOG.info("%s: reset", self.name)
        self._running_changed()

    def replace_running(self, tree: list[Node], user: str) -> None:
        """The running configuration becomes ``tree`` (the list object stays the same: open configuration
        sessions see the change and go back to global configuration mode)."""
        with self.lock:
            self.running[:] = tree
            self.tree_generation += 1
            self.changed_at, self.changed_by = time.time(), user

    def note_change(self, user: str) -> None:
        with self.lock:
            self.changed_at, self.changed_by = time.time(), user

    @property
    def hostname(self) -> str:
        with self.lock:
            node = find(self.running, ("hostname",))
            return node.line.split()[1] if node is not None else "Switch"

    def has(self, line: str) -> bool:
        """A top-level line of the running configuration (``ip scp server enable``, ``file prompt quiet``)."""
        with self.lock:
            return any(n.line == line for n in self.running)

    def scp_enabled(self) -> bool:
        return self.has("ip scp server enable")

    def prompts_quiet(self) -> bool:
        return self.has("file prompt quiet")

    def domain_lookup(self) -> bool:
        return not self.has("no ip domain lookup")

    def body(self) -> list[str]:
        with self.lock:
            return render_body(self.running)

    def file_text(self) -> str:
        """The running configuration as ``copy running-config <file>`` writes it."""
        with self.lock:
            head = ["!", f"! Last configuration change at {ios_time(self.changed_at)} by {self.changed_by}", "!"]
            return "\n".join(head + render_body(self.running) + ["!", "end"]) + "\n"

    @property
    def running_config(self) -> str:
        return self.file_text()

    @property
    def startup_config(self) -> str:
        with self.lock:
            return self.startup_text

    def save(self, user: str) -> None:
        """``write memory`` / ``copy running-config startup-config``."""
        with self.lock:
            text = self.file_text()
            lines = text.split("\n")
            self.saved_at, self.saved_by = time.time(), user
            lines.insert(2, f"! NVRAM config last updated at {ios_time(self.saved_at)} by {user}")
            self.startup_text = "\n".join(lines)
        LOG.info("%s: running-config saved to startup-config by %s", self.name, user)

    def management_address(self) -> str | None:
        with self.lock:
            node = find(self.running, ("interface", self.management_interface))
            for child in node.children if node is not None else []:
                words = child.line.split()
                if child.key == ("ip", "address") and len(words) == 4:
                    return words[2]
        return None

    def uptime(self) -> float:
        return time.monotonic() - self.boot_monotonic

    def new_session(self, user: str, peer: str) -> int:
        with self.lock:
            self._next_session += 1
            used = {s["line"] for s in self.sessions.values()}
            line = next((n for n in range(16) if n not in used), 15)
            self.sessions[self._next_session] = {"user": user, "peer": peer, "line": line}
            return self._next_session

    def end_session(self, sid: int) -> None:
        with self.lock:
            self.sessions.pop(sid, None)

    # -- flash -------------------------------------------------------------------------------
    def flash_free(self) -> int:
        with self.lock:
            used = sum(f.size for name, f in self.flash.items() if f.data is not None)
        return FLASH_TOTAL - FLASH_USED_BASE - used

    def write_file(self, name: str, data: bytes) -> None:
        with self.lock:
            self.flash[name] = FlashFile(bytes(data), time.time())
        LOG.info("%s: flash:/%s written (%d bytes)", self.name, name, len(data))

    def read_file(self, name: str) -> bytes | None:
        with self.lock:
            entry = self.flash.get(name)
            return None if entry is None else (entry.data if entry.data is not None else b"\0" * 16)

    @property
    def files(self) -> dict[str, Any]:
        """flash:/ as the control API shows it: text for files written here, sizes for system files."""
        with self.lock:
            out: dict[str, Any] = {}
            for name, entry in sorted(self.flash.items()):
                out[f"flash:/{name}"] = entry.data.decode("utf-8", "replace") if entry.data is not None else entry.size
            return out

    # -- archive and its Rollback Confirmed Change -------------------------------------------
    def archive_settings(self) -> tuple[str | None, int]:
        with self.lock:
            node = find(self.running, ("archive",))
            path, maximum = None, ARCHIVE_DEFAULT_MAXIMUM
            for child in node.children if node is not None else []:
                if child.key == ("path",):
                    path = child.line.split(None, 1)[1]
                elif child.key == ("maximum",):
                    maximum = int(child.line.split()[1])
            return path, maximum

    def archive_config(self) -> str:
        """``archive config``: the running configuration saved as ``<path>-<timestamp>-<n>``."""
        path, maximum = self.archive_settings()
        with self.lock:
            full = f"{path}-{archive_stamp(time.time())}-{self._archive_counter}"
            self._archive_counter += 1
            name = full.split(":", 1)[1].lstrip("/") if ":" in full else full
            self.flash[name] = FlashFile(self.file_text().encode(), time.time())
            self.archives.append(name)
            while len(self.archives) > maximum:
                self.flash.pop(self.archives.pop(0), None)
            return full if ":" in full else f"flash:{full}"

    @property
    def pending_commit(self) -> dict | None:
        with self.lock:
            if self._revert is None:
                return None
            return {
                "minutes": self._revert["minutes"],
                "expires_in": round(max(self._revert["deadline"] - time.monotonic(), 0.0), 3),
                "user": self._revert["user"],
                "type": self._revert["type"],
            }

    def start_revert(self, minutes: int, user: str, kind: str = "revert timer") -> str:
        """``configure terminal revert timer N`` (or ``configure replace ... time N``): the running
        configuration is archived; unless ``configure confirm`` comes within N minutes (a minute lasting
        ``minute_seconds``), the device goes back to it by itself. A second one restarts the timer and
        keeps the first restore point."""
        backup = self.archive_config()
        with self.lock:
            restore = self._revert["restore"] if self._revert else clone_tree(self.running)
            seconds = minutes * self.minute_seconds
            self._revert = {
                "restore": restore,
                "minutes": minutes,
                "user": user,
                "type": kind,
                "configured": time.time(),
                "deadline": time.monotonic() + seconds,
                "archive": backup,
            }
            self.start_timer(seconds, self._revert_expired)
        LOG.info("%s: %s of %d min (%.1f s) by %s; backup %s", self.name, kind, minutes, seconds, user, backup)
        return backup

    def _revert_expired(self, generation: int) -> None:
        with self.lock:
            if not self.timer_current(generation) or self._revert is None:
                return
            restore = self._revert["restore"]
            self._revert = None
            self.replace_running(clone_tree(restore), "admin")
            self._reverted()
        LOG.info("%s: revert timer expired without configure confirm: rolled back", self.name)
        self._running_changed()

    def confirm(self) -> bool:
        with self.lock:
            if self._revert is None:
                return False
            self._revert = None
            self.cancel_timers()
        LOG.info("%s: configure confirm: the revert timer is cancelled", self.name)
        return True

    def revert_now(self, user: str) -> bool:
        with self.lock:
            if self._revert is None:
                return False
            restore = self._revert["restore"]
            self._revert = None
            self.cancel_timers()
            self.replace_running(clone_tree(restore), user)
        LOG.info("%s: configure revert now by %s", self.name, user)
        self._running_changed()
        return True

    def reset_revert_timer(self, minutes: int) -> bool:
        with self.lock:
            if self._revert is None:
                return False
            seconds = minutes * self.minute_seconds
            self._revert.update(minutes=minutes, deadline=time.monotonic() + seconds, configured=time.time())
            self.start_timer(seconds, self._revert_expired)
            return True

    def committed(self) -> None:
        """After a configuration was applied by ``copy ... running-config`` or ``configure replace``."""
        with self.lock:
            self._committed()

    # -- control API -----------------------------------------------------------------------
    def _summary_identity(self) -> dict[str, Any]:
        return {"model": self.model, "version": XE_VERSION}

    def _summary_state(self) -> dict[str, Any]:
        return {
            "open_sessions": len(self.sessions),
            "pending_commit": self.pending_commit,
            "archive": self.archive_settings()[0] is not None,
        }

    def _summary_detail(self) -> dict[str, Any]:
        return {"running_config": self.running_config, "startup_config": self.startup_config, "files": self.files}

    def cli(self, lines: list[str], user: str = "admin") -> str:
        """Run CLI lines as an SSH session would (no SSH): what the session shows, prompts included."""
        session = Cli(self, user)
        out = [session.banner() + session.prompt()]
        for line in lines:
            out.append(line + "\n" + session.answer(line))
            if session.closed:
                break
        session.close()
        return "".join(out)


# ---------------------------------------------------------------------------------------------
# File system paths
# ---------------------------------------------------------------------------------------------
FLASH_NAMES = ("flash", "bootflash")
SPECIAL = {
    "running-config": "running",
    "system:running-config": "running",
    "system:/running-config": "running",
    "startup-config": "startup",
    "nvram:startup-config": "startup",
    "nvram:/startup-config": "startup",
    "null:": "null",
}


class Path(NamedTuple):
    kind: str  # flash | running | startup | null | remote | bad
    fs: str  # "flash:" ...
    name: str  # file name on flash ("" for the file system itself)
    text: str  # as given


def parse_path(text: str) -> Path:
    special = SPECIAL.get(text.lower())
    if special:
        return Path(special, "", "", text)
    if ":" not in text and len(text) >= 3:  # "copy run start": the aliases by unique prefix
        for alias in ("running-config", "startup-config"):
            if alias.startswith(text.lower()):
                return Path(SPECIAL[alias], "", "", text)
    fs, sep, rest = text.partition(":")
    if not sep:
        return Path("flash", "flash:", text.lstrip("/"), text)
    fs = fs.lower()
    if fs in FLASH_NAMES:
        return Path("flash", fs + ":", rest.lstrip("/"), text)
    if fs in ("tftp", "ftp", "scp", "http", "https", "sftp", "rcp"):
        return Path("remote", fs + ":", rest, text)
    return Path("bad", fs + ":", rest, text)


def _copied(size: int) -> str:
    secs = 0.004 + size / 2_000_000
    return f"{size} bytes copied in {secs:.3f} secs ({int(size / secs)} bytes/sec)"


def _filter(lines: list[str], how: str, pattern: str) -> list[str] | str:
    """``| include|exclude|begin|section|count <regex>``."""
    try:
        rx = re.compile(pattern)
    except re.error:
        return [INVALID]
    if how == "include":
        return [ln for ln in lines if rx.search(ln)]
    if how == "exclude":
        return [ln for ln in lines if not rx.search(ln)]
    if how == "begin":
        for i, ln in enumerate(lines):
            if rx.search(ln):
                return lines[i:]
        return []
    if how == "count":
        return [f"Number of lines which match regexp = {sum(1 for ln in lines if rx.search(ln))}"]
    out: list[str] = []  # section: matching top-level lines with the lines under them
    keep = False
    for ln in lines:
        if ln.startswith(" "):
            if keep:
                out.append(ln)
            continue
        keep = bool(rx.search(ln))
        if keep:
            out.append(ln)
    return out


PIPES = ("append", "begin", "count", "exclude", "format", "include", "redirect", "section", "tee")
EXEC_WORDS = (
    "archive access-enable access-profile cd clear clock configure connect copy debug delete dir disable "
    "disconnect enable erase exit format fsck help install license lock logout mkdir monitor more "
    "name-connection ping pwd quit release reload rename request resume rmdir send set setup show "
    "ssh systat tclsh telnet terminal test traceroute undebug verify where write"
).split()
USER_EXEC = {"enable", "exit", "logout", "quit", "show", "terminal", "ping", "traceroute", "ssh", "telnet", "disable"}
SHOW_WORDS = (
    "aaa access-lists archive arp boot cdp clock configuration controllers crypto debugging environment "
    "etherchannel file flash: history hosts interfaces inventory ip ipv6 license line lldp logging mac "
    "memory module ntp parser platform power privilege processes redundancy running-config sessions snmp "
    "spanning-tree ssh startup-config switch tech-support terminal users version vlan vrf"
).split()


def _expand(word: str, choices) -> tuple[str | None, bool]:
    """(the keyword, ambiguous?) for an abbreviation."""
    word = word.lower()
    if word in choices:
        return word, False
    found = [c for c in choices if c.startswith(word)]
    if len(found) == 1:
        return found[0], False
    return None, bool(found)


def _changes(line: str) -> bool:
    """A configuration line that changes something (not a comment, nor a mode change)."""
    words = line.split()
    return (
        bool(words) and not words[0].startswith("!") and words[0].lower() not in ("exit", "exit-address-family", "end")
    )


class _Question(NamedTuple):
    text: str
    then: Any  # callable(answer) -> list[str]
    secret: bool = False


# ---------------------------------------------------------------------------------------------
# The CLI (one SSH shell session, or Device.cli)
# ---------------------------------------------------------------------------------------------
class Cli:
    """One exec session: privileged exec, configuration mode, questions (``[confirm]``, ``Destination
    filename [...]?``). ``answer(line)`` returns what the device prints after the echoed line, the next
    prompt (or question) included."""

    def __init__(self, dev: Device, user: str, peer: str = "127.0.0.1", check_password=None):
        self.dev = dev
        self.user = user
        self._check_password = check_password or (lambda _answer: False)
        self.sid = dev.new_session(user, peer)
        self.privileged = True  # the simulator's user has privilege 15, as napalm's usually has
        self.config: Configurator | None = None
        self.generation = 0
        self.question: _Question | None = None
        self.closed = False
        self.committed = False  # the last command applied configuration (copy/replace): fault hooks

    def close(self) -> None:
        self.dev.end_session(self.sid)

    def banner(self) -> str:
        with self.dev.lock:
            texts = [n.text for n in self.dev.running if n.key in (("banner", "motd"), ("banner", "exec"))]
        return "".join(t.strip("\n") + "\n" for t in texts if t is not None)

    def prompt(self) -> str:
        host = self.dev.hostname
        if self.config is not None and self.config.collecting_banner:
            return ""  # the banner's text is taken without a prompt
        if self.config is not None:
            return f"{host[:20]}({MODE_PROMPT[self.config.mode]})#"
        return host + ("#" if self.privileged else ">")

    @property
    def secret_input(self) -> bool:
        return self.question is not None and self.question.secret

    def answer(self, line: str) -> str:
        self.committed = False
        out = self.handle(line)
        text = "".join(ln + "\n" for ln in out)
        if self.closed:
            return text
        if self.question is not None:
            return text + self.question.text
        return text + self.prompt()

    def handle(self, line: str) -> list[str]:
        if self.question is not None:
            question, self.question = self.question, None
            return question.then(line.strip())
        if self.config is not None:
            return self._config_line(line)
        stripped = line.strip()
        if not stripped:
            return []
        if LOG.isEnabledFor(logging.DEBUG):
            LOG.debug("%s: session %d: %s", self.dev.name, self.sid, redact(stripped))
        try:
            return self.exec_command(stripped)
        except CmdError as err:
            return err.lines(len(self.prompt())) + [""]

    # -- configuration mode -----------------------------------------------------------------
    def _config_line(self, line: str) -> list[str]:
        dev = self.dev
        if line.strip() and LOG.isEnabledFor(logging.DEBUG):
            LOG.debug("%s: session %d (%s): %s", dev.name, self.sid, self.config.mode, redact(line.strip()))
        if line.strip() == "\x1a":
            line = "end"
        with dev.lock:
            if self.generation != dev.tree_generation:  # replaced under us (a revert): back to global
                self.config = Configurator(dev.running, dev.ports)
                self.generation = dev.tree_generation
            prompt_len = len(self.prompt())
            collecting = self.config.collecting_banner
            outcome = self.config.feed(line)
        out = list(outcome.out)
        if self.config.collecting_banner and not collecting:
            delim = self.config._banner["delim"]
            out.append(f"Enter TEXT message.  End with the character '{delim}'.")
        if outcome.refused:
            if out and out[0].strip() == "^":  # the caret is under the word, after the prompt
                out[0] = " " * prompt_len + out[0]
            out.append("")
        elif not outcome.ended and not outcome.do and _changes(line):
            dev.note_change(self.user)
            dev._running_changed()
        if outcome.do:
            try:
                out += self.exec_command(outcome.do)
            except CmdError as err:
                out += err.lines(prompt_len) + [""]
        if outcome.ended:
            self.config = None
        return out

    # -- exec commands ----------------------------------------------------------------------
    def exec_command(self, line: str) -> list[str]:
        words = split_words(line)
        allowed = EXEC_WORDS if self.privileged else sorted(USER_EXEC)
        verb, ambiguous = _expand(words[0].text, allowed)
        if ambiguous:
            return [f'% Ambiguous command:  "{line}"']
        if verb is None:
            if len(words) == 1 and re.fullmatch(r"[A-Za-z0-9._-]+", words[0].text):
                return self._telnet_to(words[0].text)
            raise invalid_at(words, 0, line)
        rest = words[1:]
        handler = getattr(self, "x_" + verb.replace("-", "_"), None)
        if handler is None:
            return [NOT_MODELED + f" ({verb})"]
        return handler(line, words, rest)

    def _telnet_to(self, word: str) -> list[str]:
        """An unknown single word is a host to telnet to, as on IOS."""
        if self.dev.domain_lookup():
            return [
                f'Translating "{word}"...domain server (255.255.255.255)',
                "% Bad IP address or host name",
                "% Unknown command or computer name, or unable to find computer address",
            ]
        return ["% Unknown command or computer name, or unable to find computer address"]

    def x_exit(self, line, words, rest):
        self.closed = True
        return []

    x_logout = x_quit = x_exit

    def x_terminal(self, line, words, rest):
        if not rest:
            raise CmdError(INCOMPLETE)
        what, ambiguous = _expand(rest[0].text, ("length", "width", "monitor", "no", "history", "exec"))
        if what is None:
            raise invalid_at(words, 1, line)
        if what in ("length", "width"):
            if len(rest) < 2:
                raise CmdError(INCOMPLETE)
            limit = 512 if what == "length" else 512
            if not rest[1].text.isdigit() or int(rest[1].text) > limit or len(rest) > 2:
                raise invalid_at(words, 2 if len(rest) < 3 else 3, line)
        return []

    def x_enable(self, line, words, rest):
        if self.privileged:
            return []

        def check(answer: str) -> list[str]:
            if self._check_password(answer):
                self.privileged = True
                return []
            return ["% Bad secrets", ""]

        self.question = _Question("Password: ", check, secret=True)
        return []

    def x_disable(self, line, words, rest):
        self.privileged = False
        return []

    def x_configure(self, line, words, rest):
        if not rest:
            self.question = _Question(
                "Configuring from terminal, memory, or network [terminal]? ",
                lambda a: self._configure_terminal() if a.lower() in ("", "terminal", "t") else ["% Not modeled"],
            )
            return []
        what, ambiguous = _expand(
            rest[0].text,
            ("terminal", "replace", "confirm", "revert", "memory", "network", "overwrite-network", "session"),
        )
        if ambiguous:
            return [f'% Ambiguous command:  "{line}"']
        if what is None:
            raise invalid_at(words, 1, line)
        if what == "terminal":
            return self._configure_terminal_args(line, words, rest[1:])
        if what == "replace":
            return self._configure_replace(line, words, rest[1:])
        if what == "confirm":
            if len(rest) > 1:
                raise invalid_at(words, 2, line)
            if not self.dev.confirm():
                return [NO_PENDING]
            return []
        if what == "revert":
            return self._configure_revert(line, words, rest[1:])
        return [NOT_MODELED + f" (configure {what})"]

    def _configure_terminal(self) -> list[str]:
        self.config = Configurator(self.dev.running, self.dev.ports)
        self.generation = self.dev.tree_generation
        return [ENTER_CONFIG]

    def _configure_terminal_args(self, line, words, rest):
        if not rest:
            return self._configure_terminal()
        what, _ = _expand(rest[0].text, ("revert", "lock"))
        if what == "lock" and len(rest) == 1:
            return self._configure_terminal()
        if what != "revert":
            raise invalid_at(words, 2, line)
        if len(rest) < 3:
            raise CmdError(INCOMPLETE)
        timer, _ = _expand(rest[1].text, ("timer",))
        if timer is None:
            raise invalid_at(words, 3, line)
        index, kind = 2, "revert timer"
        if rest[2].text.lower() == "idle":
            index, kind = 3, "idle timer"
            if len(rest) < 4:
                raise CmdError(INCOMPLETE)
        value = rest[index].text
        if not value.isdigit() or not 1 <= int(value) <= REVERT_MAX_MINUTES or len(rest) > index + 1:
            raise invalid_at(words, index + 1 + (1 if value.isdigit() and 1 <= int(value) <= 120 else 0), line)
        if self.dev.archive_settings()[0] is None:
            return [ARCHIVE_OFF]
        backup = self.dev.start_revert(int(value), self.user, kind)
        return [
            f"Rollback Confirmed Change: Backing up current running config to {backup}",
            "",
        ] + self._configure_terminal()

    def _configure_revert(self, line, words, rest):
        if not rest:
            raise CmdError(INCOMPLETE)
        what, _ = _expand(rest[0].text, ("now", "timer"))
        if what == "now" and len(rest) == 1:
            if not self.dev.revert_now(self.user):
                return [NO_PENDING]
            return []
        if what == "timer" and len(rest) >= 2:
            index = 2 if rest[1].text.lower() == "idle" else 1
            if len(rest) != index + 1:
                raise CmdError(INCOMPLETE) if len(rest) <= index else invalid_at(words, index + 3, line)
            value = rest[index].text
            if not value.isdigit() or not 1 <= int(value) <= REVERT_MAX_MINUTES:
                raise invalid_at(words, index + 2, line)
            if not self.dev.reset_revert_timer(int(value)):
                return [NO_PENDING]
            return []
        if what is None:
            raise invalid_at(words, 2, line)
        raise CmdError(INCOMPLETE)

    def _configure_replace(self, line, words, rest):
        if not rest:
            raise CmdError(INCOMPLETE)
        path = parse_path(rest[0].text)
        opts = [w.text.lower() for w in rest[1:]]
        force = listing = False
        revert_error = False
        timer = None
        i = 0
        while i < len(opts):
            word = opts[i]
            if "list".startswith(word) and word:
                listing = True
            elif "force".startswith(word):
                force = True
            elif "ignorecase".startswith(word) or "nolock".startswith(word):
                pass
            elif "revert".startswith(word) and i + 1 < len(opts) and "trigger".startswith(opts[i + 1]):
                i += 1
                while i + 1 < len(opts) and opts[i + 1] in ("error", "timer"):
                    if opts[i + 1] == "error":
                        revert_error, i = True, i + 1
                    else:
                        if i + 2 >= len(opts) or not opts[i + 2].isdigit() or not 1 <= int(opts[i + 2]) <= 120:
                            raise invalid_at(words, i + 4, line)
                        timer, i = int(opts[i + 2]), i + 2
            elif "time".startswith(word) and i + 1 < len(opts) and opts[i + 1].isdigit():
                timer, i = int(opts[i + 1]), i + 1
            else:
                raise invalid_at(words, i + 3, line)
            i += 1
        data = self._read(path)
        if isinstance(data, list):
            return data
        if (revert_error or timer) and self.dev.archive_settings()[0] is None:
            return [ARCHIVE_OFF]

        def go() -> list[str]:
            return self._replace(data.decode("utf-8", "replace"), listing, revert_error, timer)

        if force:
            return go()
        self.question = _Question(
            "This will apply all necessary additions and deletions\n"
            "to replace the current running configuration with the\n"
            "contents of the specified configuration file, which is\n"
            "assumed to be a complete configuration, not a partial\n"
            "configuration. Enter Y if you are sure you want to proceed. ? [no]: ",
            lambda a: go() if a.lower() in ("y", "yes") else [],
        )
        return []

    def _replace(self, text: str, listing: bool, revert_error: bool, timer: int | None) -> list[str]:
        dev = self.dev
        before = dev.file_text()
        tree = base_tree(dev.ports)
        refused = apply_lines(tree, text, dev.ports)
        out: list[str] = []
        backup = None
        if revert_error or timer:
            backup = dev.start_revert(timer, self.user, "revert timer") if timer else dev.archive_config()
            out.append(f"Rollback Confirmed Change: Backing up current running config to {backup}")
            out.append("")
        if refused and revert_error:
            if timer:
                dev.confirm()
            bad = refused[0][1]
            LOG.info("%s: configure replace refused %r: running-config kept", dev.name, bad)
            return out + [
                f"Failed to apply command {bad}",
                "Aborting Rollback.",
                "",
                f"Rollback failed.Reverting back to the original configuration: {backup} ...",
                "",
                "Total number of passes: 1",
                "Rollback Done",
                "",
                "The original configuration has been successfully restored.",
            ]
        dev.replace_running(tree, self.user)
        after = dev.file_text()
        self.committed = True
        dev.committed()
        dev._running_changed()
        LOG.info("%s: configure replace by %s (%d line(s) refused)", dev.name, self.user, len(refused))
        if listing:
            diff = contextual_diff(before, after).splitlines()[1:]
            commands = [
                ("no " + ln[1:].lstrip() if ln.lstrip().startswith("-") else ln.replace("+", "", 1)) for ln in diff
            ]
            out += ["!Pass 1", "!List of Commands:"] + [c for c in commands if "No changes" not in c] + ["end", ""]
        if refused:
            failed = [line for _, line, _ in refused]
            return out + [
                "The rollback configlet from the last pass is listed below:",
                "********",
                "!List of Rollback Commands:",
                *failed,
                "end",
                "********",
                "",
                "",
                "Rollback aborted after 5 passes",
                "The following commands are failed to apply to the IOS image.",
                "********",
                *failed,
                "********",
            ]
        return out + ["Total number of passes: 1", "Rollback Done", ""]

    # -- files ------------------------------------------------------------------------------
    def _read(self, path: Path) -> bytes | list[str]:
        dev = self.dev
        if path.kind == "running":
            return dev.file_text().encode()
        if path.kind == "startup":
            return dev.startup_config.encode()
        if path.kind == "null":
            return b""
        if path.kind == "remote":
            return [NOT_MODELED + f" (remote file system {path.fs})"]
        data = dev.read_file(path.name) if path.kind == "flash" and path.name else None
        if data is None:
            return [f"%Error opening {path.text} (No such file or directory)"]
        return data

    def x_copy(self, line, words, rest):
        if len(rest) < 2:
            raise CmdError(INCOMPLETE)
        if len(rest) > 2:
            raise invalid_at(words, 3, line)
        src, dst = parse_path(rest[0].text), parse_path(rest[1].text)
        for index, path in ((1, src), (2, dst)):
            if path.kind == "bad":
                raise invalid_at(words, index, line)
        if dst.kind == "remote" or src.kind == "remote":
            return [NOT_MODELED + " (remote file systems)"]
        if dst.kind == "null" and src.kind == "null":
            raise invalid_at(words, 2, line)
        data = self._read(src)
        if isinstance(data, list):
            return data
        default = {"running": "running-config", "startup": "startup-config", "null": ""}.get(dst.kind, dst.name)
        if dst.kind == "flash" and not dst.name:
            default = src.name or "running-config"
        if self.dev.prompts_quiet() or dst.kind == "null":
            return self._copy_to(data, src, dst, default)

        def named(answer: str) -> list[str]:
            name = answer or default
            target = dst if not answer else dst._replace(name=answer.split(":")[-1].lstrip("/"))
            if target.kind == "flash" and not target.name:
                target = target._replace(name=name)
            if target.kind == "flash" and self.dev.read_file(target.name) is not None:
                self.question = _Question(
                    "%Warning:There is a file already existing with this name\nDo you want to over write? [confirm]",
                    lambda a: (
                        self._copy_to(data, src, target, name)
                        if a.lower() in ("", "y", "yes")
                        else ["%Error copying (aborted)"]
                    ),
                )
                return []
            return self._copy_to(data, src, target, name)

        self.question = _Question(f"Destination filename [{default}]? ", named)
        return []

    def _copy_to(self, data: bytes, src: Path, dst: Path, name: str) -> list[str]:
        dev = self.dev
        if dst.kind == "running":
            return self._merge(data.decode("utf-8", "replace"), src)
        if dst.kind == "startup":
            if src.kind == "running":
                dev.save(self.user)
                return ["Building configuration...", "[OK]"]
            with dev.lock:
                dev.startup_text = data.decode("utf-8", "replace")
            return [_copied(len(data))]
        if dst.kind == "null":
            return [_copied(len(data))]
        dev.write_file(dst.name or name, data)
        return [_copied(len(data))]

    def _merge(self, text: str, src: Path) -> list[str]:
        """``copy <file> running-config``: line by line in global configuration mode. A refused line
        prints the caret and IOS's message (not the line itself) and the copy goes on with the next
        line: the lines before and after it stay applied."""
        dev = self.dev
        out: list[str] = []
        applied = 0
        with dev.lock:
            refused = apply_lines(dev.running, text, dev.ports)
            dev.tree_generation += 1
        for _, _, messages in refused:
            out += messages + [""]
        applied = sum(1 for ln in text.splitlines() if ln.strip() and not ln.strip().startswith("!")) - len(refused)
        if applied:
            dev.note_change(self.user)
        self.committed = True
        dev.committed()
        dev._running_changed()
        LOG.info("%s: copy %s running-config by %s: %d line(s) refused", dev.name, src.text, self.user, len(refused))
        return out + [_copied(len(text.encode()))]

    def x_dir(self, line, words, rest):
        target = parse_path(rest[0].text) if rest else Path("flash", "flash:", "", "flash:")
        if len(rest) > 1 or target.kind != "flash":
            raise invalid_at(words, 1 if target.kind != "flash" else 2, line)
        dev = self.dev
        fs = target.fs or "flash:"
        with dev.lock:
            if target.name:
                entry = dev.flash.get(target.name)
                if entry is None:
                    return [f"%Error opening {fs}/{target.name} (No such file or directory)"]
                entries = [(target.name, entry)]
                head = f"Directory of {fs}/{target.name}"
            else:
                entries = sorted(dev.flash.items())
                head = f"Directory of {fs}/"
            rows = []
            for name, entry in entries:
                inode = int(hashlib.sha256(name.encode()).hexdigest()[:5], 16)
                rows.append(f"{inode:>6}  -rw-  {entry.size:>15}  {dir_time(entry.mtime)}  {name}")
        return [head, "", *rows, "", f"{FLASH_TOTAL} bytes total ({dev.flash_free()} bytes free)"]

    def x_verify(self, line, words, rest):
        if not rest or rest[0].text.lower() != "/md5":
            return [NOT_MODELED + " (verify without /md5)"]
        if len(rest) < 2:
            raise CmdError(INCOMPLETE)
        path = parse_path(rest[1].text)
        data = self._read(path) if path.kind == "flash" else [f"%Error opening {path.text} (No such file or directory)"]
        if isinstance(data, list):
            return data
        digest = hashlib.md5(data, usedforsecurity=False).hexdigest()
        return ["." * max(1, len(data) // 4096 + 1) + "Done!", f"verify /md5 ({path.text}) = {digest}"]

    def x_more(self, line, words, rest):
        if not rest:
            raise CmdError(INCOMPLETE)
        data = self._read(parse_path(rest[-1].text))
        if isinstance(data, list):
            return data
        return data.decode("utf-8", "replace").splitlines()

    def x_delete(self, line, words, rest):
        args = [w.text for w in rest]
        force = "/force" in [a.lower() for a in args]
        names = [a for a in args if not a.startswith("/")]
        if not names:
            raise CmdError(INCOMPLETE)
        path = parse_path(names[0])
        dev = self.dev

        def remove(_answer: str = "") -> list[str]:
            with dev.lock:
                if dev.flash.pop(path.name, None) is None:
                    return [f"%Error deleting {path.fs}/{path.name} (No such file or directory)"]
            LOG.info("%s: %s%s deleted", dev.name, path.fs, path.name)
            return []

        if path.kind != "flash" or not path.name:
            raise invalid_at(words, 1 + args.index(names[0]), line)
        if force or dev.prompts_quiet():
            return remove()
        self.question = _Question(
            f"Delete filename [{path.name}]? ",
            lambda a: self._ask(f"Delete {path.fs}/{path.name}? [confirm]", remove),
        )
        return []

    def _ask(self, text: str, then) -> list[str]:
        self.question = _Question(text, lambda a: then(a) if a.lower() in ("", "y", "yes") else [])
        return []

    def x_write(self, line, words, rest):
        what, _ = _expand(rest[0].text, ("memory", "terminal", "erase", "network")) if rest else ("memory", False)
        if what == "memory" and len(rest) <= 1:
            self.dev.save(self.user)
            return ["Building configuration...", "[OK]"]
        if what == "terminal":
            return self._show_running([])
        if what is None:
            raise invalid_at(words, 1, line)
        return [NOT_MODELED + f" (write {what})"]

    def x_archive(self, line, words, rest):
        what, _ = _expand(rest[0].text, ("config", "log", "tar")) if rest else (None, False)
        if what != "config" or len(rest) != 1:
            raise CmdError(INCOMPLETE) if not rest else invalid_at(words, 1, line)
        if self.dev.archive_settings()[0] is None:
            return [NO_ARCHIVE]
        self.dev.archive_config()
        return []

    # -- show -------------------------------------------------------------------------------
    def x_show(self, line, words, rest):
        if not rest:
            raise CmdError(INCOMPLETE)
        body, _, piped = line.partition("|")
        bwords = split_words(body)[1:]
        pipe = None
        if piped:
            pwords = piped.split(None, 1)
            how, _ = _expand(pwords[0], PIPES) if pwords else (None, False)
            if how not in ("include", "exclude", "begin", "section", "count") or len(pwords) < 2:
                return [INVALID] if how is None else [INCOMPLETE]
            pipe = (how, pwords[1].strip())
        what, ambiguous = _expand(bwords[0].text, SHOW_WORDS)
        if ambiguous:
            return [f'% Ambiguous command:  "{line}"']
        if what is None or (not self.privileged and what in ("running-config", "startup-config", "archive", "flash:")):
            raise invalid_at(words, 1, line)
        handler = getattr(self, "s_" + re.sub(r"\W", "_", what.rstrip(":")), None)
        if handler is None:
            return [NOT_MODELED + f" (show {what})"]
        out = handler(line, words, bwords[1:])
        if pipe and isinstance(out, list):
            return _filter(out, *pipe)
        return out

    def _show_running(self, args: list[Word], words=None, line="") -> list[str]:
        dev = self.dev
        opts = [a.text for a in args]
        if opts and _expand(opts[0], ("all", "interface"))[0] == "interface":
            found = parse_ifname(args, 1) if len(args) > 1 else None
            if found is None:
                raise CmdError(INCOMPLETE) if len(args) == 1 else invalid_at(words, 3, line)
            with dev.lock:
                node = find(dev.running, ("interface", found[0]))
                if node is None:
                    raise invalid_at(words, 3, line)
                body: list[str] = []
                _render_node(node, 0, body)
            text = "\n".join(body) + "\nend\n"
            return ["Building configuration...", "", f"Current configuration : {len(text)} bytes", "!", *body, "end"]
        if opts and _expand(opts[0], ("all", "interface"))[0] is None:
            raise invalid_at(words, 2, line)
        text = dev.file_text()
        return [
            "Building configuration...",
            "",
            f"Current configuration : {len(text)} bytes",
            *text.rstrip("\n").split("\n"),
        ]

    def s_running_config(self, line, words, args):
        return self._show_running(args, words, line)

    def s_startup_config(self, line, words, args):
        text = self.dev.startup_config
        return [f"Using {len(text)} out of {NVRAM_SIZE} bytes", *text.rstrip("\n").split("\n")]

    def s_flash(self, line, words, args):
        return self.x_dir(line, words, [])

    def s_clock(self, line, words, args):
        now = time.time()
        return ["*" + ios_time(now).replace(" UTC", f".{int(now % 1 * 1000):03d} UTC", 1)]

    def s_version(self, line, words, args):
        dev = self.dev
        up = int(dev.uptime())
        weeks, days, hours, minutes = up // 604800, up // 86400 % 7, up // 3600 % 24, up // 60 % 60
        parts = [
            f"{n} {unit}{'s' if n != 1 else ''}" for n, unit in ((weeks, "week"), (days, "day"), (hours, "hour")) if n
        ]
        uptime = ", ".join(parts + [f"{minutes} minute{'s' if minutes != 1 else ''}"])
        model = dev.model
        return [
            f"Cisco IOS XE Software, Version {XE_VERSION}",
            "Cisco IOS Software [Cupertino], Catalyst L3 Switch Software (CAT9K_IOSXE), "
            f"Version {IOS_VERSION}, RELEASE SOFTWARE (fc3)",
            "Technical Support: http://www.cisco.com/techsupport",
            "Copyright (c) 1986-2023 by Cisco Systems, Inc.",
            "Compiled Fri 20-Oct-23 10:44 by mcpre",
            "",
            "",
            "Cisco IOS-XE software, Copyright (c) 2005-2023 by cisco Systems, Inc.",
            "All rights reserved.  Certain components of Cisco IOS-XE software are",
            'licensed under the GNU General Public License ("GPL") Version 2.0.  The',
            "software code licensed under GPL Version 2.0 is free software that comes",
            "with ABSOLUTELY NO WARRANTY.  You can redistribute and/or modify such",
            "GPL code under the terms of GPL Version 2.0.  For more details, see the",
            'documentation or "License Notice" file accompanying the IOS-XE software,',
            "or the applicable URL provided on the flyer accompanying the IOS-XE",
            "software.",
            "",
            "",
            "ROM: IOS-XE ROMMON",
            "BOOTLDR: System Bootstrap, Version 17.9.1r[FC2], RELEASE SOFTWARE (P)",
            "",
            f"{dev.hostname} uptime is {uptime}",
            f"Uptime for this control processor is {uptime}",
            "System returned to ROM by Reload Command",
            'System image file is "flash:packages.conf"',
            "Last reload reason: Reload Command",
            "",
            "",
            "",
            "This product contains cryptographic features and is subject to United",
            "States and local country laws governing import, export, transfer and",
            "use. Delivery of Cisco cryptographic products does not imply",
            "third-party authority to import, export, distribute or use encryption.",
            "",
            "",
            "Technology Package License Information:",
            "",
            "------------------------------------------------------------------------------",
            "Technology-package                                     Technology-package",
            "Current                        Type                       Next reboot",
            "------------------------------------------------------------------------------",
            "network-advantage      Smart License                    network-advantage",
            "None                   Subscription Smart License       None",
            "",
            "",
            "Smart Licensing Status: Smart Licensing Using Policy",
            "",
            f"cisco {model} (X86) processor with 1338934K/6147K bytes of memory.",
            f"Processor board ID {dev.serial_number}",
            "2048K bytes of non-volatile configuration memory.",
            "8388608K bytes of physical memory.",
            "1638400K bytes of Crash Files at crashinfo:.",
            "11264000K bytes of Flash at flash:.",
            "",
            f"Base Ethernet MAC Address          : {dev.mac}",
            "Motherboard Assembly Number        : 73-18271-03",
            f"Motherboard Serial Number          : {dev.serial_number}",
            "Model Revision Number              : A0",
            "Motherboard Revision Number        : A0",
            f"Model Number                       : {model}",
            f"System Serial Number               : {dev.serial_number}",
            "",
            "",
            "Switch Ports Model              SW Version        SW Image              Mode   ",
            "------ ----- -----              ----------        ----------            ----   ",
            f"*    1 {dev.ports + 4:<5} {model:<18} {XE_VERSION:<17} CAT9K_IOSXE           INSTALL",
            "",
            "",
            "Configuration register is 0x102",
            "",
        ]

    def s_hosts(self, line, words, args):
        dev = self.dev
        with dev.lock:
            domain = find(dev.running, ("ip", "domain", "name"))
            hosts = [n.line.split()[2:] for n in dev.running if n.key[:2] == ("ip", "host")]
            servers = [n.line.split()[-1] for n in dev.running if n.line.startswith("ip name-server ")]
        out = [f"Default domain is {domain.line.split()[3]}" if domain else "Default domain is not set"]
        if dev.domain_lookup() and servers:
            out += ["Name/address lookup uses domain service", "Name servers are " + ", ".join(servers)]
        else:
            out.append("Name/address lookup uses static mappings")
        out += [
            "",
            "Codes: UN - unknown, EX - expired, OK - OK, ?? - revalidate",
            "       temp - temporary, perm - permanent",
            "       NA - Not Applicable None - Not defined",
            "",
            "Host                      Port  Flags      Age Type   Address(es)",
        ]
        out += [f"{h[0]:<25} None  (perm, OK)  0   IP    {' '.join(h[1:])}" for h in hosts]
        return out

    def s_ip(self, line, words, args):
        what = [
            _expand(a.text, ("interface", "brief", "route", "ssh", "arp", "bgp", "ospf", "vrf"))[0] for a in args[:2]
        ]
        if what != ["interface", "brief"]:
            return [NOT_MODELED + " (show ip " + " ".join(a.text for a in args) + ")"]
        dev = self.dev
        rows = ["Interface              IP-Address      OK? Method Status                Protocol"]
        with dev.lock:
            for node in dev.running:
                if node.mode != "if":
                    continue
                name = node.line.split(" ", 1)[1]
                address = next((c.line.split()[2] for c in node.children if c.key == ("ip", "address")), "unassigned")
                down = any(c.line == "shutdown" for c in node.children)
                routed = is_routed_only(name) or any(c.line == "no switchport" for c in node.children)
                status, proto = (
                    ("administratively down", "down") if down else (("up", "up") if routed else ("down", "down"))
                )
                method = "NVRAM" if address != "unassigned" else "unset"
                rows.append(f"{name:<22} {address:<15} YES {method:<6} {status:<21} {proto}")
        return rows

    def s_archive(self, line, words, args):
        dev = self.dev
        opts = [a.text for a in args]
        if not opts:
            path, maximum = dev.archive_settings()
            if path is None:
                return [NO_ARCHIVE]
            with dev.lock:
                names = list(dev.archives)
            out = [
                f"The maximum archive configurations allowed is {maximum}.",
                f"There are currently {len(names)} archive configurations saved.",
                f"The next archive file will be named {path}-<timestamp>-{dev._archive_counter}",
                " Archive #  Name",
            ]
            for i in range(1, max(maximum, len(names)) + 1):
                name = f"flash:{names[i - 1]}" if i <= len(names) else ""
                recent = " <- Most Recent" if i == len(names) else ""
                out.append(f"   {i:<8} {name}{recent}".rstrip())
            return out
        if _expand(opts[0], ("config", "log"))[0] != "config" or len(opts) < 2:
            return [NOT_MODELED + " (show archive " + " ".join(opts) + ")"]
        sub, _ = _expand(opts[1], ("rollback", "differences", "incremental-diffs"))
        if sub == "rollback" and len(opts) == 3 and _expand(opts[2], ("timer",))[0]:
            if dev.archive_settings()[0] is None:
                return [NO_ARCHIVE]
            pending = dev._revert
            if pending is None:
                return [NO_PENDING]
            return [
                f"Time configured(or reset): {ios_time(pending['configured'])}",
                f"Timer type: {pending['type']}",
                f"Timer value: {pending['minutes']} min",
                f"User: {pending['user']}",
            ]
        if sub == "incremental-diffs":
            if len(opts) < 3:
                raise CmdError(INCOMPLETE)
            extra = [o.lower() for o in opts[3:]]
            if extra not in ([], ["ignorecase"]):
                raise invalid_at(words, 6, line)
            data = self._read(parse_path(opts[2]))
            if isinstance(data, list):
                return data
            return incremental_diff(dev.file_text(), data.decode("utf-8", "replace"), bool(extra)).split("\n")
        if sub == "differences":
            files = opts[2:4]
            texts = []
            for name in files or ["system:running-config"]:
                data = self._read(parse_path(name))
                if isinstance(data, list):
                    return data
                texts.append(data.decode("utf-8", "replace"))
            if len(texts) == 1:
                texts.insert(0, dev.file_text()) if files else texts.append(dev.startup_config)
            return contextual_diff(texts[0], texts[1]).split("\n")
        return [NOT_MODELED + " (show archive " + " ".join(opts) + ")"]


# ---------------------------------------------------------------------------------------------
# SSH: the shell session, the SCP sink/source, the server interface
# ---------------------------------------------------------------------------------------------
_Dropped = SessionDropped  # the session ends without an answer (connection dropped)


class ShellSession(SessionFaults):
    """An SSH shell channel with a pty: echo, line editing, the CLI, faults."""

    def __init__(self, sim: IosSimulator, dev: Device, channel: paramiko.Channel, user: str, local_address: str, peer):
        self.sim = sim
        self.dev = dev
        self.chan = channel
        self.local_address = local_address
        self.cli = Cli(dev, user, peer[0] if peer else "", lambda answer: sim.authorized(user, answer))
        self._buf = ""
        self._last_cr = False

    def _send(self, text: str) -> None:
        if text:
            self.chan.sendall(text.replace("\n", "\r\n").encode("utf-8", "replace"))

    def run(self) -> None:
        dev = self.dev
        try:
            self._pause()
            self._send("\n" + self.cli.banner() + self.cli.prompt())
            while not self.cli.closed:
                data = self.chan.recv(4096)
                if not data:
                    break
                self._input(data.decode("utf-8", "replace"))
        except (EOFError, OSError, _Dropped, paramiko.SSHException):
            pass
        finally:
            self.cli.close()
            if self.cli.closed:  # "exit": the client hangs up (closing first would reset it)
                with contextlib.suppress(Exception):
                    self.chan.send_exit_status(0)
                    self.chan.shutdown_write()
                    self.chan.get_transport().join(HANGUP_WAIT)
            with contextlib.suppress(Exception):
                self.chan.close()
            LOG.debug("%s: session %d ended", dev.name, self.cli.sid)

    def _input(self, text: str) -> None:
        echo = []
        for char in text:
            if char == "\n" and self._last_cr:
                self._last_cr = False
                continue
            self._last_cr = char == "\r"
            if char in "\r\n":
                self._send("".join(echo))
                echo = []
                line, self._buf = self._buf, ""
                self._line(line)
                if self.cli.closed:
                    return
            elif char == "\x1a" and self.cli.config is not None:  # Ctrl-Z: end
                self._send("".join(echo) + "^Z")
                echo = []
                self._buf = ""
                self._line("\x1a")
            elif char in "\x08\x7f":
                if self._buf:
                    self._buf = self._buf[:-1]
                    echo.append("\b \b")
            elif char == "\x00" or (char < " " and char != "\t"):
                continue
            else:
                self._buf += char
                if not self.cli.secret_input:
                    echo.append(char)
        self._send("".join(echo))

    def _line(self, line: str) -> None:
        self._hold()
        if self.dev.delay > 0:
            time.sleep(self.dev.delay)
        with self.dev.lock:
            self.dev.request_count += 1
        self._send("\n" + self.cli.answer(line))
        if self.cli.committed and self.sim.follow_management_address:
            self.sim.follow_management(self.dev, wait=True)
        if self.local_address != self.dev.address:  # re-addressed: this connection is gone
            LOG.info("%s: session %d dropped: the device left %s", self.dev.name, self.cli.sid, self.local_address)
            raise _Dropped
        self.dev.take_silence()


class ScpSession(SessionFaults):
    """``scp -t <path>`` (a file sent to the device) and ``scp -f <path>`` (a file read from it) on an
    SSH exec channel, writing to and reading from flash."""

    def __init__(self, sim: IosSimulator, dev: Device, channel: paramiko.Channel, command: str):
        self.sim = sim
        self.dev = dev
        self.chan = channel
        self.command = command
        self._buf = b""

    def _read(self, size: int) -> bytes:
        while len(self._buf) < size:
            data = self.chan.recv(65536)
            if not data:
                raise EOFError
            self._buf += data
        out, self._buf = self._buf[:size], self._buf[size:]
        return out

    def _readline(self) -> bytes | None:
        while b"\n" not in self._buf:
            data = self.chan.recv(65536)
            if not data:
                return None
            self._buf += data
        line, _, self._buf = self._buf.partition(b"\n")
        return line

    def run(self) -> None:
        status = 1
        try:
            self._pause()
            args = shlex.split(self.command)
            target = parse_path(args[-1]) if len(args) > 1 else None
            if not args or args[0] != "scp" or target is None or target.kind != "flash":
                self.chan.sendall(b"\x01scp: " + (args[-1] if args else "").encode() + b": No such file or directory\n")
            elif "-t" in args:
                status = self._sink(target)
            elif "-f" in args:
                status = self._source(target)
        except (EOFError, OSError, ValueError, _Dropped, paramiko.SSHException) as exc:
            LOG.debug("%s: scp ended: %s", self.dev.name, exc)
        finally:
            with contextlib.suppress(Exception):
                self.chan.send_exit_status(status)
                self.chan.close()

    def _sink(self, target: Path) -> int:
        self.chan.sendall(b"\0")
        while True:
            header = self._readline()
            if header is None:
                return 0
            kind = header[:1]
            if kind == b"T":  # times: acknowledged, not kept
                self.chan.sendall(b"\0")
                continue
            if kind != b"C":
                self.chan.sendall(b"\x01scp: protocol error: only files can be copied here\n")
                return 1
            _mode, size, name = header[1:].decode("utf-8", "replace").split(" ", 2)
            self.chan.sendall(b"\0")
            data = self._read(int(size))
            if self._read(1) != b"\0":
                return 1
            dest = target.name or name
            self.dev.write_file(dest, data)
            LOG.debug("%s: scp: %d bytes to %s/%s", self.dev.name, len(data), target.fs, dest)
            self.chan.sendall(b"\0")

    def _source(self, target: Path) -> int:
        data = self.dev.read_file(target.name)
        if data is None:
            self.chan.sendall(b"\x01scp: " + target.text.encode() + b": No such file or directory\n")
            return 1
        if self._read(1) != b"\0":
            return 1
        self.chan.sendall(f"C0644 {len(data)} {target.name.rsplit('/', 1)[-1]}\n".encode())
        if self._read(1) != b"\0":
            return 1
        self.chan.sendall(data + b"\0")
        self._read(1)
        return 0


class _SshServer(SshLogin):
    def __init__(self, sim: IosSimulator, dev: Device):
        super().__init__(sim, dev)
        self.kind: str | None = None
        self.command = ""
        self.ready = threading.Event()

    def check_channel_pty_request(self, *args: Any) -> bool:
        return True

    def check_channel_window_change_request(self, *args: Any) -> bool:
        return True

    def check_channel_shell_request(self, channel: paramiko.Channel) -> bool:
        self.kind = "shell"
        self.ready.set()
        return True

    def check_channel_exec_request(self, channel: paramiko.Channel, command: bytes) -> bool:
        text = command.decode("utf-8", "replace")
        if not text.startswith("scp ") or not self.dev.scp_enabled():
            LOG.info("%s: exec request refused: %s", self.dev.name, text[:60])
            return False
        self.kind, self.command = "exec", text
        self.ready.set()
        return True


# ---------------------------------------------------------------------------------------------
# The simulator
# ---------------------------------------------------------------------------------------------
class IosSimulator(SshSimulator):
    """Many Catalyst 9300s in one process: one listening socket per device, accepted in the simulator's
    loop (a background thread, with the control API), one thread per SSH connection (plus paramiko's
    transport thread). Registry, lifecycle, control API and CLI: lab/simulator/common.py.

    ``minute_seconds``: how long an IOS "minute" lasts for the revert timer of ``configure terminal
    revert timer N`` (60 as on a real box; 10 in the lab, smaller in tests).
    ``management_interface``: the interface whose ``ip address`` the device listens on when
    ``follow_management_address`` is on (default GigabitEthernet0/0).
    A device takes one option, ``ports`` (1..48, default 24: GigabitEthernet1/0/1-N).
    """

    NAME = "ios-sim"
    DESCRIPTION = "Cisco IOS-XE SSH CLI simulator (many devices, one process)"
    CREDENTIAL_ENV = "IOS_SIM_PASSWORD"
    DEFAULT_PORT = DEFAULT_PORT
    DEFAULT_CONTROL_PORT = DEFAULT_CONTROL_PORT
    DEVICE_OPTIONS = ("ports",)
    CONFIG_KEYS = "username, password, port, minute_seconds, management_interface, follow_management_address"
    MOVE_DELAY = 0.0  # the session that committed has sent its reply already
    SSH_VERSION = SSH_VERSION
    THREAD_PREFIX = "ios"
    log = LOG

    def __init__(
        self,
        username: str = "admin",
        password: str = "admin",
        default_port: int = DEFAULT_PORT,
        minute_seconds: float = 60.0,
        management_interface: str = MGMT_INTERFACE,
        follow_management_address: bool = False,
    ):
        super().__init__(username, password, default_port, follow_management_address)
        self.minute_seconds = minute_seconds
        self.management_interface = management_interface

    @classmethod
    def _from_config(cls, cfg: dict, password: str) -> IosSimulator:
        return cls(
            cfg.get("username", "admin"),
            password,
            int(cfg.get("port", DEFAULT_PORT)),
            minute_seconds=float(cfg.get("minute_seconds", 60)),
            management_interface=cfg.get("management_interface", MGMT_INTERFACE),
            follow_management_address=bool(cfg.get("follow_management_address", False)),
        )

    def _new_device(
        self, name: str, address: str, port: int, running_config: str | None, ports: int | None = None
    ) -> Device:
        """``running_config``: IOS text (default: a fresh Catalyst 9300 named ``name`` whose management
        port has ``address``); a line IOS would refuse raises ValueError."""
        try:
            return Device(
                name,
                address,
                port,
                running_config,
                ports=ports or DEFAULT_PORTS,
                minute_seconds=self.minute_seconds,
                management_interface=self.management_interface,
                username=self.username,
            )
        except ValueError as exc:
            raise ValueError(f"device {name}: running_config: {exc}") from exc

    def _serve_transport(self, dev: Device, transport: paramiko.Transport, local_address: str, peer: tuple) -> None:
        server = _SshServer(self, dev)
        transport.start_server(server=server)
        channel = transport.accept(timeout=30)
        if channel is None or not server.ready.wait(10) or server.user is None:
            return
        if server.kind == "exec":
            ScpSession(self, dev, channel, server.command).run()
        else:
            ShellSession(self, dev, channel, server.user, local_address, peer).run()


def main(argv: list[str] | None = None) -> int:
    """``python -m lab.simulator.ios_sim --config sim.json [--control-port 9076] [--log-level INFO]``."""
    return IosSimulator.main(argv)


if __name__ == "__main__":
    sys.exit(main())
