# -*- coding: utf-8 -*-
# Copyright: sotsync team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Typed errors of the provisioning flow.

Every error carries a machine-readable ``code`` (returned as ``error`` by the module), a message
meant for humans and a dict of extra, secret-free details (``reasons``, ``line``, ``rolled_back``...).
The module's ``main()`` turns them into ``fail_json`` without knowing each one.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ProvisionError(Exception):
    """Base class: ``code`` is stable and machine-readable, ``details`` is JSON-friendly."""

    code = "provision_failed"

    def __init__(self, message, **details):
        super(ProvisionError, self).__init__(message)
        self.message = message
        self.details = details

    def to_result(self):
        """The keys a failed module result carries besides ``failed``."""
        result = {"msg": self.message, "error": self.code}
        result.update(self.details)
        return result


# --- before any connection -------------------------------------------------------------------------
class MissingCredentials(ProvisionError):
    code = "missing_credentials"


class MissingDependency(ProvisionError):
    code = "missing_dependency"


class InvalidParameter(ProvisionError):
    code = "invalid_parameter"


# --- Nautobot --------------------------------------------------------------------------------------
class NautobotError(ProvisionError):
    code = "nautobot_error"


class NautobotUnreachable(NautobotError):
    code = "nautobot_unreachable"


class NautobotAuthenticationFailed(NautobotError):
    code = "nautobot_authentication"


class DeviceNotFound(NautobotError):
    code = "device_not_found"


class DeviceNotReady(ProvisionError):
    """Readiness failed against live Nautobot data; ``reasons`` names each failed check."""

    code = "device_not_ready"


# --- intended configuration ------------------------------------------------------------------------
class IntentError(ProvisionError):
    code = "intent_error"


class RenderFailed(IntentError):
    """Golden Config could not render the intended configuration (or rendered nothing)."""

    code = "render_failed"


class IntentUnavailable(IntentError):
    """No stored intended configuration exists for the device."""

    code = "intent_unavailable"


# --- the device ------------------------------------------------------------------------------------
class DeviceError(ProvisionError):
    code = "device_error"


class DeviceUnreachable(DeviceError):
    code = "device_unreachable"


class DeviceAuthenticationFailed(DeviceError):
    code = "device_authentication"


class DeviceLocked(DeviceError):
    code = "device_locked"


class ConfigRejected(DeviceError):
    """The device refused a line of the candidate; ``line`` names it when it can be told."""

    code = "config_rejected"


class CommitFailed(DeviceError):
    code = "commit_failed"


class CommitVerificationFailed(DeviceError):
    """After a commit the device stopped answering or lacks intended lines; ``rolled_back`` says how."""

    code = "commit_verification_failed"


# --- Golden Config config plans (the approval gate) --------------------------------------------------
class PlanError(NautobotError):
    """Golden Config did not file the config plan asked for, or a plan cannot be used."""

    code = "plan_error"


class PlanNotFound(NautobotError):
    code = "plan_not_found"


class PlanNotApproved(ProvisionError):
    """The plan's status is not Approved: it is not deployed (a rejected plan never is)."""

    code = "plan_not_approved"


class PlanStale(ProvisionError):
    """The device's intended configuration changed since the plan was made; ``fresh_plan_id`` names the new plan."""

    code = "plan_stale"


class NoRollbackPoint(ProvisionError):
    code = "no_rollback_point"


class RollbackRefused(ProvisionError):
    code = "rollback_refused"


# --- the run ---------------------------------------------------------------------------------------
class RunStopped(ProvisionError):
    """The run stopped before this device's session began (a signal, or the daemon that started it is
    gone); devices already in their session finished. Nothing was changed on it: run it again."""

    code = "run_stopped"
