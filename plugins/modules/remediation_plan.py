#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: sotsync team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: remediation_plan
short_description: File Golden Config remediation config plans that remove the lines a device has beyond its intent
version_added: 0.1.0
description:
  - A merge only adds lines, so provisioning never removes one. This module files, for each device, Golden
    Config's own B(remediation) config plan (status C(Not Approved)) for its compliance features with extra
    lines (lines the device has that its intent does not). The commands are Golden Config's remediation
    (its remediation settings, hier_config, make the C(no ...) of each extra line, and the feature's missing
    lines). Nothing is deployed.
  - Before filing, the commands are dry-run on the device (NAPALM merge, compared and discarded, as
    M(sotsync.nautobot.golden_config_deploy) does); the plan's note holds the extra lines by feature, the
    commands and that diff. A plan whose config set is not what was read from the device's compliance is set
    C(Failed).
  - An engineer approves the plan in Nautobot; M(sotsync.nautobot.config_plan_deploy) then deploys it,
    checking first that Golden Config's remediation is still the plan's (its jobs check the device again),
    under commit-confirm, verified (the removed lines gone).
  - Golden Config's stored compliance is read, so run its compliance first (the C(sotsync.nautobot.reconcile)
    playbook with C(remediation_plans=true) does, then calls this module for the devices with extra lines).
  - No plan is filed, and the result says why, for a device without extra lines, whose platform has no
    remediation settings in Golden Config, whose features' compliance rules have config remediation off, or
    whose dry run fails (unreachable, not ready).
author:
  - sotsync team (@sotsync)
requirements:
  - pynautobot
  - napalm (and the driver's own library, for example pyeapi for EOS)
  - Nautobot Golden Config 2.x or later (compliance, remediation settings, config plans)
extends_documentation_fragment:
  - sotsync.nautobot.nautobot
  - sotsync.nautobot.napalm
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: The dry run is made; no plan is filed.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  devices:
    description:
      - The devices, by name or UUID.
    type: list
    elements: str
    required: true
  ready_statuses:
    description:
      - Device statuses (by name) that count as ready for the dry run (the same readiness rules as provisioning).
    type: list
    elements: str
    default: [Active, Planned, Staged]
  trigger:
    description:
      - What started the run, recorded in the plans' notes.
    type: str
    default: manual
notes:
  - The token needs to read devices, Golden Config's compliance, compliance rules and remediation settings, to
    run Golden Config's C(Generate Config Plans) job, to change config plans (a plan set Failed) and to write
    notes.
seealso:
  - module: sotsync.nautobot.config_plan_deploy
  - name: Golden Config remediation
    description: Golden Config's configuration remediation (hier_config) and its settings.
    link: https://docs.nautobot.com/projects/golden-config/en/latest/user/app_feature_remediation/
"""

EXAMPLES = r"""
- name: File remediation plans for the devices with extra lines
  sotsync.nautobot.remediation_plan:
    devices: [access2]
  register: remediation

- name: Show the plans filed
  ansible.builtin.debug:
    msg: "{{ remediation.results | map(attribute='msg') | list }}"
"""

RETURN = r"""
results:
  description: One entry per device.
  returned: always
  type: list
  elements: dict
  contains:
    device:
      description: The device's name (or the name or UUID asked for, when not found).
      type: str
    device_id:
      description: The device's UUID.
      type: str
    filed:
      description: Whether a remediation plan was filed.
      type: bool
    plan_id:
      description: The plan's UUID.
      type: str
      returned: when filed
    plan_status:
      description: The plan's status (V(Not Approved)).
      type: str
      returned: when filed
    features:
      description: The compliance features the plan remediates.
      type: list
      elements: str
      returned: when the device has features to remediate
    skipped_features:
      description: "Features with extra lines that no plan remediates, and why: C({feature: why})."
      type: dict
    config_set:
      description: The plan's commands (secrets masked).
      type: list
      elements: str
      returned: when the device has features to remediate
    config_diff:
      description: The device's diff of the dry run of those commands (secrets masked).
      type: str
      returned: when the dry run was made
    why:
      description: Why no plan was filed.
      type: str
      returned: when not filed
    msg:
      description: The line that says what happened for the device.
      type: str
filed:
  description: How many plans were filed.
  returned: always
  type: int
msg:
  description: What happened.
  returned: always
  type: str
  sample: "Remediation config plans: 1 filed (waiting for approval), 0 device(s) without one"
error:
  description: Why the run failed, a machine-readable code.
  returned: failure
  type: str
"""

import traceback  # noqa: E402 - Ansible's layout: the documentation comes first

from ansible.module_utils.basic import AnsibleModule  # noqa: E402
from ansible.module_utils.common.text.converters import to_native  # noqa: E402

from ansible_collections.sotsync.nautobot.plugins.module_utils.arguments import (  # noqa: E402
    REMEDIATION_PLAN_ARGUMENT_SPEC,
)
from ansible_collections.sotsync.nautobot.plugins.module_utils.errors import ProvisionError  # noqa: E402
from ansible_collections.sotsync.nautobot.plugins.module_utils.provision import make_client  # noqa: E402
from ansible_collections.sotsync.nautobot.plugins.module_utils.remediation import file_plans  # noqa: E402


def main():
    module = AnsibleModule(argument_spec=REMEDIATION_PLAN_ARGUMENT_SPEC, supports_check_mode=True)
    params = dict(module.params, device=None)
    try:
        result = file_plans(params, module.check_mode, make_client(params), log=module.log)
    except ProvisionError as error:
        module.fail_json(**error.to_result())
    except Exception as error:  # noqa: BLE001 - the last resort keeps the error shape
        module.fail_json(
            msg="remediation_plan failed unexpectedly: {0}: {1}".format(type(error).__name__, to_native(error)),
            error="unexpected",
            exception=traceback.format_exc(),
        )
    for entry in result["results"]:
        for warning in entry.pop("warnings", None) or []:
            module.warn(warning)
    failed = [r["device"] for r in result["results"] if r.get("failed")]
    result["changed"] = result["filed"] > 0
    if failed:
        result.update(error="remediation_failed", msg="{0}; failed: {1}".format(result["msg"], ", ".join(failed)))
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
