# -*- coding: utf-8 -*-
# Copyright: sotsync team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Options of the modules that run Golden Config's jobs (spec: module_utils/arguments.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    DOCUMENTATION = r"""
options:
  job_queue:
    description:
      - The Nautobot job queue (its name, Nautobot 2.4 or later) that runs Golden Config's jobs, its
        "Generate Intended Configurations" job for O(sotsync.nautobot.golden_config_deploy#module:intent_source=job)
        (and V(auto) with more than 8 devices), and after live commits (O(update_compliance)) its "Execute All
        Golden Configuration Jobs - Multiple Device", "Backup Configurations" and "Perform Configuration
        Compliance" jobs.
      - Empty runs them on each job's default queue. Nautobot's Celery workers deliver its webhooks too; during a
        bulk edit a job waits behind hundreds of webhook deliveries on a shared queue. A queue of its own,
        served by a Celery worker of its own (C(nautobot-server celery worker -Q <queue> --concurrency 1)) and
        allowed on these jobs (each job's job queues, with the override set), runs them at once. The jobs sync
        the same template, intended and backup repositories; one worker process keeps them from racing.
      - A queue a job does not allow, or that no worker serves, fails with Nautobot's message.
    type: str
    default: ""
  update_compliance:
    description:
      - After a live commit, bring Golden Config's compliance of the committed devices up to date. One run of
        Golden Config's "Execute All Golden Configuration Jobs - Multiple Device" job for all of them (up to
        500 a run) renders their intended configuration, backs up their running configuration (Golden Config
        connects to them with its own credentials) and checks compliance with its compliance rules.
      - When the intents came from Golden Config's intended job (its repository then holds what was
        deployed), its "Backup Configurations" then "Perform Configuration Compliance" jobs run instead,
        without rendering again.
      - Each committed device's result then has C(compliance) (brought up to date or not and why, compliant
        or not, per feature). A device whose compliance could not be brought up to date is a warning,
        not a failure; its commit stands, verified.
      - Needs Golden Config's backup and compliance enabled, a backup repository in the device's Golden Config
        setting and compliance rules for its platform; the token needs permission to run the job.
      - Nothing runs for a dry run, in check mode, or when no device was committed. V(false) leaves Golden
        Config's compliance to its own schedule.
    type: bool
    default: true
"""
