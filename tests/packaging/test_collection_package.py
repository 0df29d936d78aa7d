"""The built tarball, installed offline into a fresh path: what ships, and that it loads from there.

Playbooks are syntax-checked and modules and the role rendered by ansible-doc with
ANSIBLE_COLLECTIONS_PATH pointing only at the fresh path; the rulebooks are found, validated against
ansible-rulebook's JSON schema and parsed (conditions included) by ansible-rulebook's own code.
"""

import json
import textwrap
from pathlib import Path

import pytest
import yaml
from tests.packaging.collection_package import ROOT, tool
from tests.packaging.python_strings import module_strings

GPL3 = Path("/usr/share/common-licenses/GPL-3")

# Files of the checkout that are for its developers: each must exist here and be absent from the tarball.
DEVELOPER_FILES = [
    "lab",
    "scripts",
    ".ci",
    "tests/eda",
    "tests/rulebook",
    "tests/simulator",
    "tests/labtools",
    "tests/integration",
    "tests/bench",
    "tests/packaging",
    "tests/conftest.py",
    "tests/support/rulebook.py",
    "tests/support/source_process.py",
    "requirements.txt",
    "pyproject.toml",
    ".ansible-lint",
    ".gitignore",
    "extensions/molecule",
    "docs/developer.md",
    "docs/site",
    "tests/docs",
    "ansible.cfg",
]
# What a user needs from the tarball.
SHIPPED_FILES = [
    "LICENSE",
    "README.md",
    "CHANGELOG.rst",
    "changelogs/changelog.yaml",
    "docs/versioning.md",
    "docs/changelog-source.md",
    "meta/runtime.yml",
    "meta/execution-environment.yml",
    "meta/ee-requirements.txt",
    "meta/extensions.yml",
    "docs/event.md",
    "docs/awx.md",
    "docs/performance.md",
    "docs/examples/awx/project/provision_device.yml",
    "docs/examples/awx/project/collections/requirements.yml",
    "docs/examples/awx/credential-types/nautobot.yml",
    "docs/examples/awx/credential-types/napalm.yml",
    "docs/examples/awx/credential-types/webhook.yml",
    "docs/examples/awx/job-template.yml",
    "docs/examples/awx/rulebook-activation.yml",
    "docs/examples/awx/project/reconcile.yml",
    "docs/examples/awx/reconcile-job-template.yml",
    "docs/examples/awx/reconcile-schedule.yml",
    "docs/examples/awx/deploy-plan-job-template.yml",
    "docs/examples/awx/project/deploy_config_plan.yml",
    "docs/reconcile.md",
    "docs/examples/environments/execution-environment.yml",
    "docs/examples/environments/decision-environment.yml",
    "extensions/eda/plugins/event_source/webhook.py",
    "extensions/eda/plugins/import_collection.py",
    "rulebooks/device_config_hook.yml",
    "rulebooks/device_config_hook_aap.yml",
    "rulebooks/inventory.yml",
    "rulebooks/vars/device_config_hook.yml",
    "playbooks/provision_device.yml",
    "playbooks/nautobot_webhooks.yml",
    "playbooks/reconcile.yml",
    "playbooks/deploy_config_plan.yml",
]


def test_user_files_ship(installed):
    for relative in SHIPPED_FILES:
        assert relative in installed.members, relative
        assert (installed.path / relative).read_bytes() == (ROOT / relative).read_bytes(), relative


@pytest.mark.parametrize("relative", DEVELOPER_FILES)
def test_developer_files_stay_out(installed, relative):
    assert (ROOT / relative).exists(), f"{relative} is gone from the checkout: update this list"
    assert not [m for m in installed.members if m == relative or m.startswith(relative + "/")]
    assert not (installed.path / relative).exists()


def test_no_build_or_environment_debris(installed):
    tops = {member.split("/", 1)[0] for member in installed.members}
    assert not tops & {".venv", ".build", ".lab", ".git", "collections", "ansible_collections", "tests/output"}
    assert not [m for m in installed.members if m.endswith((".pyc", ".tar.gz")) or "__pycache__" in m]


def test_license_is_the_gpl3_text(installed):
    text = (installed.path / "LICENSE").read_text()
    assert text.lstrip().startswith("GNU GENERAL PUBLIC LICENSE")
    assert "Version 3, 29 June 2007" in text and "END OF TERMS AND CONDITIONS" in text
    if GPL3.exists():
        assert text == GPL3.read_text()
    assert installed.manifest["collection_info"]["license"] == ["GPL-3.0-or-later"]


def test_manifest_links(installed):
    info = installed.manifest["collection_info"]
    for key in ("repository", "documentation", "issues"):
        assert info[key] and info[key].startswith("https://"), key
    assert info["documentation"].startswith(info["repository"]) and info["issues"].startswith(info["repository"])


def test_playbooks_load_from_the_installed_path(installed):
    playbooks = sorted((installed.path / "playbooks").glob("*.yml"))
    names = [f"sotsync.nautobot.{p.stem}" for p in playbooks]
    assert {"sotsync.nautobot.provision_device", "sotsync.nautobot.reconcile"} <= set(names)
    out = installed.run([tool("ansible-playbook"), "--syntax-check", "-i", "localhost,", *names]).stdout
    for playbook in playbooks:  # each FQCN resolved to the installed copy
        assert f"playbook: {playbook}" in out, out


def test_ansible_doc_renders_every_module_and_the_role(installed):
    listed = json.loads(installed.run([tool("ansible-doc"), "-t", "module", "-l", "sotsync.nautobot", "--json"]).stdout)
    modules = sorted(f"sotsync.nautobot.{p.stem}" for p in (installed.path / "plugins" / "modules").glob("*.py"))
    assert sorted(listed) == modules
    docs = json.loads(installed.run([tool("ansible-doc"), "-t", "module", "--json", *modules]).stdout)
    for name in modules:
        doc = docs[name]["doc"]
        assert doc["short_description"] and doc["options"], name
        assert docs[name]["examples"] and docs[name]["return"], name
    text = installed.run([tool("ansible-doc"), "-t", "module", *modules]).stdout
    assert text.count("OPTIONS") >= len(modules)
    roles = sorted(p.name for p in (installed.path / "roles").iterdir())
    role_docs = json.loads(
        installed.run([tool("ansible-doc"), "-t", "role", "--json", *[f"sotsync.nautobot.{r}" for r in roles]]).stdout
    )
    for role in roles:
        assert role_docs[f"sotsync.nautobot.{role}"]["entry_points"]["main"]["options"], role


LOAD_RULEBOOKS = textwrap.dedent(
    """
    import json, sys
    from ansible_rulebook import rules_parser
    from ansible_rulebook.collection import find_source, has_rulebook, load_rulebook, split_collection_name
    from ansible_rulebook.validators import Validate

    found = {}
    for name in sys.argv[1:]:
        collection, rulebook = split_collection_name(name)
        if not has_rulebook(collection, rulebook):
            sys.exit(f"ansible-rulebook does not find {name}")
        _vaulted, data = load_rulebook(collection, rulebook)
        Validate.rulebook(data)  # the JSON schema the CLI checks rulebook files with
        rulesets = rules_parser.parse_rule_sets(data)  # conditions parsed into the engine's form
        found[name] = {
            "rules": [rule.name for ruleset in rulesets for rule in ruleset.rules],
            "sources": {
                source.source_name: find_source(*split_collection_name(source.source_name))
                for ruleset in rulesets
                for source in ruleset.sources
            },
        }
    print(json.dumps(found))
    """
)


def test_rulebooks_load_from_the_installed_path(installed):
    names = sorted(
        f"sotsync.nautobot.{p.stem}"
        for p in (installed.path / "rulebooks").glob("*.yml")
        if p.name != "inventory.yml"  # ansible-rulebook's inventory, not a rulebook
    )
    assert {"sotsync.nautobot.device_config_hook", "sotsync.nautobot.device_config_hook_aap"} <= set(names)
    python = str(Path(tool("ansible-rulebook")).parent / "python")
    found = json.loads(installed.run([python, "-c", LOAD_RULEBOOKS, *names]).stdout.splitlines()[-1])
    for name in names:
        assert found[name]["rules"], name
        for source, path in found[name]["sources"].items():
            assert path and Path(path).is_relative_to(installed.path), (name, source, path)


def test_eda_plugin_docs_parse_from_the_installed_path(installed):
    """ansible-doc does not render EDA plugins: their DOCUMENTATION and EXAMPLES must at least be valid YAML
    with a description and options, as Automation Hub reads them."""
    plugins = sorted((installed.path / "extensions" / "eda" / "plugins").glob("*/*.py"))
    assert installed.path / "extensions" / "eda" / "plugins" / "event_source" / "webhook.py" in plugins
    for path in plugins:
        strings = module_strings(path)
        if path.name == "webhook.py":
            assert {"DOCUMENTATION", "EXAMPLES"} <= set(strings)
        if "DOCUMENTATION" in strings:
            doc = yaml.safe_load(strings["DOCUMENTATION"])
            assert doc["short_description"] and doc["description"] and doc["options"], path
        if "EXAMPLES" in strings:
            assert yaml.safe_load(strings["EXAMPLES"]), path
