# -*- coding: utf-8 -*-
# Copyright: sotsync team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller side of sotsync.nautobot.golden_config_deploy: the whole batch in this one process.

The work is ``module_utils.batch.run_batch`` (plain Python). Running it here, not as a module, means one
Python process and one napalm import for the whole batch, and a line per device as it finishes.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import threading

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.sotsync.nautobot.plugins.module_utils.arguments import (
    GOLDEN_CONFIG_DEPLOY_ARGUMENT_SPEC,
    GOLDEN_CONFIG_DEPLOY_REQUIRED_ONE_OF,
)
from ansible_collections.sotsync.nautobot.plugins.module_utils.batch import format_outcome, module_result, run_batch
from ansible_collections.sotsync.nautobot.plugins.module_utils.deploy import libraries
from ansible_collections.sotsync.nautobot.plugins.module_utils.errors import ProvisionError
from ansible_collections.sotsync.nautobot.plugins.module_utils import ledger
from ansible_collections.sotsync.nautobot.plugins.module_utils.lifeline import Lifeline, daemon_token

display = Display()


def targets(params):
    """The devices a run was given by name or UUID (the daemon's runs name them by UUID)."""
    named = list(params.get("devices") or []) + ([params["device"]] if params.get("device") else [])
    return [str(t).strip() for t in named if str(t).strip()]


class Settlement(object):
    """A daemon's run in its ledger: each device's outcome written as it ends (``device``, in the device's thread,
    before the lifeline counts it done), then, at the run's end (``rest``), the outcome of each claimed device not
    written yet: a device not found, or every device when the whole run failed. A device the run gave no outcome
    (it ended unexpectedly) is left without one: the daemon hands it over again."""

    def __init__(self, owed_to, run, claimed):
        self.owed_to, self.run, self.claimed = owed_to, run, claimed
        self.written = set()
        self.lock = threading.Lock()

    def _write(self, entries):
        if not entries:
            return
        try:
            self.owed_to.append(entries)
        except (IOError, OSError) as error:
            display.warning("Could not write outcomes in the daemon's ledger {0}: {1}".format(self.owed_to.path, error))
            return
        with self.lock:
            self.written.update(e["device"] for e in entries)

    def device(self, outcome):
        if outcome.get("device_id"):
            self._write(ledger.done_entries(self.run, [outcome]))

    def rest(self, batch, run_error):
        left = [t for t in self.claimed if t not in self.written]
        if not left:
            return
        if run_error is not None:
            self._write(ledger.done_entries(self.run, [], run_error=run_error, device_ids=left))
            return
        outcomes = (batch or {}).get("results") or []
        by_target = dict((str(o.get("device")), o) for o in outcomes if o.get("device"))
        by_target.update((str(o.get("device_id")), o) for o in outcomes if o.get("device_id"))
        self._write(ledger.done_entries(self.run, [dict(by_target[t], device_id=t) for t in left if t in by_target]))


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        # napalm takes about a second to import (it loads every driver): import it while Nautobot answers.
        threading.Thread(target=libraries, name="sotsync-import-napalm", daemon=True).start()
        validation, params = self.validate_argument_spec(
            argument_spec=GOLDEN_CONFIG_DEPLOY_ARGUMENT_SPEC,
            required_one_of=GOLDEN_CONFIG_DEPLOY_REQUIRED_ONE_OF,
        )
        for deprecation in validation._deprecations:  # a deprecated alias (journal): say so, as a module would
            display.deprecated(
                deprecation["msg"],
                version=deprecation.get("version"),
                collection_name=deprecation.get("collection_name"),
            )
        check_mode = bool(self._task.check_mode)
        single = bool(params.get("device")) and not params.get("devices") and not params.get("device_filter")

        def show(outcome):
            display.display("\n".join(format_outcome(outcome)), color="red" if outcome.get("failed") else None)

        # A signal, or the daemon that started this run gone: no further device begins (module_utils/lifeline.py).
        lifeline = Lifeline.from_environment()
        previous = lifeline.handle_signals()
        lifeline.watch()
        # a run of the daemon: its devices claimed in its ledger now, their outcomes written when it ends
        owed_to, claimed = ledger.from_environment(), targets(params)
        settlement = Settlement(owed_to, daemon_token(), claimed) if owed_to is not None and claimed else None
        if settlement is not None:
            try:
                owed_to.append([ledger.claim_entry(settlement.run, claimed)])
            except (IOError, OSError) as error:
                display.warning(
                    "Could not claim the devices in the daemon's ledger {0}: {1}".format(owed_to.path, error)
                )
        batch, run_error = None, None
        try:
            batch = run_batch(
                params,
                check_mode=check_mode,
                on_result=show,
                log=display.vvv,
                progress=display.display,
                lifeline=lifeline,
                settled=settlement.device if settlement is not None else None,
            )
        except ProvisionError as error:
            run_error = error
            failure = error.to_result()
            failure["failed"] = True
            result.update(failure)
            return result
        except Exception as error:  # noqa: BLE001 - the last resort keeps the error shape
            raise AnsibleActionFail(
                "golden_config_deploy failed unexpectedly: {0}: {1}".format(type(error).__name__, error)
            ) from error
        finally:
            if settlement is not None:
                settlement.rest(batch, run_error)
            lifeline.close()
            Lifeline.restore(previous)
            # its daemon gone, nobody reads this run: end its ansible-playbook (this worker included)
            lifeline.end_orphaned_session()
        task_result, failed = module_result(batch, single=single)
        for warning in task_result.pop("warnings", []):
            display.warning(warning)
        summary = task_result["summary"]
        checked = summary.get("compliance")
        display.display(
            "{0} (devices read in {1} s, intents from {2}, {3} s in all){4}".format(
                summary["msg"],
                summary.get("lookup_seconds"),
                summary.get("intent_source"),
                summary.get("total_seconds"),
                "; Golden Config compliance after the commits: {0} brought up to date ({1} not compliant), {2} not "
                "brought up to date".format(
                    checked["updated"], len(checked["noncompliant"]), len(checked["not_updated"])
                )
                if checked and "msg" not in checked
                else "",
            )
        )
        if checked and "msg" in checked:  # a drift check (compliance_drift): its own line
            display.display(checked["msg"])
        if self._task.diff and single and task_result.get("config_diff"):
            task_result["diff"] = {"prepared": task_result["config_diff"]}
        task_result["check_mode"] = check_mode
        task_result["failed"] = failed
        result.update(task_result)
        return result
