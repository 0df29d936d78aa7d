#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: sotsync team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: nautobot_webhook
short_description: Manage a Nautobot Webhook that posts to the sotsync.nautobot.webhook event source
version_added: 0.1.0
description:
  - Creates, updates or deletes one Nautobot Webhook object, by name, idempotently.
  - Used by the playbook C(sotsync.nautobot.nautobot_webhooks) to point Nautobot's device and IP
    address changes at the event source, with the shared HMAC secret.
  - The secret is never returned nor shown in a diff.
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
  diff_mode:
    support: full
    details: Shows the managed fields before and after, the secret masked.
  platform:
    platforms: posix
options:
  name:
    description: The Webhook's name, its identity.
    type: str
    required: true
  state:
    description: Whether the Webhook should exist.
    type: str
    choices: [present, absent]
    default: present
  payload_url:
    description:
      - Where Nautobot posts, for example V(https://eda.example.com:5000/).
      - Nautobot refuses loopback, link-local and reserved addresses.
      - Required with O(state=present).
    type: str
  content_types:
    description: The models whose changes fire the Webhook.
    type: list
    elements: str
    default: [dcim.device]
  type_create:
    description: Fire when an object is created.
    type: bool
    default: true
  type_update:
    description: Fire when an object is updated.
    type: bool
    default: true
  type_delete:
    description: Fire when an object is deleted.
    type: bool
    default: false
  secret:
    description:
      - The HMAC-SHA512 key Nautobot signs each body with (header C(X-Hook-Signature)); the event
        source must have the same one.
      - Required with O(state=present). If not set, the E(SOTSYNC_WEBHOOK_SECRET) environment variable
        is used.
    type: str
  enabled:
    description: Whether the Webhook fires.
    type: bool
    default: true
  ssl_verification:
    description: Whether Nautobot verifies the payload URL's TLS certificate.
    type: bool
    default: true
"""

EXAMPLES = r"""
- name: Send device changes to the event source
  sotsync.nautobot.nautobot_webhook:
    name: sotsync device hook
    payload_url: https://eda.example.com:5000/
    content_types: [dcim.device]
    type_create: true
    type_update: true
    secret: "{{ vault_webhook_secret }}"

- name: Send IP address edits too (the source maps them to their device)
  sotsync.nautobot.nautobot_webhook:
    name: sotsync ip address hook
    payload_url: https://eda.example.com:5000/
    content_types: [ipam.ipaddress]
    type_create: false
    type_update: true
    secret: "{{ vault_webhook_secret }}"

- name: Remove a webhook
  sotsync.nautobot.nautobot_webhook:
    name: sotsync device hook
    state: absent
"""

RETURN = r"""
webhook:
  description: The Webhook's managed fields after the change (secret masked); null when absent.
  returned: always
  type: dict
  sample: {"name": "sotsync device hook", "payload_url": "http://10.213.7.2:5000/", "secret": "********"}
id:
  description: The Webhook's UUID; null when absent.
  returned: always
  type: str
changed_fields:
  description: The fields that were (or in check mode would be) changed.
  returned: always
  type: list
  elements: str
"""

import traceback

from ansible.module_utils.basic import AnsibleModule, env_fallback
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.sotsync.nautobot.plugins.module_utils.arguments import NAUTOBOT_ARGUMENT_SPEC
from ansible_collections.sotsync.nautobot.plugins.module_utils.errors import ProvisionError
from ansible_collections.sotsync.nautobot.plugins.module_utils.nautobot import NautobotClient
from ansible_collections.sotsync.nautobot.plugins.module_utils.webhooks import (
    current_webhook,
    desired_webhook,
    redacted,
    webhook_changes,
)

ARGUMENT_SPEC = dict(
    NAUTOBOT_ARGUMENT_SPEC,
    name={"type": "str", "required": True},
    state={"type": "str", "choices": ["present", "absent"], "default": "present"},
    payload_url={"type": "str"},
    content_types={"type": "list", "elements": "str", "default": ["dcim.device"]},
    type_create={"type": "bool", "default": True},
    type_update={"type": "bool", "default": True},
    type_delete={"type": "bool", "default": False},
    secret={"type": "str", "no_log": True, "fallback": (env_fallback, ["SOTSYNC_WEBHOOK_SECRET"])},
    enabled={"type": "bool", "default": True},
    ssl_verification={"type": "bool", "default": True},
)


def ensure(module, client):
    endpoint = client.api.extras.webhooks
    params = module.params
    try:
        record = endpoint.get(name=params["name"])
    except Exception as exc:  # noqa: BLE001 - typed by the client
        client._raise_for(exc, "looking up webhook {0}".format(params["name"]))
    before = current_webhook(dict(record)) if record is not None else None

    if params["state"] == "absent":
        if record is None:
            return {"changed": False, "webhook": None, "id": None, "changed_fields": []}
        if not module.check_mode:
            try:
                record.delete()
            except Exception as exc:  # noqa: BLE001 - typed by the client
                client._raise_for(exc, "deleting webhook {0}".format(params["name"]))
        return {
            "changed": True,
            "webhook": None,
            "id": None,
            "changed_fields": ["state"],
            "diff": {"before": redacted(before), "after": {}},
        }

    try:
        desired = desired_webhook(params)
    except ValueError as exc:
        module.fail_json(msg="Invalid webhook {0}: {1}".format(params["name"], exc), error="invalid_input")
    changes = desired if before is None else webhook_changes(before, desired)
    after = dict(before or {}, **changes)
    webhook_id = str(record.id) if record is not None else None
    if changes and not module.check_mode:
        try:
            if record is None:
                webhook_id = str(endpoint.create(**desired).id)
            else:
                record.update(changes)
        except Exception as exc:  # noqa: BLE001 - typed by the client
            client._raise_for(exc, "saving webhook {0}".format(params["name"]))
    return {
        "changed": bool(changes),
        "webhook": redacted(after),
        "id": webhook_id,
        "changed_fields": sorted(changes),
        "diff": {"before": redacted(before) or {}, "after": redacted(after)},
    }


def main():
    module = AnsibleModule(
        argument_spec=ARGUMENT_SPEC,
        supports_check_mode=True,
        required_if=[("state", "present", ("payload_url", "secret"))],
    )
    try:
        client = NautobotClient(
            module.params["nautobot_url"],
            module.params["nautobot_token"],
            validate_certs=module.params["validate_certs"],
            timeout=module.params["nautobot_timeout"],
        )
        result = ensure(module, client)
    except ProvisionError as error:
        module.fail_json(**error.to_result())
    except Exception as error:  # noqa: BLE001 - the last resort keeps the error shape
        module.fail_json(
            msg="nautobot_webhook failed: {0}: {1}".format(type(error).__name__, to_native(error)),
            error="unexpected",
            exception=traceback.format_exc(),
        )
    if not module._diff:
        result.pop("diff", None)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
