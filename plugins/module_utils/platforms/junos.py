# -*- coding: utf-8 -*-
# Copyright: sotsync team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Juniper Junos (NAPALM ``junos``: NETCONF over SSH through PyEZ): commit confirmed in minutes,
hierarchical configuration."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.sotsync.nautobot.plugins.module_utils.errors import (
    DeviceAuthenticationFailed,
    DeviceUnreachable,
    RollbackRefused,
)
from ansible_collections.sotsync.nautobot.plugins.module_utils.platforms.base import Platform, normalise_line

try:
    from jnpr.junos import exception as _jnpr_exc
    from napalm.base.exceptions import UnlockError as _NapalmUnlockError
except ImportError:  # pragma: no cover - PyEZ comes with napalm's junos driver
    _jnpr_exc = None
    _NapalmUnlockError = None

_BAD_ELEMENT = re.compile(r"bad_element:\s*(?P<el>[^,\)]+)")
_COMMENT = re.compile(r"/\*.*?\*/", re.S)


def _statements(text):
    """Junos curly-brace text as a stream of (statement, end), ``end`` being ``{``, ``}`` or ``;``.
    Quoted strings are kept whole; ``/* */`` and ``#`` comments are dropped."""
    text = _COMMENT.sub(" ", text)
    current, quoted = [], False
    for line in text.splitlines():
        if not quoted and line.strip().startswith("#"):
            continue
        for char in line + "\n":
            if char == '"':
                quoted = not quoted
            if not quoted and char in "{};":
                yield " ".join("".join(current).split()), char
                current = []
            else:
                current.append(char)
    rest = " ".join("".join(current).split())
    if rest:
        yield rest, ";"


def brace_paths(text, normalise):
    """Every statement of a curly-brace configuration as a path of its enclosing statements."""
    stack = []
    for statement, end in _statements(text):
        if end == "}":
            if stack:
                stack.pop()
            continue
        line = normalise(statement)
        if line is None:
            if end == "{":
                stack.append(statement)
            continue
        if end == "{":
            yield tuple(stack) + (line,)
            stack.append(line)
        else:
            yield tuple(stack) + (line,)


class Junos(Platform):
    napalm_driver = "junos"
    label = "Junos"
    network_driver = "juniper_junos"
    # no netutils parser: config_paths reads Junos by its braces (netutils' reads indentation)
    commit_confirm = True  # commit confirmed N (minutes); a plain commit confirms
    confirm_granularity = 60
    # A live push under commit confirmed is confirmed by a second, plain commit: the configuration before
    # the push is then rollback 2, not 1 (both newest entries hold what the push left). A failed
    # verification, before the confirming commit, goes back to rollback 1.
    rollback_point = "rollback 1 (the configuration before the commit)"
    #: how many of the device's rollbacks a rollback after a push looks through (Junos keeps 50)
    history_depth = 10

    def restore_point_after(self, confirmed):
        if confirmed:
            return "rollback 2 (the configuration before the commit; rollback 1 is the confirmed commit)"
        return self.rollback_point

    def restore(self, driver, is_before):
        """Find the configuration before the push in the device's commit history (rollback 1, 2, ...:
        after commit confirmed and its confirming commit it is rollback 2; later commits that changed
        nothing move it further back), load it as the candidate under the configuration lock, commit it.
        Refuses, nothing changed, when none of the newest ``history_depth`` rollbacks holds it."""
        cu = driver.device.cu  # PyEZ's Config utility of the NAPALM driver's session
        cu.lock()
        loaded = False  # a rollback is loaded in the candidate, neither committed nor discarded
        try:
            for index in range(1, self.history_depth + 1):
                try:
                    cu.rollback(rb_id=index)
                except Exception:  # noqa: BLE001 - no such rollback: the history is shorter
                    break
                loaded = True
                candidate = (driver.get_config(retrieve="candidate") or {}).get("candidate", "")
                if is_before(candidate):
                    cu.commit()
                    loaded = False
                    return "rollback {0} (the configuration before the push)".format(index)
        finally:
            if loaded:
                cu.rollback(rb_id=0)  # the candidate back to the running configuration
            cu.unlock()
        raise RollbackRefused(
            "None of the device's {0} newest rollbacks holds the configuration from before the push: rollback "
            "refused, nothing changed".format(self.history_depth)
        )

    def normalise(self, line):
        """Braces and the closing ``;`` are syntax, not configuration: ``host-name r1;`` and
        ``system {`` compare as ``host-name r1`` and ``system``; a lone ``}`` says nothing."""
        text = normalise_line(line)
        if text is None or text.startswith("#") or text.startswith("/*"):
            return None
        text = text.rstrip(";").rstrip("{").strip()
        if not text or text == "}":
            return None
        # ``replace:`` swaps the statement's subtree on load; what it holds must then be on the device
        if text.startswith("replace:"):
            text = text[len("replace:") :].strip()
        return text

    def config_paths(self, config):
        """Curly-brace text read by its braces (not its indentation, which templates get wrong and Junos
        ignores); an intent in ``set`` format as its lines (compared with the running configuration's
        set form, see ``missing_lines``)."""
        text = config or ""
        set_lines = [normalise_line(ln) for ln in text.splitlines()]
        set_lines = [ln for ln in set_lines if ln and not ln.startswith("#")]
        if set_lines and all(ln.startswith(("set ", "delete ", "deactivate ", "activate ")) for ln in set_lines):
            return set((ln,) for ln in set_lines)
        return set(brace_paths(text, self.normalise))

    def missing_lines(self, intent, running):
        """As the base class; statements tagged ``delete:`` assert an absence and are not checked."""
        intent_paths = set(p for p in self.config_paths(intent) if not any(x.startswith("delete:") for x in p))
        if intent_paths and all(len(p) == 1 and p[0].startswith(("set ", "delete ")) for p in intent_paths):
            # a set-format intent: compare with the running configuration's set form
            have = set("set " + " ".join(p) for p in brace_paths(running or "", self.normalise))
            wanted = [p[0] for p in sorted(intent_paths) if p[0].startswith("set ")]
            return [line for line in wanted if line not in have]
        have = self.config_paths(running)
        missing = [" > ".join(p) for p in sorted(intent_paths, key=self._sort_key(intent)) if p not in have]
        return missing

    def classify(self, exc, host, where, text):
        """PyEZ's connection faults; and napalm's UnlockError, which its junos driver raises only after a
        commit went through: the device stopped answering right after committing."""
        if _jnpr_exc is None:
            return None
        if isinstance(exc, _NapalmUnlockError):
            return DeviceUnreachable(
                "The device {0} committed but did not answer the unlock that follows{1}: {2}".format(host, where, text),
                host=host,
            )
        # PyEZ's ConnectAuthError is a ConnectError: the device answered and refused the login
        if isinstance(exc, _jnpr_exc.ConnectAuthError):
            return DeviceAuthenticationFailed(
                "The device {0} refused the NAPALM credentials{1}: {2}".format(host, where, text), host=host
            )
        if isinstance(exc, (_jnpr_exc.ConnectError, _jnpr_exc.RpcTimeoutError)):
            return DeviceUnreachable("The device {0} is unreachable{1}: {2}".format(host, where, text), host=host)
        return None

    def rejected_line(self, message, intent=None):
        """PyEZ reports ``bad_element: <statement>`` from Junos's rpc-error: the refused statement."""
        match = _BAD_ELEMENT.search(str(message or ""))
        if match:
            element = match.group("el").strip().strip("'\"")
            for line in (intent or "").splitlines():
                text = self.normalise(line)
                if text and (text == element or text.startswith(element + " ")):
                    return text
            return element
        return super(Junos, self).rejected_line(message, intent)
