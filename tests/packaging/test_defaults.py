"""One fact in one place: each default of the role lives in its defaults/main.yml, which Ansible makes
meta/argument_specs.yml state again (ansible-doc shows it). The two copies must agree, and the defaults
the role shares with the modules must be the modules' (plugins/module_utils/arguments.py, messages.py).
The playbooks restate none of them: an unset playbook variable leaves the role's or the module's."""

import re

import pytest

from ansible_collections.sotsync.nautobot.plugins.module_utils import arguments, messages

# The role's variable -> the option of golden_config_deploy it is passed to (roles/provision/tasks/main.yml).
SHARED_WITH_THE_MODULE = {
    "provision_workers": "workers",
    "provision_intent_source": "intent_source",
    "provision_dry_run": "dry_run",
    "provision_plan": "plan",
    "provision_ready_statuses": "ready_statuses",
    "provision_job_queue": "job_queue",
    "provision_update_compliance": "update_compliance",
    "provision_compliance_drift": "compliance_drift",
    "provision_compliance_max_age": "compliance_max_age",
    "provision_napalm_timeout": "timeout",
    "provision_commit_confirm_seconds": "commit_confirm_seconds",
    "provision_readdress_without_confirm": "readdress_without_confirm",
    "provision_notes_unchanged": "notes_unchanged",
    "provision_trigger": "trigger",
}


@pytest.fixture(scope="module")
def role(installed):
    defaults = installed.yaml("roles/provision/defaults/main.yml")
    specs = installed.yaml("roles/provision/meta/argument_specs.yml")["argument_specs"]["main"]["options"]
    return defaults, specs


def test_argument_specs_state_the_defaults_of_defaults_main(role):
    defaults, specs = role
    for name, spec in specs.items():
        if "default" in spec:
            assert name in defaults, f"{name}: argument_specs.yml has a default, defaults/main.yml none"
            if name != "provision_notes":  # a template falling back to the deprecated provision_journal
                assert defaults[name] == spec["default"], name
    for name in defaults:
        assert "default" in specs.get(name, {}), f"{name}: defaults/main.yml has it, argument_specs.yml states none"


def test_the_role_shares_the_modules_defaults(role):
    defaults, _specs = role
    spec = arguments.GOLDEN_CONFIG_DEPLOY_ARGUMENT_SPEC
    for variable, option in SHARED_WITH_THE_MODULE.items():
        assert defaults[variable] == spec[option]["default"], variable
    assert defaults["provision_ready_statuses"] == list(messages.DEFAULT_READY_STATUSES)
    assert defaults["provision_commit_confirm_seconds"] == arguments.DEFAULT_COMMIT_CONFIRM_SECONDS
    assert arguments.CONFIG_PLAN_DEPLOY_ARGUMENT_SPEC["commit_confirm_seconds"]["default"] == (
        arguments.DEFAULT_COMMIT_CONFIRM_SECONDS
    )


@pytest.mark.parametrize("playbook", ["provision_device", "deploy_config_plan", "reconcile"])
def test_playbooks_restate_no_default(installed, playbook):
    text = (installed.path / "playbooks" / f"{playbook}.yml").read_text()
    body = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    for statuses in (r"Active.{0,4}Planned", r"Planned.{0,4}Staged"):
        assert not re.search(statuses, body), f"{playbook} restates the ready statuses"
    for restated in ("default(60)", "update_compliance | default(true)", "job_queue | default(''"):
        assert restated not in body, f"{playbook} restates a default: {restated}"
