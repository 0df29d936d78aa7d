# -*- coding: utf-8 -*-
# Copyright: sotsync team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cisco NX-OS (NAPALM ``nxos``: NX-API over HTTP(S)): no commit-confirm, a checkpoint instead."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.sotsync.nautobot.plugins.module_utils.errors import (
    DeviceAuthenticationFailed,
    DeviceUnreachable,
)
from ansible_collections.sotsync.nautobot.plugins.module_utils.platforms.base import Platform

try:
    from napalm.nxapi_plumbing.errors import NXAPIAuthError as _NxapiAuthError
    from napalm.nxapi_plumbing.errors import NXAPIConnectionError as _NxapiConnectionError
except ImportError:  # pragma: no cover - comes with napalm's nxos driver
    _NxapiAuthError = _NxapiConnectionError = None


class Nxos(Platform):
    napalm_driver = "nxos"
    label = "NX-OS"
    network_driver = "cisco_nxos"
    parser = "NXOSConfigParser"
    # NAPALM's nxos driver raises NotImplementedError for revert_in: its commit takes a checkpoint
    # (checkpoint file rollback_config.txt), applies the lines, and rollback() restores the checkpoint.
    commit_confirm = False
    rollback_point = "checkpoint file rollback_config.txt"
    # NX-API applies the lines in order and stops at the refused one; NAPALM then rolls back to the
    # checkpoint it took before the commit.
    rejection_outcome = "the lines before it were applied, then the device was rolled back to the checkpoint"

    def after_move(self, driver):
        """NAPALM's commit ends with ``copy running-config startup-config``, which a device that moved to
        its new management address during the commit never received: saved again at the new address."""
        driver.device.save(filename="startup-config")
        return "saved to startup-config at its new address (the commit's own save went to the old one)"

    def classify(self, exc, host, where, text):
        """NX-API's refused login (HTTP 401), also behind NAPALM's "Cannot connect"; its connection errors
        (refused, reset, the connection closed without an answer, as when the management address moves
        during a commit): the device did not answer."""
        if _NxapiAuthError is None:
            return None
        # NAPALM's open() turns NX-API's 401 and a connection error alike into "Cannot connect to <host>":
        # the cause it raised from tells them apart
        cause = exc.__cause__ or exc.__context__
        if isinstance(exc, _NxapiAuthError) or isinstance(cause, _NxapiAuthError):
            return DeviceAuthenticationFailed(
                "The device {0} refused the NAPALM credentials{1}: {2}".format(host, where, text), host=host
            )
        if isinstance(exc, _NxapiConnectionError):
            return DeviceUnreachable("The device {0} did not answer{1}: {2}".format(host, where, text), host=host)
        return None
