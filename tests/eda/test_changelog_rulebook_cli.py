"""The real ``ansible-rulebook`` CLI runs ``sotsync.nautobot.changelog`` from the collection path.

The change log is ``nautobot_changelog.FakeNautobot`` (a unit-test fixture of the object-change API on
a free port). It holds a create, a comments-only edit and a rename made "while the daemon was down";
the tiny rulebook prints the update whose fields are relevant (the hook's own vars file) and shuts down. This
proves ansible-rulebook finds and loads the source through ANSIBLE_COLLECTIONS_PATH, that its events
pass the shipped rulebook's kind of condition, and that ``meta.endpoint`` tells their origin.
Needs Java 17+.
"""

import ast
import asyncio
import os
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from tests.eda.nautobot_changelog import TOKEN, FakeNautobot, device, now, object_change
from tests.support.net import free_port

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = ROOT / ".venv" / "bin"
RULEBOOK_CLI = VENV_BIN / "ansible-rulebook"
COLLECTIONS = ROOT / ".build" / "collections"
HOOK_VARS = ROOT / "rulebooks" / "vars" / "device_config_hook.yml"

RULEBOOK = """\
---
- name: sotsync.nautobot.changelog through the real CLI
  hosts: all
  sources:
    - sotsync.nautobot.changelog:
        nautobot_url: "{{ CL_URL }}"
        nautobot_token: "{{ CL_TOKEN }}"
        cursor_file: "{{ CL_CURSOR }}"
        since: 600
        poll_interval: 0.5
        models: [device]
  rules:
    - name: A relevant device change caught up from the change log
      condition: >-
        event.meta.endpoint == "changelog" and event.nautobot.action == "updated"
        and event.nautobot.changes is selectattr('field', 'in', vars.relevant_fields)
      actions:
        - print_event:
        - shutdown:
            delay: 0
            message: done
"""

pytestmark = pytest.mark.skipif(
    not RULEBOOK_CLI.exists() or shutil.which("java") is None, reason="ansible-rulebook or Java missing"
)


async def test_rulebook_cli_prints_the_caught_up_event(tmp_path):
    server = FakeNautobot(free_port())
    await server.start()
    before = device("access1")
    after = dict(before, name="access-switch-1", display="access-switch-1")
    base = now() - timedelta(seconds=60)
    server.changes = [
        object_change(base, before, action="create"),
        object_change(base + timedelta(seconds=1), dict(before, comments="not relevant")),
        object_change(base + timedelta(seconds=2), after),
    ]
    rulebook = tmp_path / "catch_up.yml"
    rulebook.write_text(RULEBOOK)
    env = dict(
        os.environ,
        ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS),
        PATH=f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        CL_URL=server.url,
        CL_TOKEN=TOKEN,
        CL_CURSOR=str(tmp_path / "cursor.json"),
        PYTHONUNBUFFERED="1",
    )
    for variable in ("PYTHONPATH", "NAUTOBOT_URL", "NAUTOBOT_TOKEN"):
        env.pop(variable, None)
    proc = await asyncio.create_subprocess_exec(
        str(RULEBOOK_CLI),
        "--rulebook",
        str(rulebook),
        "--vars",
        str(HOOK_VARS),
        "--env-vars",
        "CL_URL,CL_TOKEN,CL_CURSOR",
        "-v",
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        raw, _ = await asyncio.wait_for(proc.communicate(), timeout=60)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.communicate()
        await server.stop()
    output = raw.decode()
    assert proc.returncode == 0, output
    printed = [line for line in output.splitlines() if line.startswith("{'nautobot':")]
    assert len(printed) == 1, output
    event = ast.literal_eval(printed[0])
    nb = event["nautobot"]
    # the two updates read in one poll are one event: the union of their fields, the latest state
    assert (nb["action"], nb["object_name"], nb["changed_fields"]) == (
        "updated",
        "access-switch-1",
        ["comments", "name"],
    )
    assert nb["events_coalesced"] == 2
    assert nb["readiness"]["ready"] is True
    assert event["meta"]["endpoint"] == "changelog"
    assert event["meta"]["source"] == {"name": "sotsync.nautobot.changelog", "type": "sotsync.nautobot.changelog"}
    assert "Accepted device updated access-switch-1: changed ['comments', 'name']" in output
    assert "Accepted device created access1" in output
    assert TOKEN not in output
    assert (tmp_path / "cursor.json").exists()
