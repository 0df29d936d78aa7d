# -*- coding: utf-8 -*-
# Copyright: sotsync team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""After a live commit: Golden Config's compliance of the committed devices brought up to date.

Golden Config's own jobs run, once for all the devices a run committed (up to ``JOB_CHUNK`` a run): its
"Execute All Golden Configuration Jobs - Multiple Device" job renders their intended configuration, backs
up their running configuration (Golden Config connects to each device itself, with its own credentials)
and checks compliance, feature by feature, with the compliance rules its users already keep. When its
intended repository already holds what was deployed (intents from its intended job), its "Backup
Configurations" then "Perform Configuration Compliance" jobs do the same without the render. What Golden
Config shows for a device after a commit is then the device as it is now, not as it was at its last
scheduled backup.

Each device is judged by its own Golden Config record (the job marks each device it tries, and the
date of its last success only when it succeeds), then its features' compliance is read. A device whose
compliance could not be brought up to date is reported with why; its commit stands (it was verified).
The report functions take decoded bodies so they are tested without HTTP.

A drift check (``compliance_drift``, the reconcile playbook) asks the same of every device it compared,
committed or not: ``for_drift`` reuses Golden Config's stored compliance of a device when it is fresh
enough (``compliance_max_age``), runs its jobs for the others, then reads each feature's ``missing``,
``extra`` and ``remediation`` (``read_compliance``); the compliance rules (``read_rules``) say which lines
no feature covers; ``drift`` makes the report.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import time

from ansible_collections.sotsync.nautobot.plugins.module_utils.errors import NautobotError, ProvisionError
from ansible_collections.sotsync.nautobot.plugins.module_utils.intent import parse_timestamp, read_stored_records

ALL_JOBS = "Execute All Golden Configuration Jobs - Multiple Device"
BACKUP_JOB = "Backup Configurations"
COMPLIANCE_JOB = "Perform Configuration Compliance"
JOB_CHUNK = 500  # measured: 500 devices in one run 67 s, in runs of 100 83 s
COMMIT_MESSAGE = "sotsync.nautobot: after a live commit"


def committed(results):
    """The ``(device_id, name)`` of the outcomes whose device took a live commit."""
    return [
        (str(r["device_id"]), str(r.get("device") or r["device_id"]))
        for r in results
        if r.get("committed") and not r.get("failed") and r.get("device_id")
    ]


def _stage(record, stage, job_started):
    """``(attempted, succeeded)`` of one stage (``backup``, ``compliance``) of the job that started then."""
    attempt = parse_timestamp((record or {}).get("{0}_last_attempt_date".format(stage)))
    success = parse_timestamp((record or {}).get("{0}_last_success_date".format(stage)))
    attempted = attempt is not None and (job_started is None or attempt >= job_started)
    return attempted, attempted and success is not None and success >= attempt


def _state(result):
    return ((result or {}).get("status") or {}).get("value") or "no status"


def device_report(record, features, runs, name):
    """What one device's compliance is after Golden Config's job runs: a dict for the device's result.

    ``record``: the device's Golden Config record; ``features``: ``{feature: compliant}`` read after the
    jobs; ``runs``: ``[(job name, job result)]`` in the order they ran. ``updated`` is true only when
    these jobs backed the device up and checked its compliance.
    """
    job_started = parse_timestamp((runs[0][1] if runs else {}).get("date_created"))
    report = {"updated": False, "job_results": [result.get("id") for _name, result in runs]}
    where = "Golden Config's " + " then ".join(
        "'{0}' job (result {1}, {2})".format(job, result.get("id"), _state(result)) for job, result in runs
    )
    backed_up = _stage(record, "backup", job_started)
    checked = _stage(record, "compliance", job_started)
    if not backed_up[0]:
        report["error"] = (
            "{0} did not back up {1}: is the device in the scope of a Golden Config setting with a "
            "backup repository?".format(where, name)
        )
    elif not backed_up[1]:
        report["error"] = (
            "{0} could not back up {1}'s running configuration (its log says why): Golden Config "
            "still shows the device as it was at its last backup".format(where, name)
        )
    elif not checked[0]:
        report["error"] = "{0} backed up {1} but did not check its compliance".format(where, name)
    elif not checked[1]:
        report["error"] = (
            "{0} backed up {1} but its compliance check failed (its log says why; e.g. no compliance "
            "rule for the device's platform)".format(where, name)
        )
    else:
        report["updated"] = True
        report["checked_at"] = (record or {}).get("compliance_last_success_date")
    if features:
        report["features"] = dict(sorted(features.items()))
        report["compliant"] = all(features.values())
        report["noncompliant_features"] = sorted(k for k, v in features.items() if not v)
    return report


def summary_line(report):
    """One line on a device's compliance after its commit, for the run's output."""
    if not report.get("updated"):
        return "Golden Config compliance NOT brought up to date: {0}".format(report.get("error"))
    features = report.get("features") or {}
    if not features:
        return "Golden Config compliance brought up to date (no compliance feature covers this device)"
    if report.get("compliant"):
        return "Golden Config compliance brought up to date: compliant ({0} feature(s))".format(len(features))
    return (
        "Golden Config compliance brought up to date: NOT compliant in {0} (Golden Config's compliance of the "
        "device shows the missing and extra lines)".format(", ".join(report["noncompliant_features"]))
    )


FEATURES_QUERY = """
query ($devices: [String]) {
  config_compliances(device: $devices) { compliance device { id } rule { feature { id name } } }
}
"""


def read_features(client, device_ids, chunk=100):
    """``{device_id: {feature name: compliant}}`` from Golden Config's compliance records (by GraphQL: a
    quarter of the REST serializer's time for the same rows)."""
    features = {}
    device_ids = [str(d) for d in device_ids]
    for start in range(0, len(device_ids), chunk):
        data = client.graphql(
            FEATURES_QUERY, {"devices": device_ids[start : start + chunk]}, what="reading Golden Config's compliance"
        )
        for row in (data or {}).get("config_compliances") or []:
            device_id = str((row.get("device") or {}).get("id"))
            feature = ((row.get("rule") or {}).get("feature") or {}).get("name")
            features.setdefault(device_id, {})[str(feature)] = bool(row.get("compliance"))
    return features


def refresh(
    client, devices, job_queue=None, intended_fresh=False, clock=time.monotonic, progress=None, what="committed"
):
    """Bring Golden Config's compliance of ``devices`` (``(device_id, name)``) up to date; ``{device_id: report}``.

    ``intended_fresh``: Golden Config's intended repository already holds what was deployed (the run's
    intents came from its intended job, or are those it stored): its backup job then its compliance job
    run, without rendering the devices again (a third less time). Otherwise its all-jobs job renders
    them too, so that compliance compares the device with its intent now.

    Never raises for what Nautobot answers: a job that cannot run, fails or cannot be read makes the
    report of each of its devices say why (the commits stand). ``what`` says which devices in the progress
    line (``committed``, ``compared``).
    """
    progress = progress or (lambda _line: None)
    jobs = (BACKUP_JOB, COMPLIANCE_JOB) if intended_fresh else (ALL_JOBS,)
    reports = {}
    for start in range(0, len(devices), JOB_CHUNK):
        part = devices[start : start + JOB_CHUNK]
        ids = [device_id for device_id, _name in part]
        began = clock()
        runs = []
        try:
            for job in jobs:
                result = client.run_job(
                    job,
                    {"device": ids, "commit_message": COMMIT_MESSAGE},
                    timeout=120 + 2 * len(ids),
                    job_queue=job_queue or None,
                )
                runs.append((job, result or {}))
            records = read_stored_records(client, ids)
            features = read_features(client, ids)
        except ProvisionError as error:
            for device_id, name in part:
                reports[device_id] = {
                    "updated": False,
                    "error": "Golden Config's compliance of {0} was not brought up to date: {1}".format(name, error),
                }
            continue
        for device_id, name in part:
            reports[device_id] = device_report(records.get(device_id), features.get(device_id), runs, name)
        progress(
            "Golden Config compliance of {0} {4} device(s) brought up to date in {1:.1f} s ({2} updated; {3})".format(
                len(part),
                clock() - began,
                sum(1 for d, _n in part if reports[d].get("updated")),
                ", ".join("'{0}' {1}".format(job, _state(result)) for job, result in runs),
                what,
            )
        )
    return reports


def attach(results, reports):
    """Put each committed device's compliance report on its result, with a warning when not up to date."""
    for result in results:
        report = reports.get(str(result.get("device_id")))
        if report is None:
            continue
        report["msg"] = summary_line(report)
        result["compliance"] = report
        if not report.get("updated"):
            result["warnings"] = list(result.get("warnings") or []) + [summary_line(report)]


def summary(results):
    """The run's compliance figures: devices brought up to date, not brought up to date, not compliant."""
    reports = [(r.get("device") or r.get("device_id"), r["compliance"]) for r in results if r.get("compliance")]
    return {
        "updated": sum(1 for _name, report in reports if report.get("updated")),
        "not_updated": [name for name, report in reports if not report.get("updated")],
        "noncompliant": [name for name, report in reports if report.get("compliant") is False],
    }


SETTINGS_PATH = "plugins/golden-config/golden-config-settings/"
RULES_PATH = "plugins/golden-config/compliance-rule/"
NOT_SET_UP = (
    "Golden Config compliance after the commits skipped: Golden Config is not set up for it ({0}). Set a backup "
    "repository and its path template in Golden Config's settings and at least one compliance rule, or set "
    "update_compliance (the rulebook's golden_config_compliance) to false; the commits stand"
)


def setup_problem(settings_body, rules_body):
    """Why Golden Config cannot back the devices up and check their compliance, from its settings and its
    compliance rules (decoded list bodies); None when it can."""
    settings = (settings_body or {}).get("results") or []
    if not settings:
        return "no Golden Config settings"
    if not any(s.get("backup_repository") and s.get("backup_path_template") for s in settings):
        return "no backup repository in its settings"
    if not (rules_body or {}).get("count"):
        return "no compliance rule"
    return None


def _list_body(client, path, limit):
    status, body = client.get_json(path, {"limit": limit})
    return body if status == 200 and isinstance(body, dict) else None


def after_commit(client, params, check_mode, results, progress=None, intended_fresh=False):
    """Bring the compliance of the devices ``results`` committed up to date, as ``params`` say; attach it.

    Golden Config's settings are read first: when it has no backup repository or no compliance rule, its
    jobs could only fail for every device, so they are not run; the run says so once (a warning on the
    first committed device's result and a progress line), not once per commit.

    Returns the ``(device_id, name)`` it ran for (none for a dry run, in check mode, with
    ``update_compliance`` false, when nothing was committed or when Golden Config is not set up for it).
    """
    if check_mode or not params.get("update_compliance", True):
        return []
    done = committed(results)
    if done:
        progress = progress or (lambda _line: None)
        problem = setup_problem(_list_body(client, SETTINGS_PATH, 100), _list_body(client, RULES_PATH, 1))
        if problem:
            line = NOT_SET_UP.format(problem)
            progress(line)
            first = next(r for r in results if str(r.get("device_id")) == done[0][0])
            first["warnings"] = list(first.get("warnings") or []) + [line]
            return []
        progress(
            "{0} device(s) committed: bringing their Golden Config compliance up to date (Golden Config's {1})".format(
                len(done), "backup and compliance jobs" if intended_fresh else "intended, backup and compliance job"
            )
        )
        reports = refresh(client, done, params.get("job_queue") or None, intended_fresh, progress=progress)
        attach(results, reports)
        for device_id, name in done:
            progress("{0}: {1}".format(name, summary_line(reports[device_id])))
    return done


# --- a drift check: every compared device's compliance, fresh enough, feature by feature -------------
# Golden Config's ConfigCompliance (nautobot_golden_config/models.py): ``missing``, ``extra`` and
# ``remediation`` are JSON fields, text for a CLI rule, a list of paths for a JSON or XML one; Nautobot's
# GraphQL gives JSON fields as they are (a generic scalar).
COMPLIANCE_QUERY = """
query ($devices: [String]) {
  config_compliances(device: $devices) {
    compliance ordered missing extra remediation device { id } rule { feature { id name } }
  }
}
"""
CHECK_MODE_STORED = "check mode runs no Golden Config job"


def read_compliance(client, device_ids, chunk=50):
    """``{device_id: {feature name: record}}``: each feature's ``compliance``, ``ordered``, ``missing``,
    ``extra`` and ``remediation`` as Golden Config stored them (by GraphQL, ``chunk`` devices a query)."""
    rows = {}
    device_ids = [str(d) for d in device_ids]
    for start in range(0, len(device_ids), chunk):
        data = client.graphql(
            COMPLIANCE_QUERY,
            {"devices": device_ids[start : start + chunk]},
            what="reading Golden Config's compliance details",
        )
        for row in (data or {}).get("config_compliances") or []:
            device_id = str((row.get("device") or {}).get("id"))
            feature = ((row.get("rule") or {}).get("feature") or {}).get("name")
            rows.setdefault(device_id, {})[str(feature)] = row
    return rows


def read_rules(client, limit=1000):
    """Golden Config's compliance rules, every page: dicts with ``feature`` (its ``name``) and ``platform`` (its
    ``network_driver``) at depth 1, ``match_config``, ``config_type``, ``config_ordered``. Raises
    ``NautobotError`` when Nautobot does not answer with the list."""
    rules = []
    while True:
        status, body = client.get_json(RULES_PATH, {"limit": limit, "offset": len(rules), "depth": 1})
        if status != 200 or not isinstance(body, dict):
            raise NautobotError(
                "Nautobot answered {0} reading Golden Config's compliance rules: {1}".format(status, str(body)[:200]),
                status_code=status,
            )
        page = list(body.get("results") or [])
        rules.extend(page)
        if not page or not body.get("next") or len(rules) >= (body.get("count") or 0):
            return rules


def rules_by_driver(rules):
    """``{network_driver: [rule]}``: Golden Config's compliance job checks a device with the rules of every
    platform that has its platform's network driver (``nornir_plays/config_compliance.py``, ``get_rules``)."""
    by_driver = {}
    for rule in rules or []:
        platform = rule.get("platform")
        driver = platform.get("network_driver") if isinstance(platform, dict) else None
        by_driver.setdefault(str(driver), []).append(rule)
    return by_driver


def stored_age(record, now):
    """Age in seconds of Golden Config's stored compliance of a device (``now`` an aware datetime): since
    the backup its last successful compliance check compared. None when it has none to reuse (never
    backed up or checked, or a newer backup not checked yet)."""
    backup = parse_timestamp((record or {}).get("backup_last_success_date"))
    checked = parse_timestamp((record or {}).get("compliance_last_success_date"))
    if backup is None or checked is None or checked < backup:
        return None
    return max(0, int((now - backup).total_seconds()))


def _stored_state(record, age, why):
    return {
        "golden_config": "stored",
        "checked_at": record.get("compliance_last_success_date"),
        "backed_up_at": record.get("backup_last_success_date"),
        "age_seconds": age,
        "why_stored": why,
    }


def for_drift(
    client,
    devices,
    max_age=0,
    check_mode=False,
    must_refresh=(),
    job_queue=None,
    intended_fresh=False,
    progress=None,
    now=None,
):
    """Golden Config's compliance of the devices a drift check compared (``(device_id, name)``), as fresh as
    asked; returns ``(states, reports)``.

    A device's stored compliance is reused when it is at most ``max_age`` seconds old (since the backup it
    compared; 0: never), unless it is in ``must_refresh`` (committed: what is stored predates the commit);
    in check mode it is always reused, whatever its age (no job runs), and its age said. For the others
    Golden Config's jobs run (``refresh``; ``reports`` holds their reports).

    ``states``: ``{device_id: state}``, a state being ``{"golden_config": "fresh" or "stored", "checked_at",
    "rows": {feature: record}...}`` (``stored`` adds ``backed_up_at``, ``age_seconds``) or ``{"error": why}``
    when Golden Config could not back the device up or check it (not set up, no record, its job failed,
    no compliance record, Nautobot's error): never a device without extra lines.
    """
    progress = progress or (lambda _line: None)
    now = now or datetime.datetime.now(datetime.timezone.utc)
    devices = [(str(device_id), name) for device_id, name in devices]
    states, reports = {}, {}
    if not devices:
        return states, reports
    line, records = None, {}
    try:
        problem = setup_problem(_list_body(client, SETTINGS_PATH, 100), _list_body(client, RULES_PATH, 1))
        if problem:
            line = "Golden Config is not set up to back the devices up and check their compliance ({0})".format(problem)
        else:
            records = read_stored_records(client, [device_id for device_id, _name in devices])
    except ProvisionError as error:
        line = "Golden Config's settings or records could not be read: {0}".format(error.message)
    if line:
        progress("Drift check: {0}: the lines the devices have beyond their intent are not known".format(line))
        return dict((device_id, {"error": line}) for device_id, _name in devices), reports
    run = []
    for device_id, name in devices:
        record = records.get(device_id) or {}
        age = stored_age(record, now)
        if check_mode:
            if age is None:
                states[device_id] = {
                    "error": "{0} and Golden Config has no stored compliance of {1} to show (never backed up and "
                    "checked, or its newest backup not checked yet)".format(CHECK_MODE_STORED, name)
                }
            else:
                states[device_id] = _stored_state(record, age, CHECK_MODE_STORED)
        elif device_id not in must_refresh and max_age > 0 and age is not None and age <= max_age:
            states[device_id] = _stored_state(record, age, "compliance_max_age {0} s".format(max_age))
        else:
            run.append((device_id, name))
    if run:
        progress(
            "Drift check: bringing the Golden Config compliance of {0} device(s) up to date (Golden Config's "
            "{1}){2}".format(
                len(run),
                "backup and compliance jobs" if intended_fresh else "intended, backup and compliance job",
                "; {0} reuse their stored compliance".format(len(devices) - len(run))
                if len(run) < len(devices)
                else "",
            )
        )
        reports = refresh(client, run, job_queue, intended_fresh, progress=progress, what="compared")
        for device_id, _name in run:
            report = reports[device_id]
            if report.get("updated"):
                states[device_id] = {
                    "golden_config": "fresh",
                    "checked_at": report.get("checked_at"),
                    "job_results": report.get("job_results"),
                }
            else:
                states[device_id] = {"error": report.get("error"), "job_results": report.get("job_results")}
    usable = [device_id for device_id, _name in devices if "error" not in states[device_id]]
    try:
        rows = read_compliance(client, usable) if usable else {}
    except ProvisionError as error:
        for device_id in usable:
            states[device_id] = {"error": "Golden Config's compliance could not be read: " + error.message}
        return states, reports
    for device_id, name in devices:
        state = states[device_id]
        if "error" in state:
            continue
        if not rows.get(device_id):
            states[device_id] = {
                "error": "Golden Config has no compliance record of {0} (no compliance rule for its platform?)".format(
                    name
                )
            }
            continue
        state["rows"] = rows[device_id]
    return states, reports
