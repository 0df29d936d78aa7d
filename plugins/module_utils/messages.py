# -*- coding: utf-8 -*-
# Copyright: sotsync team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The messages users of the original Device Configuration Hook know, in one place.

Imported by the provisioning code (``module_utils``: readiness, deploy, provision, batch, arguments)
and by the event sources' helpers (``plugin_utils``: device_event, settings, changelog), so that a user
grepping a log finds the same words everywhere. The rulebook cannot import Python: its decision lines
repeat these words in rulebooks/device_config_hook.yml, and tests/rulebook/test_rulebook_decisions.py
builds its expectations from this file, so a drift fails a test. The role imports nothing: it passes
its variables to the module.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# Device statuses that count as ready when nothing else is configured. The settings file
# rulebooks/vars/device_config_hook.yml holds the list actually used; a unit test keeps both equal.
DEFAULT_READY_STATUSES = ("Active", "Planned", "Staged")

# --- rulebook decisions ----------------------------------------------------------------------------
NO_RELEVANT_CHANGE = "No configuration-relevant fields changed. Skipping provisioning."
RELEVANT_FIELDS_CHANGED = "Configuration-relevant fields changed: {fields}"  # fields: a Python list repr
AUTO_PROVISION_ENABLED = "Auto-provision on {event} is enabled"  # event: "update" or "create"
AUTO_PROVISION_DISABLED = "Auto-provision on {event} is disabled"
PLATFORM_CHANGED = "Its platform changed (now {platform}): not provisioned automatically"

# --- readiness --------------------------------------------------------------------------------------
DEVICE_READY = "Device {name} is ready for provisioning"
DEVICE_NOT_READY = "Device is not ready for provisioning"
REASON_NO_PLATFORM = "platform missing"
REASON_NO_NAPALM_DRIVER = "platform has no NAPALM driver"
REASON_NO_PRIMARY_IPV4 = "no primary IPv4"
REASON_BAD_STATUS = "status not {allowed}"  # allowed: "Active, Planned or Staged"

# --- deployment ------------------------------------------------------------------------------------
DRY_RUN = "DRY RUN mode: Discarding configuration changes"
COMMITTED = "Configuration committed successfully"
NO_CHANGES = "No configuration changes: the device already has its intended configuration"

# The ruler the role prints above and below a diff.
RULER = "=" * 72


def format_statuses(statuses):
    """``["Active", "Planned", "Staged"]`` -> ``"Active, Planned or Staged"``."""
    statuses = [str(s) for s in statuses]
    if not statuses:
        return "(no status is configured as ready)"
    if len(statuses) == 1:
        return statuses[0]
    return "{0} or {1}".format(", ".join(statuses[:-1]), statuses[-1])


def bad_status_reason(ready_statuses, current=None):
    """``status not Active, Planned or Staged`` plus the current status when it is known."""
    reason = REASON_BAD_STATUS.format(allowed=format_statuses(ready_statuses))
    if current:
        reason += " (is {0})".format(current)
    return reason


def not_ready_message(reasons):
    """``Device is not ready for provisioning: platform missing; no primary IPv4``."""
    if not reasons:
        return DEVICE_NOT_READY
    return "{0}: {1}".format(DEVICE_NOT_READY, "; ".join(reasons))


def relevant_fields_changed_message(fields):
    """``Configuration-relevant fields changed: ['name']`` (the seed's Python-list spelling)."""
    return RELEVANT_FIELDS_CHANGED.format(fields=repr([str(f) for f in fields]))
