"""docs/awx.md's artifacts (docs/examples/awx), checked against the installed collection as far as a test
reaches without an AWX/AAP: the project's wrapper playbook syntax-checks; each credential type injects
exactly the environment variables the collection's doc fragments declare; the activation's variables
give every variable the AAP rulebook uses and name the example job template; the job template accepts
what the rulebook passes and what the playbook reads.
"""

import json
import re
import shutil
import textwrap
from pathlib import Path

import jinja2
import jinja2.meta
import pytest
import yaml
from tests.packaging.collection_package import tool
from tests.packaging.python_strings import python_strings
from packaging.specifiers import SpecifierSet

ENV_REFERENCE = re.compile(r"E\(([A-Z0-9_]+)\)")
VARIABLE = re.compile(r"^\{\{\s*(\w+)\s*\}\}$")


def example(installed, relative):
    return yaml.safe_load((installed.path / "docs" / "examples" / "awx" / relative).read_text())


def fragment_env_vars(path):
    """The E(...) environment variables a doc fragment's options declare."""
    (documentation,) = [
        value for scope, name, value in python_strings([path])[str(path)] if scope and name == "DOCUMENTATION"
    ]
    found = set()
    for option in yaml.safe_load(documentation)["options"].values():
        description = option["description"]
        for line in [description] if isinstance(description, str) else description:
            found.update(ENV_REFERENCE.findall(line))
    return found


def used_variables(template_text):
    return jinja2.meta.find_undeclared_variables(jinja2.Environment().parse(template_text))


@pytest.mark.parametrize("fragment", ["nautobot", "napalm"])
def test_credential_type_injects_the_fragment_env_vars(installed, fragment):
    declared = fragment_env_vars(installed.path / "plugins" / "doc_fragments" / f"{fragment}.py")
    assert len(declared) == 2, declared
    credential_type = example(installed, f"credential-types/{fragment}.yml")
    injectors = credential_type["injectors"]
    assert set(injectors) == {"env"}
    assert set(injectors["env"]) == declared
    fields = {field["id"]: field for field in credential_type["inputs"]["fields"]}
    assert set(credential_type["inputs"]["required"]) == set(fields)
    for value in injectors["env"].values():
        (field,) = used_variables(value)
        assert field in fields
    assert [f for f in fields.values() if f.get("secret")], "the token or password must be a secret field"


def test_webhook_credential_gives_the_rulebook_its_secret(installed):
    rulebook = installed.yaml("rulebooks/device_config_hook_aap.yml")
    (source,) = [s for s in rulebook[0]["sources"] if "sotsync.nautobot.webhook" in s]
    variable = VARIABLE.match(source["sotsync.nautobot.webhook"]["secret"]).group(1)
    injectors = example(installed, "credential-types/webhook.yml")["injectors"]
    assert set(injectors) == {"extra_vars"} and set(injectors["extra_vars"]) == {variable}
    assert example(installed, "credential-types/webhook.yml")["inputs"]["fields"][0]["secret"] is True


def run_job_template_actions(rulebook):
    for ruleset in rulebook:
        for rule in ruleset["rules"]:
            for action in rule.get("actions") or [rule["action"]]:
                if "run_job_template" in action:
                    yield action["run_job_template"]


# The job template each run_job_template action names (by its variable), as docs/examples/awx gives it.
JOB_TEMPLATES = {"job_template_name": "job-template.yml", "plan_job_template_name": "deploy-plan-job-template.yml"}


def job_template_of(installed, action):
    (variable,) = used_variables(action["name"])
    return example(installed, JOB_TEMPLATES[variable])


def test_activation_names_the_example_job_template(installed):
    variables = example(installed, "rulebook-activation.yml")["variables"]
    actions = list(run_job_template_actions(installed.yaml("rulebooks/device_config_hook_aap.yml")))
    assert len(actions) == 3  # two provisioning rules share one action; the approved plans' deployment
    for action in actions:
        job_template = job_template_of(installed, action)
        name = jinja2.Environment().from_string(action["name"]).render(variables)
        organization = jinja2.Environment().from_string(action["organization"]).render(variables)
        assert (name, organization) == (job_template["name"], job_template["organization"])


def test_plan_job_template_runs_deploy_config_plan_like_the_provisioning_one(installed):
    provision = example(installed, "job-template.yml")
    plan = example(installed, "deploy-plan-job-template.yml")
    for key in ("organization", "project", "inventory", "execution_environment", "credentials", "job_type"):
        assert plan[key] == provision[key], key
    (play,) = example(installed, f"project/{plan['playbook']}")
    assert play["ansible.builtin.import_playbook"] == "sotsync.nautobot.deploy_config_plan"
    assert plan["ask_variables_on_launch"] is True and plan["extra_vars"]["dry_run"] is True
    (deploy,) = installed.yaml("playbooks/deploy_config_plan.yml")
    read = set()
    for text in template_strings(deploy):
        read |= ansible_used_variables(text)
    for action in run_job_template_actions(installed.yaml("rulebooks/device_config_hook_aap.yml")):
        if job_template_of(installed, action) == plan:
            assert set(action["job_args"]["extra_vars"]) <= read, set(action["job_args"]["extra_vars"]) - read


def test_activation_variables_cover_the_rulebook(installed):
    activation = example(installed, "rulebook-activation.yml")
    settings = installed.yaml("rulebooks/vars/device_config_hook.yml")
    assert set(activation["variables"]) == set(settings) | {
        "job_template_name",
        "job_template_organization",
        "plan_job_template_name",
    }
    assert activation["rulebook"] == "device_config_hook_aap.yml"
    text = (installed.path / "rulebooks" / "device_config_hook_aap.yml").read_text()
    used = set(re.findall(r"\bvars\.(\w+)", text))
    for template in re.findall(r"\{\{.*?\}\}", text, re.S):
        used |= used_variables(template)
    used -= {"event", "events", "vars"}  # given by ansible-rulebook per rule
    secret = set(example(installed, "credential-types/webhook.yml")["injectors"]["extra_vars"])
    assert used, text
    assert used <= set(activation["variables"]) | secret, used - set(activation["variables"]) - secret


def playbook_variables(installed):
    """The extra vars provision_device reads (the task handing them to its role): Ansible's own (ansible_eda,
    ansible_play_hosts), the play's variables and the role's own variables (their defaults) aside."""
    (play,) = installed.yaml("playbooks/provision_device.yml")
    used = set()
    for task in play["pre_tasks"]:
        for value in task.get("ansible.builtin.set_fact", {}).values():
            used |= used_variables(value)
    return used - {"ansible_eda", "ansible_play_hosts"} - set(play.get("vars") or {}) - role_variables(installed)


def role_variables(installed):
    """The provision role's documented inputs: extra vars the playbook passes on to the role as they are."""
    specs = installed.yaml("roles/provision/meta/argument_specs.yml")
    return set(specs["argument_specs"]["main"]["options"])


def test_job_template_takes_what_the_rulebook_passes(installed):
    read = playbook_variables(installed)
    assert {
        "device",
        "filter",
        "dry_run",
        "plan",
        "ready_statuses",
        "job_queue",
        "update_compliance",
        "trigger",
    } == read
    job_template = example(installed, "job-template.yml")
    assert job_template["ask_variables_on_launch"] is True
    assert set(job_template["extra_vars"]) <= read
    passed = set()
    for action in run_job_template_actions(installed.yaml("rulebooks/device_config_hook_aap.yml")):
        if job_template_of(installed, action) == job_template:
            passed |= set(action["job_args"]["extra_vars"])
    assert passed <= read, passed - read  # the playbook's own variables, never the role's
    assert "job_queue" in passed


def template_strings(node):
    """Every string of a YAML tree, keys aside."""
    if isinstance(node, dict):
        for value in node.values():
            yield from template_strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from template_strings(item)
    elif isinstance(node, str):
        yield node


def tasks_of(tasks):
    for task in tasks:
        yield task
        for key in ("block", "rescue", "always"):
            yield from tasks_of(task.get(key) or [])


class _AnyName(dict):
    """Jinja's filters or tests as far as introspection asks: every name exists (Ansible's bool, ...)."""

    def __contains__(self, name):
        return True

    def get(self, name, default=None):
        return super().get(name) or (lambda *args, **kwargs: None)


def ansible_used_variables(template_text):
    environment = jinja2.Environment()
    environment.filters = _AnyName(environment.filters)
    environment.tests = _AnyName(environment.tests)
    return jinja2.meta.find_undeclared_variables(environment.parse(template_text))


def reconcile_variables(installed):
    """The extra vars reconcile reads: the variables its templates use, less what the play sets itself, the role's
    own variables (their defaults), what the role registers (provision_result) and what Ansible or AWX give
    (ansible_check_mode, awx_job_id, hostvars, groups)."""
    (play,) = installed.yaml("playbooks/reconcile.yml")
    used = set()
    for text in template_strings(play):
        used |= ansible_used_variables(text)
    for task in tasks_of(play["tasks"]):
        # a bare "when"/"that" condition is a Jinja expression without braces
        for key in ("when", "that"):
            conditions = task.get(key) or (task.get("ansible.builtin.assert") or {}).get(key) or []
            for condition in [conditions] if isinstance(conditions, str) else conditions:
                used |= ansible_used_variables("{{ " + condition + " }}")
    own = set()
    for task in tasks_of(play["tasks"]):
        own |= set(task.get("vars") or {})
        own |= set(task.get("ansible.builtin.set_fact") or {})
        own |= {task["register"]} if "register" in task else set()
    role = set(installed.yaml("roles/provision/defaults/main.yml") or {})  # the role's own variables
    role |= set(installed.yaml("roles/provision/meta/argument_specs.yml")["argument_specs"]["main"]["options"])
    magic = {"provision_result", "ansible_check_mode", "awx_job_id", "hostvars", "groups", "omit"}
    return used - own - role - magic


def test_reconcile_reads_these_extra_vars(installed):
    (play,) = installed.yaml("playbooks/reconcile.yml")
    # a dry run, both ways (extra lines too), no failure on drift, by default
    assert play["vars"] == {
        "remediate": False,
        "fail_on_drift": False,
        "extra_lines": True,
        "fail_on_not_covered": False,
        "remediation_plans": False,
    }
    read = reconcile_variables(installed)
    assert read == {
        "device",
        "filter",
        "remediate",
        "fail_on_drift",
        "extra_lines",
        "fail_on_not_covered",
        "remediation_plans",
        "compliance_max_age",
        "ready_statuses",
        "trigger",
        "dry_run",
    }


def test_reconcile_job_template_runs_the_reconcile_playbook_like_the_provisioning_one(installed):
    provision = example(installed, "job-template.yml")
    reconcile = example(installed, "reconcile-job-template.yml")
    for key in ("organization", "project", "inventory", "execution_environment", "credentials", "job_type"):
        assert reconcile[key] == provision[key], key
    assert reconcile["name"] != provision["name"]
    (play,) = example(installed, f"project/{reconcile['playbook']}")
    assert play["ansible.builtin.import_playbook"] == "sotsync.nautobot.reconcile"
    assert reconcile["ask_variables_on_launch"] is True  # the schedule's extra_data needs the prompt
    read = reconcile_variables(installed) - {"dry_run"}  # dry_run is refused: remediate is the switch
    assert set(reconcile["extra_vars"]) <= read
    assert reconcile["extra_vars"]["remediate"] is False
    # Neither restates the collection's default ready statuses (the role's provision_ready_statuses).
    assert "ready_statuses" not in reconcile["extra_vars"] and "ready_statuses" not in provision["extra_vars"]


DTSTART = re.compile(r"^DTSTART(;TZID=[A-Za-z_]+(/[A-Za-z_]+)*)?:\d{8}T\d{6}Z?$")
RRULE_PARTS = {"FREQ", "INTERVAL", "COUNT", "UNTIL", "BYDAY", "BYMONTHDAY", "BYMONTH", "BYHOUR", "BYMINUTE"}


def test_reconcile_schedule_launches_the_reconcile_job_template(installed):
    schedule = example(installed, "reconcile-schedule.yml")
    reconcile = example(installed, "reconcile-job-template.yml")
    assert schedule["unified_job_template"] == reconcile["name"]
    # AWX's form: "DTSTART...:<local time> RRULE:<parts>", one space between them
    start, rule = schedule["rrule"].split(" ")
    assert DTSTART.match(start), start
    assert rule.startswith("RRULE:"), rule
    parts = dict(part.split("=", 1) for part in rule[len("RRULE:") :].split(";"))
    assert set(parts) <= RRULE_PARTS and parts["FREQ"] in {"MINUTELY", "HOURLY", "DAILY", "WEEKLY", "MONTHLY"}
    assert int(parts.get("INTERVAL", "1")) >= 1
    assert schedule["enabled"] is True
    assert set(schedule["extra_data"]) <= reconcile_variables(installed) - {"dry_run"}
    assert "remediate" not in schedule["extra_data"]  # the example stays a dry run


def test_project_requirements_name_this_collection(installed):
    requirements = example(installed, "project/collections/requirements.yml")["collections"]
    info = installed.manifest["collection_info"]
    (entry,) = requirements
    assert entry["name"] == f"{info['namespace']}.{info['name']}"
    assert SpecifierSet(entry["version"]).contains(info["version"])


LOAD_PROJECT_RULEBOOK = textwrap.dedent(
    """
    import json, sys, yaml
    from ansible_rulebook import rules_parser
    from ansible_rulebook.validators import Validate
    data = yaml.safe_load(open(sys.argv[1]))
    Validate.rulebook(data)
    rulesets = rules_parser.parse_rule_sets(data, json.loads(sys.argv[2]))
    print(json.dumps([rule.name for ruleset in rulesets for rule in ruleset.rules]))
    """
)


def test_project_layout_loads(installed, tmp_path):
    """The example project as docs/awx.md lays it out: the wrapper playbook syntax-checks against the
    installed collection, and the AAP rulebook copied into rulebooks/ parses with the activation's
    variables."""
    project = tmp_path / "project"
    shutil.copytree(installed.path / "docs" / "examples" / "awx" / "project", project)
    (project / "rulebooks").mkdir()
    shutil.copy(installed.path / "rulebooks" / "device_config_hook_aap.yml", project / "rulebooks")
    out = installed.run(
        [tool("ansible-playbook"), "--syntax-check", "-i", "localhost,", "provision_device.yml"], cwd=project
    ).stdout
    assert "playbook: provision_device.yml" in out
    (play,) = yaml.safe_load((project / "provision_device.yml").read_text())
    assert play["ansible.builtin.import_playbook"] == "sotsync.nautobot.provision_device"
    out = installed.run(
        [tool("ansible-playbook"), "--syntax-check", "-i", "localhost,", "reconcile.yml"], cwd=project
    ).stdout
    assert "playbook: reconcile.yml" in out
    variables = dict(example(installed, "rulebook-activation.yml")["variables"], SOTSYNC_WEBHOOK_SECRET="x")
    python = str(Path(tool("ansible-rulebook")).parent / "python")
    rules = installed.run(
        [python, "-c", LOAD_PROJECT_RULEBOOK, "rulebooks/device_config_hook_aap.yml", json.dumps(variables)],
        cwd=project,
    ).stdout
    assert "Provision a lone change at once" in json.loads(rules.splitlines()[-1])
