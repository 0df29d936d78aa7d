# -*- coding: utf-8 -*-
# Copyright: sotsync team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Remediation config plans: removing the lines a device has that its intent does not, through the approval gate.

A merge only adds lines, so provisioning never removes one. Golden Config's compliance names, per feature,
the lines a device has that its intent does not (``extra``) and, for a platform with remediation settings
(hier_config) and a compliance rule with config remediation on, the commands that would bring the feature to
its intent (``remediation``: the ``no ...`` of each extra line, and the missing lines). ``file_plans`` files
Golden Config's own remediation config plan for a device's features with extra lines (status Not
Approved), after a dry run of those commands on the device whose diff goes in the plan's note. Nothing is
deployed: an engineer approves the plan, and ``config_plan_deploy`` deploys it (checked still current,
under commit-confirm, verified: the removed lines gone).

A device is not filed for, with the reason, when: Golden Config has no compliance of it, it has no extra
lines, its platform has no remediation settings, its features' rules have config remediation off (or
Golden Config made no remediation), or the dry run failed.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.sotsync.nautobot.plugins.module_utils import compliance, drift
from ansible_collections.sotsync.nautobot.plugins.module_utils import config_plan as plans
from ansible_collections.sotsync.nautobot.plugins.module_utils.credentials import CredentialResolver
from ansible_collections.sotsync.nautobot.plugins.module_utils.deploy import make_driver
from ansible_collections.sotsync.nautobot.plugins.module_utils.errors import (
    InvalidParameter,
    NautobotError,
    ProvisionError,
)
from ansible_collections.sotsync.nautobot.plugins.module_utils.intent import Intent
from ansible_collections.sotsync.nautobot.plugins.module_utils.plan_deploy import device_login, dry_run_config
from ansible_collections.sotsync.nautobot.plugins.module_utils.provision import device_platform, note_text

SETTINGS_PATH = "plugins/golden-config/remediation-setting/"
SOURCE = "Golden Config remediation of {0}"
NO_SETTINGS = (
    "Golden Config has no remediation settings for its platform {0} (Golden Config > Remediation Settings): it "
    "cannot make the commands that remove the extra lines"
)
RULE_OFF = "its compliance rule has config remediation off"
NONE_MADE = "Golden Config made no remediation for it"


def remediation_platforms(client, limit=1000):
    """``{platform name: remediation type}`` of Golden Config's remediation settings (a device read from Nautobot
    names its platform; platform names are unique)."""
    status, body = client.get_json(SETTINGS_PATH, {"limit": limit, "depth": 1})
    if status != 200 or not isinstance(body, dict):
        raise NautobotError(
            "Nautobot answered {0} reading Golden Config's remediation settings: {1}".format(status, str(body)[:200]),
            status_code=status,
        )
    found = {}
    for setting in body.get("results") or []:
        platform = setting.get("platform")
        name = platform.get("name") if isinstance(platform, dict) else platform
        found[str(name)] = setting.get("remediation_type") or "hierconfig"
    return found


def rules_remediating(rules):
    """``{(platform name, feature name): config_remediation}`` of Golden Config's compliance rules (depth 1)."""
    found = {}
    for rule in rules or []:
        platform = rule.get("platform") or {}
        feature = rule.get("feature") or {}
        key = (str(platform.get("name") if isinstance(platform, dict) else platform), str(feature.get("name")))
        found[key] = bool(rule.get("config_remediation"))
    return found


def plannable(rows, platform, settings, remediating):
    """What of one device's compliance a remediation plan can remove: ``(features, skipped)``.

    ``features``: ``[(name, feature id, remediation text)]`` of the features with extra lines that Golden
    Config made a remediation for; ``skipped``: ``{feature: why}`` of those with extra lines it did not.
    ``rows``: the device's compliance records ``{feature: record}`` (``compliance.read_compliance``);
    ``platform``: the device's platform (its ``name``).
    """
    platform_name = str((platform or {}).get("name"))
    features, skipped = [], {}
    for name in sorted(rows or {}):
        row = rows[name] or {}
        if row.get("compliance") or not drift.config_lines(row.get("extra")):
            continue
        if platform_name not in settings:
            skipped[name] = NO_SETTINGS.format(platform_name)
            continue
        if not remediating.get((platform_name, name), False):
            skipped[name] = RULE_OFF
            continue
        text = "\n".join(drift.config_lines(row.get("remediation")))
        if not text:
            skipped[name] = NONE_MADE
            continue
        feature_id = (((row.get("rule") or {}).get("feature")) or {}).get("id")
        features.append((name, str(feature_id), text))
    return features, skipped


def plan_note(name, features, rows, diff, trigger, platform=None):
    """The remediation plan's note (markdown, every line masked): what it removes, by feature, its commands and
    the dry run's diff on the device."""
    extra = dict(
        (feature, drift.masked_lines((rows.get(feature) or {}).get("extra"), platform)) for feature, _i, _t in features
    )
    lines = ["Lines the device has that its intent does not (Golden Config compliance, by feature):", ""]
    for feature in sorted(extra):
        lines += ["- {0} ({1} line(s)):".format(feature, len(extra[feature])), "", "```text"]
        lines += drift.capped(extra[feature])
        lines.append("```")
    commands = drift.masked_lines("\n".join(text for _n, _i, text in features), platform)
    lines += ["", "Commands of this plan (Golden Config's remediation):", "", "```text"] + commands + ["```"]
    lines += [
        "",
        "Nothing was changed on the device. Approve this plan (set its status to Approved) to deploy it with "
        "sotsync.nautobot.config_plan_deploy (merge of these commands under commit-confirm, verified: the lines "
        "gone).",
    ]
    return note_text(
        name,
        "remediation plan (Not Approved)",
        "Remediation: the device has lines its intent does not. The dry run below shows what this plan would change.",
        trigger,
        SOURCE.format(", ".join(sorted(extra))),
        diff,
        appendix="\n".join(lines),
        platform=platform,
    )


def file_plans(params, check_mode, client, driver_factory=make_driver, log=None, progress=None):
    """File a remediation config plan for each device ``params["devices"]`` names that has extra lines Golden
    Config can remediate; return ``{"results": [...], "filed": n, "msg"}``.

    Each result: ``device``, ``device_id``, ``filed`` (bool), ``plan_id``, ``features`` (the plan's),
    ``skipped_features`` (``{feature: why}``), ``config_set``, ``config_diff`` (the dry run's), ``why`` (when
    not filed) and ``msg``. In check mode nothing is filed (``would_file``).
    """
    progress = progress or (lambda _line: None)
    targets = [str(t).strip() for t in params.get("devices") or [] if str(t).strip()]
    if not targets:
        raise InvalidParameter("devices must name at least one device (its name or UUID)")
    named, _selected, missing = client.get_devices(targets, None)
    settings = remediation_platforms(client)
    remediating = rules_remediating(compliance.read_rules(client))
    rows = compliance.read_compliance(client, [str(d["id"]) for d in named]) if named else {}
    resolver = CredentialResolver.from_params(params)
    results = []
    for target, error in sorted(missing.items()):
        results.append({"device": target, "filed": False, "failed": True, "error": error.code, "msg": error.message})
    for device in named:
        device_id, name = str(device["id"]), str(device.get("name") or device["id"])
        platform = device.get("platform") or {}
        result = {"device": name, "device_id": device_id, "filed": False, "skipped_features": {}}
        results.append(result)
        device_rows = rows.get(device_id)
        if not device_rows:
            result["why"] = "Golden Config has no compliance of it: run its compliance first (reconcile does)"
        else:
            features, skipped = plannable(device_rows, platform, settings, remediating)
            result["skipped_features"] = skipped
            if not features:
                result["why"] = (
                    "; ".join("{0}: {1}".format(f, w) for f, w in sorted(skipped.items()))
                    if skipped
                    else "no extra lines in its compliance features"
                )
            else:
                _file_one(
                    params, check_mode, client, driver_factory, log, resolver, device, features, device_rows, result
                )
        result["msg"] = _line(result)
        progress("{0}: {1}".format(name, result["msg"]))
    filed = [r for r in results if r.get("filed")]
    return {
        "results": results,
        "filed": len(filed),
        "msg": "Remediation config plans: {0} filed (waiting for approval), {1} device(s) without one".format(
            len(filed), len(results) - len(filed)
        ),
    }


def _file_one(params, check_mode, client, driver_factory, log, resolver, device, features, rows, result):
    name, masked_as = result["device"], device_platform(device)
    config_set = "\n".join(text for _n, _i, text in features)
    result["features"] = [n for n, _i, _t in features]
    result["config_set"] = drift.masked_lines(config_set, masked_as)
    try:
        login, scrubber = device_login(params, resolver, device)
        dry = dry_run_config(
            params,
            client,
            device,
            Intent(config_set, SOURCE.format(", ".join(result["features"]))),
            driver_factory,
            log,
            login,
            scrubber,
        )
    except ProvisionError as error:
        result.update(failed=True, error=error.code, why="the dry run of its remediation failed: " + error.message)
        return
    result["config_diff"] = dry.get("config_diff") or ""
    if not dry.get("changed"):
        result["why"] = "the dry run of its remediation changes nothing on the device (its compliance is older than it)"
        return
    if check_mode:
        result["would_file"] = True
        result["why"] = "check mode files no plan"
        return
    try:
        plan = plans.create_remediation_plan(
            client, result["device_id"], name, [i for _n, i, _t in features], config_set
        )
    except ProvisionError as error:
        result.update(failed=True, error=error.code, why=error.message)
        return
    result.update(filed=True, plan_id=plan["id"], plan_status=plan["status"])
    note = plan_note(name, features, rows, result["config_diff"], params.get("trigger"), masked_as)
    try:
        plans.note_on_plan(client, plan["id"], "info", scrubber.text(note, usernames=False))
    except ProvisionError as error:
        result["warnings"] = ["Could not write the note on config plan {0}: {1}".format(plan["id"], error.message)]


def _line(result):
    if result.get("filed"):
        return "remediation config plan {0} filed for {1} ({2}, waiting for approval): {3} command(s)".format(
            result["plan_id"],
            ", ".join(result["features"]),
            result.get("plan_status") or plans.NOT_APPROVED,
            len(result.get("config_set") or []),
        )
    if result.get("would_file"):
        return "a remediation config plan would be filed for {0} (check mode: none filed)".format(
            ", ".join(result["features"])
        )
    return "no remediation config plan filed: {0}".format(result.get("why"))
