"""The release as a user gets it: the changelog ships, and nothing claims to be newer than the collection.

Every ``version_added`` (modules, their options and return values, doc fragments, the EDA plugins, the role's
argument spec) must be a version at or below galaxy.yml's; the changelog fragments waiting in
changelogs/fragments/ (for the next release) must be what antsibull-changelog accepts, and none may be one a
release already consumed. Plain Python on the installed copy (documentation read with ``ast`` in a child
Python), so it runs on every controller the packaging tests run on (ansible-core 2.16 too); where
antsibull-changelog is installed beside this Python, its own lint runs as well.
"""

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from packaging.specifiers import SpecifierSet
from packaging.version import Version
from tests.packaging.collection_package import BIN, ROOT
from tests.packaging.python_strings import python_strings

SEMVER = re.compile(r"^\d+\.\d+\.\d+$")
CHANGELOGS = ROOT / "changelogs"


def galaxy_version():
    return Version(yaml.safe_load((ROOT / "galaxy.yml").read_text())["version"])


def doc_strings_of(paths):
    """``{path: [(name, text), ...]}``: the YAML documentation strings (module level or in a class)."""
    return {
        path: [(name, value) for _scope, name, value in strings if name in {"DOCUMENTATION", "RETURN"}]
        for path, strings in python_strings(paths).items()
    }


def doc_strings(path):
    """The YAML documentation strings of one plugin or doc fragment file."""
    return doc_strings_of([path])[str(path)]


def versions_added(data, where):
    """``(where, version)`` of every version_added in a documentation tree."""
    if isinstance(data, dict):
        for key, value in data.items():
            if key == "version_added":
                yield where, value
            else:
                yield from versions_added(value, f"{where}.{key}")
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from versions_added(value, f"{where}[{index}]")


def documented(installed):
    """``(where, version)`` of every version_added the installed collection documents."""
    found = []
    plugin_files = [
        *sorted((installed.path / "plugins").glob("*/*.py")),
        *sorted((installed.path / "extensions" / "eda" / "plugins").glob("*/*.py")),
    ]
    docs = doc_strings_of(plugin_files)
    for path in plugin_files:
        for name, text in docs[str(path)]:
            data = yaml.safe_load(text)
            found.extend(versions_added(data, f"{path.relative_to(installed.path)}:{name}"))
    for spec in sorted((installed.path / "roles").glob("*/meta/argument_specs.yml")):
        found.extend(versions_added(yaml.safe_load(spec.read_text()), str(spec.relative_to(installed.path))))
    return found


def test_every_module_says_when_it_came(installed):
    for path in sorted((installed.path / "plugins" / "modules").glob("*.py")):
        docs = dict(doc_strings(path))
        assert "version_added" in yaml.safe_load(docs["DOCUMENTATION"]), path.name


def test_nothing_is_newer_than_the_collection(installed):
    version = Version(installed.manifest["collection_info"]["version"])
    assert version == galaxy_version()
    found = documented(installed)
    assert len(found) >= 5, found  # each module at least
    for where, added in found:
        assert SEMVER.match(str(added)), f"{where}: version_added {added!r} is not MAJOR.MINOR.PATCH"
        assert Version(str(added)) <= version, (
            f"{where}: version_added {added} is newer than the collection ({version})"
        )


def test_the_check_finds_a_version_from_the_future():
    doc = yaml.safe_load("options:\n  a:\n    suboptions:\n      b:\n        version_added: 9.0.0\n")
    assert list(versions_added(doc, "x")) == [("x.options.a.suboptions.b", "9.0.0")]


def test_the_changelog_ships_and_covers_the_release(installed):
    assert "CHANGELOG.rst" in installed.members
    assert (installed.path / "CHANGELOG.rst").read_text() == (ROOT / "CHANGELOG.rst").read_text()
    changes = yaml.safe_load((CHANGELOGS / "changelog.yaml").read_text())
    released = sorted(Version(v) for v in changes["releases"])
    assert released, "changelogs/changelog.yaml has no release"
    version = galaxy_version()
    # galaxy.yml names the latest release, or the next one being prepared
    assert released[-1] <= version, f"changelog.yaml has {released[-1]}, galaxy.yml {version}"
    text = (ROOT / "CHANGELOG.rst").read_text()
    for release in released:
        assert re.search(rf"^v{re.escape(str(release))}\n=+$", text, re.M), f"CHANGELOG.rst lacks v{release}"


def fragment_problems(path, config):
    """What antsibull-changelog would refuse in a fragment (its lint, for a Python without it)."""
    sections = {name for name, _title in config["sections"]}
    sections |= {config["trivial_section_name"], config["prelude_section_name"]}
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        return [f"not YAML: {exc}"]
    if not isinstance(data, dict) or not data:
        return ["not a mapping of sections to entries"]
    problems = []
    for section, entries in data.items():
        if section not in sections:
            problems.append(f"unknown section {section!r} (sections: {sorted(sections)})")
        elif section == config["prelude_section_name"]:
            if not isinstance(entries, str):
                problems.append(f"{section} must be a string")
        elif not isinstance(entries, list) or not entries or not all(isinstance(e, str) and e for e in entries):
            problems.append(f"{section} must be a list of strings")
    return problems


def fragments():
    folder = CHANGELOGS / yaml.safe_load((CHANGELOGS / "config.yaml").read_text())["notesdir"]
    return sorted(p for p in folder.iterdir() if not p.name.startswith("."))


def test_waiting_fragments_are_well_formed():
    config = yaml.safe_load((CHANGELOGS / "config.yaml").read_text())
    for path in fragments():
        assert path.suffix in {".yml", ".yaml"}, f"{path.name}: fragments are .yml files"
        assert not fragment_problems(path, config), (path.name, fragment_problems(path, config))


def test_the_fragment_check_refuses_malformed_fragments(tmp_path):
    config = yaml.safe_load((CHANGELOGS / "config.yaml").read_text())
    cases = {
        "unknown-section.yml": "minor_change:\n  - typo in the section\n",
        "not-a-list.yml": "bugfixes: a string, not a list\n",
        "not-yaml.yml": "bugfixes:\n  - [unclosed\n",
        "empty.yml": "",
    }
    for name, text in cases.items():
        (tmp_path / name).write_text(text)
        assert fragment_problems(tmp_path / name, config), name


def test_no_fragment_was_released_already():
    changes = yaml.safe_load((CHANGELOGS / "changelog.yaml").read_text())
    consumed = {name for release in changes["releases"].values() for name in release.get("fragments", [])}
    again = sorted(p.name for p in fragments() if p.name in consumed)
    assert not again, f"fragments already in a release (rename them, or remove them): {again}"


def test_antsibull_changelog_lint():
    tool = BIN / "antsibull-changelog"
    if not tool.exists():
        pytest.skip("antsibull-changelog is not installed beside this Python (its checks are done above)")
    proc = subprocess.run([str(tool), "lint"], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0 and not proc.stdout.strip(), proc.stdout + proc.stderr


def test_this_controller_is_one_the_collection_accepts(installed):
    requires = yaml.safe_load((installed.path / "meta" / "runtime.yml").read_text())["requires_ansible"]
    out = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-galaxy"), "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    core = re.search(r"\[core (\d+\.\d+\.\d+)", out).group(1)
    print(f"ansible-core {core}, requires_ansible {requires}")
    assert Version(core) in SpecifierSet(requires), (core, requires)
