# -*- coding: utf-8 -*-
# Copyright: sotsync team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Arista EOS (NAPALM ``eos``: eAPI through pyeapi): configuration sessions, commit timers."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import logging
import re

from ansible_collections.sotsync.nautobot.plugins.module_utils.errors import (
    DeviceAuthenticationFailed,
    DeviceError,
    DeviceUnreachable,
)
from ansible_collections.sotsync.nautobot.plugins.module_utils.platforms.base import Platform

try:
    from pyeapi import eapilib
except ImportError:  # pragma: no cover - pyeapi comes with napalm's eos driver
    eapilib = None

# pyeapi logs every connection fault with a traceback (logging.exception); with no handler configured
# Python prints it on stderr. The flow reports these faults itself, as typed errors.
logging.getLogger("pyeapi").addHandler(logging.NullHandler())

_CLI_FAILED = re.compile(r"CLI command \d+ of \d+ '(?P<line>.*?)' failed", re.S)


def _looks_like_auth(text):
    lowered = text.lower()
    return "unauthorized" in lowered or "401" in lowered or "authentication" in lowered


class Eos(Platform):
    napalm_driver = "eos"
    label = "Arista EOS"
    network_driver = "arista_eos"
    parser = "EOSConfigParser"
    commit_confirm = True  # configure session X commit timer HH:MM:SS
    rollback_point = "flash:rollback-0 (the startup-config copied before the commit)"
    restore_caveat = "it was copied from the startup configuration, which may have lacked unsaved changes"

    def detach_pending_commit(self, driver):
        """NAPALM's eos driver keeps the pending session's name in ``config_session`` and aborts that
        session on ``close()``; the confirming driver needs the name."""
        token = getattr(driver, "config_session", None)
        if token is not None:
            driver.config_session = None
        return token

    def attach_pending_commit(self, driver, token):
        if token is not None:
            driver.config_session = token

    def rejected_line(self, message, intent=None):
        """eAPI names the refused line: ``CLI command 3 of 9 'interface Ethernet99/1' failed``."""
        match = _CLI_FAILED.search(str(message or ""))
        if match:
            return match.group("line").strip()
        return super(Eos, self).rejected_line(message, intent)

    def classify(self, exc, host, where, text):
        if eapilib is None:
            return None
        details = {"host": host}
        if isinstance(exc, eapilib.ConnectionError):
            if _looks_like_auth(text):
                return DeviceAuthenticationFailed(
                    "The device {0} refused the NAPALM credentials (HTTP 401 Unauthorized){1}".format(host, where),
                    **details,
                )
            return DeviceUnreachable("The device {0} is unreachable{1}: {2}".format(host, where, text), **details)
        if isinstance(exc, eapilib.CommandError):
            return DeviceError("The device {0} refused a command{1}: {2}".format(host, where, text), **details)
        return None
