# -*- coding: utf-8 -*-
# Copyright: sotsync team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The argument specs, defined once; the doc fragments nautobot.py and napalm.py document them."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.basic import env_fallback

from ansible_collections.sotsync.nautobot.plugins.module_utils.messages import DEFAULT_READY_STATUSES

# The commit-confirm timer of a live commit, in seconds, when nothing else is set (golden_config_deploy,
# config_plan_deploy). The role's provision_commit_confirm_seconds states it again (Ansible needs it in
# defaults/main.yml and meta/argument_specs.yml): tests/packaging/test_defaults.py keeps them equal.
DEFAULT_COMMIT_CONFIRM_SECONDS = 60

# Shared by every module that talks to Nautobot (doc fragment sotsync.nautobot.nautobot).
NAUTOBOT_ARGUMENT_SPEC = {
    "nautobot_url": {"type": "str", "required": True, "fallback": (env_fallback, ["NAUTOBOT_URL"])},
    "nautobot_token": {
        "type": "str",
        "required": True,
        "no_log": True,
        "fallback": (env_fallback, ["NAUTOBOT_TOKEN"]),
    },
    "validate_certs": {"type": "bool", "default": True},
    "nautobot_timeout": {"type": "int", "default": 30},
}

# Shared by every module that talks to a device through NAPALM (doc fragment sotsync.nautobot.napalm).
# Each device's login: device_credentials (the inventory), its Nautobot secrets group, then username and
# password (module_utils/credentials.py). No default credentials on purpose: a device without a login is
# skipped with the reason, and a run in which no device has one fails with a clear message.
NAPALM_ARGUMENT_SPEC = {
    "device_credentials": {"type": "dict", "no_log": True},
    "username": {"type": "str", "fallback": (env_fallback, ["NAPALM_USERNAME"])},
    "password": {"type": "str", "no_log": True, "fallback": (env_fallback, ["NAPALM_PASSWORD"])},
    "optional_args": {"type": "dict"},
    "timeout": {"type": "int", "default": 60},
}

# ``notes`` was called ``journal`` before 0.2.0 (Nautobot calls them notes): the old name still works.
NOTES_OPTION = {
    "type": "bool",
    "default": True,
    "aliases": ["journal"],
    "deprecated_aliases": [{"name": "journal", "version": "2.0.0", "collection_name": "sotsync.nautobot"}],
}

# Shared by every module that commits to devices (doc fragment sotsync.nautobot.golden_config_jobs).
GOLDEN_CONFIG_JOBS_ARGUMENT_SPEC = {
    "job_queue": {"type": "str", "default": ""},
    "update_compliance": {"type": "bool", "default": True},
}

GOLDEN_CONFIG_DEPLOY_ARGUMENT_SPEC = {
    "device": {"type": "str"},
    "devices": {"type": "list", "elements": "str"},
    "device_filter": {"type": "raw"},
    "workers": {"type": "int", "default": 8},
    "intent_source": {"type": "str", "default": "auto", "choices": ["auto", "regenerate", "job", "stored"]},
    "dry_run": {"type": "bool", "default": True},
    "ready_statuses": {"type": "list", "elements": "str", "default": list(DEFAULT_READY_STATUSES)},
    "commit_confirm_seconds": {"type": "int", "default": DEFAULT_COMMIT_CONFIRM_SECONDS},
    "verify": {"type": "bool", "default": True},
    "readdress_without_confirm": {"type": "bool", "default": False},
    "notes": NOTES_OPTION,
    "notes_unchanged": {"type": "bool", "default": True},
    "trigger": {"type": "str", "default": "manual"},
    "plan": {"type": "bool", "default": False},
    # A drift check beyond the merge (module_utils/drift.py): Golden Config's compliance of every device compared.
    "compliance_drift": {"type": "bool", "default": False},
    "compliance_max_age": {"type": "int", "default": 0},
}
GOLDEN_CONFIG_DEPLOY_ARGUMENT_SPEC.update(NAUTOBOT_ARGUMENT_SPEC)
GOLDEN_CONFIG_DEPLOY_ARGUMENT_SPEC.update(NAPALM_ARGUMENT_SPEC)
GOLDEN_CONFIG_DEPLOY_ARGUMENT_SPEC.update(GOLDEN_CONFIG_JOBS_ARGUMENT_SPEC)
GOLDEN_CONFIG_DEPLOY_REQUIRED_ONE_OF = [["device", "devices", "device_filter"]]

CONFIG_ROLLBACK_ARGUMENT_SPEC = {
    "device": {"type": "str", "required": True},
    "dry_run": {"type": "bool", "default": True},
    "ready_statuses": {"type": "list", "elements": "str", "default": list(DEFAULT_READY_STATUSES)},
    "notes": NOTES_OPTION,
    "trigger": {"type": "str", "default": "manual"},
}
CONFIG_ROLLBACK_ARGUMENT_SPEC.update(NAUTOBOT_ARGUMENT_SPEC)
CONFIG_ROLLBACK_ARGUMENT_SPEC.update(NAPALM_ARGUMENT_SPEC)
CONFIG_ROLLBACK_ARGUMENT_SPEC.update(GOLDEN_CONFIG_JOBS_ARGUMENT_SPEC)

CONFIG_PLAN_DEPLOY_ARGUMENT_SPEC = {
    "plan": {"type": "str", "required": True},
    "dry_run": {"type": "bool", "default": True},
    "ready_statuses": {"type": "list", "elements": "str", "default": list(DEFAULT_READY_STATUSES)},
    "commit_confirm_seconds": {"type": "int", "default": DEFAULT_COMMIT_CONFIRM_SECONDS},
    "verify": {"type": "bool", "default": True},
    "notes": NOTES_OPTION,
    "trigger": {"type": "str", "default": "manual"},
    "intent_source": {"type": "str", "default": "regenerate", "choices": ["regenerate"]},
}
CONFIG_PLAN_DEPLOY_ARGUMENT_SPEC.update(NAUTOBOT_ARGUMENT_SPEC)
CONFIG_PLAN_DEPLOY_ARGUMENT_SPEC.update(NAPALM_ARGUMENT_SPEC)
CONFIG_PLAN_DEPLOY_ARGUMENT_SPEC.update(GOLDEN_CONFIG_JOBS_ARGUMENT_SPEC)

REMEDIATION_PLAN_ARGUMENT_SPEC = {
    "devices": {"type": "list", "elements": "str", "required": True},
    "ready_statuses": {"type": "list", "elements": "str", "default": list(DEFAULT_READY_STATUSES)},
    "trigger": {"type": "str", "default": "manual"},
}
REMEDIATION_PLAN_ARGUMENT_SPEC.update(NAUTOBOT_ARGUMENT_SPEC)
REMEDIATION_PLAN_ARGUMENT_SPEC.update(NAPALM_ARGUMENT_SPEC)
