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

    def __init__(self, records, rows, job_error=None, state="SUCCESS", settings=None, rules=1, checks=None):
        self.records, self.rows, self.job_error, self.state = records, rows, job_error, state
        # what the jobs leave: {device_id: record} written into ``records`` by each run
        self.checks = dict(checks or {})
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
        for device_id in data["device"]:
            if device_id in self.checks:
                self.records[device_id] = self.checks[device_id]
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
        assert query in (compliance.FEATURES_QUERY, compliance.COMPLIANCE_QUERY) and what
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


# --- a drift check: every compared device, fresh enough, feature by feature ---------------------------
NOW = compliance.parse_timestamp("2026-12-06T10:10:00Z")


def detail(device_id, feature, ok, extra=""):
    return dict(row(device_id, feature, ok), ordered=ok, missing="", extra=extra, remediation="")


def test_read_compliance_reads_each_features_lines_in_chunks():
    rows = [detail("1", "system", False, "ip host x 192.0.2.1"), detail("1", "vlans", True), detail("2", "vlans", True)]
    client = Client({}, rows)
    found = compliance.read_compliance(client, ["1", "2", "3"], chunk=2)
    assert found == {"1": {"system": rows[0], "vlans": rows[1]}, "2": {"vlans": rows[2]}}
    assert [v["devices"] for _what, v in client.asked] == [["1", "2"], ["3"]]
    for field in ("compliance", "ordered", "missing", "extra", "remediation", "device { id }", "feature { id name }"):
        assert field in compliance.COMPLIANCE_QUERY


class Rules:
    """Golden Config's compliance rules over REST, ``page`` a request."""

    def __init__(self, rules, page=2, status=200):
        self.rules, self.page, self.status = rules, page, status
        self.asked = []

    def get_json(self, path, params=None):
        assert path == compliance.RULES_PATH
        self.asked.append(params)
        if self.status != 200:
            return self.status, {"detail": "Not found."}
        chunk = self.rules[params["offset"] : params["offset"] + self.page]
        more = params["offset"] + len(chunk) < len(self.rules)
        return 200, {"count": len(self.rules), "next": "next" if more else None, "results": chunk}


def test_read_rules_reads_every_page_and_groups_the_rules_as_golden_configs_job_does():
    rules = [{"feature": {"name": f"f{i}"}, "platform": {"network_driver": "arista_eos"}} for i in range(4)]
    rules.append({"feature": {"name": "f4"}, "platform": {"network_driver": "cisco_nxos"}})
    client = Rules(rules)
    assert compliance.read_rules(client, limit=2) == rules
    assert [p["offset"] for p in client.asked] == [0, 2, 4]
    assert client.asked[0] == {"limit": 2, "offset": 0, "depth": 1}
    assert (
        compliance.rules_by_driver(rules + [{"platform": {"id": "p"}}])
        == {
            "arista_eos": rules[:4],  # every platform with the network driver: Golden Config's get_rules()
            "cisco_nxos": rules[4:],
            "None": [{"platform": {"id": "p"}}],
        }
    )
    with pytest.raises(NautobotError, match="answered 404 reading Golden Config's compliance rules"):
        compliance.read_rules(Rules([], status=404))


@pytest.mark.parametrize(
    ("rec", "age"),
    [
        (record(backup=(BEFORE, BEFORE), check=(AFTER, AFTER)), 4200),  # the age of the backup it compared
        (record(backup=(AFTER, AFTER), check=(BEFORE, BEFORE)), None),  # a newer backup not checked yet
        (record(backup=(AFTER, None), check=(LATER, LATER)), None),
        ({}, None),
        (None, None),
    ],
)
def test_stored_age(rec, age):
    assert compliance.stored_age(rec, NOW) == age


def drift_client(**kwargs):
    """Devices 1 and 2, both with a stored compliance of 10 minutes ago; the jobs check them again."""
    stored = record(backup=(AFTER, AFTER), check=(LATER, LATER))
    fresh = record(backup=("2026-12-06T10:09:00Z",) * 2, check=("2026-12-06T10:09:01Z",) * 2)
    rows = [detail("1", "system", False, "ip host x 192.0.2.1"), detail("2", "system", True)]
    return Client({"1": dict(stored), "2": dict(stored)}, rows, checks={"1": fresh, "2": fresh}, **kwargs)


def test_for_drift_runs_the_jobs_for_every_compared_device_and_reads_their_lines():
    client = drift_client()
    lines = []
    states, reports = compliance.for_drift(
        client, [("1", "a"), ("2", "b")], job_queue="q", intended_fresh=True, progress=lines.append, now=NOW
    )
    assert [(name, data["device"], queue) for name, data, queue in client.jobs] == [
        (compliance.BACKUP_JOB, ["1", "2"], "q"),
        (compliance.COMPLIANCE_JOB, ["1", "2"], "q"),
    ]
    assert states["1"]["golden_config"] == "fresh" and states["1"]["job_results"] == ["job-1", "job-2"]
    assert states["1"]["rows"]["system"]["extra"] == "ip host x 192.0.2.1"
    assert set(reports) == {"1", "2"} and reports["1"]["updated"]
    assert lines[0].startswith("Drift check: bringing the Golden Config compliance of 2 device(s) up to date")
    assert "2 compared device(s) brought up to date" in lines[1]


def test_for_drift_reuses_what_is_fresh_enough_unless_committed():
    client = drift_client()
    states, reports = compliance.for_drift(client, [("1", "a"), ("2", "b")], max_age=900, must_refresh={"2"}, now=NOW)
    assert [data["device"] for _name, data, _q in client.jobs] == [["2"]]  # committed: its stored one predates it
    assert states["1"]["golden_config"] == "stored" and states["1"]["age_seconds"] == 595
    assert states["1"]["why_stored"] == "compliance_max_age 900 s" and states["1"]["rows"]
    assert states["2"]["golden_config"] == "fresh" and set(reports) == {"2"}
    too_old = drift_client()
    states, _reports = compliance.for_drift(too_old, [("1", "a")], max_age=300, now=NOW)
    assert states["1"]["golden_config"] == "fresh" and too_old.jobs


def test_check_mode_runs_no_job_and_shows_the_stored_compliance_whatever_its_age():
    client = drift_client()
    client.records["2"] = record(backup=(LATER, LATER), check=(AFTER, AFTER))  # its newest backup not checked
    states, reports = compliance.for_drift(client, [("1", "a"), ("2", "b")], check_mode=True, now=NOW)
    assert client.jobs == [] and reports == {}
    assert states["1"]["golden_config"] == "stored" and states["1"]["why_stored"] == compliance.CHECK_MODE_STORED
    assert states["2"] == {
        "error": "check mode runs no Golden Config job and Golden Config has no stored compliance of b to show "
        "(never backed up and checked, or its newest backup not checked yet)"
    }


def test_a_device_golden_config_could_not_check_says_why():
    client = drift_client()
    client.checks["2"] = record(backup=("2026-12-06T10:09:00Z", BEFORE))  # its backup failed
    client.rows = [detail("1", "system", True)]
    client.checks["3"] = client.checks["1"]
    states, _reports = compliance.for_drift(client, [("1", "a"), ("2", "b"), ("3", "c")], now=NOW)
    assert "could not back up b's running configuration" in states["2"]["error"] and states["2"]["job_results"]
    assert states["3"] == {
        "error": "Golden Config has no compliance record of c (no compliance rule for its platform?)"
    }
    assert states["1"]["rows"] == {"system": client.rows[0]}


@pytest.mark.parametrize(
    ("settings", "rules", "why"),
    [([], 1, "no Golden Config settings"), (None, 0, "no compliance rule")],
)
def test_golden_config_not_set_up_makes_every_device_not_checked_and_runs_no_job(settings, rules, why):
    client = drift_client(settings=settings, rules=rules)
    lines = []
    states, reports = compliance.for_drift(client, [("1", "a"), ("2", "b")], progress=lines.append, now=NOW)
    assert client.jobs == [] and reports == {}
    line = f"Golden Config is not set up to back the devices up and check their compliance ({why})"
    assert states == {"1": {"error": line}, "2": {"error": line}}
    assert len(lines) == 1 and line in lines[0]


def test_nautobot_errors_are_each_devices_reason_not_an_exception():
    class Broken(Client):
        def graphql(self, query, variables=None, what=""):
            raise NautobotError("Nautobot refused the query")

    states, _reports = compliance.for_drift(Broken({}, [], checks={"1": record()}), [("1", "a")], now=NOW)
    assert states["1"]["error"].startswith("Golden Config's compliance of a was not brought up to date")

    class Unreachable(Client):
        def get_json(self, path, params=None):
            raise NautobotError("Nautobot is unreachable")

    states, _reports = compliance.for_drift(Unreachable({}, []), [("1", "a")], now=NOW)
    assert states["1"]["error"] == "Golden Config's settings or records could not be read: Nautobot is unreachable"
    assert compliance.for_drift(Client({}, []), [], now=NOW) == ({}, {})
