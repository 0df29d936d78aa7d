#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: sotsync team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: config_plan_deploy
short_description: Deploy an approved Golden Config config plan with NAPALM (merge, commit-confirm, verify)
version_added: 0.1.0
description:
  - The second half of the approval gate. M(sotsync.nautobot.golden_config_deploy) with
    O(sotsync.nautobot.golden_config_deploy#module:plan=true) files a Golden Config config plan (status
    C(Not Approved)) for each device that differs from its intent; an engineer approves one by setting its
    status to C(Approved) in Nautobot; this module deploys it.
  - Reads the plan. A plan whose status is not C(Approved) is refused (error C(plan_not_approved)) and its
    status is left as it is; a rejected plan is never deployed.
  - Renders the device's intended configuration now (Golden Config, on demand) and compares it with the plan's
    config set (whitespace, blank lines, C(!) comments and C(end) ignored). If they differ the plan is stale;
    its status is set to C(Failed), a note on it says why, a fresh plan is filed for the device (the same
    planning as O(sotsync.nautobot.golden_config_deploy#module:plan)), and the task fails with C(plan_stale)
    naming the fresh plan.
  - Otherwise the status is set to C(In Progress) and exactly the plan's config set is deployed as
    M(sotsync.nautobot.golden_config_deploy) deploys an intent (readiness re-checked on live data, NAPALM
    B(merge) only, commit-confirm, verification, a note and a rollback point on the device); then the
    status is C(Completed), or C(Failed) with a note on the plan giving the error code and message.
  - B(Dry run is the default) (and check mode is a dry run). A dry run changes no status, files no plan and
    shows the diff.
author:
  - sotsync team (@sotsync)
requirements:
  - pynautobot
  - napalm (and the driver's own library, for example pyeapi for EOS)
  - Nautobot Golden Config 2.x or later (config plans)
extends_documentation_fragment:
  - sotsync.nautobot.nautobot
  - sotsync.nautobot.napalm
  - sotsync.nautobot.golden_config_jobs
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Check mode is a dry run; no status changes.
  diff_mode:
    support: full
    details: Returns the device's own unified diff, secrets masked, as C(diff.prepared).
  platform:
    platforms: posix
options:
  plan:
    description:
      - The Golden Config config plan, by its UUID.
    type: str
    required: true
  dry_run:
    description:
      - Show the diff and change nothing (no status either). Set C(false) to deploy.
    type: bool
    default: true
  ready_statuses:
    description:
      - Device statuses (by name) that count as ready (the same readiness rules as provisioning).
    type: list
    elements: str
    default: [Active, Planned, Staged]
  commit_confirm_seconds:
    description:
      - Commit with this NAPALM commit-confirm timer; the device reverts by itself unless the module confirms
        after its checks. V(0) commits without commit-confirm.
    type: int
    default: 60
  verify:
    description:
      - After the commit, require every line of the config set in the running configuration; roll back and
        fail otherwise.
    type: bool
    default: true
  notes:
    description:
      - Write a note on the device (the outcome, the diff, a rollback point after a commit). The notes on the
        plan are always written.
      - The alias O(journal) is deprecated and will be removed in 2.0.0.
    type: bool
    default: true
    aliases: [journal]
  trigger:
    description:
      - What started the run, recorded in the notes.
    type: str
    default: manual
  intent_source:
    description:
      - How the device's intent is read to tell whether the plan is stale; only V(regenerate) (rendered now).
    type: str
    choices: [regenerate]
    default: regenerate
notes:
  - Failures carry a machine-readable RV(error) code, for example C(plan_not_approved), C(plan_stale),
    C(plan_not_found), C(plan_error), C(device_not_ready), C(device_unreachable), C(commit_verification_failed).
  - The token needs, besides what M(sotsync.nautobot.golden_config_deploy) needs,
    C(nautobot_golden_config.view_configplan), C(nautobot_golden_config.change_configplan), C(extras.view_status)
    and, for a fresh plan, permission to run Golden Config's C(Generate Config Plans) job.
seealso:
  - module: sotsync.nautobot.golden_config_deploy
  - name: Golden Config config plans
    description: Golden Config's config plans and their statuses.
    link: https://docs.nautobot.com/projects/golden-config/en/latest/user/app_feature_config_plans/
"""

EXAMPLES = r"""
- name: Show what deploying the plan would change (dry run)
  sotsync.nautobot.config_plan_deploy:
    plan: 8d7a3f0e-2c1b-4f5e-9a6d-0b1c2d3e4f50

- name: Deploy the approved plan
  sotsync.nautobot.config_plan_deploy:
    plan: 8d7a3f0e-2c1b-4f5e-9a6d-0b1c2d3e4f50
    dry_run: false
"""

RETURN = r"""
credentials_source:
  description:
    - Where the device's NAPALM login came from, V(inventory) (O(device_credentials)), V(secrets_group) (its
      Nautobot secrets group) or V(global) (O(username) and O(password)). Never the login itself.
  returned: when the device was connected to
  type: str
  sample: inventory
credentials_from:
  description: The same for people, e.g. the inventory host, or the secrets group and its access type.
  returned: when the device was connected to
  type: str
  sample: inventory host access1
compliance:
  description:
    - After the live commit (O(update_compliance)), the device's Golden Config compliance as Golden Config's
      jobs left it. The same keys as RV(sotsync.nautobot.golden_config_deploy#module:compliance) (C(updated),
      C(msg), C(error), C(compliant), C(features), C(noncompliant_features), C(checked_at), C(job_results)).
  returned: when the device was committed and O(update_compliance) is true
  type: dict
msg:
  description: What happened.
  returned: always
  type: str
  sample: "Config plan 8d7a3f0e-2c1b-4f5e-9a6d-0b1c2d3e4f50 for access1: Configuration committed successfully"
plan_id:
  description: The plan's UUID.
  returned: when the plan was found
  type: str
plan_status:
  description: The plan's status after the run (V(Approved) after a dry run, V(Completed) after a deploy, V(Failed)...).
  returned: when the plan was found
  type: str
  sample: Completed
fresh_plan_id:
  description: The fresh plan filed for the device when this one was stale (null when the device needs none).
  returned: when RV(error=plan_stale) and not a dry run
  type: str
device:
  description: The plan's device.
  returned: when the plan was found
  type: str
  sample: access1
changed:
  description: Whether the device's configuration differs (dry run) or was changed.
  returned: success
  type: bool
committed:
  description: Whether the config set was committed (and, with commit-confirm, confirmed).
  returned: success
  type: bool
verified:
  description: Whether the running configuration has every line of the config set after the commit.
  returned: success
  type: bool
config_diff:
  description:
    - The device's unified diff of the merge, secrets masked
      (as RV(sotsync.nautobot.golden_config_deploy#module:config_diff)).
  returned: success, and on failures after the diff was computed
  type: str
diff:
  description: Ansible diff mode output.
  returned: in diff mode, when the diff is not empty
  type: dict
  contains:
    prepared:
      description: The device's unified diff.
      type: str
note_id:
  description: The note written on the device.
  returned: success, when notes are written
  type: str
error:
  description: Why it failed, a machine-readable code (see O(notes)).
  returned: failure
  type: str
"""

import traceback  # noqa: E402 - Ansible's layout: the documentation comes first

from ansible.module_utils.basic import AnsibleModule  # noqa: E402
from ansible.module_utils.common.text.converters import to_native  # noqa: E402

from ansible_collections.sotsync.nautobot.plugins.module_utils.arguments import (  # noqa: E402
    CONFIG_PLAN_DEPLOY_ARGUMENT_SPEC,
)
from ansible_collections.sotsync.nautobot.plugins.module_utils.errors import ProvisionError  # noqa: E402
from ansible_collections.sotsync.nautobot.plugins.module_utils.plan_deploy import deploy_plan  # noqa: E402
from ansible_collections.sotsync.nautobot.plugins.module_utils.provision import make_client  # noqa: E402


def main():
    module = AnsibleModule(argument_spec=CONFIG_PLAN_DEPLOY_ARGUMENT_SPEC, supports_check_mode=True)
    params = dict(module.params, device=None)
    try:
        result = deploy_plan(params, module.check_mode, make_client(params), log=module.log)
    except ProvisionError as error:
        failure = error.to_result()
        for warning in failure.pop("warnings", None) or []:
            module.warn(warning)
        module.fail_json(**failure)
    except Exception as error:  # noqa: BLE001 - the last resort keeps the error shape
        module.fail_json(
            msg="config_plan_deploy failed unexpectedly: {0}: {1}".format(type(error).__name__, to_native(error)),
            error="unexpected",
            exception=traceback.format_exc(),
        )
    for warning in result.pop("warnings", None) or []:
        module.warn(warning)
    if module._diff and result.get("config_diff"):
        result["diff"] = {"prepared": result["config_diff"]}
    result["check_mode"] = module.check_mode
    module.exit_json(**result)


if __name__ == "__main__":
    main()
