#!/usr/bin/env python3
"""Juniper Junos NETCONF simulator: one process (threads) serving many stateful devices over SSH.

Each device listens on its own address/port and serves the ``netconf`` SSH subsystem (paramiko's
server side) with the Junos XML RPCs that the real NAPALM ``junos`` driver sends through PyEZ and
ncclient: facts, ``load-configuration`` (text with ``replace:``/``delete:`` tags, ``set`` commands,
``override``), ``get-configuration`` (text, XML, ``compare="rollback"``), ``commit-configuration``
(also ``confirmed``), ``lock``/``unlock-configuration``, ``get-commit-revision-information``.
See junos.md beside this file.

Use from tests (``JunosSimulator``) and from the command line (``python -m lab.simulator.junos_sim``):
junos.md. Registry, listeners, control API and command line: common.py.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import logging
import re
import sys
import threading
import time
from typing import Any
from xml.sax.saxutils import escape

import paramiko
from lxml import etree

from lab.simulator.common import SessionDropped, SessionFaults, SimDevice, SshLogin, SshSimulator, host_key  # noqa: F401 - host_key: re-exported

LOG = logging.getLogger("junos_sim")

JUNOS_VERSION = "23.4R1.9"
MODEL = "vsrx"
DEFAULT_PORT = 8830
DEFAULT_CONTROL_PORT = 9077
BOOTED_BEFORE = 300
MAX_ROLLBACK = 50  # rollback 0 (active) .. 49
NC_NS = "urn:ietf:params:xml:ns:netconf:base:1.0"
JUNOS_NS = f"http://xml.juniper.net/junos/{JUNOS_VERSION.split('.')[0]}/junos"
BASE_10 = "urn:ietf:params:netconf:base:1.0"
BASE_11 = "urn:ietf:params:netconf:base:1.1"
HANGUP_WAIT = 2.0  # seconds a closed session waits for its client to hang up
EOM = b"]]>]]>"
CAPABILITIES = [
    BASE_10,
    "urn:ietf:params:netconf:capability:candidate:1.0",
    "urn:ietf:params:netconf:capability:confirmed-commit:1.0",
    "urn:ietf:params:netconf:capability:validate:1.0",
    "urn:ietf:params:netconf:capability:url:1.0?scheme=http,ftp,file",
    "urn:ietf:params:xml:ns:netconf:base:1.0",
    "urn:ietf:params:xml:ns:netconf:capability:candidate:1.0",
    "urn:ietf:params:xml:ns:netconf:capability:confirmed-commit:1.0",
    "urn:ietf:params:xml:ns:netconf:capability:validate:1.0",
    "urn:ietf:params:xml:ns:netconf:capability:url:1.0?protocol=http,ftp,file",
    "urn:ietf:params:xml:ns:yang:ietf-netconf-monitoring",
    "http://xml.juniper.net/netconf/junos/1.0",
    "http://xml.juniper.net/dmi/system/1.0",
]


# ---------------------------------------------------------------------------------------------
# Schema: which statements exist where (anything else is a syntax error, as on Junos)
# ---------------------------------------------------------------------------------------------
class Spec:
    """One statement kind. ``leaf``: keyword value; ``flag``: keyword; ``list``: keyword value...
    (``[ a b ]``); ``container``: keyword { ... }; ``entry``: keyword name { ... } (a list keyed by
    name). ``children`` is the schema of a container/entry: keyword -> Spec, and ``"*"`` -> Spec for
    bare names (``interfaces { ge-0/0/0 { ... } }``, whose XML element is ``xml``)."""

    __slots__ = ("kind", "value", "children", "secret", "xml")

    def __init__(self, kind: str, value: Any = None, children: dict | None = None, secret=False, xml=None):
        self.kind = kind
        self.value = value  # validator for the leaf value / entry name
        self.children = children if children is not None else {}
        self.secret = secret
        self.xml = xml


class Bad(Exception):
    """A value rejected by a validator: ``message`` is Junos's error-message."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _rx(pattern: str, what: str):
    rx = re.compile(pattern)

    def check(value: str) -> None:
        if not rx.fullmatch(value):
            raise Bad(f"invalid {what}: {value}" if what else "syntax error")

    return check


def _int(lo: int, hi: int):
    def check(value: str) -> None:
        if not value.isdigit():
            raise Bad(f"invalid numeric value: '{value}'")
        if not lo <= int(value) <= hi:
            raise Bad(f"Value {value} is not within range ({lo}..{hi})")

    return check


def _enum(*words: str):
    def check(value: str) -> None:
        if value not in words:
            raise Bad("syntax error")

    return check


_V4 = r"(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}"
_V6 = r"[0-9a-fA-F:]*:[0-9a-fA-F:.]*"
ANY = None
IPV4 = _rx(_V4, "ip address")
IP = _rx(f"{_V4}|{_V6}", "ip address")
PREFIX = _rx(rf"({_V4}/([12]?\d|3[0-2]))|({_V6}/\d{{1,3}})", "prefix")
IP_OR_PREFIX = _rx(rf"({_V4}|{_V6})(/\d{{1,3}})?", "ip address")
IFNAME = _rx(
    r"((ge|xe|et|fe|mge)-\d{1,2}/\d{1,2}/\d{1,3}(:\d)?|(fxp|em|me|lo|irb|vlan|ae|vme|reth|st|gr-0/0/)\d{0,3})",
    "interface name",
)
IFUNIT = _rx(
    r"((ge|xe|et|fe|mge)-\d{1,2}/\d{1,2}/\d{1,3}(:\d)?|(fxp|em|me|lo|irb|vlan|ae|vme|reth|st)\d{0,3})(\.\d{1,5})?|all",
    "interface name",
)
NAME = _rx(r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,63}", "name")
HOSTNAME = _rx(r"[A-Za-z0-9][A-Za-z0-9.\-]{0,254}", "hostname")
LEVEL = _enum("any", "emergency", "alert", "critical", "error", "warning", "notice", "info", "none")


def leaf(value=ANY, secret=False) -> Spec:
    return Spec("leaf", value, secret=secret)


def flag() -> Spec:
    return Spec("flag")


def leaflist(value=ANY) -> Spec:
    return Spec("list", value)


def container(**children: Spec) -> Spec:
    return Spec("container", children=_kw(children))


def entry(value, /, **children: Spec) -> Spec:
    return Spec("entry", value, _kw(children))


def oneliner(value, /, **children: Spec) -> Spec:
    """An entry shown on one line when it has a single simple child: ``route 0/0 next-hop 10.0.0.1;``."""
    return Spec("entry", value, _kw(children), xml="oneliner")


def choice(value, /, **children: Spec) -> Spec:
    """Shown as ``family inet { ... }`` but nested containers in XML (``<family><inet>``)."""
    return Spec("entry", value, _kw(children), xml="nested")


def bare(value, xml: str, /, **children: Spec) -> Spec:
    return Spec("bare", value, _kw(children), xml=xml)


def _kw(children: dict) -> dict:
    """Python names -> Junos keywords: ``host_name`` -> ``host-name``, ``n_802_3ad`` -> ``802.3ad``."""
    out = {}
    for key, spec in children.items():
        if key == "star":
            out["*"] = spec
        elif key.startswith("n_"):
            out[key[2:].replace("_", ".", 1).replace("_", "")] = spec
        else:
            out[key.replace("_", "-")] = spec
    return out


def _facilities(**extra: Spec) -> dict:
    names = (
        "any authorization change_log conflict_log daemon dfc external firewall ftp interactive_commands "
        "kernel ntp pfe security user"
    ).split()
    return {**{n: leaf(LEVEL) for n in names}, **extra}


def _filter_spec() -> Spec:
    match = container(
        source_address=entry(IP_OR_PREFIX, except_=flag()),
        destination_address=entry(IP_OR_PREFIX, except_=flag()),
        address=entry(IP_OR_PREFIX, except_=flag()),
        prefix_list=entry(NAME),
        source_prefix_list=entry(NAME),
        destination_prefix_list=entry(NAME),
        protocol=leaflist(),
        port=leaflist(),
        source_port=leaflist(),
        destination_port=leaflist(),
        icmp_type=leaflist(),
        tcp_established=flag(),
    )
    action = container(
        accept=flag(), discard=flag(), reject=flag(), count=leaf(NAME), log=flag(), syslog=flag(), policer=leaf(NAME)
    )
    return entry(NAME, interface_specific=flag(), term=entry(NAME, **{"from": match, "then": action}))


_UNIT = dict(
    description=leaf(),
    disable=flag(),
    vlan_id=leaf(_int(1, 4094)),
    family=choice(
        _enum("inet", "inet6", "ethernet-switching", "iso", "mpls"),
        address=entry(IP_OR_PREFIX, primary=flag(), preferred=flag()),
        dhcp=container(),
        mtu=leaf(_int(256, 9500)),
        filter=container(input=leaf(NAME), output=leaf(NAME)),
        interface_mode=leaf(_enum("access", "trunk")),
        vlan=container(members=leaflist()),
    ),
)
_IFACE = dict(
    description=leaf(),
    disable=flag(),
    vlan_tagging=flag(),
    mtu=leaf(_int(256, 9500)),
    speed=leaf(_enum("10m", "100m", "1g", "10g", "25g", "40g", "100g")),
    native_vlan_id=leaf(_int(1, 4094)),
    gigether_options=container(n_802_3ad=leaf(NAME), auto_negotiation=flag(), no_auto_negotiation=flag()),
    ether_options=container(n_802_3ad=leaf(NAME), auto_negotiation=flag(), no_auto_negotiation=flag()),
    aggregated_ether_options=container(lacp=container(active=flag(), passive=flag())),
    unit=entry(_int(0, 16385), **_UNIT),
)
_AUTH = dict(encrypted_password=leaf(secret=True), ssh_rsa=entry(ANY), ssh_ed25519=entry(ANY), ssh_ecdsa=entry(ANY))

SCHEMA: dict[str, Spec] = _kw(
    dict(
        version=leaf(),
        system=container(
            host_name=leaf(HOSTNAME),
            domain_name=leaf(HOSTNAME),
            domain_search=leaflist(HOSTNAME),
            time_zone=leaf(),
            root_authentication=container(**_AUTH),
            name_server=container(star=bare(IP, "name-server", routing_instance=leaf(NAME))),
            login=container(
                message=leaf(),
                class_=entry(NAME, permissions=leaflist(), idle_timeout=leaf(_int(0, 100000))),
                user=entry(
                    NAME,
                    uid=leaf(_int(100, 64000)),
                    full_name=leaf(),
                    class_=leaf(NAME),
                    authentication=container(**_AUTH),
                ),
            ),
            services=container(
                ssh=container(
                    root_login=leaf(_enum("allow", "deny", "deny-password")),
                    protocol_version=leaflist(_enum("v2")),
                    port=leaf(_int(1, 65535)),
                    connection_limit=leaf(_int(1, 250)),
                    rate_limit=leaf(_int(1, 250)),
                ),
                netconf=container(ssh=container(port=leaf(_int(1, 65535))), rfc_compliant=flag()),
                telnet=container(),
                ftp=container(),
                web_management=container(http=container(), https=container(system_generated_certificate=flag())),
            ),
            syslog=container(
                user=entry(ANY, **_facilities()),
                host=entry(ANY, **_facilities(port=leaf(_int(1, 65535)), source_address=leaf(IP))),
                file=entry(NAME, **_facilities(archive=container(size=leaf(), files=leaf(_int(1, 1000))))),
                time_format=container(millisecond=flag(), year=flag()),
            ),
            ntp=container(
                server=oneliner(IP, prefer=flag(), version=leaf(_int(1, 4)), key=leaf(_int(1, 65534))),
                boot_server=leaf(IP),
                source_address=entry(IP),
                authentication_key=entry(
                    _int(1, 65534), type=leaf(_enum("md5", "sha1", "sha256")), value=leaf(secret=True)
                ),
                trusted_key=leaflist(_int(1, 65534)),
            ),
        ),
        chassis=container(aggregated_devices=container(ethernet=container(device_count=leaf(_int(1, 128))))),
        interfaces=container(star=bare(IFNAME, "interface", **_IFACE)),
        snmp=container(
            description=leaf(),
            location=leaf(),
            contact=leaf(),
            community=entry(
                ANY, authorization=leaf(_enum("read-only", "read-write")), clients=entry(IP_OR_PREFIX, restrict=flag())
            ),
            trap_group=entry(
                NAME,
                version=leaf(_enum("v1", "v2", "all")),
                targets=entry(IP),
                categories=container(
                    authentication=flag(), chassis=flag(), link=flag(), routing=flag(), startup=flag()
                ),
            ),
        ),
        routing_options=container(
            router_id=leaf(IPV4),
            autonomous_system=leaf(_int(1, 4294967295)),
            static=container(
                route=oneliner(
                    PREFIX,
                    next_hop=leaflist(IP),
                    discard=flag(),
                    reject=flag(),
                    preference=leaf(_int(0, 4294967295)),
                    no_readvertise=flag(),
                )
            ),
        ),
        protocols=container(
            ospf=container(
                reference_bandwidth=leaf(),
                area=entry(
                    _rx(rf"{_V4}|\d+", "area"),
                    interface=entry(
                        IFUNIT,
                        passive=flag(),
                        metric=leaf(_int(1, 65535)),
                        interface_type=leaf(_enum("p2p", "nbma", "p2mp")),
                        disable=flag(),
                    ),
                ),
            ),
            lldp=container(interface=entry(IFUNIT, disable=flag()), disable=flag()),
            bgp=container(
                group=entry(
                    NAME,
                    type=leaf(_enum("internal", "external")),
                    peer_as=leaf(_int(1, 4294967295)),
                    local_address=leaf(IP),
                    export=leaflist(NAME),
                    import_=leaflist(NAME),
                    neighbor=entry(IP, description=leaf(), peer_as=leaf(_int(1, 4294967295))),
                )
            ),
        ),
        policy_options=container(
            prefix_list=entry(NAME, star=bare(IP_OR_PREFIX, "prefix-list-item")),
            policy_statement=entry(
                NAME,
                term=entry(
                    NAME,
                    **{
                        "from": container(protocol=leaflist(), prefix_list=entry(NAME), neighbor=leaflist(IP)),
                        "then": container(accept=flag(), reject=flag(), next=leaf(_enum("term", "policy"))),
                    },
                ),
                then=container(accept=flag(), reject=flag()),
            ),
        ),
        firewall=container(
            family=choice(_enum("inet", "inet6", "ethernet-switching"), filter=_filter_spec()), filter=_filter_spec()
        ),
        vlans=container(
            star=bare(NAME, "vlan", description=leaf(), vlan_id=leaf(_int(1, 4094)), l3_interface=leaf(IFUNIT))
        ),
    )
)


def _fix_keywords(children: dict) -> dict:
    fixed = {}
    for key, spec in children.items():
        spec.children = _fix_keywords(spec.children)
        fixed[key.rstrip("-")] = spec
    return fixed


SCHEMA = _fix_keywords(SCHEMA)  # "class_", "import_", "except_" (Python keywords) -> "class", ...


# ---------------------------------------------------------------------------------------------
# Configuration tree
# ---------------------------------------------------------------------------------------------
class Node:
    """A configuration statement. ``keyword`` is the name for a bare entry (``ge-0/0/0``)."""

    __slots__ = ("spec", "keyword", "name", "value", "children", "tag")

    def __init__(self, spec: Spec, keyword: str, name: str | None = None, value: Any = None):
        self.spec = spec
        self.keyword = keyword
        self.name = name  # entry name
        self.value = value  # leaf: str, list: list[str]
        self.children: list[Node] = []
        self.tag: str | None = None  # replace / delete (only while loading)

    @property
    def key(self) -> tuple:
        return (self.keyword, self.name)

    @property
    def is_block(self) -> bool:
        return self.spec.kind in ("container", "entry", "bare")

    def tokens(self) -> list[str]:
        """Words naming this node in an ``[edit ...]`` path."""
        return [self.keyword, self.name] if self.spec.kind == "entry" else [self.keyword]

    def head(self) -> str:
        kind = self.spec.kind
        if kind == "leaf":
            return f"{self.keyword} {quote(self.value)}"
        if kind == "list":
            if len(self.value) == 1:
                return f"{self.keyword} {quote(self.value[0])}"
            return f"{self.keyword} [ {' '.join(quote(v) for v in self.value)} ]"
        if kind == "entry":
            return f"{self.keyword} {quote(self.name)}"
        return self.keyword

    def clone(self) -> Node:
        node = Node(
            self.spec, self.keyword, self.name, list(self.value) if isinstance(self.value, list) else self.value
        )
        node.children = [c.clone() for c in self.children]
        return node

    def same(self, other: Node) -> bool:
        return (
            self.key == other.key
            and self.value == other.value
            and len(self.children) == len(other.children)
            and all(a.same(b) for a, b in zip(self.children, other.children, strict=True))
        )


def clone_tree(nodes: list[Node]) -> list[Node]:
    return [n.clone() for n in nodes]


def trees_equal(a: list[Node], b: list[Node]) -> bool:
    return len(a) == len(b) and all(x.same(y) for x, y in zip(a, b, strict=True))


_SAFE = re.compile(r"[A-Za-z0-9._/:\-+@,*=!^%<>?|~]+")


def quote(value: str) -> str:
    if _SAFE.fullmatch(value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_lines(nodes: list[Node], depth: int = 0) -> list[str]:
    out: list[str] = []
    pad = "    " * depth
    for node in nodes:
        if node.spec.xml == "oneliner" and len(node.children) == 1 and not node.children[0].is_block:
            out.append(f"{pad}{node.head()} {node.children[0].head()};")
        elif node.is_block and node.children:
            out.append(f"{pad}{node.head()} {{")
            out.extend(render_lines(node.children, depth + 1))
            out.append(pad + "}")
        else:
            out.append(f"{pad}{node.head()};" + (" ## SECRET-DATA" if node.spec.secret else ""))
    return out


def render_text(nodes: list[Node]) -> str:
    lines = render_lines(nodes)
    return "\n".join(lines) + "\n" if lines else ""


def hostname_of(nodes: list[Node]) -> str | None:
    return find_value(nodes, "system", "host-name")


def find_value(nodes: list[Node], *path: str) -> str | None:
    node = find_node(nodes, *path)
    return node.value if node is not None else None


def find_node(nodes: list[Node], *path: str) -> Node | None:
    """Follow keywords (an entry's name is the next path element)."""
    items = list(path)
    current: Node | None = None
    level = nodes
    while items:
        word = items.pop(0)
        found = None
        for node in level:
            if node.keyword != word:
                continue
            if node.spec.kind == "entry":
                if not items or node.name != items[0]:
                    continue
                items.pop(0)
            found = node
            break
        if found is None:
            return None
        current, level = found, found.children
    return current


def _child_order(schema: dict[str, Spec], node: Node) -> int:
    keys = list(schema)
    if node.spec.kind == "bare":
        return keys.index("*")
    return keys.index(node.keyword)


def insert_child(siblings: list[Node], node: Node, schema: dict[str, Spec]) -> None:
    """Keywords in schema order; entries of one keyword in the order they were added."""
    rank = _child_order(schema, node)
    index = len(siblings)
    for i, sib in enumerate(siblings):
        if _child_order(schema, sib) > rank:
            index = i
            break
    siblings.insert(index, node)


# ---------------------------------------------------------------------------------------------
# Parsing: curly-brace text and set commands -> statements bound to the schema
# ---------------------------------------------------------------------------------------------
class LoadError(Exception):
    """A Junos rpc-error: message, [edit ...] path, bad element, severity."""

    def __init__(self, message: str, path: list[str] | None = None, bad: str | None = None, severity="error"):
        super().__init__(message)
        self.message = message
        self.path = path or []
        self.bad = bad
        self.severity = severity

    @property
    def edit_path(self) -> str:
        return "[edit" + "".join(" " + p for p in self.path) + "]"


_TOKEN = re.compile(r'\s+|/\*.*?\*/|#[^\n]*|"((?:\\.|[^"\\])*)"|([{};\[\]])|([^\s{};\[\]"#]+)', re.S)


def tokenize(text: str) -> list[tuple[str, bool]]:
    """(token, is_word) pairs; quoted strings are words; comments dropped."""
    out: list[tuple[str, bool]] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise LoadError("syntax error", bad=text[pos : pos + 20].split()[0] if text[pos:].split() else text[pos])
        pos = m.end()
        if m.group(1) is not None:
            out.append((re.sub(r"\\(.)", r"\1", m.group(1)), True))
        elif m.group(2) is not None:
            out.append((m.group(2), False))
        elif m.group(3) is not None:
            out.append((m.group(3), True))
    return out


class Stmt:
    __slots__ = ("words", "block", "tag")

    def __init__(self, words: list, block: list[Stmt] | None, tag: str | None):
        self.words = words  # str, or list[str] for [ a b ]
        self.block = block
        self.tag = tag


def parse_text(text: str) -> list[Stmt]:
    tokens = tokenize(text)
    pos = 0

    def statements(depth: int) -> list[Stmt]:
        nonlocal pos
        out: list[Stmt] = []
        while pos < len(tokens):
            tok, is_word = tokens[pos]
            if not is_word and tok == "}":
                if depth == 0:
                    raise LoadError("syntax error", bad="}")
                pos += 1
                return out
            tag = None
            if is_word and tok in ("replace:", "delete:", "inactive:", "active:", "protect:", "unprotect:"):
                tag = tok[:-1]
                pos += 1
            words: list = []
            while pos < len(tokens):
                tok, is_word = tokens[pos]
                if is_word:
                    words.append(tok)
                    pos += 1
                elif tok == "[":
                    pos += 1
                    values = []
                    while pos < len(tokens) and tokens[pos] != ("]", False):
                        if not tokens[pos][1]:
                            raise LoadError("syntax error", bad=tokens[pos][0])
                        values.append(tokens[pos][0])
                        pos += 1
                    pos += 1
                    words.append(values)
                else:
                    break
            if pos >= len(tokens):
                raise LoadError("syntax error", bad=str(words[-1]) if words else "")
            tok, _ = tokens[pos]
            pos += 1
            if not words:
                raise LoadError("syntax error", bad=tok)
            if tok == ";":
                out.append(Stmt(words, None, tag))
            elif tok == "{":
                out.append(Stmt(words, statements(depth + 1), tag))
            else:
                raise LoadError("syntax error", bad=tok)
        if depth:
            raise LoadError("syntax error", bad="}")
        return out

    return statements(0)


def bind(words: list, schema: dict[str, Spec], path: list[str], allow_partial: bool = False) -> Node:
    """One statement's words at ``path`` -> a chain of Nodes (the last one gets any block)."""
    word = words[0]
    if isinstance(word, list):
        raise LoadError("syntax error", path, "[")
    rest = words[1:]
    spec = schema.get(word)
    if spec is None and "*" in schema and word not in schema:
        star = schema["*"]
        try:
            if star.value:
                star.value(word)
        except Bad:
            raise LoadError("syntax error", path, word) from None
        node = Node(star, word)
        if rest:
            node.children.append(bind(rest, star.children, path + [word], allow_partial))
        return node
    if spec is None:
        raise LoadError("syntax error", path, word)
    kind = spec.kind
    if kind == "leaf":
        if not rest:
            if allow_partial:
                return Node(spec, word)
            raise LoadError("syntax error", path, word)
        value = rest[0]
        if isinstance(value, list) or len(rest) > 1:
            raise LoadError("syntax error", path, str(rest[1] if len(rest) > 1 else "["))
        _validate(spec, value, path, word)
        return Node(spec, word, value=value)
    if kind == "flag":
        if rest:
            raise LoadError("syntax error", path, str(rest[0]))
        return Node(spec, word)
    if kind == "list":
        values: list[str] = []
        for item in rest:
            values.extend(item if isinstance(item, list) else [item])
        if not values and not allow_partial:
            raise LoadError("syntax error", path, word)
        for value in values:
            _validate(spec, value, path, word)
        return Node(spec, word, value=values)
    if kind == "container":
        node = Node(spec, word)
        if rest:
            node.children.append(bind(rest, spec.children, path + [word], allow_partial))
        return node
    # entry
    if not rest:
        if allow_partial:
            return Node(spec, word)
        raise LoadError("syntax error", path, word)
    name = rest[0]
    if isinstance(name, list):
        raise LoadError("syntax error", path, word)
    if spec.value:
        try:
            spec.value(name)
        except Bad as exc:
            raise LoadError(exc.message, path + [word], name) from None
    node = Node(spec, word, name=name)
    if len(rest) > 1:
        node.children.append(bind(rest[1:], spec.children, path + [word, name], allow_partial))
    return node


def _validate(spec: Spec, value: str, path: list[str], word: str) -> None:
    if spec.value is None:
        return
    try:
        spec.value(value)
    except Bad as exc:
        raise LoadError(exc.message, path + [word], value if exc.message == "syntax error" else None) from None


def _leaf_of(node: Node) -> Node:
    while node.children:
        node = node.children[-1]
    return node


def bind_text(stmts: list[Stmt], schema: dict[str, Spec], path: list[str]) -> list[Node]:
    """Curly-brace statements -> fragment tree (tags kept on nodes)."""
    out: list[Node] = []
    for stmt in stmts:
        if stmt.tag in ("inactive", "active", "protect", "unprotect"):
            raise LoadError("syntax error", path, stmt.tag + ":")
        node = bind(stmt.words, schema, path, allow_partial=stmt.tag == "delete")
        last = _leaf_of(node)
        last.tag = stmt.tag
        if stmt.block is not None:
            if not last.is_block:
                raise LoadError("syntax error", path, last.keyword)
            last_path = path + _path_of(node)
            for child in bind_text(stmt.block, last.spec.children, last_path):
                _assemble(last.children, child, last.spec.children)
        _assemble(out, node, schema)
    return out


def _assemble(target: list[Node], frag: Node, schema: dict[str, Spec]) -> None:
    """Statements of one load, joined into one fragment (tags kept; a later tagged one wins)."""
    existing = _find(target, frag.key)
    if existing is None:
        insert_child(target, frag, schema)
    elif frag.tag or existing.tag:
        target[target.index(existing)] = frag
    elif frag.spec.kind == "leaf":
        existing.value = frag.value
    elif frag.spec.kind == "list":
        existing.value = existing.value + [v for v in frag.value if v not in existing.value]
    else:
        for child in frag.children:
            _assemble(existing.children, child, frag.spec.children)


def _path_of(node: Node) -> list[str]:
    tokens: list[str] = []
    while True:
        tokens.extend(node.tokens())
        if not node.children:
            return tokens
        node = node.children[-1]


# ---------------------------------------------------------------------------------------------
# Merge and delete (load semantics)
# ---------------------------------------------------------------------------------------------
def _find(siblings: list[Node], key: tuple) -> Node | None:
    for node in siblings:
        if node.key == key:
            return node
    return None


def _merge_into(target: list[Node], frag: Node, schema: dict[str, Spec]) -> None:
    """Junos ``load merge``/``load replace``: leaves replaced, blocks merged, leaf-lists extended;
    ``replace:`` swaps a whole statement and ``delete:`` removes it."""
    existing = _find(target, frag.key)
    tag = frag.tag
    if tag == "delete":
        if existing is not None:
            target.remove(existing)
        return
    if tag == "replace" or existing is None:
        fresh = _untagged(frag)
        if existing is not None:
            target[target.index(existing)] = fresh
        else:
            insert_child(target, fresh, schema)
        return
    kind = frag.spec.kind
    if kind == "leaf":
        existing.value = frag.value
    elif kind == "list":
        existing.value = existing.value + [v for v in frag.value if v not in existing.value]
    elif frag.is_block:
        for child in frag.children:
            _merge_into(existing.children, child, frag.spec.children)


def _untagged(frag: Node) -> Node:
    node = Node(frag.spec, frag.keyword, frag.name, list(frag.value) if isinstance(frag.value, list) else frag.value)
    for child in frag.children:
        if child.tag == "delete":
            continue
        _merge_into(node.children, child, frag.spec.children)
    return node


def delete_path(tree: list[Node], chain: Node) -> bool:
    """``delete <path>``: remove the statement (a leaf-list value, a leaf, a block). False: not found."""
    level = tree
    node = chain
    while True:
        found = _find(level, node.key)
        if found is None:
            return False
        if not node.children:
            if node.spec.kind == "list" and node.value:
                remaining = [v for v in found.value if v not in node.value]
                if len(remaining) == len(found.value):
                    return False
                if remaining:
                    found.value = remaining
                    return True
            elif node.spec.kind == "leaf" and node.value is not None and node.value != found.value:
                return False
            level.remove(found)
            return True
        level, node = found.children, node.children[0]


def apply_set(tree: list[Node], text: str) -> list[LoadError]:
    """``load set``: one command a line. Returns warnings; raises the first error."""
    warnings: list[LoadError] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        words = [w for w, is_word in tokenize(line) if is_word or w in ("[", "]")]
        words = _group_brackets(words)
        verb, rest = words[0], words[1:]
        if verb not in ("set", "delete"):
            raise LoadError("syntax error", [], str(verb))
        if not rest:
            if verb == "delete":
                tree[:] = []
                continue
            raise LoadError("syntax error", [], verb)
        chain = bind(rest, SCHEMA, [], allow_partial=True)
        if verb == "set":
            last = _leaf_of(chain)
            if (last.spec.kind in ("leaf", "entry") and last.value is None and last.name is None) or (
                last.spec.kind == "list" and not last.value
            ):
                raise LoadError("syntax error", _path_of(chain)[:-1], last.keyword)
            _merge_into(tree, chain, SCHEMA)
        elif not delete_path(tree, chain):
            path = _path_of(chain)
            warnings.append(LoadError("statement not found", path[:-1], severity="warning"))
    return warnings


def _group_brackets(words: list[str]) -> list:
    out: list = []
    group: list[str] | None = None
    for word in words:
        if word == "[":
            group = []
        elif word == "]":
            out.append(group or [])
            group = None
        elif group is not None:
            group.append(word)
        else:
            out.append(word)
    return out


def parse_config(text: str) -> list[Node]:
    """A full configuration (curly-brace text) -> tree. Raises LoadError."""
    tree: list[Node] = []
    for frag in bind_text(parse_text(text), SCHEMA, []):
        _merge_into(tree, frag, SCHEMA)
    return tree


# ---------------------------------------------------------------------------------------------
# show | compare
# ---------------------------------------------------------------------------------------------
def _merged_keys(old: list[Node], new: list[Node]) -> list[tuple]:
    """New order; a statement only in ``old`` goes before the next statement both have."""
    new_keys = [n.key for n in new]
    old_keys = [n.key for n in old]
    common = set(new_keys) & set(old_keys)
    pending: list[tuple] = []
    before: dict[tuple, list[tuple]] = {}
    for key in old_keys:
        if key in common:
            before[key] = pending
            pending = []
        else:
            pending.append(key)
    out: list[tuple] = []
    for key in new_keys:
        out.extend(before.get(key, []))
        out.append(key)
    return out + pending


def compare(old: list[Node], new: list[Node]) -> str:
    """``show | compare`` text (empty when equal)."""
    out: list[str] = []
    state = {"header": None}
    _compare(old, new, [], out, state)
    return "\n".join(out) + "\n" if out else ""


def _compare(old: list[Node], new: list[Node], path: list[str], out: list[str], state: dict) -> None:
    olds = {n.key: n for n in old}
    news = {n.key: n for n in new}
    for key in _merged_keys(old, new):
        o, n = olds.get(key), news.get(key)
        if o is not None and n is None:
            _emit(out, state, path, "-", o)
        elif n is not None and o is None:
            _emit(out, state, path, "+", n)
        elif o.spec.kind in ("leaf", "list"):
            if o.value != n.value:
                _emit(out, state, path, "-", o)
                _emit(out, state, path, "+", n)
        elif o.is_block:
            _compare(o.children, n.children, path + o.tokens(), out, state)


def _emit(out: list[str], state: dict, path: list[str], sign: str, node: Node) -> None:
    header = "[edit" + "".join(" " + p for p in path) + "]"
    if state["header"] != header:
        out.append(header)
        state["header"] = header
    depth = len(path)
    base = depth + 2 if node.spec.kind in ("entry", "bare") else max(depth + 1, 2)
    for line in render_lines([node]):
        out.append(sign + " " * base + line)


# ---------------------------------------------------------------------------------------------
# XML rendering (get-configuration format="xml", filters)
# ---------------------------------------------------------------------------------------------
def to_xml(nodes: list[Node], parent: etree._Element) -> None:
    for node in nodes:
        kind = node.spec.kind
        if kind == "leaf":
            etree.SubElement(parent, node.keyword).text = node.value
        elif kind == "flag":
            etree.SubElement(parent, node.keyword)
        elif kind == "list":
            for value in node.value:
                etree.SubElement(parent, node.keyword).text = value
        elif kind == "container":
            star = node.spec.children.get("*")
            if star is not None and star.xml == node.keyword:  # name-server { a; b; } -> <name-server>s
                to_xml(node.children, parent)
                continue
            to_xml(node.children, etree.SubElement(parent, node.keyword))
        elif kind == "entry" and node.spec.xml == "nested":  # family inet { } -> <family><inet/></family>
            holder = parent.find(node.keyword)
            if holder is None:
                holder = etree.SubElement(parent, node.keyword)
            to_xml(node.children, etree.SubElement(holder, node.name))
        else:
            elem = etree.SubElement(parent, node.spec.xml if kind == "bare" else node.keyword)
            etree.SubElement(elem, "name").text = node.name if kind == "entry" else node.keyword
            to_xml(node.children, elem)


def filter_xml(config: etree._Element, filt: etree._Element) -> None:
    """Keep only what a subtree filter names (element names; ``<name>`` selects list entries)."""
    wanted = {etree.QName(c).localname: c for c in filt if isinstance(c.tag, str)}
    if not wanted:
        return
    for child in list(config):
        name = etree.QName(child).localname
        sub = wanted.get(name)
        if sub is None:
            config.remove(child)
            continue
        want_name = sub.findtext("name")
        if want_name is not None and child.findtext("name") != want_name:
            config.remove(child)
            continue
        rest = [c for c in sub if isinstance(c.tag, str) and etree.QName(c).localname != "name"]
        if rest:
            filter_xml(child, sub)


# ---------------------------------------------------------------------------------------------
# Secrets in logs
# ---------------------------------------------------------------------------------------------
_SECRET_RE = re.compile(
    r"(encrypted-password|authentication-key|pre-shared-key|secret|password|value)(\s+)(\"[^\"]*\"|\S+)"
    r"|\$9\$[^\s;\"]+|\$[156]\$[^\s;\"]+",
    re.IGNORECASE,
)


def redact(text: str) -> str:
    def sub(m: re.Match) -> str:
        if m.group(1):
            return f"{m.group(1)}{m.group(2)}<removed>"
        return "<removed>"

    return _SECRET_RE.sub(sub, text)


# ---------------------------------------------------------------------------------------------
# Device state
# ---------------------------------------------------------------------------------------------
class Commit:
    __slots__ = ("config", "seconds", "user", "client", "log", "sequence")

    def __init__(self, config: list[Node], seconds: float, user: str, client: str, log: str | None, sequence: int):
        self.config = config
        self.seconds = seconds
        self.user = user
        self.client = client
        self.log = log
        self.sequence = sequence


def _utc(seconds: float) -> str:
    return datetime.datetime.fromtimestamp(seconds, datetime.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


class Device(SimDevice):
    """One simulated Junos box: committed config + rollback history, the shared candidate, the
    exclusive lock, the commit-confirmed timer and faults (``unresponsive``, ``fail_after_commit``,
    ``delay``: see ``SimDevice``). All state under ``self.lock``."""

    log = LOG

    def __init__(self, name: str, address: str, port: int, running_config: str | None = None, **options: Any):
        super().__init__(name, address, port)
        self.model = options.get("model") or MODEL
        self.minute_seconds = float(options.get("minute_seconds") or 60.0)
        self.management_interface = options.get("management_interface") or "fxp0"
        digest = hashlib.sha256(name.encode()).hexdigest()
        self.serial_number = digest[:12].upper()
        # "booted" BOOTED_BEFORE seconds before it was added (an uptime of 0 reads as "unknown" in NAPALM)
        self.boot_seconds = time.time() - BOOTED_BEFORE
        self.boot_monotonic = time.monotonic() - BOOTED_BEFORE
        self._next_session = 10000 + int(digest[12:16], 16) % 50000
        self._reset(running_config if running_config is not None else f"system {{\n    host-name {name};\n}}\n")

    # -- state -----------------------------------------------------------------------------
    def _reset(self, text: str) -> None:
        config = parse_config(text)
        with self.lock:
            self._sequence = 0
            self._history: list[Commit] = [Commit(config, time.time(), "root", "other", None, 0)]
            self._candidate = clone_tree(config)
            self._candidate_changed = time.time()
            self.lock_holder: int | None = None
            self._lock_info: dict | None = None
            self._confirm: dict | None = None
            self._clear_faults()

    def reset(self, running_config: str | None = None) -> None:
        """Fresh device: committed = candidate = ``running_config`` (default: the current one),
        one rollback entry, no lock, no pending commit, no faults. Sessions are dropped."""
        with self.lock:
            text = running_config if running_config is not None else self.running_config
            self._reset(text)
        LOG.info("%s: reset", self.name)
        self._running_changed()

    def new_session_id(self) -> int:
        with self.lock:
            self._next_session += 1
            return self._next_session

    @property
    def running(self) -> list[Node]:
        return self._history[0].config

    @property
    def running_config(self) -> str:
        with self.lock:
            return render_text(self.running)

    @property
    def candidate_config(self) -> str:
        with self.lock:
            return render_text(self._candidate)

    @property
    def candidate_diff(self) -> str:
        with self.lock:
            return compare(self.running, self._candidate)

    @property
    def hostname(self) -> str:
        with self.lock:
            return hostname_of(self.running) or "none"

    @property
    def rollback_count(self) -> int:
        """How many configurations ``rollback N`` can load (0 = the active one)."""
        with self.lock:
            return len(self._history)

    @property
    def pending_commit(self) -> dict | None:
        with self.lock:
            if self._confirm is None:
                return None
            return {
                "minutes": self._confirm["minutes"],
                "expires_in": round(max(self._confirm["deadline"] - time.monotonic(), 0.0), 3),
                "session_id": self._confirm["session"],
            }

    def management_address(self) -> str | None:
        """Address of ``interfaces <mgmt> unit 0 family inet address A/len`` in the active config."""
        with self.lock:
            family = find_node(self.running, "interfaces", self.management_interface, "unit", "0", "family", "inet")
            if family is None:
                return None
            for child in family.children:
                if child.keyword == "address" and "/" in child.name and ":" not in child.name:
                    return child.name.split("/")[0]
        return None

    def _summary_identity(self) -> dict[str, Any]:
        return {"model": self.model}

    def _summary_state(self) -> dict[str, Any]:
        return {
            "lock": dict(self._lock_info) if self._lock_info else None,
            "pending_commit": self.pending_commit,
            "rollback_count": self.rollback_count,
            "candidate_modified": not trees_equal(self._candidate, self.running),
        }

    def _summary_detail(self) -> dict[str, Any]:
        return {
            "running_config": self.running_config,
            "candidate_diff": self.candidate_diff,
            "commits": [
                {"rollback": i, "time": _utc(c.seconds), "user": c.user, "client": c.client, "log": c.log}
                for i, c in enumerate(self._history)
            ],
        }

    def uptime(self) -> float:
        return time.monotonic() - self.boot_monotonic

    # -- configuration operations (called with the session id) -----------------------------
    def _locked_by_other(self, sid: int) -> LoadError | None:
        if self.lock_holder is not None and self.lock_holder != sid:
            info = self._lock_info or {}
            return LoadError(
                "configuration database locked by:\n"
                f"  {info.get('user', 'root')} terminal -- (pid {info.get('session_id')}) on since "
                f"{info.get('since', '')}\n      exclusive [edit]",
                severity="error",
            )
        return None

    def lock_config(self, sid: int, user: str) -> LoadError | None:
        with self.lock:
            if self.lock_holder == sid:
                return None
            denied = self._locked_by_other(sid)
            if denied:
                denied.tag = "lock-denied"  # type: ignore[attr-defined]
                return denied
            if not trees_equal(self._candidate, self.running):
                return LoadError("configuration database modified")
            self.lock_holder = sid
            self._lock_info = {"session_id": sid, "user": user, "since": _utc(time.time())}
            LOG.debug("%s: candidate locked by session %d (%s)", self.name, sid, user)
            return None

    def unlock_config(self, sid: int) -> LoadError | None:
        with self.lock:
            if self.lock_holder != sid:
                return LoadError("configuration database not locked")
            self.lock_holder, self._lock_info = None, None
            return None

    def session_ended(self, sid: int) -> None:
        """Junos: a session that held the exclusive lock leaves; its uncommitted changes are discarded."""
        with self.lock:
            if self.lock_holder != sid:
                return
            self.lock_holder, self._lock_info = None, None
            if not trees_equal(self._candidate, self.running):
                self._candidate = clone_tree(self.running)
                LOG.info("%s: session %d closed holding the lock: uncommitted changes discarded", self.name, sid)

    def load(self, sid: int, action: str, fmt: str, text: str | None, rollback: str | None) -> list[LoadError]:
        """``load-configuration``. Raises LoadError (candidate unchanged); returns warnings."""
        with self.lock:
            denied = self._locked_by_other(sid)
            if denied:
                raise denied
            if rollback is not None:
                if not rollback.isdigit() or int(rollback) >= len(self._history):
                    raise LoadError(f"Cannot rollback, rollback {rollback} not found")
                self._candidate = clone_tree(self._history[int(rollback)].config)
                self._candidate_changed = time.time()
                return []
            work = clone_tree(self._candidate)
            warnings: list[LoadError] = []
            if action == "set":
                warnings = apply_set(work, text or "")
            elif fmt == "text":
                frags = bind_text(parse_text(text or ""), SCHEMA, [])
                if action in ("override", "update"):
                    work = []
                for frag in frags:
                    _merge_into(work, frag, SCHEMA)
            else:
                raise LoadError(f"load-configuration format {fmt!r} is not supported by this simulator")
            self._candidate = work
            self._candidate_changed = time.time()
            return warnings

    def commit(self, sid: int, user: str, confirmed: bool, minutes: int | None, log: str | None, check: bool) -> None:
        with self.lock:
            denied = self._locked_by_other(sid)
            if denied:
                raise denied
            if check:
                return
            pre = self.running
            self._sequence += 1
            if confirmed:
                minutes = minutes or 10
                entry_log = f"commit confirmed, rollback in {minutes}mins"
            else:
                entry_log = log
            self._history.insert(0, Commit(clone_tree(self._candidate), time.time(), user, "netconf", entry_log, 0))
            del self._history[MAX_ROLLBACK:]
            changed = not trees_equal(pre, self.running)
            self.cancel_timers()
            if confirmed:
                seconds = minutes * self.minute_seconds
                self._confirm = {
                    "minutes": minutes,
                    "deadline": time.monotonic() + seconds,
                    "session": sid,
                    "restore": self._confirm["restore"] if self._confirm else clone_tree(pre),
                }
                self.start_timer(seconds, self._confirm_expired)
                LOG.info("%s: commit confirmed by %s, rollback in %d min (%.1f s)", self.name, user, minutes, seconds)
            else:
                if self._confirm is not None:
                    LOG.info("%s: commit confirmed by %s: the pending rollback is cancelled", self.name, user)
                self._confirm = None
                LOG.info("%s: commit by %s (%s)", self.name, user, "changed" if changed else "no change")
            self._committed()
        # The management address follows after the reply (the session calls follow_management).

    def _confirm_expired(self, generation: int) -> None:
        with self.lock:
            if not self.timer_current(generation) or self._confirm is None:
                return
            restore = self._confirm["restore"]
            self._confirm = None
            self._history.insert(0, Commit(clone_tree(restore), time.time(), "root", "other", None, 0))
            del self._history[MAX_ROLLBACK:]
            self._candidate = clone_tree(restore)
            self._reverted()
        LOG.info("%s: commit confirmed not confirmed in time: rolled back to the previous configuration", self.name)
        self._running_changed()


# ---------------------------------------------------------------------------------------------
# NETCONF session (one SSH channel)
# ---------------------------------------------------------------------------------------------
_Dropped = SessionDropped  # the session ends without an answer (connection dropped)


def _local(elem: etree._Element) -> str:
    return etree.QName(elem).localname if isinstance(elem.tag, str) else ""


def _err_xml(err: LoadError, error_type: str = "protocol", error_tag: str = "operation-failed") -> str:
    parts = [
        "<rpc-error>",
        f"<error-type>{error_type}</error-type>",
        f"<error-tag>{getattr(err, 'tag', None) or error_tag}</error-tag>",
        f"<error-severity>{err.severity}</error-severity>",
    ]
    if err.path or err.bad:
        parts.append(f"<error-path>{escape(err.edit_path)}</error-path>")
    parts.append(f"<error-message>\n{escape(err.message)}\n</error-message>")
    if err.bad:
        parts.append(f"<error-info>\n<bad-element>{escape(err.bad)}</bad-element>\n</error-info>")
    parts.append("</rpc-error>")
    return "\n".join(parts)


_CHUNK = re.compile(rb"\s*\n#(#|[1-9]\d{0,9})\n")
_CHUNK_START = re.compile(rb"\s*\n#")


class NetconfSession(SessionFaults):
    def __init__(self, sim: JunosSimulator, dev: Device, channel: paramiko.Channel, user: str, local_address: str):
        self.sim = sim
        self.dev = dev
        self.chan = channel
        self.user = user
        self.local_address = local_address
        self.sid = dev.new_session_id()
        self.base11 = False
        self.buf = b""
        self.closed = False

    # -- framing ---------------------------------------------------------------------------
    def _recv(self) -> bytes:
        data = self.chan.recv(65536)
        if not data:
            raise EOFError
        return data

    def read_message(self) -> bytes:
        if not self.base11:
            while EOM not in self.buf:
                self.buf += self._recv()
            msg, _, self.buf = self.buf.partition(EOM)
            return msg
        chunks: list[bytes] = []
        while True:
            m = _CHUNK.match(self.buf)
            while m is None:
                if len(self.buf) > 32 and not _CHUNK_START.match(self.buf):
                    raise EOFError  # not RFC 6242 chunked framing
                self.buf += self._recv()
                m = _CHUNK.match(self.buf)
            self.buf = self.buf[m.end() :]
            if m.group(1) == b"#":
                return b"".join(chunks)
            size = int(m.group(1))
            while len(self.buf) < size:
                self.buf += self._recv()
            chunks.append(self.buf[:size])
            self.buf = self.buf[size:]

    def send(self, text: str) -> None:
        data = text.encode()
        if self.base11:
            data = b"\n#%d\n%s\n##\n" % (len(data), data)
        else:
            data = data + b"\n" + EOM + b"\n"
        self.chan.sendall(data)

    # -- main loop -------------------------------------------------------------------------
    def run(self) -> None:
        dev = self.dev
        try:
            self._pause()
            caps = "".join(f"<capability>{escape(c)}</capability>" for c in self.sim.capabilities)
            self.send(
                f"<!-- No zombies were killed during the creation of this user interface -->\n"
                f"<!-- user {escape(self.user)}, class j-super-user -->\n"
                f'<hello xmlns="{NC_NS}">\n<capabilities>{caps}</capabilities>\n'
                f"<session-id>{self.sid}</session-id>\n</hello>"
            )
            hello = etree.fromstring(self.read_message().strip(), etree.XMLParser(resolve_entities=False))
            client_caps = [c.text for c in hello.iter() if _local(c) == "capability"]
            self.base11 = BASE_11 in client_caps and BASE_11 in self.sim.capabilities
            while not self.closed:
                raw = self.read_message()
                if not raw.strip():
                    continue
                self._hold()
                reply = self.handle(raw)
                self._pause()
                if reply is not None:
                    self.send(reply)
                    if self.sim.follow_management_address:
                        self.sim.follow_management(dev, wait=True)
                    if self.local_address != dev.address:  # re-addressed: this connection is gone
                        LOG.info("%s: session %d dropped: the device left %s", dev.name, self.sid, self.local_address)
                        raise _Dropped
                    dev.take_silence()
        except (EOFError, OSError, _Dropped, paramiko.SSHException, etree.XMLSyntaxError):
            pass
        finally:
            dev.session_ended(self.sid)
            if self.closed:  # <close-session/> answered: the client hangs up (closing first would reset it)
                self.chan.get_transport().join(HANGUP_WAIT)
            with contextlib.suppress(Exception):
                self.chan.close()
            LOG.debug("%s: session %d ended", dev.name, self.sid)

    def handle(self, raw: bytes) -> str | None:
        dev = self.dev
        try:
            rpc = etree.fromstring(raw.strip(), etree.XMLParser(resolve_entities=False, huge_tree=True))
        except etree.XMLSyntaxError:
            return self.reply(None, _err_xml(LoadError("syntax error"), "rpc", "malformed-message"))
        message_id = rpc.get("message-id")
        ops = [c for c in rpc if isinstance(c.tag, str)]
        if _local(rpc) != "rpc" or len(ops) != 1:
            return self.reply(
                message_id, _err_xml(LoadError("syntax error, expecting <rpc>"), "rpc", "operation-failed")
            )
        op = ops[0]
        name = _local(op)
        with dev.lock:
            dev.request_count += 1
        if LOG.isEnabledFor(logging.DEBUG):
            attrs = " ".join(f'{k}="{v}"' for k, v in op.attrib.items())
            LOG.debug("%s: session %d: <%s %s>", dev.name, self.sid, name, redact(attrs))
        try:
            body = self.dispatch(name, op)
        except LoadError as err:
            return self.reply(message_id, _err_xml(err))
        if name == "close-session":
            self.closed = True
        return self.reply(message_id, body)

    def reply(self, message_id: str | None, body: str) -> str:
        mid = f' message-id="{escape(message_id)}"' if message_id else ""
        return f'<rpc-reply xmlns="{NC_NS}" xmlns:junos="{JUNOS_NS}"{mid}>\n{body}\n</rpc-reply>'

    # -- RPCs ------------------------------------------------------------------------------
    def dispatch(self, name: str, op: etree._Element) -> str:
        dev = self.dev
        args = {_local(c): (c.text or "").strip() for c in op if isinstance(c.tag, str)}
        if name == "close-session":
            return "<ok/>"
        if name == "get-software-information":
            return self.software_information()
        if name == "command":
            return self.command((op.text or "").strip(), op.get("format", "xml"))
        if name == "get-chassis-inventory":
            return (
                '<chassis-inventory xmlns="http://xml.juniper.net/junos/23.4R1.9/junos-chassis">\n<chassis'
                ' junos:style="inventory">\n<name>Chassis</name>\n'
                f"<serial-number>{dev.serial_number}</serial-number>\n"
                f"<description>{dev.model.upper()}</description>\n</chassis>\n</chassis-inventory>"
            )
        if name == "get-system-uptime-information":
            return self.uptime_information()
        if name == "get-route-engine-information":
            return (
                "<route-engine-information>\n<route-engine>\n<slot>0</slot>\n"
                "<mastership-state>master</mastership-state>\n<status>OK</status>\n"
                f'<model>RE-{dev.model.upper()}</model>\n<up-time junos:seconds="{int(dev.uptime())}">'
                f"{int(dev.uptime())} seconds</up-time>\n</route-engine>\n</route-engine-information>"
            )
        if name == "get-interface-information":
            return self.interface_information(args)
        if name == "get-configuration":
            return self.get_configuration(op)
        if name == "load-configuration":
            return self.load_configuration(op)
        if name == "commit-configuration":
            return self.commit_configuration(args)
        if name in ("lock-configuration", "lock"):
            err = dev.lock_config(self.sid, self.user)
            if err:
                raise err
            return "<ok/>"
        if name in ("unlock-configuration", "unlock"):
            err = dev.unlock_config(self.sid)
            if err:
                raise err
            return "<ok/>"
        if name == "get-commit-revision-information":
            return self.commit_revision()
        if name == "get-commit-information":
            return self.commit_information()
        if name in ("discard-changes",):
            dev.load(self.sid, "replace", "text", None, "0")
            return "<ok/>"
        if name == "file-show":  # PyEZ's _is_linux fact asks for an EVO file: not there on Junos
            raise LoadError(f"could not resolve file: {args.get('filename', '')}")
        raise LoadError("syntax error, expecting <command>", bad=name)

    def software_information(self) -> str:
        dev = self.dev
        return (
            "<software-information>\n"
            f"<host-name>{escape(dev.hostname)}</host-name>\n"
            f"<product-model>{escape(dev.model)}</product-model>\n"
            f"<product-name>{escape(dev.model)}</product-name>\n"
            f"<junos-version>{JUNOS_VERSION}</junos-version>\n"
            "<package-information>\n<name>junos</name>\n"
            f"<comment>JUNOS Software Release [{JUNOS_VERSION}]</comment>\n</package-information>\n"
            "</software-information>"
        )

    def command(self, text: str, fmt: str) -> str:
        words = text.split()
        if words[:2] == ["show", "version"] and (len(words) == 2 or words[2:] == ["invoke-on", "all-routing-engines"]):
            if fmt == "text":
                dev = self.dev
                return f"<output>\nHostname: {dev.hostname}\nModel: {dev.model}\nJunos: {JUNOS_VERSION}\n</output>"
            if len(words) == 2:
                return self.software_information()
            return (
                "<multi-routing-engine-results>\n<multi-routing-engine-item>\n<re-name>re0</re-name>\n"
                + self.software_information()
                + "\n</multi-routing-engine-item>\n</multi-routing-engine-results>"
            )
        if words[:2] == ["show", "configuration"] and len(words) == 2:
            with self.dev.lock:
                return f"<output>\n{escape(render_text(self.dev.running))}</output>"
        bad = next((w for w in words[1:2]), words[0] if words else "")
        raise LoadError("syntax error, expecting <command>", bad=bad)

    def uptime_information(self) -> str:
        dev = self.dev
        now = time.time()
        up = int(dev.uptime())
        return (
            "<system-uptime-information>\n<current-time>\n"
            f'<date-time junos:seconds="{int(now)}">{_utc(now)}</date-time>\n</current-time>\n'
            "<system-booted-time>\n"
            f'<date-time junos:seconds="{int(dev.boot_seconds)}">{_utc(dev.boot_seconds)}</date-time>\n'
            f'<time-length junos:seconds="{up}">{up // 60}:{up % 60:02d}</time-length>\n</system-booted-time>\n'
            "</system-uptime-information>"
        )

    def interface_information(self, args: dict) -> str:
        dev = self.dev
        if args.get("routing-instance") == "__juniper_private1__":
            return '<interface-information junos:style="terse">\n</interface-information>'
        wanted = args.get("interface-name")
        out = ['<interface-information junos:style="normal">']
        with dev.lock:
            ifaces = find_node(dev.running, "interfaces")
            for node in ifaces.children if ifaces is not None else []:
                if wanted and node.keyword != wanted:
                    continue
                disabled = any(c.keyword == "disable" for c in node.children)
                desc = next((c.value for c in node.children if c.keyword == "description"), None)
                mtu = next((c.value for c in node.children if c.keyword == "mtu"), "1514")
                status = "down" if disabled else "up"
                out.append(
                    f"<physical-interface>\n<name>{escape(node.keyword)}</name>\n"
                    f"<admin-status>{status}</admin-status>\n<oper-status>{status}</oper-status>\n"
                    + (f"<description>{escape(desc)}</description>\n" if desc else "")
                    + f"<mtu>{mtu}</mtu>\n<speed>1000mbps</speed>\n"
                    f"<current-physical-address>{self._mac(node.keyword)}</current-physical-address>\n"
                    f'<interface-flapped junos:seconds="{int(dev.uptime())}">{_utc(dev.boot_seconds)}'
                    "</interface-flapped>\n"
                )
                for unit in node.children:
                    if unit.keyword != "unit":
                        continue
                    out.append(
                        f"<logical-interface>\n<name>{escape(node.keyword)}.{unit.name}</name>\n"
                        "<address-family>\n<address-family-name>inet</address-family-name>\n"
                        "</address-family>\n</logical-interface>\n"
                    )
                out.append("</physical-interface>")
        if wanted and len(out) == 1:
            raise LoadError(f"device {wanted} not found")
        out.append("</interface-information>")
        return "\n".join(out)

    def _mac(self, ifname: str) -> str:
        digest = hashlib.sha256((self.dev.name + ifname).encode()).hexdigest()
        return ":".join(["2c", "6b", "f5"] + [digest[i : i + 2] for i in range(0, 6, 2)])

    def get_configuration(self, op: etree._Element) -> str:
        dev = self.dev
        fmt = op.get("format", "xml")
        database = op.get("database", "candidate")
        with dev.lock:
            if op.get("compare") == "rollback":
                index = op.get("rollback", "0")
                if not index.isdigit() or int(index) >= len(dev._history):
                    raise LoadError(f"invalid rollback value: {index}" if not index.isdigit() else "rollback not found")
                text = compare(dev._history[int(index)].config, dev._candidate) or "\n"
                return (
                    "<configuration-information>\n<configuration-output>"
                    f"{escape(text)}</configuration-output>\n</configuration-information>"
                )
            if database not in ("candidate", "committed"):
                raise LoadError(f"invalid database: {database}")
            if database == "committed":
                tree, changed = dev.running, dev._history[0].seconds
            else:
                tree, changed = dev._candidate, dev._candidate_changed
            tree = clone_tree(tree)
        if fmt == "text":
            head = f"## Last changed: {_utc(changed)}\n"
            return f"<configuration-text>\n{escape(head + render_text(tree))}</configuration-text>"
        if fmt in ("set",):
            return f"<configuration-set>\n{escape(_set_lines(tree))}</configuration-set>"
        if fmt != "xml":
            raise LoadError(f"format {fmt!r} is not supported by this simulator")
        root = etree.Element(
            "configuration",
            nsmap={"junos": JUNOS_NS},
        )
        root.set(f"{{{JUNOS_NS}}}changed-seconds", str(int(changed)))
        root.set(f"{{{JUNOS_NS}}}changed-localtime", _utc(changed))
        to_xml(tree, root)
        filt = next((c for c in op if isinstance(c.tag, str) and _local(c) == "configuration"), None)
        if filt is not None:
            filter_xml(root, filt)
        text = etree.tostring(root, encoding="unicode")
        return text.replace(f' xmlns:junos="{JUNOS_NS}"', "", 1)

    def load_configuration(self, op: etree._Element) -> str:
        dev = self.dev
        action = op.get("action", "merge")
        fmt = op.get("format", "xml")
        rollback = op.get("rollback")
        text = None
        for child in op:
            tag = _local(child)
            if tag in ("configuration-text", "configuration-set"):
                text = child.text or ""
            elif tag == "configuration":
                raise LoadError("XML <configuration> loads are not supported by this simulator (use text or set)")
        if rollback is None and text is None:
            raise LoadError("syntax error", bad="load-configuration")
        if action not in ("merge", "replace", "override", "update", "set"):
            raise LoadError(f"invalid action: {action}", bad=action)
        if text is not None and LOG.isEnabledFor(logging.DEBUG):
            LOG.debug("%s: session %d: load %s/%s:\n%s", dev.name, self.sid, action, fmt, redact(text))
        try:
            warnings = dev.load(self.sid, action, fmt, text, rollback)
        except LoadError as err:
            LOG.info("%s: session %d: load refused: %s %s", dev.name, self.sid, err.message, err.edit_path)
            if "locked by" in err.message:
                raise
            return (
                "<load-configuration-results>\n"
                + _err_xml(err)
                + "\n<load-error-count>1</load-error-count>\n</load-configuration-results>"
            )
        body = "".join(_err_xml(w) + "\n" for w in warnings)
        return f"<load-configuration-results>\n{body}<ok/>\n</load-configuration-results>"

    def commit_configuration(self, args: dict) -> str:
        dev = self.dev
        confirmed = "confirmed" in args
        minutes = None
        if "confirm-timeout" in args:
            value = args["confirm-timeout"]
            if not value.isdigit() or not 1 <= int(value) <= 65535:
                raise LoadError(f"Value {value} is not within range (1..65535)", bad=value)
            minutes = int(value)
        dev.commit(self.sid, self.user, confirmed, minutes, args.get("log") or None, "check" in args)
        if "check" in args:
            return (
                '<commit-results>\n<routing-engine junos:style="normal">\n<name>re0</name>\n'
                "<commit-check-success/>\n</routing-engine>\n</commit-results>"
            )
        return (
            '<commit-results>\n<routing-engine junos:style="normal">\n<name>re0</name>\n<commit-success/>\n'
            "<commit-revision-information>\n"
            f"<new-db-revision>re0-{int(time.time())}-{dev._sequence}</new-db-revision>\n"
            "</commit-revision-information>\n</routing-engine>\n</commit-results>"
        )

    def commit_revision(self) -> str:
        dev = self.dev
        with dev.lock:
            latest = dev._history[0]
            comment = f"<comment>{escape(latest.log)}</comment>\n" if latest.log else ""
            return (
                "<commit-revision-information>\n"
                f'<date-time junos:seconds="{int(latest.seconds)}">{_utc(latest.seconds)}</date-time>\n'
                f"<revision>re0-{int(latest.seconds)}-{dev._sequence}</revision>\n"
                f"<user>{escape(latest.user)}</user>\n<client>{latest.client}</client>\n{comment}"
                "</commit-revision-information>"
            )

    def commit_information(self) -> str:
        dev = self.dev
        out = ["<commit-information>"]
        with dev.lock:
            for i, entry in enumerate(dev._history):
                out.append(
                    f"<commit-history>\n<sequence-number>{i}</sequence-number>\n<user>{escape(entry.user)}</user>\n"
                    f"<client>{entry.client}</client>\n"
                    f'<date-time junos:seconds="{int(entry.seconds)}">{_utc(entry.seconds)}</date-time>\n'
                    + (f"<log>{escape(entry.log)}</log>\n" if entry.log else "")
                    + "</commit-history>"
                )
        out.append("</commit-information>")
        return "\n".join(out)


def _set_lines(nodes: list[Node], prefix: str = "set") -> str:
    out: list[str] = []

    def walk(items: list[Node], words: list[str]) -> None:
        for node in items:
            here = words + [node.head()] if node.spec.kind != "list" else words
            if node.spec.kind == "list":
                out.extend(" ".join(words + [node.keyword, quote(v)]) for v in node.value)
            elif node.children:
                walk(node.children, here)
            else:
                out.append(" ".join(here))

    walk(nodes, [prefix])
    return "\n".join(out) + ("\n" if out else "")


# ---------------------------------------------------------------------------------------------
# SSH server side
# ---------------------------------------------------------------------------------------------
class _SshServer(SshLogin):
    def __init__(self, sim: JunosSimulator, dev: Device):
        super().__init__(sim, dev)
        self.netconf = threading.Event()
        self.channel_id: int | None = None

    def check_channel_subsystem_request(self, channel: paramiko.Channel, name: str) -> bool:
        if name == "netconf":
            self.channel_id = channel.get_id()
            self.netconf.set()
            return True
        return False

    def check_channel_exec_request(self, channel: paramiko.Channel, command: bytes) -> bool:
        return False  # no "xml-mode netconf need-trailer" shell fallback

    def check_channel_shell_request(self, channel: paramiko.Channel) -> bool:
        return False

    def check_channel_pty_request(self, *args: Any) -> bool:
        return False


class JunosSimulator(SshSimulator):
    """Many devices in one process: one listening socket per device, accepted in the simulator's
    loop (a background thread, with the control API), one thread per SSH connection (paramiko adds
    its own transport thread). Registry, lifecycle, control API and CLI: lab/simulator/common.py.

    ``minute_seconds``: how long a Junos "minute" lasts (``commit confirmed N`` reverts after
    ``N * minute_seconds`` seconds); 60 as on a real box, smaller in tests.
    ``follow_management_address``: a device listens on the address of
    ``interfaces <management_interface> unit 0 family inet address`` of its active configuration.
    ``netconf_11``: also offer ``urn:ietf:params:netconf:base:1.1`` (chunked framing) in the hello;
    Junos offers only 1.0 unless ``system services netconf rfc-compliant``... so default False.
    A device takes one option, ``model`` (default ``vsrx``).
    """

    NAME = "junos-sim"
    DESCRIPTION = "Juniper Junos NETCONF simulator (many devices, one process)"
    CREDENTIAL_ENV = "JUNOS_SIM_PASSWORD"
    DEFAULT_PORT = DEFAULT_PORT
    DEFAULT_CONTROL_PORT = DEFAULT_CONTROL_PORT
    DEVICE_OPTIONS = ("model",)
    CONFIG_ERRORS = (ValueError, LoadError)
    CONFIG_KEYS = (
        "username, password, port, minute_seconds, management_interface, follow_management_address, netconf_11"
    )
    MOVE_DELAY = 0.0  # the session that committed has sent its reply already
    SSH_VERSION = "SSH-2.0-OpenSSH_8.6"
    THREAD_PREFIX = "junos"
    log = LOG

    def __init__(
        self,
        username: str = "admin",
        password: str = "admin",
        default_port: int = DEFAULT_PORT,
        minute_seconds: float = 60.0,
        management_interface: str = "fxp0",
        follow_management_address: bool = False,
        netconf_11: bool = False,
    ):
        super().__init__(username, password, default_port, follow_management_address)
        self.minute_seconds = minute_seconds
        self.management_interface = management_interface
        self.capabilities = CAPABILITIES + ([BASE_11] if netconf_11 else [])

    @classmethod
    def _from_config(cls, cfg: dict, password: str) -> JunosSimulator:
        return cls(
            cfg.get("username", "admin"),
            password,
            int(cfg.get("port", DEFAULT_PORT)),
            minute_seconds=float(cfg.get("minute_seconds", 60)),
            management_interface=cfg.get("management_interface", "fxp0"),
            follow_management_address=bool(cfg.get("follow_management_address", False)),
            netconf_11=bool(cfg.get("netconf_11", False)),
        )

    @staticmethod
    def _config_error(exc: Exception) -> str:
        if isinstance(exc, LoadError):
            return f"{exc.message} {exc.edit_path} {exc.bad or ''}".strip()
        return str(exc)

    def _new_device(
        self, name: str, address: str, port: int, running_config: str | None, model: str | None = None
    ) -> Device:
        """``running_config``: curly-brace text (default: ``system { host-name <name>; }``); a
        config Junos would refuse raises ValueError."""
        try:
            return Device(
                name,
                address,
                port,
                running_config,
                model=model,
                minute_seconds=self.minute_seconds,
                management_interface=self.management_interface,
            )
        except LoadError as err:
            raise ValueError(f"device {name}: running_config: {self._config_error(err)}") from err

    # -- connections (listeners and threads: SshSimulator) ---------------------------------
    def _serve_transport(self, dev: Device, transport: paramiko.Transport, local_address: str, peer: tuple) -> None:
        server = _SshServer(self, dev)
        transport.start_server(server=server)
        channel = transport.accept(timeout=30)
        if channel is None or not server.netconf.wait(10) or server.user is None:
            return
        NetconfSession(self, dev, channel, server.user, local_address).run()


def main(argv: list[str] | None = None) -> int:
    """``python -m lab.simulator.junos_sim --config sim.json [--control-port 9077] [--log-level INFO]``."""
    return JunosSimulator.main(argv)


if __name__ == "__main__":
    sys.exit(main())
