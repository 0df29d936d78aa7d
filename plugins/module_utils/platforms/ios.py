# -*- coding: utf-8 -*-
# Copyright: sotsync team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cisco IOS and IOS-XE (NAPALM ``ios``: the CLI over SSH through netmiko, the candidate copied to flash by
SCP): a merge is ``copy flash:/merge_config.txt running-config``, applied line by line; commit-confirm is
IOS's Rollback Confirmed Change (``configure terminal revert timer N``, whole minutes, 1 to 120), which needs
the device's ``archive`` feature."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.sotsync.nautobot.plugins.module_utils.errors import (
    CommitFailed,
    DeviceAuthenticationFailed,
    DeviceError,
    DeviceUnreachable,
)
from ansible_collections.sotsync.nautobot.plugins.module_utils.platforms.base import Platform

try:
    from netmiko import exceptions as _netmiko_exc
except ImportError:  # pragma: no cover - netmiko comes with napalm's ios driver
    _netmiko_exc = None
try:
    import paramiko as _paramiko
except ImportError:  # pragma: no cover - paramiko comes with netmiko
    _paramiko = None
try:
    from scp import SCPException as _ScpException
except ImportError:  # pragma: no cover - scp comes with netmiko
    _ScpException = None
try:
    from napalm.base.exceptions import CommitConfirmException as _CommitConfirmException
    from napalm.base.exceptions import ConnectionException as _NapalmConnectionException
except ImportError:  # pragma: no cover - napalm is checked by the deploy flow
    _CommitConfirmException = _NapalmConnectionException = None

#: what NAPALM's ios driver says when ``revert_in`` meets a device without the archive feature
ARCHIVE_DISABLED = "requires 'archive' feature to be enabled"
#: IOS's own refusal, in the output NAPALM puts in its MergeConfigException
INVALID_INPUT = "% Invalid input detected at '^' marker."


def _reason(exc):
    """netmiko's messages are paragraphs (the reason, then common causes and advice): the lines that say what
    happened, on one line."""
    lines = [" ".join(line.split()) for line in str(exc).splitlines()]
    kept = []
    for line in lines:
        if not line or line[0].isdigit() or line.startswith(("Common causes", "Things you might try", "You can")):
            continue
        kept.append(line)
    return " ".join(kept)[:300] or type(exc).__name__


class Ios(Platform):
    napalm_driver = "ios"
    label = "Cisco IOS"
    network_driver = "cisco_ios"
    parser = "IOSConfigParser"
    # commit_config(revert_in=N): "configure terminal revert timer N/60" (NAPALM refuses N outside 60..7200 and
    # counts whole minutes, rounding down), then the copy; confirm_commit(): "configure confirm" then "write
    # memory"; without a confirmation IOS restores the configuration it archived when the timer started.
    commit_confirm = True
    confirm_granularity = 60
    #: IOS's revert timers last 1 to 120 minutes
    max_confirm_seconds = 7200
    rollback_point = "flash:rollback_config.txt (the running configuration copied before the commit)"
    # napalm's ios driver sets "file prompt quiet" for its file copies (and its "write mem" saves it) and
    # takes it out of the running configuration when it closes
    session_lines = ("file prompt quiet",)
    # "copy <file> running-config" is not atomic: IOS applies the lines one by one, prints the caret and its
    # message for a refused one (not the line itself) and goes on. NAPALM then rolls back: "configure revert now"
    # under a revert timer, else "configure replace flash:rollback_config.txt force".
    rejection_outcome = (
        "IOS applied the other lines of the candidate (a copy to running-config is not atomic), then NAPALM "
        "rolled the device back (configure revert now under the revert timer, else configure replace "
        "flash:rollback_config.txt)"
    )
    restore_caveat = (
        "NAPALM rewrites flash:rollback_config.txt at every commit: it holds the configuration before the newest "
        "commit made through NAPALM, not necessarily before this push"
    )

    # --- the candidate ---------------------------------------------------------------------------
    def merge_candidate(self, config):
        """The configuration ending with ``end``: IOS's ``show archive config incremental-diffs`` of a merge file
        without it fails with error 5, and NAPALM's compare_config then returns its "obscure 'error 5'" advice as
        the diff (a Golden Config remediation plan's commands have no ``end``)."""
        lines = [line.strip() for line in (config or "").splitlines() if line.strip()]
        if lines and lines[-1] != "end":
            return (config or "").rstrip("\n") + "\nend\n"
        return config

    # --- commit-confirm -----------------------------------------------------------------------
    def revert_seconds(self, seconds):
        """Whole minutes, rounded up (see ``Platform.revert_seconds``), and at most IOS's 120 minutes."""
        asked = int(seconds or 0)
        seconds, note = super(Ios, self).revert_seconds(asked)
        if seconds > self.max_confirm_seconds:
            note = "{0} revert timers last at most {1} min: commit_confirm_seconds {2} was lowered to {3} s".format(
                self.label, self.max_confirm_seconds // 60, asked, self.max_confirm_seconds
            )
            seconds = self.max_confirm_seconds
        return seconds, note

    def after_move(self, driver):
        """A push without commit-confirm that moved the management address: NAPALM's commit ends with ``write
        memory``, which went to the old address (the session there ended with the copy): saved again at the new
        one."""
        driver.device.save_config()
        return "saved to startup-config at its new address (the commit's own write memory went to the old one)"

    # The device's own error messages: IOS does not repeat the refused line in the output of "copy <file>
    # running-config", only a caret under the refused word and "% Invalid input detected at '^' marker.", so
    # the generic rejected_line applies (a message that quotes an intended line names it; otherwise None).

    # --- the driver's exceptions --------------------------------------------------------------
    def classify(self, exc, host, where, text):
        """netmiko's and paramiko's faults (NAPALM's ios driver lets most of them through): a refused login,
        no connection or an answer that never came, an SCP transfer that failed; NAPALM's own "Cannot connect"
        with netmiko's reason; and a commit-confirm refused because the device has no archive."""
        details = {"host": host}
        if _netmiko_exc is not None and isinstance(exc, _netmiko_exc.NetmikoAuthenticationException):
            return DeviceAuthenticationFailed(
                "The device {0} refused the NAPALM credentials{1}: {2}".format(host, where, _reason(exc)), **details
            )
        if _paramiko is not None and isinstance(exc, _paramiko.AuthenticationException):
            return DeviceAuthenticationFailed(
                "The device {0} refused the NAPALM credentials{1}: {2}".format(host, where, text), **details
            )
        if _netmiko_exc is not None and isinstance(exc, _netmiko_exc.ReadTimeout):
            return DeviceUnreachable(
                "The device {0} did not answer in time{1}: {2}".format(host, where, _reason(exc)), **details
            )
        if _netmiko_exc is not None and isinstance(exc, _netmiko_exc.NetmikoTimeoutException):
            return DeviceUnreachable(
                "The device {0} is unreachable{1}: {2}".format(host, where, _reason(exc)), **details
            )
        if _NapalmConnectionException is not None and isinstance(exc, _NapalmConnectionException):
            cause = exc.__cause__ or exc.__context__
            if _netmiko_exc is not None and isinstance(cause, _netmiko_exc.NetmikoTimeoutException):
                return DeviceUnreachable(
                    "The device {0} is unreachable{1}: {2} ({3})".format(host, where, text, _reason(cause)), **details
                )
            return None
        if _paramiko is not None and isinstance(exc, _paramiko.SSHException):
            return DeviceUnreachable("The device {0} is unreachable{1}: {2}".format(host, where, text), **details)
        if _ScpException is not None and isinstance(exc, _ScpException):
            return DeviceError(
                "The device {0} did not take the candidate file over SCP{1}: {2}".format(host, where, text), **details
            )
        if (
            _CommitConfirmException is not None
            and isinstance(exc, _CommitConfirmException)
            and ARCHIVE_DISABLED in text
        ):
            return CommitFailed(
                "The device {0} has no archive, which IOS's commit-confirm (configure terminal revert timer) needs"
                "{1}: configure 'archive' with a 'path' on it, or push with commit_confirm_seconds 0; nothing was "
                "applied".format(host, where),
                **details,
            )
        return None
