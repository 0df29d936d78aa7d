# -*- coding: utf-8 -*-
# Copyright: sotsync team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Juniper Junos (NAPALM ``junos``: NETCONF over SSH through PyEZ): commit confirmed in minutes,
hierarchical configuration."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.sotsync.nautobot.plugins.module_utils.platforms.base import Platform, normalise_line

_BAD_ELEMENT = re.compile(r"bad_element:\s*(?P<el>[^,\)]+)")


class Junos(Platform):
    napalm_driver = "junos"
    label = "Junos"
    network_driver = "juniper_junos"
    parser = "JunosConfigParser"
    commit_confirm = True  # commit confirmed N (minutes); a plain commit confirms
    confirm_granularity = 60
    rollback_point = "rollback 1 (the configuration before the commit)"

    def normalise(self, line):
        """Braces and the closing ``;`` are syntax, not configuration: ``host-name r1;`` and
        ``system {`` compare as ``host-name r1`` and ``system``; a lone ``}`` says nothing."""
        text = normalise_line(line)
        if text is None or text.startswith("#") or text.startswith("/*"):
            return None
        text = text.rstrip(";").rstrip("{").strip()
        if not text or text == "}":
            return None
        return text

    def config_paths(self, config):
        """Curly-brace text through netutils' Junos parser; an intent in ``set`` format as its paths
        (``set system host-name r1`` is system > host-name r1, compared as one joined line)."""
        text = config or ""
        set_lines = [normalise_line(ln) for ln in text.splitlines()]
        set_lines = [ln for ln in set_lines if ln]
        if set_lines and all(ln.startswith(("set ", "delete ", "deactivate ", "activate ")) for ln in set_lines):
            return set((ln,) for ln in set_lines)
        return super(Junos, self).config_paths(text)

    def missing_lines(self, intent, running):
        intent_paths = self.config_paths(intent)
        if intent_paths and all(len(p) == 1 and p[0].startswith(("set ", "delete ")) for p in intent_paths):
            # a set-format intent: compare with the running configuration's set form
            have = set("set " + " ".join(p) for p in super(Junos, self).config_paths(running))
            wanted = [p[0] for p in sorted(intent_paths) if p[0].startswith("set ")]
            return [line for line in wanted if line not in have]
        return super(Junos, self).missing_lines(intent, running)

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
