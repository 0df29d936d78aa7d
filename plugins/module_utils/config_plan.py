# -*- coding: utf-8 -*-
# Copyright: sotsync team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Golden Config config plans, the approval gate's record in Nautobot: file one, read one, set its status.

Golden Config's REST API does not create plans: its hidden job "Generate Config Plans" does. A
``manual`` plan's ``commands`` are rendered as a Jinja template with the device as ``obj``, so the
intended configuration goes in between ``{% raw %}`` and ``{% endraw %}``, and what Golden Config
stored is compared with it line by line (``normalised_lines``: Jinja drops a trailing newline).
The plan is found by its device and the job result that made it (``plan_result_id``).

A ``remediation`` plan (``create_remediation_plan``) is Golden Config's own: the job joins the
``remediation`` of the device's compliance records of the features it is given (the commands its
remediation settings, hier_config, make from the ``extra`` and ``missing`` lines).

Statuses (Golden Config creates them): Not Approved (a new plan), Approved, In Progress, Completed,
Failed. An engineer approves a plan in Nautobot; ``plan_deploy`` deploys only an Approved one.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.sotsync.nautobot.plugins.module_utils.platforms.base import normalise_line
from ansible_collections.sotsync.nautobot.plugins.module_utils.errors import (
    NautobotError,
    PlanError,
    PlanNotFound,
    ProvisionError,
)
from ansible_collections.sotsync.nautobot.plugins.module_utils.nautobot import canonical_uuid, is_uuid

PLAN_PATH = "plugins/golden-config/config-plan/"
STATUS_PATH = "extras/statuses/"
PLAN_JOB = "Generate Config Plans"
PLAN_OBJECT_TYPE = "nautobot_golden_config.configplan"
CHANGE_CONTROL_ID = "sotsync.nautobot"  # Golden Config allows 50 characters
NOT_APPROVED = "Not Approved"
APPROVED = "Approved"
IN_PROGRESS = "In Progress"
COMPLETED = "Completed"
FAILED = "Failed"
STALE_NOTE = "stale: the device's intended configuration changed since this plan was made"
REMEDIATION = "remediation"
REMEDIATION_STALE_NOTE = (
    "stale: Golden Config's remediation of the device's compliance features changed since this plan was made "
    "(the device or its intent changed): file a fresh one (reconcile -e remediation_plans=true)"
)
_RAW_END = "{% endraw %}"


def normalised_lines(config):
    """The lines that say something, whitespace collapsed, in order (blank, ``!`` and ``end`` dropped)."""
    lines = []
    for line in (config or "").splitlines():
        text = normalise_line(line)
        if text is not None:
            lines.append(text)
    return lines


def same_config(one, other):
    """Whether two configurations are the same once normalised (``normalised_lines``)."""
    return normalised_lines(one) == normalised_lines(other)


def manual_commands(config):
    """The job's ``commands`` whose Jinja rendering is ``config`` exactly (an ``{% endraw %}`` inside included)."""
    escaped = (config or "").replace(_RAW_END, _RAW_END + "{{ '" + _RAW_END + "' }}{% raw %}")
    return "{% raw %}" + escaped + _RAW_END


def _name_of(value):
    if isinstance(value, dict):
        return value.get("name") or value.get("display")
    return value


def plan_summary(plan):
    """``{id, status, device: {id, name}, config_set, plan_type, change_control_id, features}`` of a plan read at
    depth 1. ``features`` (the names of its compliance features) is empty: the REST API does not give them
    (``plan_features`` reads them)."""
    device = plan.get("device")
    if isinstance(device, dict):
        device_ref = {"id": str(device.get("id")), "name": device.get("name") or device.get("display")}
    else:
        device_ref = {"id": str(device) if device else None, "name": None}
    return {
        "id": str(plan.get("id")),
        "status": _name_of(plan.get("status")),
        "device": device_ref,
        "config_set": plan.get("config_set") or "",
        "plan_type": plan.get("plan_type"),
        "change_control_id": plan.get("change_control_id"),
        "features": [],
    }


PLAN_FEATURES_QUERY = """
query ($plans: [String]) {
  config_plans(id: $plans) { id feature { id name } }
}
"""


def plan_features(client, plan_id):
    """The names of the compliance features of a plan made from them (a remediation plan), by GraphQL: Golden
    Config's REST serializer of config plans leaves them out."""
    data = client.graphql(PLAN_FEATURES_QUERY, {"plans": [str(plan_id)]}, what="reading the features of a config plan")
    found = (data or {}).get("config_plans") or []
    return sorted(str(f.get("name")) for plan in found for f in plan.get("feature") or [])


def read_plan(client, plan_id):
    """The plan ``plan_id`` (its ``plan_summary``, with the ``features`` of a remediation plan); ``PlanNotFound``
    when Nautobot has none by that id."""
    if not is_uuid(plan_id):
        raise PlanNotFound("A config plan is named by its UUID; got {0!r}".format(plan_id), plan_id=str(plan_id))
    plan_id = canonical_uuid(plan_id)
    status, body = client.get_json("{0}{1}/".format(PLAN_PATH, plan_id), {"depth": 1})
    if status == 404:
        raise PlanNotFound("Golden Config has no config plan {0}".format(plan_id), plan_id=plan_id)
    if status != 200 or not isinstance(body, dict):
        raise NautobotError(
            "Nautobot answered {0} reading config plan {1}: {2}".format(status, plan_id, str(body)[:200]),
            plan_id=plan_id,
            status_code=status,
        )
    plan = plan_summary(body)
    if str(plan["plan_type"]).lower() == REMEDIATION:
        plan["features"] = plan_features(client, plan["id"])
    return plan


def status_id(client, name):
    """The id of Nautobot's status called ``name`` (Golden Config creates the plans' statuses)."""
    status, body = client.get_json(STATUS_PATH, {"name": name, "depth": 0})
    results = (body or {}).get("results") if isinstance(body, dict) else None
    if status != 200 or not results:
        raise PlanError(
            "Nautobot has no status {0!r} (Golden Config creates it for config plans: is the app migrated?)".format(
                name
            )
        )
    return str(results[0]["id"])


def set_status(client, plan_id, name):
    """Set the plan's status to the status called ``name``."""
    status, body = client.patch_json("{0}{1}/".format(PLAN_PATH, plan_id), {"status": status_id(client, name)})
    if status >= 300:
        raise PlanError(
            "Nautobot answered {0} setting config plan {1} to {2}: {3}".format(status, plan_id, name, str(body)[:200]),
            plan_id=str(plan_id),
            status_code=status,
        )


def note_on_plan(client, plan_id, kind, text):
    """Write a note on the plan; return its id."""
    return client.create_note(plan_id, kind, text, object_type=PLAN_OBJECT_TYPE)


def _run_plan_job(client, data, device_id, device_name):
    """Golden Config's "Generate Config Plans" job for one device; the plan it filed (``plan_summary``)."""
    result = client.run_job(PLAN_JOB, dict(data, device=[str(device_id)]))
    state = ((result or {}).get("status") or {}).get("value")
    job_id = (result or {}).get("id")
    if state != "SUCCESS":
        raise PlanError(
            "Golden Config's '{0}' job ended {1} (job result {2}): no config plan for {3}".format(
                PLAN_JOB, state, job_id, device_name
            ),
            job_result_id=job_id,
        )
    status, body = client.get_json(PLAN_PATH, {"device_id": str(device_id), "plan_result_id": job_id, "depth": 1})
    plans = (body or {}).get("results") if isinstance(body, dict) else None
    if status != 200 or not plans:
        raise PlanError(
            "Golden Config's '{0}' job (job result {1}) filed no config plan for {2}".format(
                PLAN_JOB, job_id, device_name
            ),
            job_result_id=job_id,
        )
    return plan_summary(plans[0])


def _refuse_unlike(client, plan, device_name, why):
    """A plan that does not hold what was asked for is set Failed, so that nobody approves it: ``PlanError``."""
    try:
        set_status(client, plan["id"], FAILED)
    except ProvisionError:
        pass  # the error below says it all
    raise PlanError(
        "Config plan {0} for {1} {2}; the plan was set Failed".format(plan["id"], device_name, why),
        plan_id=plan["id"],
    )


def _note_warnings(client, plan_id, note):
    if not note:
        return []
    try:
        note_on_plan(client, plan_id, "info", note)
    except ProvisionError as exc:
        return ["Could not write the note on config plan {0}: {1}".format(plan_id, exc.message)]
    return []


def create_plan(client, device_id, device_name, config, note=None, change_control_id=CHANGE_CONTROL_ID):
    """File a manual config plan for the device whose config set is ``config``; return ``(plan_id, warnings)``.

    Its status is Golden Config's default for a new plan (Not Approved). ``note`` (Markdown), when given,
    is written on the plan; a note that cannot be written is a warning. A plan whose config set is not
    ``config`` (Golden Config rendered the commands otherwise) is set Failed, so that nobody approves
    it, and ``PlanError`` is raised.
    """
    data = {
        "plan_type": "manual",
        "commands": manual_commands(config),
        "change_control_id": change_control_id,
        "change_control_url": "",
    }
    plan = _run_plan_job(client, data, device_id, device_name)
    if not same_config(plan["config_set"], config):
        _refuse_unlike(
            client,
            plan,
            device_name,
            "does not hold the intended configuration Golden Config was given (its rendering of the commands differs)",
        )
    return plan["id"], _note_warnings(client, plan["id"], note)


def same_lines(one, other):
    """Whether two configurations hold the same lines once normalised, in any order (a remediation plan joins
    its features' remediation in Golden Config's order of the features)."""
    return sorted(normalised_lines(one)) == sorted(normalised_lines(other))


def create_remediation_plan(client, device_id, device_name, feature_ids, expected, change_control_id=CHANGE_CONTROL_ID):
    """File Golden Config's remediation plan of the device for the compliance features ``feature_ids``; return
    its ``plan_summary`` (status Not Approved).

    ``expected`` is the features' remediation as read from the device's compliance records: a plan holding
    other lines (its compliance changed in between) is set Failed and ``PlanError`` is raised.
    """
    data = {
        "plan_type": REMEDIATION,
        "feature": [str(f) for f in feature_ids],
        "change_control_id": change_control_id,
        "change_control_url": "",
    }
    plan = _run_plan_job(client, data, device_id, device_name)
    if not same_lines(plan["config_set"], expected):
        _refuse_unlike(
            client,
            plan,
            device_name,
            "does not hold the remediation read from its compliance (its compliance changed meanwhile)",
        )
    return plan
