"""Golden Config's config plans on the batch's Nautobot double (``PlanNautobot``), with the parameters of a
run: shared by test_config_plan.py and test_credentials.py (test modules import helpers, never each other)."""

from __future__ import annotations

import itertools

import jinja2

from ansible_collections.sotsync.nautobot.plugins.module_utils import compliance, remediation
from ansible_collections.sotsync.nautobot.plugins.module_utils import config_plan as cp

from tests.unit.plugins.module_utils.conftest import FakeBatchNautobot

PASSWORD = "s3cr3t-device-password"
TOKEN = "0123456789abcdef0123456789abcdef01234567"
STATUSES = {
    name: f"status-{index}"
    for index, name in enumerate([cp.NOT_APPROVED, cp.APPROVED, cp.IN_PROGRESS, cp.COMPLETED, cp.FAILED])
}
PLAN_IDS = (f"aaaaaaaa-0000-4000-8000-{n:012d}" for n in itertools.count(1))


def params(**overrides):
    data = {
        "device": None,
        "devices": None,
        "device_filter": None,
        "nautobot_url": "http://nautobot.invalid",
        "nautobot_token": TOKEN,
        "intent_source": "auto",
        "dry_run": True,
        "username": "admin",
        "password": PASSWORD,
        "optional_args": None,
        "timeout": 60,
        "ready_statuses": ["Active", "Planned", "Staged"],
        "commit_confirm_seconds": 60,
        "verify": True,
        "notes": True,
        "trigger": "rulebook: 1 device change(s) (updated) by admin",
        "workers": 4,
    }
    data.update(overrides)
    return data


class PlanNautobot(FakeBatchNautobot):
    """The batch's double with Golden Config's config plans (``plans``: id -> plan as the REST API gives it)."""

    def __init__(self, *args, plan_job_status="SUCCESS", render_plan=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.plans: dict[str, dict] = {}
        self.patches: list[tuple] = []
        self.object_notes: list[dict] = []
        self.plan_job_status = plan_job_status
        self.render_plan = render_plan  # replaces Golden Config's rendering of the commands (a fault)
        self.plan_feature_rows: dict[str, list] = {}

    def run_job(self, name, data, timeout=120, job_queue=None):
        if name != cp.PLAN_JOB:
            return super().run_job(name, data, timeout=timeout, job_queue=job_queue)
        with self.lock:
            self.jobs.append({"name": name, "devices": list(data["device"]), "data": data, "queue": job_queue})
            job_id = f"plan-job-{len(self.jobs)}"
        assert data["plan_type"] in ("manual", cp.REMEDIATION) and data["change_control_id"] == cp.CHANGE_CONTROL_ID
        if self.plan_job_status == "SUCCESS":
            for device_id in data["device"]:
                device = next(d for d in self.inventory if d["id"] == device_id)
                features = []
                if data["plan_type"] == "manual":
                    # Golden Config: render_jinja2(commands, {"obj": device, ...}) (Jinja drops a final newline)
                    render = self.render_plan or jinja2.Environment().from_string(data["commands"]).render
                    config_set = render(obj=device)
                else:
                    config_set, features = self.remediation_set(device_id, data["feature"])
                plan_id = next(PLAN_IDS)
                self.plans[plan_id] = {
                    "id": plan_id,
                    "device": {"id": device_id, "name": device["name"]},
                    "plan_type": data["plan_type"],
                    "config_set": config_set,
                    "change_control_id": data["change_control_id"],
                    "status": {"id": STATUSES[cp.NOT_APPROVED], "name": cp.NOT_APPROVED},
                    "plan_result": {"id": job_id},
                }
                self.plan_feature_rows[plan_id] = features  # not in the REST API's plans: by GraphQL
        return {"id": job_id, "status": {"value": self.plan_job_status}}

    def remediation_set(self, device_id, feature_ids):
        raise AssertionError("this double has no compliance: RemediationNautobot has")

    def get_json(self, path, params=None):
        if path == cp.STATUS_PATH:
            self._record("get_json", path, params)
            return 200, {"results": [{"id": STATUSES[params["name"]], "name": params["name"]}]}
        if path == cp.PLAN_PATH:
            self._record("get_json", path, params)
            found = [
                p
                for p in self.plans.values()
                if p["device"]["id"] == params["device_id"] and p["plan_result"]["id"] == params["plan_result_id"]
            ]
            return 200, {"count": len(found), "results": found}
        if path.startswith(cp.PLAN_PATH):
            self._record("get_json", path, params)
            plan = self.plans.get(path[len(cp.PLAN_PATH) :].strip("/"))
            return (200, plan) if plan else (404, {"detail": "Not found."})
        return super().get_json(path, params)

    def patch_json(self, path, data):
        self._record("patch_json", path, data)
        plan_id = path[len(cp.PLAN_PATH) :].strip("/")
        name = {v: k for k, v in STATUSES.items()}[data["status"]]
        self.patches.append((plan_id, name))
        self.plans[plan_id]["status"] = {"id": data["status"], "name": name}
        return 200, self.plans[plan_id]

    def create_note(self, object_id, kind, comments, object_type="dcim.device"):
        with self.lock:
            self.object_notes.append({"type": object_type, "id": object_id, "kind": kind, "note": comments})
            return f"object-note-{len(self.object_notes)}"

    def plan_notes(self, plan_id):
        return [n for n in self.object_notes if n["type"] == cp.PLAN_OBJECT_TYPE and n["id"] == plan_id]

    def status(self, plan_id):
        return self.plans[plan_id]["status"]["name"]


def approve(nautobot, plan_id):
    nautobot.plans[plan_id]["status"] = {"id": STATUSES[cp.APPROVED], "name": cp.APPROVED}


def deploy_params(plan_id, **overrides):
    return params(plan=plan_id, **overrides)


# --- Golden Config's compliance, remediation settings and remediation plans --------------------------------
EOS_PLATFORM = {"id": "platform-eos", "name": "Arista EOS", "network_driver": "arista_eos", "napalm_driver": "eos"}
FEATURE_IDS = {"system": "feature-system", "interfaces": "feature-interfaces", "vlans": "feature-vlans"}


def compliance_row(device_id, feature, extra="", missing="", remediation=""):
    """One Golden Config compliance record as the compliance GraphQL query gives it."""
    return {
        "device": {"id": device_id},
        "rule": {"feature": {"id": FEATURE_IDS[feature], "name": feature}},
        "compliance": not (extra or missing),
        "ordered": True,
        "extra": extra,
        "missing": missing,
        "remediation": remediation,
    }


class RemediationNautobot(PlanNautobot):
    """``PlanNautobot`` with Golden Config's compliance records (``rows``: device id -> [record]), its
    remediation settings (``remediation_platforms``: platform names) and compliance rules (``remediating``:
    ``{(platform name, feature)}`` with config remediation on). Golden Config's jobs re-check a device's compliance
    from ``after_jobs`` (device id -> [record]) when given, as its backup of the device now would."""

    def __init__(self, *args, rows=None, remediation_platforms=(), remediating=(), after_jobs=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.rows = dict(rows or {})
        self.remediation_platforms = list(remediation_platforms)
        self.remediating = set(remediating)
        self.after_jobs = dict(after_jobs or {})

    def remediation_set(self, device_id, feature_ids):
        rows = [r for r in self.rows.get(device_id, []) if r["rule"]["feature"]["id"] in feature_ids]
        rows.sort(key=lambda r: r["rule"]["feature"]["name"])
        features = [{"id": r["rule"]["feature"]["id"], "name": r["rule"]["feature"]["name"]} for r in rows]
        return "\n".join(r["remediation"] for r in rows if r["remediation"]), features

    def run_job(self, name, data, timeout=120, job_queue=None):
        result = super().run_job(name, data, timeout=timeout, job_queue=job_queue)
        if name != cp.PLAN_JOB:
            for device_id in data["device"]:
                if device_id in self.after_jobs:
                    self.rows[device_id] = self.after_jobs.pop(device_id)
        return result

    def get_json(self, path, params=None):
        if path == remediation.SETTINGS_PATH:
            self._record("get_json", path, params)
            found = [{"platform": {"name": p}, "remediation_type": "hierconfig"} for p in self.remediation_platforms]
            return 200, {"count": len(found), "results": found}
        if path == compliance.RULES_PATH and "depth" in (params or {}):
            self._record("get_json", path, params)
            rules = [
                {
                    "feature": {"id": FEATURE_IDS[feature], "name": feature},
                    "platform": {"name": platform, "network_driver": "arista_eos"},
                    "match_config": feature,
                    "config_type": "cli",
                    "config_remediation": (platform, feature) in self.remediating,
                }
                for platform in (EOS_PLATFORM["name"],)
                for feature in FEATURE_IDS
            ]
            return 200, {"count": len(rules), "results": rules}
        return super().get_json(path, params)

    def graphql(self, query, variables=None, what=""):
        if query == cp.PLAN_FEATURES_QUERY:
            return {
                "config_plans": [{"id": p, "feature": self.plan_feature_rows.get(p, [])} for p in variables["plans"]]
            }
        if query == compliance.COMPLIANCE_QUERY:
            return {"config_compliances": [r for d in variables["devices"] for r in self.rows.get(d, [])]}
        return super().graphql(query, variables, what)
