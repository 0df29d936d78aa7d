"""The lab itself, live: Nautobot with its token, Golden Config's renders, the real napalm eos driver
against the lab's simulated devices, the webhook path through the namespace, and ``up`` on a lab
that is up."""

from __future__ import annotations

import os
import subprocess
import sys

import napalm
import pytest
import requests
from napalm.base.exceptions import MergeConfigException
from tests.integration.provision_helpers import run_job

pytestmark = pytest.mark.lab


def _headers(lab, token=None):
    return {"Authorization": f"Token {token or lab['nautobot_token']}", "Accept": "application/json"}


def test_nautobot_answers_with_the_token_and_refuses_without(lab):
    url = f"{lab['nautobot_url']}/api/status/"
    ok = requests.get(url, headers=_headers(lab), timeout=10)
    assert ok.status_code == 200
    assert ok.json()["nautobot-version"].startswith("3.")
    assert "nautobot_golden_config" in str(ok.json()["plugins"])
    assert requests.get(url, timeout=10).status_code == 403
    assert requests.get(url, headers=_headers(lab, "0" * 40), timeout=10).status_code == 403


def _device(lab, name):
    return lab["api"].dcim.devices.get(serial=f"SOTSYNC-{name.upper()}")


def _render(lab, name) -> str:
    """Golden Config's on-demand render of a seed device (asserts that it answered 200)."""
    r = requests.get(
        f"{lab['nautobot_url']}/api/plugins/golden-config/generate-intended-config/",
        params={"device_id": _device(lab, name).id},
        headers=_headers(lab),
        timeout=60,
    )
    assert r.status_code == 200, r.text
    return r.json()["intended_config"]


def test_golden_config_renders_access1_on_demand(lab):
    config = _render(lab, "access1")
    assert "hostname access1\n" in config
    assert "   ip address 127.0.1.11/24\n" in config
    assert "ip domain-name site-a.lab.sotsync.test" in config  # the location's config context
    assert "name users" in config  # the access role's block
    assert "vlan 20" not in config  # not the distribution role's


def test_golden_config_renders_the_distribution_template_for_dist1(lab):
    config = _render(lab, "dist1")
    assert "hostname dist1\n" in config and "vlan 20\n" in config and "router ospf 1\n" in config


def _driver(lab, name, password=None):
    driver = napalm.get_network_driver("eos")
    return driver(
        lab["devices"][name],
        lab["device_username"],
        password or lab["device_password"],
        timeout=10,
        optional_args={"transport": "http", "port": lab["sim_port"]},
    )


def _running(lab, name):
    return requests.get(f"{lab['sim_control']}/devices/{name}", timeout=10).json()["running_config"]


def _reset(lab, name, config):
    body = "\n".join(line for line in config.splitlines() if not line.startswith("! Command:"))
    requests.put(
        f"{lab['sim_control']}/devices/{name}/running-config", data=body.encode(), timeout=10
    ).raise_for_status()


def test_napalm_eos_opens_merges_diffs_discards_and_commits_on_the_lab_device(lab):
    before = _running(lab, "access2")
    dev = _driver(lab, "access2")
    dev.open()
    try:
        assert dev.get_facts()["hostname"] == "access2"
        dev.load_merge_candidate(config="hostname access2-renamed\n")
        diff = dev.compare_config()
        assert "-hostname access2" in diff and "+hostname access2-renamed" in diff
        dev.discard_config()
        assert _running(lab, "access2") == before
        dev.load_merge_candidate(config="hostname access2-renamed\n")
        dev.commit_config()
        assert "hostname access2-renamed" in _running(lab, "access2")
        dev.load_merge_candidate(config="hostname access2-renamed\n")
        assert dev.compare_config() == ""
        dev.discard_config()
        dev.load_merge_candidate(config="this is not a command\n")
        pytest.fail("an invalid line must be rejected")
    except MergeConfigException as exc:
        assert "this is not a command" in str(exc)
    finally:
        dev.close()
        _reset(lab, "access2", before)
    state = requests.get(f"{lab['sim_control']}/devices/access2", timeout=10).json()
    assert state["open_sessions"] == []


def test_wrong_device_credentials_give_a_clear_authentication_error(lab):
    dev = _driver(lab, "access1", password="not-the-password")
    with pytest.raises(Exception) as info:
        dev.open()
        dev.get_facts()
    assert "Unauthorized" in str(info.value) or "authenticat" in str(info.value).lower()
    assert "not-the-password" not in str(info.value)


def test_webhook_address_in_the_namespace_reaches_the_host_loopback(lab):
    """Nautobot posts to the namespace's address; the relay hands it to 127.0.0.1:<port>."""
    import http.server
    import threading

    host, port = lab["env"]["SOTSYNC_LAB_SOURCE_LISTEN"].rsplit(":", 1)
    got = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            got.append(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    try:
        server = http.server.HTTPServer((host, int(port)), Handler)
    except OSError:
        pytest.skip(f"{host}:{port} is taken (a rulebook daemon is running)")
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        r = requests.post(lab["env"]["SOTSYNC_LAB_SOURCE_URL"], data=b"ping", timeout=10)
        assert r.status_code == 204 and got == [b"ping"]
        assert not lab["env"]["SOTSYNC_LAB_SOURCE_URL"].startswith("http://127.")
    finally:
        server.shutdown()
        server.server_close()


def lab_up(lab, timeout):
    """``python -m lab.labctl up`` as ``scripts/lab up`` runs it; asserts it succeeded."""
    proc = subprocess.run(
        [sys.executable, "-m", "lab.labctl", "up"],
        cwd=lab["root"],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return proc


def test_lab_up_on_a_lab_that_is_up_is_quick_and_changes_nothing(lab):
    proc = lab_up(lab, timeout=300)
    out = proc.stdout
    for started in (
        "starting the Nautobot web server",
        "starting the Celery worker",
        "migrate",
        "created device",
        "starting the eos-sim simulator",
        "starting the nxos-sim simulator",
        "starting the junos-sim simulator",
        "was missing: added it",
        "creating network namespace",
    ):
        assert started not in out, f"'up' on an up lab did {started!r}:\n{out}"
    assert "Nautobot webhooks -> " in out and "(changed=0)" in out
    assert "lab is up" in out


def test_lab_up_brings_back_a_stopped_worker_on_a_half_up_lab(lab):
    """Issue 20: a lab that is half up (the render worker stopped, its pid file stale: the pid belongs
    to another program, its log from an earlier start says "ready.") is brought up by ``up``, which
    starts only what is missing and asks each worker itself whether it is ready."""
    from lab import labctl

    labctl.stop("celery-render", timeout=60)
    # a stale pid file: the pid is alive, but it is this test's process, not a worker
    (labctl.PIDS / "celery-render.pid").write_text(str(os.getpid()))
    nodes = labctl.celery_nodes()
    sec = labctl.load_secrets()
    assert labctl.celery_ping(sec, list(nodes.values())) == {nodes["celery"]}
    proc = lab_up(lab, timeout=600)
    assert f"starting the Celery worker of the {labctl.RENDER_QUEUE} queue" in proc.stdout
    for kept in ("starting the Nautobot web server", "starting the Celery worker\n", "simulator ("):
        assert kept not in proc.stdout, f"'up' restarted what was running ({kept!r}):\n{proc.stdout}"
    assert labctl.pid_alive("celery-render") not in (None, os.getpid())
    assert labctl.celery_ping(sec, list(nodes.values())) == set(nodes.values())
    # and the lab works: Golden Config's render job runs on the render worker's queue
    device = lab["api"].dcim.devices.get(serial="SOTSYNC-ACCESS1")
    status = run_job(
        lab["api"],
        "Generate Intended Configurations",
        {"device": [device.id]},
        timeout=180,
        job_queue=labctl.RENDER_QUEUE,
    )
    assert status == "SUCCESS"
