"""The README that ships is for users of the installed collection, and its troubleshooting is keyed to
the lines they see: every decision line of the rulebook and messages.py, every error code, every status
the source answers with. Read from the installed copy's own sources, so a new message without an entry
fails here.
"""

import re

import pytest
import yaml
from tests.packaging.python_strings import module_strings, python_strings

README_SECTIONS = ("## Troubleshooting",)
JINJA = re.compile(r"\{\{.*?\}\}|\{[a-z_]*\}", re.S)


def readme(installed):
    return (installed.path / "README.md").read_text()


def troubleshooting(installed):
    text = readme(installed)
    start = text.index("## Troubleshooting")
    end = text.find("\n## ", start + 1)
    return " ".join(text[start : end if end != -1 else None].split())


def fragments(template):
    """The fixed words of a message template (placeholders and Jinja removed, whitespace normalised)."""
    parts = (" ".join(part.split()).strip(" :,()") for part in JINJA.split(template))
    return [part for part in parts if len(part.strip(".")) > 3]


def module_constants(path):
    return {name: value for name, value in module_strings(path).items() if name.isupper()}


def debug_messages(rulebook):
    for ruleset in rulebook:
        for rule in ruleset["rules"]:
            actions = rule.get("actions") or [rule["action"]]
            for action in actions:
                msg = (action.get("debug") or {}).get("msg")
                yield from ([msg] if isinstance(msg, str) else msg or [])


def test_no_checkout_material_outside_the_checkout_box(installed):
    for number, line in enumerate(readme(installed).splitlines(), 1):
        if line.startswith(">"):  # the "From a checkout" box
            continue
        for word in ("scripts/", ".lab", "lab/", "tests/"):
            assert word not in line, f"README line {number} refers to the checkout ({word}): {line}"


def test_every_rulebook_decision_is_explained(installed):
    text = troubleshooting(installed)
    messages = list(debug_messages(installed.yaml("rulebooks/device_config_hook.yml")))
    assert len(messages) >= 8
    for message in messages:
        for fragment in fragments(message):
            if fragment.startswith("[") or fragment in {"Device", "changed"}:
                continue
            assert fragment in text, f"README's troubleshooting lacks {fragment!r} (rulebook line {message!r})"


@pytest.mark.parametrize("group", ["rulebook decisions", "readiness", "deployment"])
def test_every_message_is_explained(installed, group):
    constants = module_constants(installed.path / "plugins" / "module_utils" / "messages.py")
    source = (installed.path / "plugins" / "module_utils" / "messages.py").read_text()
    block = source.split(f"# --- {group}", 1)[1].split("# ---", 1)[0]
    names = [name for name in constants if re.search(rf"^{name} = ", block, re.M)]
    assert names, group
    text = troubleshooting(installed)
    for name in names:
        for fragment in fragments(constants[name]):
            assert fragment in text, f"README's troubleshooting lacks {fragment!r} ({name})"


def test_every_error_code_is_explained(installed):
    errors = installed.path / "plugins" / "module_utils" / "errors.py"
    codes = [value for scope, name, value in python_strings([errors])[str(errors)] if scope and name == "code"]
    assert len(codes) >= 15
    text = troubleshooting(installed)
    for code in codes:
        assert f"`{code}`" in text, f"README's troubleshooting lacks error code {code}"


def test_every_source_refusal_is_explained(installed):
    sources = [
        installed.path / "plugins" / "plugin_utils" / "request.py",
        installed.path / "plugins" / "plugin_utils" / "dispatch.py",
        installed.path / "extensions" / "eda" / "plugins" / "event_source" / "webhook.py",
    ]
    statuses = {int(s) for path in sources for s in re.findall(r"RequestRejected\(\s*(\d{3})", path.read_text())}
    assert {400, 401, 404, 405, 413, 415, 422} <= statuses
    text = troubleshooting(installed)
    assert "Rejected <method> <path> from <address>: <status> <reason>" in text
    for status in sorted(statuses):
        assert f"`{status} " in text, f"README's troubleshooting lacks the source's {status} answer"


def section(installed, title):
    text = readme(installed)
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else None]


def test_included_content_names_everything_that_ships(installed):
    table = section(installed, "Included content")
    root = installed.path
    names = [
        *(p.stem for p in (root / "plugins" / "modules").glob("*.py")),
        *(p.name for p in (root / "roles").iterdir()),
        *(p.stem for p in (root / "playbooks").glob("*.yml")),
        *(p.stem for p in (root / "rulebooks").glob("*.yml") if p.name != "inventory.yml"),
        *(p.stem for p in (root / "extensions" / "eda" / "plugins").glob("*/*.py")),
        *yaml.safe_load((root / "meta" / "runtime.yml").read_text())["action_groups"],
    ]
    for name in names:
        assert f"| `{name}` |" in table, f"README's Included content lacks {name}"


def test_every_module_is_in_the_action_group(installed):
    group = yaml.safe_load((installed.path / "meta" / "runtime.yml").read_text())["action_groups"]["nautobot"]
    assert sorted(group) == sorted(p.stem for p in (installed.path / "plugins" / "modules").glob("*.py"))


def test_relative_links_resolve_in_the_installed_copy(installed):
    for target in re.findall(r"\]\(([^)\s]+)\)", readme(installed)):
        if re.match(r"^[a-z]+:", target) or target.startswith("#"):
            continue
        path = target.split("#", 1)[0]
        assert (installed.path / path).exists(), f"README links {target}, which the installed collection lacks"


def test_headings_linked_in_readme_exist(installed):
    text = readme(installed)
    slugs = {
        re.sub(r"[^\w\- ]", "", line.lstrip("#").strip().lower()).replace(" ", "-")
        for line in text.splitlines()
        if line.startswith("#")
    }
    for anchor in re.findall(r"\]\(#([^)]+)\)", text):
        assert anchor in slugs, f"README links #{anchor}, which is no heading of it"
