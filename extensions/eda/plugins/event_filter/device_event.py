# -*- coding: utf-8 -*-
# Copyright: sotsync team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""sotsync.nautobot.device_event: raw Nautobot webhook events in, the collection's device events out.

The logic is ``plugins/plugin_utils/raw_event.py`` (the source's own normalisation); see
``docs/event.md``.
"""

from __future__ import annotations

import json
import os
import runpy

DOCUMENTATION = r"""
---
short_description: Turn raw Nautobot webhook events into sotsync.nautobot device events.
description:
  - An event filter for events whose C(payload) is the body of a Nautobot webhook, as
    C(ansible.eda.webhook), C(eda.builtin.webhook) and AAP event streams deliver them
    (the body in C(payload), C(endpoint) and C(headers) in C(meta)). It applies the normalisation of the
    C(sotsync.nautobot.webhook) source, so the same rulebook decisions run on them.
  - The event it passes on is the collection's device event (docs/event.md), C(nautobot) and
    C(meta), with the readiness verdict and the burst mark. Credential headers (the signature
    included) are removed from C(meta.headers).
  - The receiving source checks the signature (C(hmac_secret), C(hmac_algo=sha512),
    C(hmac_header=X-Hook-Signature), C(hmac_format=hex)); this filter does not.
  - A body that is not a usable Nautobot device webhook (another model, a missing or ill-typed key,
    a change already passed on) is dropped with a warning; the activation keeps running.
    IP address webhooks are dropped too (mapping an IP to its devices needs a Nautobot look-up;
    the C(sotsync.nautobot.webhook) source does it). Events that already are device events pass
    unchanged.
  - ansible-rulebook does not template event filter arguments: write values, not C({{ vars }}).
options:
  ready_statuses:
    description:
      - Device statuses (by name, any letter case) that count as ready; each event carries the
        verdict as C(readiness).
    type: list
    elements: str
    default: [Active, Planned, Staged]
  lone_event_seconds:
    description:
      - An event that arrives at least this many seconds after the previous one is marked
        C(burst=false), a lone change; the others C(burst=true). C(0) marks every event lone.
    type: float
    default: 2.0
"""

EXAMPLES = r"""
- name: Nautobot webhooks through ansible.eda.webhook
  hosts: all
  sources:
    - ansible.eda.webhook:
        host: 0.0.0.0
        port: 5000
        hmac_secret: "{{ SOTSYNC_WEBHOOK_SECRET }}"
        hmac_algo: sha512
        hmac_header: X-Hook-Signature
        hmac_format: hex
      filters:
        - sotsync.nautobot.device_event:
            ready_statuses: [Active, Staged]
  rules:
    - name: Renamed devices
      condition: event.nautobot.action == "updated" and event.nautobot.changed_fields contains "name"
      action:
        debug:
          msg: "{{ event.nautobot.object_name }} was renamed"

# In AAP, attach an event stream (HMAC credential: SHA512, hex, header X-Hook-Signature) to the
# rulebook's source; the filter stays on the source.
- name: Nautobot webhooks through an AAP event stream
  hosts: all
  sources:
    - ansible.eda.webhook:
        port: 5000
      filters:
        - sotsync.nautobot.device_event:
  rules:
    - name: Print
      condition: event.nautobot is defined
      action:
        print_event:
"""


# ansible-rulebook runs this file without the collection on sys.path: ../import_collection.py puts it there.
_IMPORT_COLLECTION = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "import_collection.py")
runpy.run_path(_IMPORT_COLLECTION)["import_collection"](__file__)
# pylint: disable=wrong-import-position
from ansible_collections.sotsync.nautobot.plugins.plugin_utils.raw_event import RawEventFilter  # noqa: E402
from ansible_collections.sotsync.nautobot.plugins.plugin_utils.settings import validate_filter_args  # noqa: E402

# One filter (its burst clock, its replay memory) per set of arguments, for as long as the source runs.
_FILTERS = {}


def main(event, **kwargs):
    """The device event for a raw Nautobot webhook event: a list of one, or empty when dropped."""
    key = json.dumps(kwargs, sort_keys=True, default=str)
    event_filter = _FILTERS.get(key)
    if event_filter is None:
        event_filter = _FILTERS[key] = RawEventFilter(validate_filter_args(kwargs))
    return event_filter(event)
