"""The shipped rulebook with its source and its provisioning action swapped, for tests that run the real
ansible-rulebook on its conditions: every condition and decision message stays the product's."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RULEBOOK = ROOT / "rulebooks" / "device_config_hook.yml"
SETTINGS = ROOT / "rulebooks" / "vars" / "device_config_hook.yml"
SOURCE_BLOCK = re.compile(r"  sources:\n.*?\n  rules:\n", re.S)
ACTION_BLOCK = re.compile(r"^( *)# provision-action-begin\n.*?^ *# provision-action-end\n", re.M | re.S)
PLAN_ACTION_BLOCK = re.compile(r"^( *)# plan-action-begin\n.*?^ *# plan-action-end\n", re.M | re.S)
# The plan deployment (the approval gate) becomes one line naming the plan.
DEPLOY_PLAN_LINE = "DEPLOY PLAN {{ event.nautobot.object_id }} of {{ event.nautobot.object_name }}"
EVENTS = "(events if events is defined else {'m': event}).values()"
# The provisioning action becomes one line naming the batch's devices, sorted.
PROVISION_LINE = (
    "PROVISION {{ "
    + EVENTS
    + " | map(attribute='sotsync_provision.name') | sort | join(' ') }} dry_run={{ dry_run }}"
    + " ready={{ ready_statuses | join(',') }}"
    + "{{ ' plan=True' if approval | default(false) else '' }}"
)


def hook_rulebook(sources):
    """The shipped rulebook's text with ``sources`` (YAML list items at 4 spaces) as its sources and
    the provisioning action replaced by a debug line (``PROVISION <names> dry_run=... ready=...``)."""
    text = RULEBOOK.read_text()
    text = SOURCE_BLOCK.sub(lambda _m: f"  sources:\n{sources.rstrip()}\n  rules:\n", text, count=1)
    assert len(ACTION_BLOCK.findall(text)) == 1, "the provision-action markers moved"
    assert len(PLAN_ACTION_BLOCK.findall(text)) == 1, "the plan-action markers moved"
    text = PLAN_ACTION_BLOCK.sub(
        lambda m: f'{m.group(1)}- debug:\n{m.group(1)}    msg: "{DEPLOY_PLAN_LINE}"\n', text, count=1
    )
    return ACTION_BLOCK.sub(lambda m: f'{m.group(1)}- debug:\n{m.group(1)}    msg: "{PROVISION_LINE}"\n', text, count=1)


PLAYBOOK_VARIABLES_HEAD = "# The playbook's variables"
PLAYBOOK_VARIABLE_LINE = re.compile(r"^#   (\w+)\s")


def playbook_variables(text: str) -> set[str]:
    """The variables a playbook declares: the names of its header's "The playbook's variables" list
    (``#   name   what it is``; deeper-indented lines continue the one above)."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(PLAYBOOK_VARIABLES_HEAD))
    names = set()
    for line in lines[start + 1 :]:
        if not line.startswith("#   "):
            break
        m = PLAYBOOK_VARIABLE_LINE.match(line)
        if m:
            names.add(m.group(1))
    return names
