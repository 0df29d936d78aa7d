"""The rulebook's decisions, with the real ansible-rulebook and the real rulebook's conditions.

Events are the source's own normalisation of realistic Nautobot webhook bodies
(tests/support/nautobot_webhooks.py). The rulebook is copied with two swaps only: the webhook source
becomes a replay source, and the provisioning action becomes a debug line naming the device. Every
condition and every decision message is the shipped rulebook's."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ansible_collections.sotsync.nautobot.plugins.module_utils import messages as msg
from ansible_collections.sotsync.nautobot.plugins.plugin_utils import device_event, request
from tests.support import nautobot_webhooks as bodies
from tests.support import rulebook

ROOT = Path(__file__).resolve().parents[2]

RULEBOOK, SETTINGS = rulebook.RULEBOOK, rulebook.SETTINGS


def event(name: str, payload: dict, ready_statuses=msg.DEFAULT_READY_STATUSES) -> dict:
    """The normalised event for one webhook body, renamed so each scenario is easy to find."""
    hook = request.validate_payload(payload)
    ev = device_event.normalize_device_event(hook)
    ev["nautobot"]["object_name"] = ev["nautobot"]["device"]["name"] = name
    return device_event.add_readiness(ev, ready_statuses)


def mixed_change():
    before = bodies.device(comments="", ip="172.20.20.11/24")
    after = bodies.device(comments="new rack", ip="172.20.20.21/24", last_updated="2026-11-25T00:23:24Z")
    return bodies.updated(before, after)


def deleted():
    return bodies.body("deleted", "device", bodies.device())


SCENARIOS = {
    "s-rename": bodies.rename(),
    "s-primary-ip": bodies.primary_ip_change(),
    "s-role": bodies.role_change(),
    "s-comments": bodies.comments_only(),
    "s-stale-nested": bodies.stale_nested_comments(),
    "s-mixed": mixed_change(),
    "s-create": bodies.create(),
    "s-no-driver": bodies.platform_without_driver(),
    "s-platform": bodies.platform_change(),
    "s-no-platform": bodies.platform_null(),
    "s-offline": bodies.status_offline(),
    "s-deleted": deleted(),
}


def run_rulebook(tmp_path: Path, settings: dict, scenario_events=None, linger=1.5) -> dict[str, list[str]]:
    """Run the rulebook over every scenario; return each device's printed lines."""
    events = tmp_path / "events.json"
    if scenario_events is None:
        scenario_events = [event(name, payload) for name, payload in SCENARIOS.items()]
    events.write_text(json.dumps(scenario_events))
    text = rulebook.hook_rulebook(f"    - replay_events:\n        file: {events}\n        linger: {linger}\n")
    rulebook_file = tmp_path / "rulebook.yml"
    rulebook_file.write_text(text)
    vars_file = tmp_path / "vars.yml"
    vars_file.write_text(yaml.safe_dump(settings))
    env = dict(
        os.environ,
        PATH=f"{ROOT / '.venv' / 'bin'}:{os.environ['PATH']}",
        ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".build" / "collections"),
    )
    proc = subprocess.run(
        [
            str(ROOT / ".venv" / "bin" / "ansible-rulebook"),
            "--rulebook",
            str(rulebook_file),
            "--vars",
            str(vars_file),
            "-S",
            str(ROOT / "tests" / "rulebook" / "sources"),
            "-i",
            "/dev/null",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    lines: dict[str, list[str]] = {ev["nautobot"]["object_name"]: [] for ev in scenario_events}
    current = None
    for line in proc.stdout.splitlines():
        if not line.strip() or line.startswith("*"):
            continue
        names = [n for n in lines if re.search(rf"\b{re.escape(n)}\b", line)]
        if names:
            current = max(names, key=len)
        if current:
            lines[current].append(line)
    return lines


def settings(**overrides) -> dict:
    data = yaml.safe_load(SETTINGS.read_text())
    data.update(overrides)
    return data


@pytest.fixture(scope="module")
def default_run(tmp_path_factory):
    return run_rulebook(tmp_path_factory.mktemp("default"), settings())


def joined(lines: list[str]) -> str:
    return "\n".join(lines)


@pytest.mark.parametrize(
    "name, fields",
    [
        ("s-rename", "['name']"),
        ("s-primary-ip", "['primary_ip4']"),
        ("s-role", "['role']"),
        ("s-mixed", "['primary_ip4']"),
    ],
)
def test_relevant_update_of_a_ready_device_is_provisioned(default_run, name, fields):
    out = joined(default_run[name])
    assert f"Device {name}: " + msg.RELEVANT_FIELDS_CHANGED.format(fields=fields) in out
    assert msg.AUTO_PROVISION_ENABLED.format(event="update") in out
    assert msg.DEVICE_READY.format(name=name) in out
    assert f"PROVISION {name} dry_run=True" in out
    assert out.count("PROVISION") == 1


@pytest.mark.parametrize("name", ["s-comments", "s-stale-nested"])
def test_irrelevant_update_is_skipped(default_run, name):
    out = joined(default_run[name])
    assert msg.NO_RELEVANT_CHANGE in out
    assert "PROVISION" not in out


@pytest.mark.parametrize(
    "name, reason",
    [
        ("s-no-driver", msg.REASON_NO_NAPALM_DRIVER),
        ("s-no-platform", msg.REASON_NO_PLATFORM),
        ("s-offline", msg.bad_status_reason(msg.DEFAULT_READY_STATUSES, "Offline")),
    ],
)
def test_unready_device_is_not_provisioned_and_says_why(default_run, name, reason):
    out = joined(default_run[name])
    assert msg.DEVICE_NOT_READY in out
    assert reason in out
    assert "PROVISION" not in out


def test_platform_change_of_a_ready_device_is_logged_not_provisioned(default_run):
    out = joined(default_run["s-platform"])
    assert "Device s-platform: " + msg.RELEVANT_FIELDS_CHANGED.format(fields="['platform']") in out
    assert msg.PLATFORM_CHANGED.format(platform="Junos") in out
    assert "ansible-playbook sotsync.nautobot.provision_device -e device=s-platform" in out
    assert "PROVISION" not in out


def test_platform_change_is_provisioned_when_the_setting_says_so(tmp_path):
    run = run_rulebook(
        tmp_path, settings(provision_on_platform_change=True), [event("s-platform", bodies.platform_change())]
    )
    out = joined(run["s-platform"])
    assert "PROVISION s-platform dry_run=True" in out and "not provisioned automatically" not in out


def test_create_is_skipped_by_default(default_run):
    out = joined(default_run["s-create"])
    assert msg.AUTO_PROVISION_DISABLED.format(event="create") in out
    assert "PROVISION" not in out


def test_delete_is_never_provisioned(default_run):
    out = joined(default_run["s-deleted"])
    assert "was deleted: nothing to provision" in out
    assert "PROVISION" not in out


def test_flags_and_extended_fields(tmp_path):
    run = run_rulebook(
        tmp_path,
        settings(
            auto_provision_on_create=True,
            auto_provision_on_update=False,
            dry_run=False,
            relevant_fields=["name", "comments"],
        ),
    )
    created = joined(run["s-create"])
    assert "Auto-provision on create is enabled" in created
    assert "PROVISION s-create dry_run=False" in created
    rename = joined(run["s-rename"])
    assert "Auto-provision on update is disabled" in rename
    assert "PROVISION" not in rename
    comments = joined(run["s-comments"])  # users extend the list: comments now matter
    assert "Configuration-relevant fields changed: ['comments']" in comments
    assert "Auto-provision on update is disabled" in comments


def test_aap_variant_is_generated_from_the_rulebook():
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen-aap-rulebook"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    aap = yaml.safe_load((ROOT / "rulebooks" / "device_config_hook_aap.yml").read_text())
    local = yaml.safe_load(RULEBOOK.read_text())
    assert [r["condition"] for r in aap[0]["rules"]] == [r["condition"] for r in local[0]["rules"]]
    action = aap[0]["rules"][-1]["actions"][-1]["run_job_template"]
    local_action = local[0]["rules"][-1]["actions"][-1]["run_playbook"]
    assert action["lock"] == local_action["lock"] == "sotsync.nautobot.provision"
    assert action["job_args"]["extra_vars"] == local_action["extra_vars"]
    assert set(action["job_args"]["extra_vars"]) == {
        "device",
        "dry_run",
        "plan",
        "ready_statuses",
        "job_queue",
        "update_compliance",
        "trigger",
    }
    # The approval gate's deployment: the first rule, the same lock, its own job template.
    plan_action = aap[0]["rules"][0]["actions"][-1]["run_job_template"]
    local_plan_action = local[0]["rules"][0]["actions"][-1]["run_playbook"]
    assert local_plan_action["name"] == "sotsync.nautobot.deploy_config_plan"
    assert plan_action["name"] == "{{ plan_job_template_name }}"
    assert plan_action["lock"] == local_plan_action["lock"] == "sotsync.nautobot.provision"
    assert plan_action["job_args"]["extra_vars"] == local_plan_action["extra_vars"]
    assert set(plan_action["job_args"]["extra_vars"]) == {
        "plan",
        "dry_run",
        "ready_statuses",
        "job_queue",
        "update_compliance",
        "trigger",
    }


def run_playbook_actions(node):
    """Every run_playbook action of a rulebook's YAML tree."""
    if isinstance(node, dict):
        if "run_playbook" in node:
            yield node["run_playbook"]
        for value in node.values():
            yield from run_playbook_actions(value)
    elif isinstance(node, list):
        for item in node:
            yield from run_playbook_actions(item)


def test_the_rulebook_passes_only_what_the_playbooks_declare():
    """The playbook is the contract: every extra var the rulebook passes is one of the variables its
    header declares (never a role's variable reaching past it), and each declared variable is read."""
    actions = list(run_playbook_actions(yaml.safe_load(RULEBOOK.read_text())))
    assert {a["name"] for a in actions} == {"sotsync.nautobot.provision_device", "sotsync.nautobot.deploy_config_plan"}
    for action in actions:
        playbook = ROOT / "playbooks" / (action["name"].rsplit(".", 1)[1] + ".yml")
        text = playbook.read_text()
        declared = rulebook.playbook_variables(text)
        passed = set(action["extra_vars"])
        assert passed <= declared, f"{action['name']} does not declare {sorted(passed - declared)}"
        body = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
        unread = {name for name in declared if not re.search(rf"{{{{[^}}]*\b{name}\b", body)}
        assert not unread, f"{action['name']} declares {sorted(unread)} but never reads them"


def test_playbook_variables_reader_sees_an_undeclared_variable():
    text = "# The playbook's variables:\n#   device   names\n#            more about it\n#   dry_run  bool\n# Other\n"
    assert rulebook.playbook_variables(text) == {"device", "dry_run"}


def test_a_burst_is_one_batch_with_each_device_once(tmp_path):
    """Events marked burst (the source saw them close together) become one provisioning run: the
    batch rule's window gathers them, each device once, after each device's own decision."""
    burst = []
    for index, name in enumerate(["b-one", "b-two", "b-three"]):
        ev = event(name, bodies.rename())
        ev["nautobot"]["object_id"] = ev["nautobot"]["device"]["id"] = f"00000000-0000-4000-8000-00000000000{index}"
        ev["nautobot"]["burst"] = True
        burst.append(ev)
    again = json.loads(json.dumps(burst[0]))  # b-one changed again in the same window
    comments = event("b-skip", bodies.comments_only())
    comments["nautobot"]["burst"] = True
    run = run_rulebook(tmp_path, settings(ready_statuses=["Active", "Staged"]), burst + [again, comments], linger=7)
    everything = [line for lines in run.values() for line in lines]
    assert [line for line in everything if "PROVISION" in line] == [
        "PROVISION b-one b-three b-two dry_run=True ready=Active,Staged"
    ]
    assert any(line.startswith("Provisioning triggered (dry_run=True, 3 device(s) in one run: ") for line in everything)
    for name in ("b-one", "b-two", "b-three"):
        assert msg.DEVICE_READY.format(name=name) in everything
    assert msg.NO_RELEVANT_CHANGE in joined(run["b-skip"])


# --- the approval gate: config plan events ----------------------------------------------------------
def plan_event(name: str, status: str, before_status: str | None = None, action: str = "updated") -> dict:
    """The source's config plan event for a plan of device ``name`` whose status became ``status``."""
    payload = bodies.config_plan_change(status, before_status=before_status, device_name=name, event=action)
    hook = request.validate_payload(payload, (request.DEVICE, request.CONFIG_PLAN))
    return device_event.normalize_config_plan_event(hook)


def test_approval_mode_plans_changes_and_deploys_only_approved_plans(tmp_path):
    events = [
        event("a-rename", bodies.rename()),
        plan_event("p-approved", "Approved", before_status="Not Approved"),
        plan_event("p-rejected", "Failed", before_status="Not Approved"),
        plan_event("p-new", "Not Approved", action="created"),
    ]
    comments_then_approved = plan_event("p-comment", "Approved", before_status="Approved")  # no status change
    run = run_rulebook(tmp_path, settings(approval=True), events + [comments_then_approved])
    assert "PROVISION a-rename dry_run=True ready=Active,Planned,Staged plan=True" in joined(run["a-rename"])
    approved = joined(run["p-approved"])
    plan_id = events[1]["nautobot"]["object_id"]
    assert f"Config plan {plan_id} for p-approved approved by admin: deploying" in approved
    assert f"DEPLOY PLAN {plan_id} of p-approved" in approved
    for name in ("p-rejected", "p-new", "p-comment"):
        lines = joined(run[name])
        assert "DEPLOY PLAN" not in lines and "PROVISION" not in lines, lines
        assert "Nothing deployed: a config plan is deployed when its status changes to Approved" in lines
    assert "status Failed" in joined(run["p-rejected"])


def test_without_approval_an_approved_plan_is_not_deployed(tmp_path):
    events = [plan_event("p-approved", "Approved", before_status="Not Approved"), event("a-rename", bodies.rename())]
    run = run_rulebook(tmp_path, settings(), events)
    assert "DEPLOY PLAN" not in joined(run["p-approved"])
    assert "Nothing deployed" in joined(run["p-approved"])
    rename = joined(run["a-rename"])
    assert "PROVISION a-rename dry_run=True ready=Active,Planned,Staged" in rename and "plan=True" not in rename
