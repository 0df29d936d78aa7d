"""Unit tests of module_utils/compliance.py: which devices, how each is judged, what users read."""

import pytest

from ansible_collections.sotsync.nautobot.plugins.module_utils import compliance
from ansible_collections.sotsync.nautobot.plugins.module_utils.errors import NautobotError

STARTED = "2026-12-06T10:00:00.000000Z"
BEFORE = "2026-12-06T09:00:00.000000Z"
AFTER = "2026-12-06T10:00:05.000000Z"
LATER = "2026-12-06T10:00:06.000000Z"


def record(backup=(AFTER, AFTER), check=(LATER, LATER)):
    return {
        "backup_last_attempt_date": backup[0],
        "backup_last_success_date": backup[1],
        "compliance_last_attempt_date": check[0],
        "compliance_last_success_date": check[1],
    }


def report(rec, features=None, state="SUCCESS"):
    runs = [(compliance.ALL_JOBS, {"id": "job-1", "status": {"value": state}, "date_created": STARTED})]
    return compliance.device_report(rec, features, runs, "access1")


def test_committed_takes_only_live_commits():
    results = [
        {"device": "a", "device_id": "1", "committed": True},
        {"device": "b", "device_id": "2", "committed": False, "changed": True, "dry_run": True},
        {"device": "c", "device_id": "3", "committed": True, "failed": True},
        {"device_id": "4", "committed": True},
        {"device": "e", "committed": True},
    ]
    assert compliance.committed(results) == [("1", "a"), ("4", "4")]


def test_a_device_backed_up_and_checked_by_this_job_is_up_to_date():
    out = report(record(), {"system": True, "vlans": False})
    assert out["updated"] is True
    assert out["checked_at"] == LATER
    assert out["compliant"] is False
    assert out["noncompliant_features"] == ["vlans"]
    assert out["features"] == {"system": True, "vlans": False}
    assert "NOT compliant in vlans" in compliance.summary_line(out)


def test_a_compliant_device_says_so_with_its_feature_count():
    out = report(record(), {"system": True, "vlans": True})
    assert out["compliant"] is True
    assert compliance.summary_line(out).endswith("compliant (2 feature(s))")


def test_a_device_the_job_did_not_try_is_not_up_to_date():
    out = report(record(backup=(BEFORE, BEFORE), check=(BEFORE, BEFORE)), {"system": True})
    assert out["updated"] is False
    assert "did not back up access1" in out["error"]
    assert "backup repository" in out["error"]
    # the features read are the old ones: still reported, for what they are worth
    assert out["compliant"] is True


def test_no_record_at_all_is_not_up_to_date():
    out = report(None)
    assert out["updated"] is False and "did not back up" in out["error"]
    assert "compliant" not in out


def test_a_failed_backup_says_golden_config_shows_the_old_configuration():
    out = report(record(backup=(AFTER, BEFORE)))
    assert out["updated"] is False
    assert "could not back up access1's running configuration" in out["error"]
    assert "job-1" in out["error"] and "SUCCESS" in out["error"]


def test_a_backup_without_a_compliance_check_is_not_up_to_date():
    out = report(record(check=(BEFORE, BEFORE)), state="FAILURE")
    assert out["updated"] is False
    assert "did not check its compliance" in out["error"] and "FAILURE" in out["error"]


def test_a_failed_compliance_check_is_not_up_to_date():
    out = report(record(check=(LATER, BEFORE)))
    assert out["updated"] is False
    assert "compliance check failed" in out["error"]
    assert compliance.summary_line(out).startswith("Golden Config compliance NOT brought up to date: ")


class Client:
    """Nautobot as the compliance step sees it: the job, the stored records, the compliance rows."""

    def __init__(self, records, rows, job_error=None, state="SUCCESS", settings=None, rules=1):
        self.records, self.rows, self.job_error, self.state = records, rows, job_error, state
        # Golden Config's settings and compliance rules: set up for backup and compliance by default
        self.settings = [{"backup_repository": {"id": "r"}, "backup_path_template": "{{obj.name}}.cfg"}]
        if settings is not None:
            self.settings = settings
        self.rules = rules
        self.jobs = []
        self.asked = []

    def run_job(self, name, data, timeout=120, job_queue=None):
        self.jobs.append((name, data, job_queue))
        if self.job_error:
            raise self.job_error
        return {"id": f"job-{len(self.jobs)}", "status": {"value": self.state}, "date_created": STARTED}

    def get_json(self, path, params=None):
        if path == compliance.SETTINGS_PATH:
            return 200, {"count": len(self.settings), "results": self.settings}
        if path == compliance.RULES_PATH:
            return 200, {"count": self.rules, "results": [{}] * min(self.rules, 1)}
        self.asked.append((path, params))
        assert path == "plugins/golden-config/golden-config/"
        return 200, {
            "results": [dict(self.records[d], device={"id": d}) for d in params["device"] if d in self.records]
        }

    def graphql(self, query, variables=None, what=""):
        assert query == compliance.FEATURES_QUERY and what
        self.asked.append(("graphql", variables))
        return {"config_compliances": [r for r in self.rows if r["device"]["id"] in variables["devices"]]}


def row(device_id, feature, ok):
    return {"device": {"id": device_id}, "rule": {"feature": {"name": feature}}, "compliance": ok}


def test_refresh_runs_one_job_for_all_devices_on_the_queue_and_judges_each():
    client = Client(
        {"1": record(), "2": record(backup=(AFTER, BEFORE))}, [row("1", "system", True), row("2", "system", False)]
    )
    lines = []
    reports = compliance.refresh(client, [("1", "a"), ("2", "b")], job_queue="sotsync-render", progress=lines.append)
    assert client.jobs == [
        (compliance.ALL_JOBS, {"device": ["1", "2"], "commit_message": compliance.COMMIT_MESSAGE}, "sotsync-render")
    ]
    assert reports["1"]["job_results"] == ["job-1"]
    assert reports["1"]["updated"] is True and reports["1"]["compliant"] is True
    assert reports["2"]["updated"] is False and "could not back up b's" in reports["2"]["error"]
    assert (
        len(lines) == 1
        and "2 committed device(s)" in lines[0]
        and "(1 updated; 'Execute All Golden Configuration Jobs - Multiple Device' SUCCESS)" in lines[0]
    )


def test_refresh_chunks_jobs_and_reads(monkeypatch):
    monkeypatch.setattr(compliance, "JOB_CHUNK", 2)
    devices = [(str(i), f"d{i}") for i in range(5)]
    client = Client({d: record() for d, _n in devices}, [row(d, f, True) for d, _n in devices for f in ("x", "y")])
    reports = compliance.refresh(client, devices)
    assert [len(data["device"]) for _name, data, _q in client.jobs] == [2, 2, 1]
    assert all(r["updated"] and r["features"] == {"x": True, "y": True} for r in reports.values())
    assert [len(v["devices"]) for what, v in client.asked if what == "graphql"] == [2, 2, 1]


def test_read_features_asks_in_chunks_and_keeps_each_devices_own():
    client = Client({}, [row("1", "system", False), row("2", "system", True), row("1", "vlans", True)])
    assert compliance.read_features(client, ["1", "2", "3"], chunk=2) == {
        "1": {"system": False, "vlans": True},
        "2": {"system": True},
    }
    assert [v["devices"] for _what, v in client.asked] == [["1", "2"], ["3"]]


def test_a_job_that_cannot_run_is_each_devices_reason_not_an_exception():
    client = Client({}, [], job_error=NautobotError("Nautobot's job 'x' is disabled; enable it to use it"))
    reports = compliance.refresh(client, [("1", "a")])
    assert reports["1"]["updated"] is False
    assert "compliance of a was not brought up to date" in reports["1"]["error"] and "disabled" in reports["1"]["error"]


def test_after_commit_attaches_reports_warns_and_skips_dry_runs_and_check_mode():
    results = [
        {"device": "a", "device_id": "1", "committed": True},
        {"device": "b", "device_id": "2", "committed": True, "warnings": ["earlier"]},
        {"device": "c", "device_id": "3", "committed": False},
    ]
    client = Client({"1": record()}, [row("1", "system", True)])
    assert compliance.after_commit(client, {"update_compliance": True}, True, results) == []
    assert compliance.after_commit(client, {"update_compliance": False}, False, results) == []
    assert client.jobs == []
    lines = []
    done = compliance.after_commit(client, {"job_queue": ""}, False, results, lines.append)
    assert done == [("1", "a"), ("2", "b")]
    assert client.jobs[0][2] is None  # "" is the job's default queue
    assert results[0]["compliance"]["updated"] is True and "warnings" not in results[0]
    assert results[0]["compliance"]["msg"].endswith("compliant (1 feature(s))")
    assert results[1]["warnings"][0] == "earlier"
    assert results[1]["warnings"][1].startswith("Golden Config compliance NOT brought up to date")
    assert "compliance" not in results[2]
    assert "a: Golden Config compliance brought up to date: compliant (1 feature(s))" in lines
    assert compliance.summary(results) == {"updated": 1, "not_updated": ["b"], "noncompliant": []}


def test_with_the_intended_repository_fresh_backup_then_compliance_run_and_both_are_named():
    client = Client({"1": record(backup=(AFTER, BEFORE))}, [row("1", "system", True)])
    reports = compliance.refresh(client, [("1", "a")], intended_fresh=True)
    assert [name for name, _data, _q in client.jobs] == [compliance.BACKUP_JOB, compliance.COMPLIANCE_JOB]
    assert reports["1"]["job_results"] == ["job-1", "job-2"]
    error = reports["1"]["error"]
    assert "'Backup Configurations' job (result job-1, SUCCESS) then 'Perform Configuration Compliance' job" in error


@pytest.mark.parametrize(
    ("settings", "rules", "why"),
    [
        ([], 1, "no Golden Config settings"),
        ([{"backup_repository": None, "backup_path_template": ""}], 1, "no backup repository in its settings"),
        (None, 0, "no compliance rule"),
    ],
)
def test_golden_config_not_set_up_is_said_once_for_the_run_and_no_job_runs(settings, rules, why):
    results = [{"device": name, "device_id": str(i), "committed": True} for i, name in enumerate("abc")]
    client = Client({}, [], settings=settings, rules=rules)
    lines = []
    assert compliance.after_commit(client, {}, False, results, lines.append) == []
    assert client.jobs == []  # its jobs could only fail for every device
    assert len(lines) == 1 and f"not set up for it ({why})" in lines[0] and "the commits stand" in lines[0]
    warned = [r for r in results if r.get("warnings")]
    assert warned == [results[0]] and results[0]["warnings"] == lines  # once, not once per commit
    assert not any("compliance" in r for r in results)


def test_setup_problem_reads_settings_and_rules():
    ready = {"results": [{"backup_repository": "r", "backup_path_template": "t"}]}
    assert compliance.setup_problem(ready, {"count": 3}) is None
    assert compliance.setup_problem(None, {"count": 3}) == "no Golden Config settings"
    assert compliance.setup_problem(ready, None) == "no compliance rule"
