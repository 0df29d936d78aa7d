# -*- coding: utf-8 -*-
# Copyright: sotsync team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""sotsync.nautobot.changelog: catch up on Nautobot's object-change log, one clean event per device change.

ansible-rulebook loads this file with ``runpy.run_path``: no relative imports, and the logic lives in
``plugins/plugin_utils/changelog.py`` (plain Python, unit-tested). See ``docs/changelog-source.md``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import runpy

DOCUMENTATION = r"""
---
short_description: Read Nautobot's object-change log from a saved cursor, as device events.
description:
  - An ansible-rulebook event source that polls Nautobot's object-change log
    (C(/api/extras/object-changes/)) for device and IP address changes, from a cursor kept in a file,
    and emits the same events as C(sotsync.nautobot.webhook) (docs/event.md), with
    C(meta.endpoint) set to C(changelog).
  - Nautobot does not retry webhooks. Run this source beside the webhook source and a change made
    while the rulebook was down is still delivered when it comes back. A change both sources see is
    queued once (they share one registry of delivered changes in the rulebook's process).
  - Every page is read (C(next) is followed), times are compared as times, Nautobot errors are retried
    with a backoff capped at O(retry_max_seconds) (one log line per failed attempt), and the cursor is
    saved atomically after each batch of O(page_size) changes and after each poll.
  - Delivery is at least once. After a crash, at most the changes handled since the last save come again.
options:
  nautobot_url:
    description: Nautobot's URL. Falls back to E(NAUTOBOT_URL).
    type: str
  nautobot_token:
    description: An API token that can read object changes (and devices, IP addresses); falls back to
      E(NAUTOBOT_TOKEN). Never logged.
    type: str
  nautobot_validate_certs:
    description: Verify Nautobot's TLS certificate.
    type: bool
    default: true
  nautobot_timeout:
    description: Timeout in seconds of each request to Nautobot.
    type: float
    default: 30.0
  models:
    description:
      - The Nautobot models to read changes of.
      - C(interface) and C(configcontext) reach the devices they belong to (docs/event.md, "Related
        objects"). Nautobot sends no webhook for config contexts, so this source is the way their changes
        reach a rulebook.
    type: list
    elements: str
    choices: [device, ipaddress, interface, configcontext]
    default: [device, ipaddress]
  max_related_devices:
    description:
      - The most devices one related change (a config context's scope) may reach. A change that
        reaches more gives no events and a warning naming it.
    type: int
    default: 1000
  cursor_file:
    description:
      - The file that keeps the cursor (the time of the latest change handled and the ids of the
        changes handled near it). Created with its folder when missing.
      - Default C($XDG_STATE_HOME/sotsync.nautobot/changelog-<host>_<port>.json), with
        C(~/.local/state) when E(XDG_STATE_HOME) is not set.
      - A cursor file that names another Nautobot is refused; delete it to start again.
    type: str
  since:
    description:
      - Only when there is no cursor file yet (the first run) - start this many seconds before now,
        Nautobot's now (its C(Date) header). C(0) delivers only the changes made from now on.
      - Once a cursor exists it is ignored; the source resumes where the cursor says.
    type: float
    default: 0
  poll_interval:
    description: Seconds between two reads of the change log.
    type: float
    default: 10.0
  overlap_seconds:
    description:
      - Each read starts this many seconds before the cursor, and the cursor keeps the ids of the
        changes handled in that window, so none is delivered twice. This catches the changes that
        Nautobot commits late (a long bulk edit saves its change records with the time of each object,
        but they become visible when the whole request ends). C(0) keeps only the ids at the cursor's
        exact time.
    type: float
    default: 60.0
  page_size:
    description: Changes per page (Nautobot's C(limit), at most 1000); the cursor is saved at least this often.
    type: int
    default: 100
  retry_max_seconds:
    description: The longest wait between two attempts while Nautobot fails (waits double from 1 second).
    type: float
    default: 60.0
  ready_statuses:
    description: Device statuses (by name, any letter case) that count as ready (C(readiness) in the event).
    type: list
    elements: str
    default: [Active, Planned, Staged]
  max_events_per_second:
    description: Events are handed to the rulebook at most this many a second, in order. C(0) does not pace.
    type: float
    default: 30.0
  lone_event_seconds:
    description: An event this many seconds after the previous one is marked C(burst=false).
    type: float
    default: 2.0
"""

EXAMPLES = r"""
- name: Nautobot device changes, live and caught up after downtime
  hosts: localhost
  sources:
    - sotsync.nautobot.webhook:
        port: 5000
        secret: "{{ nautobot_webhook_secret }}"
    - sotsync.nautobot.changelog:
        nautobot_url: https://nautobot.example.com
        nautobot_token: "{{ nautobot_token }}"
        cursor_file: /var/lib/eda/sotsync-changelog.json
  rules:
    - name: Renamed devices
      condition: event.nautobot.action == "updated" and "name" in event.nautobot.changed_fields
      action:
        debug:
          msg: "{{ event.nautobot.object_name }} was renamed ({{ event.meta.endpoint }})"
"""

LOGGER = logging.getLogger("sotsync.nautobot.changelog")


# ansible-rulebook runs this file without the collection on sys.path: ../import_collection.py puts it there.
_IMPORT_COLLECTION = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "import_collection.py")
runpy.run_path(_IMPORT_COLLECTION)["import_collection"](__file__)
# pylint: disable=wrong-import-position
from ansible_collections.sotsync.nautobot.plugins.plugin_utils import changelog as logic  # noqa: E402
from ansible_collections.sotsync.nautobot.plugins.plugin_utils import nautobot_lookup as lookup_lib  # noqa: E402
from ansible_collections.sotsync.nautobot.plugins.module_utils.lifeline import export_daemon  # noqa: E402
from ansible_collections.sotsync.nautobot.plugins.plugin_utils import owed  # noqa: E402


async def main(queue, args):
    """Poll Nautobot's change log and put one normalised event per new device change on ``queue``."""
    export_daemon()  # the runs this daemon starts end when it is gone (module_utils/lifeline.py)
    settings = logic.validate_args(dict(args or {}))
    client = logic.HttpClient(
        settings.nautobot_url,
        settings.nautobot_token,
        timeout=settings.nautobot_timeout,
        validate_certs=settings.nautobot_validate_certs,
    )
    lookup = lookup_lib.NautobotLookup(
        settings.nautobot_url,
        settings.nautobot_token,
        timeout=settings.nautobot_timeout,
        validate_certs=settings.nautobot_validate_certs,
    )
    # its hand-overs go in the daemon's ledger too (the webhook source keeps it: plugin_utils/owed.py)
    source = logic.ChangelogSource(settings, owed.KEEPER.recording(queue.put), client, lookup)
    try:
        await source.start()
        LOGGER.info(
            "Reading Nautobot's change log at %s every %g s (models: %s; cursor %s)",
            settings.nautobot_url,
            settings.poll_interval,
            logic.model_names(settings),
            settings.cursor_file,
        )
        await source.run()
    except asyncio.CancelledError:
        LOGGER.info("sotsync.nautobot.changelog stopping")
        raise
    finally:
        source.save_now()
        client.close()
        lookup.close()


if __name__ == "__main__":
    # Standalone: print events instead of queueing them. NAUTOBOT_URL / NAUTOBOT_TOKEN are required;
    # CHANGELOG_CURSOR (a file) and CHANGELOG_SINCE (seconds, first run only) are optional.

    class MockQueue(asyncio.Queue):
        """A queue that prints."""

        async def put(self, item):
            print(json.dumps(item, indent=2))  # noqa: T201

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    standalone_args = {}
    if os.environ.get("CHANGELOG_CURSOR"):
        standalone_args["cursor_file"] = os.environ["CHANGELOG_CURSOR"]
    if os.environ.get("CHANGELOG_SINCE"):
        standalone_args["since"] = float(os.environ["CHANGELOG_SINCE"])
    try:
        asyncio.run(main(MockQueue(), standalone_args))
    except KeyboardInterrupt:
        pass
