"""Golden Config config plans through Nautobot's REST API, as the UI uses them: shared by the approval-gate and
reconcile lab tests (test modules import helpers, never each other)."""

from __future__ import annotations

PLAN_PATH = "plugins/golden-config/config-plan/"
DEPLOY_PLAYBOOK = "sotsync.nautobot.deploy_config_plan"


def rest(lab, method, path, **kwargs):
    api = lab["api"]
    headers = {"Authorization": f"Token {api.token}", "Accept": "application/json"}
    response = api.http_session.request(method, f"{api.base_url}/{path}", headers=headers, timeout=30, **kwargs)
    response.raise_for_status()
    return response.json() if response.content else None


def plans_of(lab, device_id) -> dict[str, dict]:
    """The device's config plans by id (depth 1: the status and device with their names)."""
    body = rest(lab, "GET", PLAN_PATH, params={"device_id": device_id, "depth": 1, "limit": 1000})
    return {plan["id"]: plan for plan in body["results"]}


def plan(lab, plan_id) -> dict:
    return rest(lab, "GET", f"{PLAN_PATH}{plan_id}/", params={"depth": 1})


def status_of(lab, plan_id) -> str:
    return plan(lab, plan_id)["status"]["name"]


def set_status(lab, plan_id, name) -> None:
    """What the UI's edit form does: PATCH the plan's status."""
    (status,) = rest(lab, "GET", "extras/statuses/", params={"name": name})["results"]
    rest(lab, "PATCH", f"{PLAN_PATH}{plan_id}/", json={"status": status["id"]})


def notes_on(lab, object_id) -> list[dict]:
    return rest(lab, "GET", "extras/notes/", params={"assigned_object_id": object_id, "limit": 1000})["results"]


def delete_plans_since(lab, device_id, plans_before) -> None:
    """Delete the device's config plans not in ``plans_before``, with the notes on them."""
    for plan_id in set(plans_of(lab, device_id)) - set(plans_before):
        for note in notes_on(lab, plan_id):
            rest(lab, "DELETE", f"extras/notes/{note['id']}/")
        rest(lab, "DELETE", f"{PLAN_PATH}{plan_id}/")
