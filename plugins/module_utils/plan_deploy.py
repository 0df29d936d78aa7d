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

from ansible_collections.sotsync.nautobot.plugins.module_utils import compliance
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
    log = log or (lambda _msg: None)
    resolver = CredentialResolver.from_params(params)
    replan = replan or (
        lambda device_id: fresh_plan(
            params,
            client,
            device_id,
            driver_factory,
            log,
            trigger="{0} (config plan {1} was stale)".format(params.get("trigger") or "manual", params.get("plan")),
        )
    )
    plan_id = str(params.get("plan") or "").strip()
    if not plan_id:
        raise InvalidParameter("plan must name a Golden Config config plan by its UUID")
    check_parameters(dict(params, device=plan_id))
    plan = plans.read_plan(client, plan_id)
    plan_id = plan["id"]
    device_id = plan["device"]["id"]
    label = plan["device"]["name"] or device_id
    base = {"plan_id": plan_id, "plan_status": plan["status"], "device": label, "device_id": device_id}
    if plan["status"] != plans.APPROVED:
        raise PlanNotApproved(
            "Config plan {0} for {1} is {2}, not {3}: it is not deployed (only an approved plan is; a rejected plan "
            "never is). Its status is unchanged.".format(plan_id, label, plan["status"], plans.APPROVED),
            **base,
        )
    named, _selected, missing = client.get_devices([device_id], None)
    if missing:
        error = list(missing.values())[0]
        error.details.update(base)
        raise error
    device = named[0]
    label = str(device.get("name") or device_id)
    base["device"] = label
    dry_run = bool(params.get("dry_run", True)) or bool(check_mode)
    warnings = []
    # The device's NAPALM login (inventory, its secrets group, the global options); an unready device has
    # none to look for: provision_one refuses it below, as before.
    login = None
    verdict = check_readiness(device, params.get("ready_statuses") or DEFAULT_READY_STATUSES)
    if verdict.ready:
        resolution = resolver.resolve(
            device, verdict.napalm_driver, merged_optional_args(device, params.get("optional_args"))
        )
        if resolution.login is None:
            error = no_login_error([resolution], resolver)
            error.details.update(base)
            raise error
        login = resolution.login
    scrubber = resolver.scrubber([params.get("nautobot_token")])

    now = fetch_intent(client, device_id, label, "regenerate")
    if not plans.same_config(now.config, plan["config_set"]):
        if dry_run:
            raise PlanStale(
                "Config plan {0} for {1} is stale: the device's intended configuration changed since this plan was "
                "made. Dry run: its status is unchanged and no fresh plan was made.".format(plan_id, label),
                **base,
            )
        _best_effort(warnings, "set the plan Failed", plans.set_status, client, plan_id, plans.FAILED)
        _best_effort(
            warnings, "write the note on the plan", plans.note_on_plan, client, plan_id, "warning", plans.STALE_NOTE
        )
        fresh_id, outcome = replan(device_id)
        if fresh_id:
            then = "a fresh config plan {0} waits for approval".format(fresh_id)
        elif outcome.get("failed"):
            then = "no fresh plan could be made ({0}: {1})".format(outcome.get("error"), outcome.get("msg"))
        else:
            then = "no fresh plan: the device already has its intended configuration"
        base["plan_status"] = plans.FAILED
        raise PlanStale(
            "Config plan {0} for {1} is stale: the device's intended configuration changed since this plan was made. "
            "The plan was set {2}; {3}.".format(plan_id, label, plans.FAILED, then),
            fresh_plan_id=fresh_id,
            warnings=warnings,
            **base,
        )

    if not dry_run:
        plans.set_status(client, plan_id, plans.IN_PROGRESS)
        base["plan_status"] = plans.IN_PROGRESS
    source = "config plan {0}".format(plan_id)
    try:
        result = provision_one(
            device,
            dict(params, dry_run=dry_run),
            check_mode,
            lambda _device_id, _name: Intent(plan["config_set"], source),
            client.create_note,
            driver_factory,
            log,
            previous_hosts=lambda dev, host: previous_hosts_from(client, dev, host),
            login=login,
            scrubber=scrubber,
        )
    except ProvisionError as error:
        error.message = scrubber.text(error.message)
        error.details.update(base)
        if not dry_run and not isinstance(error, (NautobotUnreachable, NautobotAuthenticationFailed)):
            _best_effort(warnings, "set the plan Failed", plans.set_status, client, plan_id, plans.FAILED)
            reason = "FAILED ({0}): {1}".format(error.code, error.message)
            _best_effort(
                warnings,
                "write the note on the plan",
                plans.note_on_plan,
                client,
                plan_id,
                note_kind(error=error),
                scrubber.text(
                    note_text(
                        label,
                        "commit",
                        reason,
                        params.get("trigger"),
                        source,
                        error.details.get("config_diff"),
                        platform=device_platform(device),
                    ),
                    usernames=False,
                ),
            )
            error.details["plan_status"] = plans.FAILED
        if warnings:
            error.details["warnings"] = list(error.details.get("warnings") or []) + warnings
        error.details = scrubber.result(error.details)
        raise
    if not dry_run:
        plans.set_status(client, plan_id, plans.COMPLETED)
        base["plan_status"] = plans.COMPLETED
        result["plan_note_id"] = _best_effort(
            warnings,
            "write the note on the plan",
            plans.note_on_plan,
            client,
            plan_id,
            "success",
            scrubber.text(
                note_text(
                    label,
                    "commit",
                    result["msg"],
                    params.get("trigger"),
                    source,
                    result.get("config_diff"),
                    platform=result.get("napalm_driver"),
                ),
                usernames=False,
            ),
        )
    result.update(base)
    result["warnings"] = list(result.get("warnings") or []) + warnings
    compliance.after_commit(client, params, check_mode, [result], log)
    result["msg"] = "Config plan {0} for {1}: {2}".format(
        plan_id, label, result["msg"] if not dry_run else "DRY RUN (approved; nothing deployed): " + result["msg"]
    )
    return scrubber.result(result)
