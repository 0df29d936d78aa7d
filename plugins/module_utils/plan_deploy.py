# -*- coding: utf-8 -*-
# Copyright: sotsync team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Deploy an approved Golden Config config plan (``sotsync.nautobot.config_plan_deploy``), in plain Python.

plan -> Approved? (else refused, status unchanged) -> the device's intent rendered now -> the same as the
plan's config set? (else stale: Failed, a note, a fresh plan, ``plan_stale``) -> In Progress -> the
config set deployed by ``provision.provision_one`` (readiness, NAPALM merge, commit-confirm, verify,
note and rollback point on the device) -> Completed, or Failed with a note giving the reason.
A dry run (or check mode) changes no status, files no plan and shows the diff.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.sotsync.nautobot.plugins.module_utils import compliance, drift
from ansible_collections.sotsync.nautobot.plugins.module_utils import config_plan as plans
from ansible_collections.sotsync.nautobot.plugins.module_utils.batch import run_batch
from ansible_collections.sotsync.nautobot.plugins.module_utils.credentials import CredentialResolver, no_login_error
from ansible_collections.sotsync.nautobot.plugins.module_utils.deploy import make_driver
from ansible_collections.sotsync.nautobot.plugins.module_utils.errors import (
    InvalidParameter,
    NautobotAuthenticationFailed,
    NautobotUnreachable,
    PlanNotApproved,
    PlanStale,
    ProvisionError,
)
from ansible_collections.sotsync.nautobot.plugins.module_utils.intent import Intent, fetch_intent
from ansible_collections.sotsync.nautobot.plugins.module_utils.messages import DEFAULT_READY_STATUSES
from ansible_collections.sotsync.nautobot.plugins.module_utils.provision import (
    check_parameters,
    device_platform,
    merged_optional_args,
    note_kind,
    note_text,
    provision_one,
)
from ansible_collections.sotsync.nautobot.plugins.module_utils.readdress import previous_hosts_from
from ansible_collections.sotsync.nautobot.plugins.module_utils.readiness import check_readiness


def device_login(params, resolver, device):
    """``(login, scrubber)`` of a device read from Nautobot: its NAPALM login (inventory, its secrets group, the
    global options; None for an unready device: ``provision_one`` refuses it) and the run's scrubber. Raises
    ``MissingCredentials`` for a ready device without one."""
    verdict = check_readiness(device, params.get("ready_statuses") or DEFAULT_READY_STATUSES)
    login = None
    if verdict.ready:
        resolution = resolver.resolve(
            device, verdict.napalm_driver, merged_optional_args(device, params.get("optional_args"))
        )
        if resolution.login is None:
            raise no_login_error([resolution], resolver)
        login = resolution.login
    return login, resolver.scrubber([params.get("nautobot_token")])


def dry_run_config(params, client, device, intent, driver_factory=make_driver, log=None, login=None, scrubber=None):
    """A dry run of ``intent`` (an ``Intent``) on the device, as ``provision_one`` makes it (no note written):
    its result, or raises."""
    return provision_one(
        device,
        dict(params, dry_run=True, notes=False),
        True,
        lambda _device_id, _name: intent,
        lambda *_args: None,
        driver_factory,
        log,
        previous_hosts=lambda dev, host: previous_hosts_from(client, dev, host),
        login=login,
        scrubber=scrubber,
    )


def fresh_plan(params, client, device_id, driver_factory=make_driver, log=None, trigger=None):
    """Plan the device again, as ``golden_config_deploy`` with ``plan: true`` does; return ``(plan_id, outcome)``.

    ``plan_id`` is ``None`` when the device has no differences from its intent now (nothing to plan).
    """
    batch = run_batch(
        dict(
            params,
            devices=[device_id],
            device=None,
            device_filter=None,
            plan=True,
            dry_run=True,
            trigger=trigger or params.get("trigger"),
        ),
        check_mode=False,
        client=client,
        driver_factory=driver_factory,
        log=log,
    )
    outcome = batch["results"][0]
    if outcome.get("failed"):
        return None, outcome
    return outcome.get("plan_id"), outcome


def _best_effort(warnings, what, call, *args):
    try:
        return call(*args)
    except ProvisionError as exc:
        warnings.append("Could not {0}: {1}".format(what, exc.message))
    return None


def deploy_plan(params, check_mode, client, driver_factory=make_driver, log=None, replan=None):
    """Deploy the config plan ``params["plan"]``; return the result dict or raise a ``ProvisionError``.

    ``replan(device_id)`` files a fresh plan for a device whose plan is stale and returns ``(plan_id,
    outcome)`` (default: ``fresh_plan``, the planning code of ``golden_config_deploy``).
    """
    run = PlanDeployment(params, check_mode, client, driver_factory, log, replan)
    run.read_plan()
    run.read_device()
    run.resolve_login()
    run.check_still_current()
    run.start()
    return run.report(run.deploy())


class PlanDeployment(object):
    """One ``deploy_plan``: its steps as methods, called in order; what a step leaves for the next ones as
    attributes: ``plan``, ``device``, ``label``, ``login``, ``scrubber``, ``base`` (the keys every result and
    error carries: the plan, its status, the device) and ``warnings``."""

    def __init__(self, params, check_mode, client, driver_factory=make_driver, log=None, replan=None):
        self.params = params
        self.check_mode = check_mode
        self.client = client
        self.driver_factory = driver_factory
        self.log = log or (lambda _msg: None)
        self.resolver = CredentialResolver.from_params(params)
        self.replan = replan or self.default_replan
        self.dry_run = bool(params.get("dry_run", True)) or bool(check_mode)
        self.plan = None
        self.plan_id = None
        self.device_id = None
        self.device = None
        self.label = None
        self.base = {}
        self.login = None
        self.scrubber = None
        self.warnings = []

    def default_replan(self, device_id):
        """The default ``replan``: ``fresh_plan``, its trigger saying which plan was stale."""
        trigger = "{0} (config plan {1} was stale)".format(
            self.params.get("trigger") or "manual", self.params.get("plan")
        )
        return fresh_plan(self.params, self.client, device_id, self.driver_factory, self.log, trigger=trigger)

    def read_plan(self):
        """The plan from Golden Config; refused (status unchanged) unless it is Approved."""
        plan_id = str(self.params.get("plan") or "").strip()
        if not plan_id:
            raise InvalidParameter("plan must name a Golden Config config plan by its UUID")
        check_parameters(dict(self.params, device=plan_id))
        plan = self.plan = plans.read_plan(self.client, plan_id)
        self.plan_id = plan["id"]
        self.device_id = plan["device"]["id"]
        self.label = plan["device"]["name"] or self.device_id
        self.base = {
            "plan_id": self.plan_id,
            "plan_status": plan["status"],
            "device": self.label,
            "device_id": self.device_id,
        }
        if plan["status"] != plans.APPROVED:
            raise PlanNotApproved(
                "Config plan {0} for {1} is {2}, not {3}: it is not deployed (only an approved plan is; a rejected "
                "plan never is). Its status is unchanged.".format(
                    self.plan_id, self.label, plan["status"], plans.APPROVED
                ),
                **self.base,
            )

    def read_device(self):
        """The plan's device, as Nautobot has it now."""
        named, _selected, missing = self.client.get_devices([self.device_id], None)
        if missing:
            error = list(missing.values())[0]
            error.details.update(self.base)
            raise error
        self.device = named[0]
        self.label = str(self.device.get("name") or self.device_id)
        self.base["device"] = self.label

    def resolve_login(self):
        """The device's NAPALM login (``device_login``); an unready device has none to look for:
        ``provision_one`` refuses it in ``deploy``, as before."""
        try:
            self.login, self.scrubber = device_login(self.params, self.resolver, self.device)
        except ProvisionError as error:
            error.details.update(self.base)
            raise

    def check_still_current(self):
        """The device's intent rendered now must be the plan's config set; else the plan is stale (live: set
        Failed with a note, and a fresh plan filed) and refused."""
        if self.remediation:
            self.check_remediation_current()
            return
        now = fetch_intent(self.client, self.device_id, self.label, "regenerate")
        if plans.same_config(now.config, self.plan["config_set"]):
            return
        if self.dry_run:
            raise PlanStale(
                "Config plan {0} for {1} is stale: the device's intended configuration changed since this plan was "
                "made. Dry run: its status is unchanged and no fresh plan was made.".format(self.plan_id, self.label),
                **self.base,
            )
        self.set_stale(plans.STALE_NOTE)
        fresh_id, outcome = self.replan(self.device_id)
        if fresh_id:
            then = "a fresh config plan {0} waits for approval".format(fresh_id)
        elif outcome.get("failed"):
            then = "no fresh plan could be made ({0}: {1})".format(outcome.get("error"), outcome.get("msg"))
        else:
            then = "no fresh plan: the device already has its intended configuration"
        raise PlanStale(
            "Config plan {0} for {1} is stale: the device's intended configuration changed since this plan was made. "
            "The plan was set {2}; {3}.".format(self.plan_id, self.label, plans.FAILED, then),
            fresh_plan_id=fresh_id,
            warnings=self.warnings,
            **self.base,
        )

    def set_stale(self, note):
        """Live, a stale plan: set Failed, with ``note`` on it (each best effort, a warning when it fails)."""
        _best_effort(self.warnings, "set the plan Failed", plans.set_status, self.client, self.plan_id, plans.FAILED)
        _best_effort(
            self.warnings, "write the note on the plan", plans.note_on_plan, self.client, self.plan_id, "warning", note
        )
        self.base["plan_status"] = plans.FAILED

    @property
    def remediation(self):
        """Whether the plan is a remediation plan (Golden Config's plan types: intended, missing, remediation,
        manual)."""
        return str(self.plan.get("plan_type")).lower() == plans.REMEDIATION

    def check_remediation_current(self):
        """A remediation plan is current while Golden Config's remediation of its features is still its config set:
        Golden Config's jobs check the device's compliance now (in check mode its stored compliance is read);
        else the plan is stale (live: set Failed with a note) and refused, no fresh plan filed (reconcile files
        one)."""
        features = self.plan.get("features") or []
        if not self.check_mode:
            self.log("config plan {0}: Golden Config checks the compliance of {1} now".format(self.plan_id, self.label))
            report = compliance.refresh(
                self.client, [(self.device_id, self.label)], self.params.get("job_queue") or None, False, what="planned"
            )[self.device_id]
            if not report.get("updated"):
                raise PlanStale(
                    "Config plan {0} for {1} cannot be checked against the device: Golden Config could not bring its "
                    "compliance up to date ({2}); the plan's status is unchanged.".format(
                        self.plan_id, self.label, report.get("error")
                    ),
                    **self.base,
                )
        rows = compliance.read_compliance(self.client, [self.device_id]).get(self.device_id) or {}
        now = "\n".join(
            "\n".join(drift.config_lines((rows.get(feature) or {}).get("remediation"))) for feature in features
        )
        if plans.same_lines(now, self.plan["config_set"]):
            return
        why = (
            "the device no longer has the lines it removes"
            if not plans.normalised_lines(now)
            else "Golden Config's remediation of {0} is other commands now".format(", ".join(features))
        )
        if not self.dry_run:
            self.set_stale("{0} ({1})".format(plans.REMEDIATION_STALE_NOTE, why))
        raise PlanStale(
            "Remediation config plan {0} for {1} is stale: {2}. {3}".format(
                self.plan_id,
                self.label,
                why,
                "The plan was set {0}; file a fresh one (reconcile -e remediation_plans=true).".format(plans.FAILED)
                if not self.dry_run
                else "Dry run: its status is unchanged.",
            ),
            fresh_plan_id=None,
            warnings=self.warnings,
            **self.base,
        )

    def start(self):
        """Live: the plan In Progress."""
        if not self.dry_run:
            plans.set_status(self.client, self.plan_id, plans.IN_PROGRESS)
            self.base["plan_status"] = plans.IN_PROGRESS

    @property
    def source(self):
        """Where the configuration deployed comes from, in results and notes."""
        return "config plan {0}".format(self.plan_id)

    def deploy(self):
        """The plan's config set deployed by ``provision_one``; its result, or raises (``fail``)."""
        try:
            return provision_one(
                self.device,
                dict(self.params, dry_run=self.dry_run),
                self.check_mode,
                lambda _device_id, _name: Intent(self.plan["config_set"], self.source),
                self.client.create_note,
                self.driver_factory,
                self.log,
                previous_hosts=lambda dev, host: previous_hosts_from(self.client, dev, host),
                login=self.login,
                scrubber=self.scrubber,
            )
        except ProvisionError as error:
            self.fail(error)
            raise

    def fail(self, error):
        """A failed deployment: ``error`` with the plan's keys; live, the plan set Failed with a note giving
        the reason (unless Nautobot itself failed)."""
        error.message = self.scrubber.text(error.message)
        error.details.update(self.base)
        if not self.dry_run and not isinstance(error, (NautobotUnreachable, NautobotAuthenticationFailed)):
            _best_effort(
                self.warnings, "set the plan Failed", plans.set_status, self.client, self.plan_id, plans.FAILED
            )
            reason = "FAILED ({0}): {1}".format(error.code, error.message)
            note = note_text(
                self.label,
                "commit",
                reason,
                self.params.get("trigger"),
                self.source,
                error.details.get("config_diff"),
                platform=device_platform(self.device),
            )
            self.note_on_plan(note_kind(error=error), note)
            error.details["plan_status"] = plans.FAILED
        if self.warnings:
            error.details["warnings"] = list(error.details.get("warnings") or []) + self.warnings
        error.details = self.scrubber.result(error.details)

    def note_on_plan(self, kind, text):
        """A note on the plan (login values masked): its id, or ``None`` and a warning."""
        return _best_effort(
            self.warnings,
            "write the note on the plan",
            plans.note_on_plan,
            self.client,
            self.plan_id,
            kind,
            self.scrubber.text(text, usernames=False),
        )

    def report(self, result):
        """Live: the plan Completed, with a note. The result with the plan's keys; compliance brought up to
        date after a commit."""
        if not self.dry_run:
            plans.set_status(self.client, self.plan_id, plans.COMPLETED)
            self.base["plan_status"] = plans.COMPLETED
            note = note_text(
                self.label,
                "commit",
                result["msg"],
                self.params.get("trigger"),
                self.source,
                result.get("config_diff"),
                platform=result.get("napalm_driver"),
            )
            result["plan_note_id"] = self.note_on_plan("success", note)
        result.update(self.base)
        result["warnings"] = list(result.get("warnings") or []) + self.warnings
        compliance.after_commit(self.client, self.params, self.check_mode, [result], self.log)
        msg = result["msg"] if not self.dry_run else "DRY RUN (approved; nothing deployed): " + result["msg"]
        if self.remediation:
            msg += self.remediated(result)
        result["msg"] = "Config plan {0} for {1}: {2}".format(self.plan_id, self.label, msg)
        return self.scrubber.result(result)

    def remediated(self, result):
        """A remediation plan's features as Golden Config's compliance shows them after the commit, in
        ``remediated_features`` (``{feature: compliant}``, when it was brought up to date); what to add to the
        result's message."""
        features = self.plan.get("features") or []
        shown = ((result.get("compliance") or {}).get("features")) or {}
        if not result.get("committed") or not shown:
            return ""
        result["remediated_features"] = dict((f, bool(shown.get(f))) for f in features)
        still = [f for f in features if not shown.get(f)]
        if still:
            return "; Golden Config compliance still NOT compliant in {0}".format(", ".join(still))
        return "; Golden Config compliance now compliant in {0}".format(", ".join(features))
