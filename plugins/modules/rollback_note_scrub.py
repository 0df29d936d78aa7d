#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: sotsync team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: rollback_note_scrub
short_description: Remove the configuration copies earlier versions left in devices' notes in Nautobot
version_added: 0.1.0
description:
  - Earlier versions of M(sotsync.nautobot.golden_config_deploy) ended the note of every live commit with
    the device's whole running configuration before the push (a block titled B(Running configuration before
    this push)), masked by one regular expression that left many secrets readable. Every Nautobot user who
    may view the device's notes could read it.
  - This module finds those notes on devices (notes written by M(sotsync.nautobot.golden_config_deploy) that
    still hold the block) and rewrites each without the block. The rollback point (the fingerprints) is kept,
    the push's diff is kept and masked again with the platform's rules, a line naming the device's own restore
    point is added when the note names the platform, and a line says the note was scrubbed.
  - M(sotsync.nautobot.config_rollback) works from a scrubbed note (its dry run shows the push's diff,
    reversed).
  - B(Dry run is the default) (and check mode is a dry run); it lists the notes it would rewrite.
  - A one-off task, run by the playbook C(sotsync.nautobot.scrub_rollback_notes).
author:
  - sotsync team (@sotsync)
requirements:
  - pynautobot
extends_documentation_fragment:
  - sotsync.nautobot.nautobot
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Check mode is a dry run.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  devices:
    description:
      - Only the notes on these devices (names or UUIDs). All devices when not set.
    type: list
    elements: str
  dry_run:
    description:
      - List the notes that would be rewritten and change nothing. Set V(false) to rewrite them.
      - The token then needs C(extras.change_note) as well as C(extras.view_note).
    type: bool
    default: true
"""

EXAMPLES = r"""
- name: List the notes that still hold a configuration copy (dry run)
  sotsync.nautobot.rollback_note_scrub:
  register: found

- name: Rewrite them without it
  sotsync.nautobot.rollback_note_scrub:
    dry_run: false
"""

RETURN = r"""
msg:
  description: What was found and rewritten.
  returned: always
  type: str
  sample: 3 note(s) with a copy of a device's configuration found; rewrote 3
changed:
  description: Whether notes were (or, in a dry run, would be) rewritten.
  returned: success
  type: bool
dry_run:
  description: Whether this was a dry run.
  returned: success
  type: bool
notes:
  description: The notes rewritten (or, in a dry run, to rewrite).
  returned: success
  type: list
  elements: dict
  contains:
    id:
      description: The note's id.
      type: str
    device_id:
      description: The id of the device the note is on.
      type: str
    created:
      description: When the note was written.
      type: str
    removed_lines:
      description: The number of lines of the configuration block removed.
      type: int
failed_notes:
  description: The notes Nautobot refused to rewrite, each with its C(error); the task then fails.
  returned: success
  type: list
  elements: dict
error:
  description: Why it failed, e.g. C(nautobot_unreachable), C(nautobot_authentication), C(device_not_found).
  returned: failure
  type: str
"""

import traceback

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.sotsync.nautobot.plugins.module_utils.arguments import NAUTOBOT_ARGUMENT_SPEC
from ansible_collections.sotsync.nautobot.plugins.module_utils.errors import ProvisionError
from ansible_collections.sotsync.nautobot.plugins.module_utils.note_scrub import scrub_notes
from ansible_collections.sotsync.nautobot.plugins.module_utils.provision import make_client


def main():
    argument_spec = {
        "devices": {"type": "list", "elements": "str"},
        "dry_run": {"type": "bool", "default": True},
    }
    argument_spec.update(NAUTOBOT_ARGUMENT_SPEC)
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    try:
        result = scrub_notes(
            make_client(params),
            dry_run=bool(params["dry_run"]) or module.check_mode,
            devices=params.get("devices"),
            log=module.log,
        )
    except ProvisionError as error:
        module.fail_json(**error.to_result())
    except Exception as error:  # noqa: BLE001 - the last resort keeps the error shape
        module.fail_json(
            msg="rollback_note_scrub failed unexpectedly: {0}: {1}".format(type(error).__name__, to_native(error)),
            error="unexpected",
            exception=traceback.format_exc(),
        )
    if result["failed_notes"]:
        module.fail_json(error="notes_not_written", **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
