"""Runtime dependencies (meta/ee-requirements.txt) apart from the checkout's developer tools.

ansible-builder introspects the installed collection the way it does inside an image build; the
shipped example execution and decision environments are turned into build contexts (no container
runtime needed for that).
"""

import importlib.metadata
import shutil

import yaml
from tests.packaging.collection_package import ROOT, requirements, tool
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

EXAMPLES = ROOT / "docs" / "examples" / "environments"


def introspect(installed):
    out = installed.run([tool("ansible-builder"), "introspect", str(installed.collections_path)]).stdout
    return yaml.safe_load(out)


def test_meta_points_at_the_runtime_file(installed):
    meta = installed.yaml("meta/execution-environment.yml")
    assert meta["dependencies"] == {"python": "meta/ee-requirements.txt"}
    assert (installed.path / "meta" / "ee-requirements.txt").is_file()


def test_introspect_lists_the_runtime_dependencies_only(installed):
    data = introspect(installed)
    listed = [Requirement(line.split("#", 1)[0]) for line in data["python"]]
    listed = {canonicalize_name(requirement.name): requirement for requirement in listed}
    runtime = requirements(installed.path / "meta" / "ee-requirements.txt")
    developer = set(requirements(ROOT / "requirements.txt")) - set(runtime)
    # the split is meaningful: the developer side holds the tools of the report
    assert {"ruff", "pytest-asyncio", "napalm-ansible", "ansible-rulebook", "ansible-builder"} <= developer
    assert set(listed) == set(runtime), data
    assert not developer & set(listed), f"developer pins in an execution environment: {developer & set(listed)}"
    assert listed == runtime
    assert data["system"] == []


def test_checkout_pins_fall_in_the_runtime_ranges():
    """The tests run versions a user's environment may get: each pin satisfies the shipped range."""
    runtime = requirements(ROOT / "meta" / "ee-requirements.txt")
    pinned = requirements(ROOT / "requirements.txt")
    for name, requirement in runtime.items():
        assert name in pinned, f"{name} is a runtime dependency the checkout does not pin"
        (spec,) = pinned[name].specifier
        assert spec.operator == "==", pinned[name]
        assert requirement.specifier.contains(spec.version), f"{pinned[name]} is outside {requirement}"
        assert requirement.specifier.contains(importlib.metadata.version(name)), name


def test_example_environments_use_the_tested_versions():
    pinned = requirements(ROOT / "requirements.txt")
    for definition in ("execution-environment.yml", "decision-environment.yml"):
        deps = yaml.safe_load((EXAMPLES / definition).read_text())["dependencies"]
        for key in ("ansible_core", "ansible_runner"):
            requirement = Requirement(deps[key]["package_pip"])
            assert requirement == pinned[canonicalize_name(requirement.name)], (definition, key)
    python = yaml.safe_load((EXAMPLES / "decision-environment.yml").read_text())["dependencies"]["python"]
    assert [Requirement(line) for line in python] == [pinned["ansible-rulebook"]]


def _context(installed, tmp_path, definition):
    """``ansible-builder create`` of a shipped example, in a folder laid out as its comment says."""
    folder = tmp_path / "build"
    shutil.copytree(installed.path / "docs" / "examples" / "environments", folder)
    shutil.copy(installed.tarball, folder / "sotsync-nautobot.tar.gz")
    installed.run(
        [tool("ansible-builder"), "create", "-f", definition, "-c", "context", "--output-filename", "Containerfile"],
        cwd=folder,
    )
    return folder / "context"


def test_execution_environment_build_context(installed, tmp_path):
    context = _context(installed, tmp_path, "execution-environment.yml")
    containerfile = (context / "Containerfile").read_text()
    assert "ansible-galaxy collection install" in containerfile
    assert "introspect.py introspect" in containerfile  # where meta/execution-environment.yml is read
    assert 'ANSIBLE_INSTALL_REFS="ansible-core==2.19.14 ansible-runner==2.4.3"' in containerfile
    build = context / "_build"
    assert (build / "collections" / "sotsync-nautobot.tar.gz").read_bytes() == installed.tarball.read_bytes()
    # the image's galaxy stage: COPY _build /build, WORKDIR /build, install -r requirements.yml
    assert "COPY _build /build" in containerfile and "WORKDIR /build" in containerfile
    target = tmp_path / "image-collections"
    installed.run(
        [tool("ansible-galaxy"), "collection", "install", "-r", "requirements.yml", "-p", str(target), "--offline"],
        cwd=build,
        ANSIBLE_COLLECTIONS_PATH=target,
    )
    assert (target / "ansible_collections" / "sotsync" / "nautobot" / "meta" / "execution-environment.yml").is_file()


def test_decision_environment_build_context(installed, tmp_path):
    context = _context(installed, tmp_path, "decision-environment.yml")
    build = context / "_build"
    assert "ansible-galaxy collection install" in (context / "Containerfile").read_text()
    assert [Requirement(line) for line in (build / "requirements.txt").read_text().split()] == [
        Requirement("ansible-rulebook==1.3.2")
    ]
    assert "java-17-openjdk-headless [platform:rpm]" in (build / "bindep.txt").read_text()
    assert (build / "collections" / "sotsync-nautobot.tar.gz").is_file()
