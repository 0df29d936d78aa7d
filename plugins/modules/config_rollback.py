#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: sotsync team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: config_rollback
short_description: Return a device to its configuration before the last push by this collection
version_added: 0.1.0
description:
  - Every live commit by M(sotsync.nautobot.golden_config_deploy) leaves a rollback point in the device's
    notes in Nautobot (a Note) with the fingerprints of the running configuration before and after the
    push, what names the device's own restore point (EOS C(flash:rollback-0), Junos its commit history,
    NX-OS its checkpoint file) and the push's diff with its secrets masked. No configuration is kept in Nautobot.
  - This module finds the newest rollback point, reads the device's running configuration and refuses,
    changing nothing, when it is not what that push left (something else changed the device since). When
    the device already has its configuration from before the push, there is nothing to do.
  - Otherwise it restores the device's own restore point and verifies that the running configuration is
    again the one before the push; if not, it fails and says so. On EOS and NX-OS that is NAPALM's own
    C(rollback()) (EOS C(configure replace flash:rollback-0), the device's copy of its configuration taken
    by NAPALM just before that commit; NX-OS its checkpoint file). On Junos, whose confirming commit is a
    commit of its own, it is the rollback in the commit history (C(rollback 1), C(rollback 2), ... up to
    the tenth) whose configuration is the one before the push, loaded and committed under the
    configuration lock; when none of them holds it, the rollback is refused and nothing changes.
  - A rollback restores a whole configuration; it is the only operation of this collection that is not
    a merge, and it only ever restores what the device had.
  - B(Dry run is the default) (and check mode is a dry run). Nothing changes; the message names the
    device's restore point and both fingerprints, and the diff shown is what the rollback undoes, the
    push's diff from its note, reversed (secrets masked by the platform's rules). For a note written by an
    earlier version, which kept the configuration before the push, the diff from the running configuration
    to that copy (masked) is shown.
  - After a rollback a note records it on the device (not in check mode, not in a dry run).
author:
  - sotsync team (@sotsync)
requirements:
  - pynautobot
  - napalm (and the driver's own library, for example pyeapi for EOS)
extends_documentation_fragment:
  - sotsync.nautobot.nautobot
  - sotsync.nautobot.napalm
  - sotsync.nautobot.golden_config_jobs
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Check mode is a dry run.
  diff_mode:
    support: full
    details: Returns the diff (secrets masked) as C(diff.prepared).
  platform:
    platforms: posix
options:
  device:
    description:
      - The Nautobot device, by name or UUID.
    type: str
    required: true
  dry_run:
    description:
      - Show what the rollback would change and change nothing. Set C(false) to roll back.
    type: bool
    default: true
  ready_statuses:
    description:
      - The statuses a device must have to be touched (the same readiness rules as provisioning).
    type: list
    elements: str
    default: [Active, Planned, Staged]
  notes:
    description:
      - Record a rollback in a note on the device in Nautobot.
      - The alias O(journal) is deprecated and will be removed in 2.0.0.
    type: bool
    default: true
    aliases: [journal]
  trigger:
    description:
      - What started the run, recorded in the note.
    type: str
    default: manual
"""

EXAMPLES = r"""
- name: Show what rolling access1 back would change (dry run)
  sotsync.nautobot.config_rollback:
    device: access1

- name: Roll access1 back to its configuration before the last push
  sotsync.nautobot.config_rollback:
    device: access1
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
  sample: Rolled back to the configuration before the push of 2026-11-25T16:40:02.123456Z
changed:
  description: Whether the device's configuration differs (dry run) or was changed.
  returned: success
  type: bool
committed:
  description: Whether the rollback was applied.
  returned: success
  type: bool
verified:
  description: The running configuration is again the one before the push.
  returned: when committed
  type: bool
config_diff:
  description:
    - What the rollback changes, for people to read, secrets masked - the push's diff from its note,
      reversed. A line marked C(~) and ending in C(secret changed) stands for a line whose secret value differs.
  returned: success
  type: str
restore_point:
  description: What names the device's own restore point used by NAPALM's C(rollback()), from the note.
  returned: when the note names it and there is something to roll back
  type: str
  sample: flash:rollback-0 (the startup-config copied before the commit)
rollback_point:
  description: The id of the Nautobot note holding the rollback point used.
  returned: success
  type: str
error:
  description:
    - Why it failed, e.g. C(no_rollback_point), C(rollback_refused), C(device_not_ready),
      C(device_unreachable), C(commit_verification_failed).
  returned: failure
  type: str
"""

import traceback

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.sotsync.nautobot.plugins.module_utils.arguments import CONFIG_ROLLBACK_ARGUMENT_SPEC
from ansible_collections.sotsync.nautobot.plugins.module_utils.credentials import CredentialResolver
from ansible_collections.sotsync.nautobot.plugins.module_utils.deploy import classify_device_error, make_driver
from ansible_collections.sotsync.nautobot.plugins.module_utils.errors import ProvisionError
from ansible_collections.sotsync.nautobot.plugins.module_utils.masking import mask, mask_message
from ansible_collections.sotsync.nautobot.plugins.module_utils.provision import (
    check_parameters,
    note_text,
    make_client,
    merged_optional_args,
)
from ansible_collections.sotsync.nautobot.plugins.module_utils.rollback import run_rollback


def main():
    module = AnsibleModule(argument_spec=CONFIG_ROLLBACK_ARGUMENT_SPEC, supports_check_mode=True)
    params = module.params
    # the device's NAPALM login: inventory (device_credentials), its secrets group, then username/password
    resolver = CredentialResolver.from_params(params)

    def fail(**result):
        module.fail_json(**resolver.scrubber([params.get("nautobot_token")]).result(result))

    try:
        check_parameters(dict(params, commit_confirm_seconds=0))
        result = run_rollback(
            params,
            module.check_mode,
            make_client(params),
            make_driver,
            lambda device: merged_optional_args(device, params.get("optional_args")),
            mask,
            lambda name, mode, msg, diff, platform: note_text(
                name, mode, msg, params["trigger"], "-", diff, platform=platform
            ),
            log=module.log,
            resolver=resolver,
        )
    except ProvisionError as error:
        fail(**error.to_result())
    except Exception as error:  # noqa: BLE001 - device faults become typed errors
        typed = classify_device_error(error, stage="rollback")
        if type(typed).__name__ == "DeviceError":
            fail(
                msg="config_rollback failed: {0}: {1}".format(type(error).__name__, to_native(error)),
                error="unexpected",
                exception=traceback.format_exc(),
            )
        typed.message = mask_message(typed.message)
        if typed.code == "device_authentication" and resolver.logins:
            typed.message += " (the login came from {0})".format(resolver.logins[-1].detail)
        fail(**typed.to_result())
    if module._diff and result.get("config_diff"):
        result["diff"] = {"prepared": result["config_diff"]}
    module.exit_json(**resolver.scrubber([params.get("nautobot_token")]).result(result))


if __name__ == "__main__":
    main()
