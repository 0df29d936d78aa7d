#!/usr/bin/env python3
"""Arista EOS eAPI simulator: one process (one asyncio loop) serving many stateful devices.

It answers the JSON-RPC ``runCmds`` requests that pyeapi posts to ``POST /command-api`` with just
enough EOS behaviour for the real NAPALM ``eos`` driver (transport ``http``): open/get_facts,
load_merge_candidate (and load_replace_candidate), compare_config, commit_config (also with
``revert_in``), confirm_commit, discard_config, rollback, get_config. See README.md beside this file.

Use from tests (``EosSimulator``) and from the command line (``python -m lab.simulator.eos_sim``):
README.md. Registry, listeners, control API and command line: common.py.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import logging
import re
import sys
import time
from typing import Any

from aiohttp import web

from lab.simulator.common import HttpSimulator, SimDevice

LOG = logging.getLogger("eos_sim")

EOS_VERSION = "4.30.0F"
EOS_INTERNAL_VERSION = "4.30.0F-31408673.4300F"
MODEL = "vEOS-lab"
DEFAULT_PORT = 9080
DEFAULT_CONTROL_PORT = 9079
INDENT = "   "
MAX_OPEN_SESSIONS = 5  # EOS default: pending (uncommitted) sessions
MAX_SAVED_SESSIONS = 1  # EOS default: completed sessions kept for "show configuration sessions"
AUTH_FAILED_BODY = "Unable to authenticate user: Bad username/password combination"  # what EOS answers
HEREDOC_COMMANDS = ("banner login", "banner motd")
STATE_PENDING, STATE_TIMER, STATE_COMPLETED = "pending", "pendingCommitTimer", "completed"


# ---------------------------------------------------------------------------------------------
# Configuration tree: parse, render, merge rules
# ---------------------------------------------------------------------------------------------
class Node:
    """One configuration line and its children (3-space indented lines under it)."""

    __slots__ = ("line", "children", "raw")

    def __init__(self, line: str, children: list[Node] | None = None, raw: bool = False):
        self.line = line
        self.children = children if children is not None else []
        self.raw = raw  # heredoc body (banner): children rendered verbatim, then "EOF"

    def clone(self) -> Node:
        return Node(self.line, [c.clone() for c in self.children], self.raw)


def clone_tree(nodes: list[Node]) -> list[Node]:
    return [n.clone() for n in nodes]


def parse_config(text: str) -> list[Node]:
    """Parse EOS running-config text (indentation = hierarchy; ``!`` comments and ``end`` dropped)."""
    root: list[Node] = []
    stack: list[tuple[int, list[Node]]] = [(-1, root)]
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        raw = lines[i].rstrip()
        i += 1
        stripped = raw.strip()
        if not stripped or stripped.startswith("!") or raw == "end":
            continue
        indent = len(raw) - len(raw.lstrip(" "))
        if indent == 0 and stripped in HEREDOC_COMMANDS:
            body = []
            while i < len(lines) and lines[i].strip() != "EOF":
                body.append(Node(lines[i].rstrip()))
                i += 1
            i += 1
            root.append(Node(stripped, body, raw=True))
            stack = [(-1, root)]
            continue
        while stack[-1][0] >= indent:
            stack.pop()
        node = Node(stripped)
        stack[-1][1].append(node)
        stack.append((indent, node.children))
    return root


def _first_word(line: str) -> str:
    words = line.split()
    if len(words) > 1 and words[0] in ("no", "default"):
        return words[1]
    return words[0] if words else ""


def _is_section(node: Node, kind: str) -> bool:
    return bool(node.children) or node.raw or section_kind(kind, node.line) is not None


def _render_children(nodes: list[Node], depth: int, out: list[str]) -> None:
    pad = INDENT * depth
    for node in nodes:
        if node.children:
            out.append(pad + "!")
        out.append(pad + node.line)
        _render_children(node.children, depth + 1, out)


def render_body(nodes: list[Node]) -> list[str]:
    """Top-level lines like EOS: ``!`` after each section and between groups of lines, then ``end``."""
    out: list[str] = []
    prev_word, prev_section = None, False
    for node in nodes:
        section = _is_section(node, "")
        word = _first_word(node.line)
        if out and out[-1] != "!" and (section or prev_section or word != prev_word):
            out.append("!")
        out.append(node.line)
        if node.raw:
            out.extend(c.line for c in node.children)
            out.append("EOF")
        else:
            _render_children(node.children, 1, out)
        prev_word, prev_section = word, section
    if out and out[-1] != "!":
        out.append("!")
    out.append("end")
    return out


def hostname_of(nodes: list[Node], default: str = "localhost") -> str:
    for node in nodes:
        if node.line.startswith("hostname "):
            return node.line.split(None, 1)[1]
    return default


def render_config(nodes: list[Node], command: str) -> str:
    head = [
        f"! Command: {command}",
        f"! device: {hostname_of(nodes)} ({MODEL}, EOS-{EOS_VERSION})",
        "!",
        f"! boot system flash:/{MODEL}.swi",
        "!",
    ]
    return "\n".join(head + render_body(nodes)) + "\n"


def config_json(nodes: list[Node]) -> dict:
    """``show running-config`` in JSON, shaped like EOS (``cmds`` nested by section)."""
    return {"cmds": {n.line: (config_json(n.children) if n.children else None) for n in nodes}}


def unified_diff(old: list[Node], new: list[Node], session: str) -> str:
    """``show session-config named X diffs``: a unified diff with a 2-line ``---``/``+++`` header."""
    a = render_config(old, "show running-config").splitlines()[2:]
    b = render_config(new, "show running-config").splitlines()[2:]
    lines = difflib.unified_diff(a, b, "system:/running-config", f"session:/{session}-session-config", lineterm="")
    text = "\n".join(lines)
    return text + "\n" if text else ""


# Mode-entering lines: (parent mode, regex on the line without "no") -> mode of the new section.
_SECTION_RULES: dict[str, list[tuple[re.Pattern, str]]] = {
    "": [
        (re.compile(r"interface \S+"), "interface"),
        (re.compile(r"vlan \d[\d,\-]*"), "vlan"),
        (re.compile(r"router \S+.*"), "router"),
        (re.compile(r"management \S+.*"), "management"),
        (re.compile(r"(ip|ipv6|mac) access-list .+"), "acl"),
        (re.compile(r"route-map .+"), "route-map"),
        (re.compile(r"daemon \S+"), "daemon"),
        (re.compile(r"vrf instance \S+"), "vrf-instance"),
        (re.compile(r"mlag configuration"), "mlag"),
    ],
    "router": [(re.compile(r"address-family .+"), "address-family"), (re.compile(r"vrf \S+"), "router-vrf")],
    "router-vrf": [(re.compile(r"address-family .+"), "address-family")],
    "management": [(re.compile(r"vrf \S+"), "management-vrf")],
}


def section_kind(parent_kind: str, line: str) -> str | None:
    for rx, kind in _SECTION_RULES.get(parent_kind, ()):
        if rx.fullmatch(line):
            return kind
    return None


def _table(words: str, **restricted: str) -> dict[str, frozenset[str] | None]:
    """First keywords valid in a mode; ``restricted`` ones only with one of the given second words."""
    table: dict[str, frozenset[str] | None] = dict.fromkeys(words.split())
    for key, second in restricted.items():
        table[key.replace("_", "-")] = frozenset(second.split())
    return table


# The whitelist. A stripped line (NAPALM strips indentation) goes to the innermost open mode that
# accepts it, else to an outer one (as the EOS CLI does); no mode accepts it -> "Invalid input".
MODE_KEYWORDS: dict[str, dict[str, frozenset[str] | None]] = {
    "": _table(
        "aaa agent alias arp banner bfd boot class-map clock daemon dns dot1x email enable errdisable "
        "event-handler hardware hostname interface ip ipv6 lacp lldp load-interval logging mac management "
        "mlag monitor mpls ntp platform policy-map prompt ptp queue-monitor radius-server route-map router "
        "service sflow snmp-server spanning-tree switchport system tacacs-server terminal transceiver username "
        "vlan vrf"
    ),
    "interface": _table(
        "description shutdown switchport mtu channel-group load-interval speed duplex vrf mlag service-policy "
        "storm-control flowcontrol encapsulation qos pim arp dhcp error-correction vrrp isis link-debounce shape "
        "tx-queue priority-flow-control sflow ptp negotiation dot1x vxlan port-channel lacp routing autostate",
        ip="address helper-address ospf pim igmp proxy-arp local-proxy-arp access-group virtual-router dhcp mtu "
        "attached-host verify multicast nat directed-broadcast unreachables",
        ipv6="address enable nd ospf access-group dhcp verify virtual-router",
        spanning_tree="portfast bpduguard bpdufilter link-type guard port-priority cost",
        lldp="transmit receive tlv management-address",
        mac="address security access-group",
        logging="event",
        bfd="interval echo authentication",
        snmp="trap",
    ),
    "vlan": _table("name state trunk shutdown private-vlan"),
    "router": _table(
        "router-id neighbor network redistribute maximum-paths bgp timers shutdown distance passive-interface "
        "area default-information graceful-restart graceful-restart-helper log-adjacency-changes max-lsa "
        "auto-cost ucmp aggregate-address update default-metric bfd net is-type rd route-target"
    ),
    "router-vrf": _table(
        "rd route-target router-id neighbor network redistribute maximum-paths timers bgp aggregate-address"
    ),
    "address-family": _table("neighbor network redistribute bgp maximum-paths aggregate-address graceful-restart"),
    "management": _table(
        "protocol shutdown idle-timeout authentication ssl cors server login-timeout log-level connection "
        "cipher key-exchange hostkey fips client-strict-checking"
    ),
    "management-vrf": _table("shutdown"),
    "acl": _table("permit deny remark statistics counters"),  # plus sequence numbers
    "route-map": _table("match set description continue sub-route-map"),
    "daemon": _table("exec shutdown option heartbeat"),
    "vrf-instance": _table("description rd"),
    "mlag": _table("domain-id local-interface peer-address peer-link reload-delay heartbeat-interval shutdown"),
}


def valid_in(kind: str, words: list[str]) -> bool:
    if kind == "acl" and words[0].isdigit():
        return True
    table = MODE_KEYWORDS.get(kind, {})
    if words[0] not in table:
        return False
    allowed = table[words[0]]
    return allowed is None or (len(words) > 1 and words[1] in allowed)


# Merge keys: a line whose key equals an existing sibling's key replaces it (in place); other lines
# are added. First matching rule wins; the key is the matched prefix; no rule -> the full line.
# "no X" and "X" share a key (so "shutdown"/"no shutdown" replace each other).
_KEY_RULES = [
    re.compile(p)
    for p in (
        r"hostname\b",
        r"description\b",
        r"name\b",
        r"ip address(?= \S+$)",  # primary address; "ip address A/B secondary" is keyed by the full line
        r"ip domain-name\b",
        r"ntp server (vrf \S+ )?\S+",  # one line per server (options replaced)
        r"username \S+",
        r"switchport access vlan\b",
        r"switchport mode\b",
        r"switchport trunk native vlan\b",
        r"switchport trunk allowed vlan\b",
        r"shutdown$",
        r"mtu\b",
        r"speed\b",
        r"channel-group\b",
        r"load-interval\b",
        r"vrf(?= \S+$)",  # interface "vrf X" (a "vrf X" section under router bgp is matched by line)
        r"router-id\b",
        r"rd\b",
        r"state\b",
        r"maximum-paths\b",
        r"neighbor \S+ (remote-as|description|update-source|peer group|peer-group|password|maximum-routes|"
        r"ebgp-multihop|route-map \S+ (in|out))\b",
        r"spanning-tree mode\b",
        r"clock timezone\b",
        r"logging buffered\b",
        r"snmp-server (location|contact|chassis-id)\b",
        r"snmp-server community \S+",
        r"ip virtual-router mac-address\b",
        r"enable (password|secret)\b",
    )
]

# "no X" normally just removes X; these negations are shown in the running-config, as on EOS.
SHOWN_NEGATIONS = {("management", "shutdown"), ("", "ip routing"), ("", "aaa root")}


def line_key(line: str) -> str:
    if line.startswith("no "):
        line = line[3:]
    for rx in _KEY_RULES:
        m = rx.match(line)
        if m:
            return m.group(0)
    return line


def _find_section(siblings: list[Node], line: str) -> Node | None:
    for node in siblings:
        if node.line == line:
            return node
    return None


def _insert(siblings: list[Node], node: Node, top_level: bool) -> None:
    """Add after the last sibling with the same first word; new top-level lines go before sections."""
    word = _first_word(node.line)
    last = None
    for i, sib in enumerate(siblings):
        if _first_word(sib.line) == word:
            last = i
    if last is not None:
        siblings.insert(last + 1, node)
        return
    if top_level and not _is_section(node, ""):
        for i, sib in enumerate(siblings):
            if _is_section(sib, ""):
                siblings.insert(i, node)
                return
    siblings.append(node)


def _set_line(siblings: list[Node], line: str, kind: str) -> None:
    key = line_key(line)
    for node in siblings:
        if not node.children and not node.raw and line_key(node.line) == key:
            node.line = line
            return
    _insert(siblings, Node(line), kind == "")


def _remove(siblings: list[Node], body: str, kind: str, shown: bool) -> None:
    key = line_key(body)
    siblings[:] = [
        n
        for n in siblings
        if n.line.startswith("no ") or not (n.line == body or n.line.startswith(body + " ") or line_key(n.line) == key)
    ]
    if shown and (kind, key) in SHOWN_NEGATIONS:
        _set_line(siblings, "no " + body, kind)


# ---------------------------------------------------------------------------------------------
# Device state and command execution
# ---------------------------------------------------------------------------------------------
class CommandError(Exception):
    """An eAPI command failure: code 1002 invalid input, 1000 could not run, 1003 no JSON."""

    def __init__(self, code: int, error: str):
        super().__init__(error)
        self.code = code
        self.error = error


def _invalid(words: list[str], token: int) -> CommandError:
    token = min(token, max(len(words) - 1, 0))
    word = words[token] if words else ""
    return CommandError(1002, f"Invalid input (at token {token}: '{word}')")


class Session:
    __slots__ = ("name", "state", "config", "pre_commit", "commit_by", "created")

    def __init__(self, name: str, config: list[Node]):
        self.name = name
        self.state = STATE_PENDING
        self.config = config
        self.pre_commit: list[Node] | None = None
        self.commit_by = -1.0
        self.created = time.time()


class _Frame:
    __slots__ = ("kind", "children")

    def __init__(self, kind: str, children: list[Node]):
        self.kind = kind
        self.children = children


_SECRET_RE = re.compile(r"\b(secret|password|key|community)\b((?:\s+(?:\d{1,2}|sha512|md5))?)\s+\S+", re.IGNORECASE)


def redact(text: str) -> str:
    """Mask what follows secret/password/key/community (for logs and ``sanitized`` output)."""
    return _SECRET_RE.sub(lambda m: f"{m.group(1)}{m.group(2) or ''} <removed>", text)


class Device(SimDevice):
    """One simulated switch. Public state is read under a lock, so tests may poll it from any thread.
    Faults: ``unresponsive`` and ``fail_after_commit`` (see ``SimDevice``)."""

    log = LOG
    FAULTS = ("unresponsive", "fail_after_commit")

    def __init__(self, name: str, address: str, port: int, running_config: str | None = None):
        super().__init__(name, address, port)
        digest = hashlib.sha256(name.encode()).hexdigest()
        self.serial_number = digest[:32].upper()
        self.system_mac = ":".join(["50", "00"] + [digest[i : i + 2] for i in range(0, 8, 2)])
        self.boot_monotonic = time.monotonic()
        self.boot_timestamp = time.time()
        self._reset(running_config if running_config is not None else f"hostname {name}\n")

    # -- state -----------------------------------------------------------------------------
    def _reset(self, running_config: str) -> None:
        with self.lock:
            self._running = parse_config(running_config)
            self._startup = clone_tree(self._running)
            self._files: dict[str, list[Node]] = {}
            self._sessions: dict[str, Session] = {}
            self._clear_faults()

    def reset(self, running_config: str | None = None) -> None:
        """Back to a fresh device: running = startup = ``running_config`` (default: the current
        running-config), no sessions, no flash files, no commit timer, no faults."""
        with self.lock:
            text = running_config if running_config is not None else self.running_config
            self._reset(text)
        LOG.info("%s: reset (%d config lines)", self.name, len(render_body(self._running)))
        self._running_changed()

    def management_address(self) -> str | None:
        """The address of ``interface Management1`` in the running-config (``ip address A/M``), or None."""
        with self.lock:
            for node in self._running:
                if node.line.strip() == "interface Management1":
                    for child in node.children:
                        found = re.fullmatch(r"ip address (\S+)/\d+", child.line.strip())
                        if found:
                            return found.group(1)
        return None

    @property
    def running_config(self) -> str:
        with self.lock:
            return render_config(self._running, "show running-config")

    @property
    def startup_config(self) -> str:
        with self.lock:
            return render_config(self._startup, "show startup-config")

    @property
    def hostname(self) -> str:
        with self.lock:
            return hostname_of(self._running)

    @property
    def sessions(self) -> dict[str, dict[str, str]]:
        """``{name: {"state": pending|pendingCommitTimer|completed, "config": candidate text}}``."""
        with self.lock:
            return {
                n: {"state": s.state, "config": render_config(s.config, f"show session-config named {n}")}
                for n, s in self._sessions.items()
            }

    @property
    def open_sessions(self) -> list[str]:
        """Names of uncommitted (``pending``) sessions: what NAPALM's lock check looks at."""
        with self.lock:
            return [n for n, s in self._sessions.items() if s.state == STATE_PENDING]

    @property
    def pending_commit(self) -> dict | None:
        """``{"session": name, "expires_in": seconds}`` while a commit timer runs, else None."""
        with self.lock:
            for n, s in self._sessions.items():
                if s.state == STATE_TIMER:
                    return {"session": n, "expires_in": round(max(s.commit_by - self.uptime(), 0.0), 3)}
            return None

    @property
    def files(self) -> dict[str, str]:
        with self.lock:
            return {n: render_config(t, f"more {n}") for n, t in self._files.items()}

    def uptime(self) -> float:
        return time.monotonic() - self.boot_monotonic

    def _summary_state(self) -> dict[str, Any]:
        return {"open_sessions": self.open_sessions, "pending_commit": self.pending_commit}

    def _summary_detail(self) -> dict[str, Any]:
        return {
            "running_config": self.running_config,
            "startup_config": self.startup_config,
            "sessions": {n: s["state"] for n, s in self.sessions.items()},
            "files": sorted(self._files),
        }

    # -- timers ----------------------------------------------------------------------------
    def _timer_expired(self, session_name: str, generation: int) -> None:
        with self.lock:
            sess = self._sessions.get(session_name)
            if not self.timer_current(generation) or sess is None or sess.state != STATE_TIMER:
                return
            self._running = sess.pre_commit or []
            del self._sessions[session_name]
            self._reverted()
        LOG.info("%s: commit timer of session %s expired: running-config reverted", self.name, session_name)
        self._running_changed()

    # -- eAPI ------------------------------------------------------------------------------
    def execute(self, cmds: list, fmt: str = "json", req_id: Any = None) -> dict:
        """Run one ``runCmds`` request; returns the JSON-RPC reply (``result`` or ``error``)."""
        with self.lock:
            self.request_count += 1
            run = _Run(self, fmt)
            results: list[dict] = []
            for index, cmd in enumerate(cmds, start=1):
                text, inp = (cmd.get("cmd", ""), cmd.get("input")) if isinstance(cmd, dict) else (str(cmd), None)
                text = text.strip()
                try:
                    results.append(run.command(text, inp))
                except CommandError as exc:
                    what = "invalid command" if exc.code == 1002 else "could not run command"
                    message = f"CLI command {index} of {len(cmds)} '{text}' failed: {what}"
                    failed = {"errors": [exc.error]}
                    if fmt == "text":
                        failed = {"output": f"% {exc.error}\n", "errors": [exc.error]}
                    return {
                        "jsonrpc": "2.0",
                        "id": req_id,
                        "error": {"code": exc.code, "message": message, "data": results + [failed]},
                    }
            return {"jsonrpc": "2.0", "id": req_id, "result": results}


class _Run:
    """Executes the commands of one eAPI request (each request starts in unprivileged exec mode)."""

    def __init__(self, dev: Device, fmt: str):
        self.dev = dev
        self.fmt = fmt
        self.privileged = False
        self.mode = "exec"  # exec | session | terminal
        self.session: Session | None = None
        self.frames: list[_Frame] = []
        self.terminal_changed = False

    def ok(self, data: dict | None = None, text: str = "") -> dict:
        if self.fmt == "text":
            return {"output": text}
        if data is None:
            raise CommandError(1003, "Command not converted to JSON")
        return data

    # -- dispatch --------------------------------------------------------------------------
    def command(self, text: str, inp: str | None) -> dict:
        words = text.split()
        if not words or text.startswith("!"):  # comments are accepted and ignored
            return self.ok({})
        if words[0] == "show":
            return self.show(words)
        if self.mode == "exec":
            return self.exec_command(text, words)
        if words[0] in ("copy", "write", "configure"):
            return self.exec_command(text, words)
        if self.mode == "session" and (text in ("commit", "abort") or text.startswith("commit timer ")):
            return self.exec_command(f"configure session {self.session.name} {text}", None)
        if self.mode == "session" and text == "rollback clean-config":
            self.session.config[:] = []
            del self.frames[1:]
            return self.ok({})
        if text == "end":
            self.leave_config()
            return self.ok({})
        if text == "exit":
            if len(self.frames) > 1:
                self.frames.pop()
            else:
                self.leave_config()
            return self.ok({})
        self.config_line(text, words, inp)
        return self.ok({})

    def leave_config(self) -> None:
        if self.mode == "terminal" and self.terminal_changed:
            LOG.info("%s: running-config changed (configure terminal)", self.dev.name)
        self.mode, self.session, self.frames, self.terminal_changed = "exec", None, [], False

    def need_privilege(self) -> None:
        if not self.privileged:
            raise CommandError(1002, "Invalid input (privileged mode required)")

    # -- exec mode -------------------------------------------------------------------------
    def exec_command(self, text: str, words: list[str] | None) -> dict:
        words = words or text.split()
        dev = self.dev
        if text == "enable":
            self.privileged = True
            return self.ok({})
        if text == "disable":
            self.privileged = False
            return self.ok({})
        if text in ("end", "exit"):
            return self.ok({})
        m = re.fullmatch(
            r"configure session(?:\s+(\S+))?(?:\s+(abort|commit)(?:\s+timer\s+(\d{1,2}):(\d{2}):(\d{2}))?)?", text
        )
        if m:
            self.need_privilege()
            name, action = m.group(1), m.group(2)
            if action is None:
                return self.enter_session(name or f"session{int(time.time() * 1000) % 10**8}")
            if name is None:
                raise _invalid(words, 2)
            if action == "abort":
                if m.group(3):
                    raise _invalid(words, 4)
                return self.abort(name)
            timer = None
            if m.group(3):
                timer = int(m.group(3)) * 3600 + int(m.group(4)) * 60 + int(m.group(5))
            return self.commit(name, timer)
        if text in ("configure", "configure terminal"):
            self.need_privilege()
            self.mode, self.frames = "terminal", [_Frame("", dev._running)]
            return self.ok({})
        m = re.fullmatch(r"configure replace (\S+)(?: ignore-errors)?", text)
        if m:
            self.need_privilege()
            source = self.read_file(m.group(1))
            dev._running = clone_tree(source)
            LOG.info("%s: running-config replaced from %s", dev.name, m.group(1))
            return self.ok({})
        m = re.fullmatch(r"copy (\S+) (\S+)", text)
        if m:
            self.need_privilege()
            src, dst = m.group(1), m.group(2)
            self.write_file(dst, self.read_file(src))
            LOG.info("%s: copy %s %s", dev.name, src, dst)
            return self.ok({}, "Copy completed successfully.\n")
        if text in ("write", "write memory"):
            self.need_privilege()
            dev._startup = clone_tree(dev._running)
            LOG.info("%s: write memory (startup-config saved)", dev.name)
            return self.ok({}, "Copy completed successfully.\n")
        raise _invalid(words, 1 if words[0] in ("configure", "copy", "write") else 0)

    @staticmethod
    def file_name(name: str) -> str:
        if name.startswith("flash:/"):
            return "flash:" + name[len("flash:/") :]
        return name

    def read_file(self, name: str) -> list[Node]:
        dev, name = self.dev, self.file_name(name)
        if name in ("running-config", "system:/running-config"):
            return clone_tree(dev._running)
        if name in ("startup-config", "flash:startup-config"):
            return clone_tree(dev._startup)
        if name in dev._files:
            return clone_tree(dev._files[name])
        raise CommandError(1000, f"Error: File {name} does not exist")

    def write_file(self, name: str, tree: list[Node]) -> None:
        dev, name = self.dev, self.file_name(name)
        if name in ("startup-config", "flash:startup-config"):
            dev._startup = tree
        elif name.startswith("flash:") and len(name) > len("flash:"):
            dev._files[name] = tree
        else:
            raise CommandError(1000, f"Error: cannot copy to {name}")

    # -- sessions --------------------------------------------------------------------------
    def enter_session(self, name: str) -> dict:
        dev = self.dev
        sess = dev._sessions.get(name)
        if sess is not None and sess.state == STATE_TIMER:
            raise CommandError(1000, f"Cannot enter session {name} (session has a pending commit timer)")
        if sess is None or sess.state == STATE_COMPLETED:  # a reused completed name starts afresh
            if len([s for s in dev._sessions.values() if s.state == STATE_PENDING]) >= MAX_OPEN_SESSIONS:
                raise CommandError(1000, "Maximum number of pending sessions has been reached")
            sess = Session(name, clone_tree(dev._running))
            dev._sessions.pop(name, None)
            dev._sessions[name] = sess
            LOG.debug("%s: session %s opened", dev.name, name)
        self.mode, self.session, self.frames = "session", sess, [_Frame("", sess.config)]
        return self.ok({})

    def abort(self, name: str) -> dict:
        dev = self.dev
        sess = dev._sessions.get(name)
        if sess is None or sess.state == STATE_COMPLETED:  # nothing to abort: accepted, as NAPALM's close()
            return self.ok({})
        if sess.state == STATE_TIMER:
            dev.cancel_timers()
            dev._running = sess.pre_commit or []
            LOG.info("%s: session %s aborted during its commit timer: running-config reverted", dev.name, name)
        else:
            LOG.debug("%s: session %s aborted", dev.name, name)
        del dev._sessions[name]
        if self.session is sess:
            self.leave_config()
        return self.ok({})

    def commit(self, name: str, timer: int | None) -> dict:
        dev = self.dev
        sess = dev._sessions.get(name)
        if sess is None:
            raise CommandError(1000, f"Cannot commit session {name}: session does not exist")
        if sess.state == STATE_COMPLETED:
            raise CommandError(1000, f"Cannot commit session {name}: session already committed")
        if sess.state == STATE_TIMER:
            dev.cancel_timers()
            if timer is None:  # confirmation
                sess.state, sess.pre_commit, sess.commit_by = STATE_COMPLETED, None, -1.0
                self.prune_completed()
                LOG.info("%s: session %s confirmed (commit timer stopped)", dev.name, name)
            else:
                self.start_timer(sess, timer)
                LOG.info("%s: session %s commit timer restarted (%d s)", dev.name, name, timer)
        else:
            other = [s.name for s in dev._sessions.values() if s.state == STATE_TIMER]
            if other:
                raise CommandError(1000, f"Cannot commit session {name}: session {other[0]} has a pending commit timer")
            changed = render_body(sess.config) != render_body(dev._running)
            pre = dev._running
            dev._running = clone_tree(sess.config)
            if timer is None:
                sess.state = STATE_COMPLETED
                self.prune_completed()
                LOG.info("%s: session %s committed (%s)", dev.name, name, "changed" if changed else "no change")
            else:
                sess.state, sess.pre_commit = STATE_TIMER, pre
                self.start_timer(sess, timer)
                LOG.info("%s: session %s committed with a %d s commit timer", dev.name, name, timer)
            dev._committed()
        if self.session is sess:
            self.leave_config()
        return self.ok({})

    def start_timer(self, sess: Session, seconds: int) -> None:
        dev = self.dev
        sess.commit_by = dev.uptime() + seconds
        dev.start_timer(seconds, lambda generation: dev._timer_expired(sess.name, generation))

    def prune_completed(self) -> None:
        done = [n for n, s in self.dev._sessions.items() if s.state == STATE_COMPLETED]
        for name in done[: max(len(done) - MAX_SAVED_SESSIONS, 0)]:
            del self.dev._sessions[name]

    # -- configuration lines ---------------------------------------------------------------
    def config_line(self, text: str, words: list[str], inp: str | None) -> None:
        frames = self.frames
        negate = words[0] in ("no", "default")
        body = words[1:] if negate else words
        if not body:
            raise CommandError(1002, "Incomplete command")
        body_text = " ".join(body)
        if self.mode == "terminal":
            self.terminal_changed = True
        if text in HEREDOC_COMMANDS or words[0] == "comment":
            del frames[1:]
            if words[0] == "comment":
                return
            lines = (inp or "").splitlines()
            if lines and lines[-1].strip() == "EOF":
                lines.pop()
            root = frames[0].children
            root[:] = [n for n in root if n.line != text]
            _insert(root, Node(text, [Node(ln.rstrip()) for ln in lines], raw=True), True)
            return
        if section_kind("", body_text):
            depth = 0
        else:
            for depth in range(len(frames) - 1, -1, -1):
                kind = frames[depth].kind
                if (depth and section_kind(kind, body_text)) or valid_in(kind, body):
                    break
            else:
                raise _invalid(words, 1 if negate else 0)
        del frames[depth + 1 :]
        frame = frames[depth]
        if negate:
            _remove(frame.children, body_text, frame.kind, shown=words[0] == "no")
            return
        kind = section_kind(frame.kind, body_text)
        if kind is None:
            _set_line(frame.children, body_text, frame.kind)
            return
        node = _find_section(frame.children, body_text)
        if node is None:
            node = Node(body_text)
            _insert(frame.children, node, depth == 0)
        frames.append(_Frame(kind, node.children))

    # -- show ------------------------------------------------------------------------------
    def show(self, words: list[str]) -> dict:
        dev = self.dev
        text = " ".join(words)
        if text == "show version":
            return self.ok(self.version_json(), self.version_text())
        if text == "show hostname":
            host = hostname_of(dev._running)
            domain = next((n.line.split()[2] for n in dev._running if n.line.startswith("ip domain-name ")), "")
            fqdn = f"{host}.{domain}" if domain else host
            return self.ok({"hostname": host, "fqdn": fqdn}, f"Hostname: {host}\nFQDN:     {fqdn}\n")
        if text == "show interfaces":
            return self.ok(self.interfaces_json(), "")
        if text == "show lldp neighbors":
            return self.ok({"lldpNeighbors": []}, "")
        m = re.fullmatch(r"show (running|startup)-config( all)?( sanitized)?", text)
        if m:
            tree = dev._running if m.group(1) == "running" else dev._startup
            return self.config_output(tree, text, bool(m.group(3)))
        m = re.fullmatch(r"show session-config(?: named (\S+))?( diffs)?( sanitized)?", text)
        if m:
            name = m.group(1) or (self.session.name if self.session else None)
            sess = self.dev._sessions.get(name) if name else None
            if sess is None:
                raise CommandError(1000, f"Session {name} not found" if name else "Not in a configuration session")
            if m.group(2):
                return self.ok(None, unified_diff(dev._running, sess.config, name))
            return self.config_output(sess.config, text, bool(m.group(3)))
        m = re.fullmatch(r"show configuration sessions( detail)?", text)
        if m:
            return self.ok(self.sessions_json(bool(m.group(1))), self.sessions_text())
        raise _invalid(words, 1)

    def config_output(self, tree: list[Node], command: str, sanitized: bool) -> dict:
        rendered = render_config(tree, command)
        if sanitized:
            rendered = "\n".join(redact(ln) for ln in rendered.splitlines()) + "\n"
        return self.ok(config_json(tree), rendered)

    def version_json(self) -> dict:
        dev = self.dev
        return {
            "mfgName": "Arista",
            "modelName": MODEL,
            "hardwareRevision": "",
            "serialNumber": dev.serial_number,
            "systemMacAddress": dev.system_mac,
            "hwMacAddress": "00:00:00:00:00:00",
            "configMacAddress": "00:00:00:00:00:00",
            "version": EOS_VERSION,
            "architecture": "x86_64",
            "internalVersion": EOS_INTERNAL_VERSION,
            "internalBuildId": "00000000-0000-0000-0000-000000000000",
            "imageFormatVersion": "1.0",
            "imageOptimization": "None",
            "bootupTimestamp": dev.boot_timestamp,
            "uptime": dev.uptime(),
            "memTotal": 2006536,
            "memFree": 1103616,
            "isIntlVersion": False,
        }

    def version_text(self) -> str:
        dev = self.dev
        minutes = int(dev.uptime() // 60)
        return (
            f"Arista {MODEL}\nHardware version:\nSerial number: {dev.serial_number}\n"
            f"Hardware MAC address: {dev.system_mac}\nSystem MAC address: {dev.system_mac}\n\n"
            f"Software image version: {EOS_VERSION}\nArchitecture: x86_64\n"
            f"Internal build version: {EOS_INTERNAL_VERSION}\nImage format version: 1.0\n"
            f"Image optimization: None\n\n"
            f"Uptime: 0 weeks, {minutes // 1440} days, {minutes // 60 % 24} hours and {minutes % 60} minutes\n"
            f"Total memory: 2006536 kB\nFree memory: 1103616 kB\n"
        )

    def interfaces_json(self) -> dict:
        dev = self.dev
        result = {}
        for node in dev._running:
            if not node.line.startswith("interface "):
                continue
            name = node.line.split()[1]
            lines = [c.line for c in node.children]
            down = "shutdown" in lines
            desc = next((ln.split(None, 1)[1] for ln in lines if ln.startswith("description ")), "")
            mtu = next((int(ln.split()[1]) for ln in lines if re.fullmatch(r"mtu \d+", ln)), 1500)
            addrs = []
            for ln in lines:
                m = re.fullmatch(r"ip address (\S+)/(\d+)", ln)
                if m:
                    addrs.append({"primaryIp": {"address": m.group(1), "maskLen": int(m.group(2))}})
            hardware = "subinterface" if "." in name else name.rstrip("0123456789/").lower()
            result[name] = {
                "name": name,
                "description": desc,
                "lineProtocolStatus": "down" if down else "up",
                "interfaceStatus": "disabled" if down else "connected",
                "hardware": "ethernet" if hardware in ("ethernet", "management") else hardware,
                "mtu": mtu,
                "bandwidth": 1000000000,
                "physicalAddress": dev.system_mac,
                "interfaceAddress": addrs,
                "lastStatusChangeTimestamp": dev.boot_timestamp,
                "interfaceCounters": {
                    k: 0
                    for k in (
                        "inOctets outOctets inUcastPkts outUcastPkts inMulticastPkts outMulticastPkts "
                        "inBroadcastPkts outBroadcastPkts inDiscards outDiscards totalInErrors totalOutErrors"
                    ).split()
                },
            }
        return {"interfaces": result}

    def sessions_json(self, detail: bool) -> dict:
        sessions = {}
        for name, sess in self.dev._sessions.items():
            entry: dict[str, Any] = {"state": sess.state, "commitUser": "", "description": "", "instances": {}}
            if detail and sess.state == STATE_TIMER:
                entry["commitBy"] = sess.commit_by
            sessions[name] = entry
        return {"sessions": sessions, "maxSavedSessions": MAX_SAVED_SESSIONS, "maxOpenSessions": MAX_OPEN_SESSIONS}

    def sessions_text(self) -> str:
        rows = [f"  {n:<24} {s.state}" for n, s in self.dev._sessions.items()]
        return (
            f"Maximum number of completed sessions: {MAX_SAVED_SESSIONS}\n"
            f"Maximum number of pending sessions: {MAX_OPEN_SESSIONS}\n\n"
            "  Name                     State\n  ------------------------ ------------------\n" + "\n".join(rows) + "\n"
        )


# ---------------------------------------------------------------------------------------------
# HTTP: eAPI per device (listeners, lifecycle, control API and CLI: lab/simulator/common.py)
# ---------------------------------------------------------------------------------------------
class EosSimulator(HttpSimulator):
    """EOS eAPI devices in one asyncio loop: one listening socket per device, one shared aiohttp app
    (the API, the control API and the command line: ``HttpSimulator``/``Simulator`` in common.py).

    ``follow_management_address``: a device answers on the address of ``interface Management1`` in its
    running-config, as a real switch does: when a commit (or a commit timer's revert, or a reset)
    changes that address, the device stops answering on the old one and listens on the new one (same
    port). A device whose configuration names no management address stays where it is.
    """

    NAME = "eos-sim"
    DESCRIPTION = "Arista EOS eAPI simulator (many devices, one process)"
    CREDENTIAL_ENV = "EOS_SIM_PASSWORD"
    DEFAULT_PORT = DEFAULT_PORT
    DEFAULT_CONTROL_PORT = DEFAULT_CONTROL_PORT
    log = LOG

    def _new_device(self, name: str, address: str, port: int, running_config: str | None) -> Device:
        return Device(name, address, port, running_config)

    def _routes(self, app: web.Application) -> None:
        app.router.add_post("/command-api", self._handle_eapi)
        app.router.add_post("/command-api/", self._handle_eapi)

    def _auth_failed(self) -> web.Response:
        return web.Response(status=401, text=AUTH_FAILED_BODY)

    # -- eAPI handler ----------------------------------------------------------------------
    async def _handle_eapi(self, request: web.Request) -> web.StreamResponse:
        dev, refused = await self._gate(request)
        if refused is not None:
            return refused
        try:
            payload = json.loads(await request.read())
            req_id = payload.get("id")
        except (ValueError, AttributeError):
            return web.json_response(
                {"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "Parse error"}}
            )
        params = payload.get("params")
        if payload.get("method") != "runCmds":
            reply = {"jsonrpc": "2.0", "id": req_id, "error": {"code": -32601, "message": "Method not found"}}
            return web.json_response(reply)
        fmt = (params.get("format") or "json") if isinstance(params, dict) else None
        cmds = params.get("cmds") if isinstance(params, dict) else None
        if fmt not in ("json", "text") or not isinstance(cmds, list):
            reply = {"jsonrpc": "2.0", "id": req_id, "error": {"code": -32602, "message": "Invalid params"}}
            return web.json_response(reply)
        reply = dev.execute(cmds, fmt, req_id)
        if self.follow_management_address:
            self.follow_management(dev)
        if LOG.isEnabledFor(logging.DEBUG):
            shown = [redact(c.get("cmd", "") if isinstance(c, dict) else str(c)) for c in cmds]
            outcome = f"error {reply['error']['code']}" if "error" in reply else "ok"
            LOG.debug("%s: %s: %s %s -> %s", dev.name, request.remote, fmt, shown, outcome)
        dev.take_silence()
        return web.json_response(reply)


def main(argv: list[str] | None = None) -> int:
    """``python -m lab.simulator.eos_sim --config sim.json [--control-port 9079] [--log-level INFO]``."""
    return EosSimulator.main(argv)


if __name__ == "__main__":
    sys.exit(main())
