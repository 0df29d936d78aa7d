"""Event streams: the shipped rulebook's decisions on raw Nautobot webhooks received by ansible-rulebook's
own webhook source, through the ``sotsync.nautobot.device_event`` filter.

The real ``ansible-rulebook`` (1.3.2) runs the shipped rulebook with one swap of source: its built-in
``eda.builtin.webhook`` (the same receiver as ``ansible.eda.webhook``, which is not installed here and
cannot be: Galaxy is out of reach), checking Nautobot's HMAC-SHA512 in ``X-Hook-Signature``, with the
filter from the collection path. The provisioning action becomes a ``PROVISION`` line. Signed Nautobot
bodies are posted over HTTP; the test waits for each decision line as it is printed.
"""

from __future__ import annotations

import os
import queue
import shutil
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml

from ansible_collections.sotsync.nautobot.plugins.module_utils import messages as msg
from tests.support import nautobot_webhooks as nw
from tests.support import rulebook
from tests.support.net import free_port, wait_for_port_sync

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = ROOT / ".venv" / "bin"
SOURCES = """\
    - name: Nautobot webhooks through eda.builtin.webhook
      eda.builtin.webhook:
        host: 127.0.0.1
        port: {port}
        hmac_secret: "{{{{ SOTSYNC_WEBHOOK_SECRET }}}}"
        hmac_algo: sha512
        hmac_header: X-Hook-Signature
        hmac_format: hex
      filters:
        - sotsync.nautobot.device_event:
            ready_statuses: [Active, Planned, Staged]
            lone_event_seconds: 0
"""

pytestmark = pytest.mark.skipif(
    not (VENV_BIN / "ansible-rulebook").exists() or shutil.which("java") is None, reason="ansible-rulebook or Java"
)


def post(port, payload=None, raw=None, secret=nw.SECRET):
    raw = nw.encode(payload) if raw is None else raw
    request = urllib.request.Request(f"http://127.0.0.1:{port}/nautobot", data=raw, headers=nw.headers(raw, secret))
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - local test server
            return response.status
    except urllib.error.HTTPError as err:
        return err.code


class Output:
    """The daemon's output lines, read as they come; ``wait_for`` blocks until a line contains a text."""

    def __init__(self, proc):
        self.lines = []
        self._queue = queue.Queue()
        threading.Thread(target=self._read, args=(proc,), daemon=True).start()

    def _read(self, proc):
        for line in proc.stdout:
            self._queue.put(line.rstrip("\n"))

    def wait_for(self, text, timeout=30.0):
        deadline = time.monotonic() + timeout
        while not any(text in line for line in self.lines):
            try:
                self.lines.append(self._queue.get(timeout=max(0.01, deadline - time.monotonic())))
            except queue.Empty:
                raise AssertionError(f"{text!r} never printed:\n" + "\n".join(self.lines[-60:])) from None

    def text(self):
        while not self._queue.empty():
            self.lines.append(self._queue.get_nowait())
        return "\n".join(self.lines)


def renamed(name, device_id):
    """A rename of device ``device_id`` to ``name``, a change of its own."""
    before = nw.device("old-" + name, device_id=device_id)
    after = nw.device(name, device_id=device_id, last_updated="2026-11-25T00:23:24.300000Z")
    return nw.updated(before, after, request_id=device_id)


def test_the_shipped_rulebook_decides_on_raw_webhooks_through_the_filter(tmp_path):
    port = free_port()
    (tmp_path / "rulebook.yml").write_text(rulebook.hook_rulebook(SOURCES.format(port=port)))
    (tmp_path / "vars.yml").write_text(rulebook.SETTINGS.read_text())
    env = dict(
        os.environ,
        ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".build" / "collections"),
        PATH=f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        SOTSYNC_WEBHOOK_SECRET=nw.SECRET,
        PYTHONUNBUFFERED="1",
    )
    env.pop("PYTHONPATH", None)
    command = [str(VENV_BIN / "ansible-rulebook"), "--rulebook", "rulebook.yml", "--vars", "vars.yml"]
    command += ["--env-vars", "SOTSYNC_WEBHOOK_SECRET", "-i", "/dev/null", "-v"]
    proc = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = Output(proc)
    try:
        assert wait_for_port_sync(port, timeout=40, alive=lambda: proc.poll() is None), output.text()
        # refused by the receiving source: never reaches the filter or the rules
        assert post(port, renamed("forged-1", "00000000-0000-4000-8000-00000000f001"), secret="wrong") == 401
        assert post(port, raw=b"{not json") in (400, 401)
        # reach the filter, dropped there with a warning
        assert post(port, nw.ip_edit()) == 200
        assert post(port, {"hello": "world"}) == 200
        output.wait_for("Dropped event from '/nautobot': ipaddress events need a Nautobot look-up")
        output.wait_for("Dropped event from '/nautobot': 400 missing key(s): event, model, timestamp, data, snapshots")

        # a relevant change of a ready device: provisioned at once (a lone change, lone_event_seconds 0)
        assert post(port, renamed("es-rename", "00000000-0000-4000-8000-00000000e001")) == 200
        output.wait_for("PROVISION es-rename dry_run=True ready=Active,Planned,Staged")
        # the same body again (a replay): dropped, no second decision
        assert post(port, renamed("es-rename", "00000000-0000-4000-8000-00000000e001")) == 200
        output.wait_for("409 duplicate delivery")
        # an irrelevant change
        assert post(port, nw.comments_only()) == 200
        output.wait_for(msg.NO_RELEVANT_CHANGE)
        # a relevant change of a device that is not ready: says why
        assert post(port, nw.status_offline()) == 200
        output.wait_for(msg.bad_status_reason(msg.DEFAULT_READY_STATUSES, "Offline"))
        assert proc.poll() is None, "the activation ended"
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    text = output.text()
    assert f"Device es-rename: {msg.RELEVANT_FIELDS_CHANGED.format(fields=['name'])}" in text
    assert msg.DEVICE_READY.format(name="es-rename") in text
    assert text.count("PROVISION ") == 1, text
    assert msg.DEVICE_NOT_READY in text
    assert "Traceback" not in text
    assert "forged-1" not in text  # the forged body never reached the rules
    assert nw.SECRET not in text
    assert yaml.safe_load((tmp_path / "rulebook.yml").read_text())[0]["sources"][0]["filters"] == [
        {"sotsync.nautobot.device_event": {"ready_statuses": ["Active", "Planned", "Staged"], "lone_event_seconds": 0}}
    ]
