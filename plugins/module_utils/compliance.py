# -*- coding: utf-8 -*-
# Copyright: sotsync team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""After a live commit: Golden Config's compliance of the committed devices brought up to date.

Golden Config's own "Execute All Golden Configuration Jobs - Multiple Device" job runs, once for all the
devices a run committed (up to ``JOB_CHUNK`` a run): it renders their intended configuration, backs up
their running configuration (Golden Config connects to each device itself, with its own credentials) and
checks compliance, feature by feature, with the compliance rules its users already keep. What Golden
Config shows for a device after a commit is then the device as it is now, not as it was at the last
scheduled backup.

Each device is judged by its own Golden Config record (the job marks each device it tries, and the
date of its last success only when it succeeds), then its features' compliance is read. A device whose
compliance could not be brought up to date is reported with why; its commit stands (it was verified).
The report functions take decoded bodies so they are tested without HTTP.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.sotsync.nautobot.plugins.module_utils.errors import NautobotError, ProvisionError
from ansible_collections.sotsync.nautobot.plugins.module_utils.intent import parse_timestamp, read_stored_records

ALL_JOBS = "Execute All Golden Configuration Jobs - Multiple Device"
COMPLIANCE_PATH = "plugins/golden-config/config-compliance/"
JOB_CHUNK = 100
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


def device_report(record, features, job_started, job_id, job_state, name):
    """What one device's compliance is after the job: a dict for the device's result.

    ``record``: the device's Golden Config record; ``features``: ``{feature: compliant}`` read after the
    job. ``updated`` is true only when this job backed the device up and checked its compliance.
    """
    report = {"updated": False, "job_result": job_id}
    where = "Golden Config's '{0}' job (result {1}, {2})".format(ALL_JOBS, job_id, job_state or "no status")
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


def read_features(client, device_ids, chunk=100):
    """``{device_id: {feature name: compliant}}`` from Golden Config's compliance records."""
    features = {}
    device_ids = [str(d) for d in device_ids]
    for start in range(0, len(device_ids), chunk):
        part = device_ids[start : start + chunk]
        offset = 0
        while True:
            status, body = client.get_json(
                COMPLIANCE_PATH,
                {"device": part, "depth": 1, "limit": 1000, "offset": offset},
            )
            if status >= 300:
                raise NautobotError(
                    "Reading Golden Config's compliance failed with HTTP {0}: {1}".format(status, str(body)[:200]),
                    status_code=status,
                )
            rows = (body or {}).get("results") or []
            for row in rows:
                device = row.get("device") or {}
                rule = row.get("rule") or {}
                shown = (rule.get("display") or rule.get("id")) if isinstance(rule, dict) else rule
                device_id = str(device.get("id") if isinstance(device, dict) else device)
                features.setdefault(device_id, {})[feature_name(shown)] = bool(row.get("compliance"))
            offset += len(rows)
            if not rows or not (body or {}).get("next"):
                break
    return features


def feature_name(rule_display):
    """A rule's feature from its display (Golden Config shows a rule as ``<platform> - <feature>``)."""
    text = str(rule_display or "")
    return text.rsplit(" - ", 1)[-1].strip() if " - " in text else text


def refresh(client, devices, job_queue=None, clock=time.monotonic, progress=None):
    """Bring Golden Config's compliance of ``devices`` (``(device_id, name)``) up to date; ``{device_id: report}``.

    Never raises for what Nautobot answers: a job that cannot run, fails or cannot be read makes the
    report of each of its devices say why (the commits stand).
    """
    progress = progress or (lambda _line: None)
    reports = {}
    for start in range(0, len(devices), JOB_CHUNK):
        part = devices[start : start + JOB_CHUNK]
        ids = [device_id for device_id, _name in part]
        began = clock()
        try:
            result = client.run_job(
                ALL_JOBS,
                {"device": ids, "commit_message": COMMIT_MESSAGE},
                timeout=120 + 2 * len(ids),
                job_queue=job_queue or None,
            )
            job_id = (result or {}).get("id")
            state = ((result or {}).get("status") or {}).get("value")
            job_started = parse_timestamp((result or {}).get("date_created"))
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
            reports[device_id] = device_report(
                records.get(device_id), features.get(device_id), job_started, job_id, state, name
            )
        progress(
            "Golden Config compliance of {0} committed device(s) brought up to date in {1:.1f} s ({2} updated)".format(
                len(part), clock() - began, sum(1 for d, _n in part if reports[d].get("updated"))
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


def after_commit(client, params, check_mode, results, progress=None):
    """Bring the compliance of the devices ``results`` committed up to date, as ``params`` say; attach it.

    Returns the ``(device_id, name)`` it ran for (none for a dry run, in check mode, with
    ``update_compliance`` false, or when nothing was committed).
    """
    if check_mode or not params.get("update_compliance", True):
        return []
    done = committed(results)
    if done:
        progress = progress or (lambda _line: None)
        progress(
            "{0} device(s) committed: bringing their Golden Config compliance up to date (Golden Config's "
            "intended, backup and compliance job)".format(len(done))
        )
        reports = refresh(client, done, params.get("job_queue") or None, progress=progress)
        attach(results, reports)
        for device_id, name in done:
            progress("{0}: {1}".format(name, summary_line(reports[device_id])))
    return done
