"""The real ``ansible-rulebook`` CLI runs ``sotsync.nautobot.webhook`` from the collection path.

A tiny rulebook prints the event when a relevant field changed (``changes is selectattr('field',
'in', vars.relevant_fields)`` with the hook's vars file) and shuts down; we post signed Nautobot
bodies (a comments-only edit, then a rename) and read what it printed. ansible-rulebook finds the
source only through ANSIBLE_COLLECTIONS_PATH (``ansible-galaxy collection list``) and loads it with
``runpy.run_path``, so this also proves the source's import of its logic works there. Needs Java 17+.
"""

import ast
import os
import shutil
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.support import nautobot_webhooks as nw
from tests.support.net import free_port, wait_for_port_sync

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = ROOT / ".venv" / "bin"
RULEBOOK_CLI = VENV_BIN / "ansible-rulebook"
COLLECTIONS = ROOT / ".build" / "collections"
HOOK_VARS = ROOT / "rulebooks" / "vars" / "device_config_hook.yml"  # relevant_fields, as the real rulebook reads them

RULEBOOK = """\
---
- name: sotsync.nautobot.webhook through the real CLI
  hosts: all
  sources:
    - sotsync.nautobot.webhook:
        host: 127.0.0.1
        port: "{{ WH_PORT }}"
        secret: "{{ WH_SECRET }}"
        models: [device]
        coalesce_seconds: 0
  rules:
    - name: A relevant device change
      condition: >-
        event.nautobot.model == "dcim.device"
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


def post(port, payload, secret=nw.SECRET):
    raw = nw.encode(payload)
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/", data=raw, headers=nw.headers(raw, secret), method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - local test server
            return response.status
    except urllib.error.HTTPError as err:
        return err.code


def test_rulebook_cli_prints_the_contract_event(tmp_path):
    rulebook = tmp_path / "hook.yml"
    rulebook.write_text(RULEBOOK)
    port = free_port()
    env = dict(
        os.environ,
        ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS),
        PATH=f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        WH_PORT=str(port),
        WH_SECRET=nw.SECRET,
        PYTHONUNBUFFERED="1",
    )
    for variable in ("PYTHONPATH", "NAUTOBOT_URL", "NAUTOBOT_TOKEN"):
        env.pop(variable, None)
    proc = subprocess.Popen(
        [
            str(RULEBOOK_CLI),
            "--rulebook",
            str(rulebook),
            "--vars",
            str(HOOK_VARS),
            "--env-vars",
            "WH_PORT,WH_SECRET",
            "-v",
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        if not wait_for_port_sync(port, timeout=25, alive=lambda: proc.poll() is None):
            proc.kill()
            pytest.fail(f"the source never listened:\n{proc.communicate()[0]}")
        assert post(port, nw.comments_only(), secret="wrong") == 401  # never reaches the rulebook
        assert post(port, nw.comments_only()) == 200  # accepted, but comments are not a relevant field
        assert post(port, nw.rename()) == 200
        output, _ = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, output
    printed = [line for line in output.splitlines() if line.startswith("{'nautobot':")]
    assert len(printed) == 1, output
    event = ast.literal_eval(printed[0])
    nb = event["nautobot"]
    assert (nb["action"], nb["model"], nb["source_model"]) == ("updated", "dcim.device", "dcim.device")
    assert (nb["object_id"], nb["object_name"], nb["changed_fields"]) == (nw.DEVICE_ID, "access-switch-1", ["name"])
    assert nb["changes"] == [{"field": "name"}]
    assert nb["events_coalesced"] == 1 and nb["timestamp"] == "2026-11-25T00:23:24.382970+00:00"
    assert nb["device"]["platform"] == {"name": "EOS", "network_driver": "arista_eos", "napalm_driver": "eos"}
    assert nb["device"]["primary_ip4_host"] == "172.20.20.11"
    assert event["meta"]["endpoint"] == "/"
    assert event["meta"]["source"] == {"name": "sotsync.nautobot.webhook", "type": "sotsync.nautobot.webhook"}
    assert "X-Hook-Signature" not in event["meta"]["headers"]
    assert "Rejected POST / from 127.0.0.1: 401" in output
    assert "Accepted device updated access1: changed ['comments']" in output
    assert "Accepted device updated access-switch-1: changed ['name']" in output
    assert nw.SECRET not in output
