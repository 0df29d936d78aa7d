"""README's daemon command, run as written against the installed collection.

The block under README's "daemon command" marker is run by bash with only the fresh collections path
configured. One change, said here and asserted: the listener's address and port come from the
environment (``--env-vars ...,webhook_host,webhook_port``) so the test binds a free loopback port
instead of the settings file's 0.0.0.0:5000. The real ansible-rulebook starts, loads the rulebook,
the event source and the settings from the installed copy; a GET is refused with its 405 warning; a
signed Nautobot "device deleted" webhook gets the rulebook's decision line. Then the daemon is stopped.
"""

import hashlib
import hmac
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request

import pytest
from tests.packaging.collection_package import tool
from tests.support.net import free_port

MARKER = "<!-- daemon command: the packaging tests run this block as written -->"
SECRET = "throwaway-test-secret"  # noqa: S105 - a test's own secret
DEVICE_ID = "9a0e4f7c-1d2b-4c3a-8e5f-000000000001"
START_TIMEOUT = 60
DECISION_TIMEOUT = 30

pytestmark = pytest.mark.skipif(shutil.which("java") is None, reason="ansible-rulebook needs Java 17+")


def readme_daemon_block(readme):
    text = readme.read_text()
    assert MARKER in text, "README lost its daemon command marker"
    block = re.search(r"```bash\n(.*?)```", text.split(MARKER, 1)[1], re.S)
    assert block, "no bash block after README's daemon command marker"
    return block.group(1)


def request(port, method, body=None, headers=None):
    req = urllib.request.Request(f"http://127.0.0.1:{port}/", data=body, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=5) as response:  # noqa: S310 - the test's own server
            return response.status
    except urllib.error.HTTPError as err:
        return err.code


def wait_for(predicate, timeout, what, proc, log):
    deadline = time.monotonic() + timeout
    while not predicate():
        if proc.poll() is not None:
            pytest.fail(f"the daemon exited ({proc.returncode}) before {what}:\n{log.read_text()}")
        if time.monotonic() > deadline:
            pytest.fail(f"no {what} within {timeout} s:\n{log.read_text()}")
        time.sleep(0.2)


def listening(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        return True
    except OSError:
        return False


def test_readme_daemon_command_runs_the_hook(installed, tmp_path):
    tool("ansible-rulebook")  # the checkout's, first on the daemon's PATH
    script = readme_daemon_block(installed.path / "README.md")
    assert script.count("--env-vars SOTSYNC_WEBHOOK_SECRET") == 1, script
    script = script.replace(
        "--env-vars SOTSYNC_WEBHOOK_SECRET", "--env-vars SOTSYNC_WEBHOOK_SECRET,webhook_host,webhook_port"
    )
    port = free_port()
    env = installed.env(
        SOTSYNC_WEBHOOK_SECRET=SECRET,
        webhook_host="127.0.0.1",
        webhook_port=port,
        NAUTOBOT_URL=f"http://127.0.0.1:{free_port()}",  # nothing listens: no Nautobot is needed here
        NAUTOBOT_TOKEN="unused-token",  # noqa: S106
    )
    log = tmp_path / "daemon.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            ["bash", "-euo", "pipefail", "-c", script],
            cwd=tmp_path,  # not the collection's folder: the command must not depend on it
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_for(lambda: listening(port), START_TIMEOUT, "listener", proc, log)
        assert request(port, "GET") == 405
        body = json.dumps(
            {
                "event": "deleted",
                "timestamp": "2026-11-25 10:00:00.000000+00:00",
                "model": "device",
                "username": "admin",
                "request_id": "9a0e4f7c-1d2b-4c3a-8e5f-0000000000ff",
                "data": {"id": DEVICE_ID, "name": "packaged-switch-1"},
                "snapshots": None,
            }
        ).encode()
        signature = hmac.new(SECRET.encode(), body, hashlib.sha512).hexdigest()
        headers = {"Content-Type": "application/json", "X-Hook-Signature": signature}
        assert request(port, "POST", body, headers) == 200
        decision = "Device packaged-switch-1 was deleted: nothing to provision."
        wait_for(lambda: decision in log.read_text(), DECISION_TIMEOUT, "decision line", proc, log)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    output = log.read_text()
    assert str(installed.path / "rulebooks" / "device_config_hook.yml") in output  # loaded from the install
    assert "Rejected GET / from 127.0.0.1: 405" in output
    assert SECRET not in output
