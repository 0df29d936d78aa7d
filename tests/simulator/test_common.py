"""The simulators' shared part (lab/simulator/common.py), where the per-platform suites do not reach:
control API errors, the platform's fault keys and device options, revert timers before a device
listens, the async API, the command line's refusals."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
import urllib.error
import urllib.request

import pytest

from lab.simulator.eos_sim import EosSimulator
from lab.simulator.junos_sim import JunosSimulator, host_key
from lab.simulator.nxos_sim import NxosSimulator
from tests.simulator.simhelpers import control, wait_until

USER, PASSWORD = "admin", "sim-Secret-42"


@pytest.fixture(params=[EosSimulator, NxosSimulator, JunosSimulator], ids=["eos", "nxos", "junos"])
def running(request):
    simulator = request.param(username=USER, password=PASSWORD)
    simulator.start(control_port=0)
    yield simulator, f"http://127.0.0.1:{simulator.control_port}"
    simulator.stop()


def test_control_api_answers_json_everywhere(running):
    simulator, base = running
    assert control(base, "/nothing-here") == (404, {"error": "not found"})
    assert control(base, "/devices", "PUT", b"x") == (405, {"error": "method not allowed"})
    assert control(base, "/devices/ghost") == (404, {"error": "no device ghost"})
    assert control(base, "/devices", "POST", b"{not json")[0] == 400
    status, reply = control(base, "/devices", "POST", b'{"address": "127.0.0.1"}')
    assert status == 400 and all(f'"{k}"' in reply["error"] for k in simulator.DEVICE_OPTIONS)
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    try:  # a port another socket holds: refused, and nothing is added
        body = {"name": "clash", "address": "127.0.0.1", "port": taken.getsockname()[1]}
        status, reply = control(base, "/devices", "POST", json.dumps(body).encode())
        assert status == 400 and "cannot listen on 127.0.0.1" in reply["error"]
    finally:
        taken.close()
    assert control(base, "/devices") == (200, [])


def test_fault_keys_are_the_platforms(running):
    simulator, base = running
    body = {"name": "f1", "address": "127.0.3.91", "port": 0}
    assert control(base, "/devices", "POST", json.dumps(body).encode())[0] == 201
    dev = simulator.device("f1")
    for bad in (b'{"unresponsive": "yes"}', b'{"bogus": true}', b"[]", b"{x"):
        assert control(base, "/devices/f1/faults", "POST", bad)[0] == 400
    status, summary = control(base, "/devices/f1/faults", "POST", b'{"fail_after_commit": true}')
    assert status == 200 and summary["fail_after_commit"] is True and dev.fail_after_commit
    status, summary = control(base, "/devices/f1/faults", "POST", b'{"delay": 0.25}')
    if "delay" in dev.FAULTS:
        assert status == 200 and summary["delay"] == 0.25
        assert control(base, "/devices/f1/faults", "POST", b'{"delay": true}')[0] == 400
    else:  # EOS: no delay fault, and none in its summary
        assert status == 400 and "delay" not in summary and "delay" not in control(base, "/devices/f1")[1]
        with pytest.raises(TypeError):
            dev.set_faults(delay=1)
    dev.reset()
    assert not dev.fail_after_commit and not dev.unresponsive
    assert control(base, "/devices/f1", "DELETE") == (200, {"removed": "f1"})


def test_device_options_and_refused_configurations_through_the_control_api():
    nxos = NxosSimulator(username=USER, password=PASSWORD).start(control_port=0)
    junos = JunosSimulator(username=USER, password=PASSWORD).start(control_port=0)
    try:
        nx, jx = (f"http://127.0.0.1:{s.control_port}" for s in (nxos, junos))
        body = {"name": "n1", "address": "127.0.3.92", "port": 0, "ethernet_ports": 2}
        assert control(nx, "/devices", "POST", json.dumps(body).encode())[0] == 201
        assert nxos.device("n1").ethernet_ports == 2
        body = {"name": "n2", "address": "127.0.3.93", "port": 0, "running_config": "frobnicate\n"}
        status, reply = control(nx, "/devices", "POST", json.dumps(body).encode())
        assert status == 400 and "frobnicate" in reply["error"]
        body = {"name": "j1", "address": "127.0.3.94", "port": 0, "model": "mx204"}
        assert control(jx, "/devices", "POST", json.dumps(body).encode())[1]["model"] == "mx204"
        body = {"name": "j2", "address": "127.0.3.95", "port": 0, "running_config": "system { bogus; }"}
        status, reply = control(jx, "/devices", "POST", json.dumps(body).encode())
        assert status == 400 and reply["error"] == "device j2: running_config: syntax error [edit system] bogus"
        status, reply = control(jx, "/devices/j1/running-config", "PUT", b"system { bogus; }")
        assert status == 400 and reply["error"] == "syntax error [edit system] bogus"
        assert [d["name"] for d in control(nx, "/devices")[1]] == ["n1"]
        assert [d["name"] for d in control(jx, "/devices")[1]] == ["j1"]
    finally:
        nxos.stop()
        junos.stop()
    assert JunosSimulator().start().stop() is None and host_key() is host_key()  # one key per process


def test_revert_timers_before_the_device_listens():
    """Not started: timers run on a timer thread; a newer timer or cancel_timers makes older ones stale."""
    dev = EosSimulator(username=USER, password=PASSWORD).add_device("t1", "127.0.0.1", 0)
    fired: list[tuple[int, bool]] = []

    def expired(generation: int) -> None:
        fired.append((generation, dev.timer_current(generation)))

    first = dev.start_timer(0.05, expired)
    second = dev.start_timer(0.1, expired)
    assert wait_until(lambda: len(fired) == 2, timeout=2)
    assert fired == [(first, False), (second, True)]
    third = dev.start_timer(0.05, expired)
    dev.cancel_timers()
    assert wait_until(lambda: len(fired) == 3, timeout=2) and fired[2] == (third, False)


def test_async_api_in_the_callers_loop():
    """astart/astop in a loop of the caller's; add_device from another thread goes through that loop."""
    simulator = NxosSimulator(username=USER, password=PASSWORD)
    simulator.add_device("a1", "127.0.3.96", 0)

    def answers(dev) -> int:
        req = urllib.request.Request(f"http://{dev.address}:{dev.port}/ins", data=b"{}", method="POST")
        try:
            urllib.request.urlopen(req, timeout=2)
        except urllib.error.HTTPError as exc:
            return exc.code
        return 200

    async def scenario() -> tuple[int, int, int]:
        await simulator.astart()
        port = await simulator.astart_control(0)
        added: list = []
        worker = threading.Thread(target=lambda: added.append(simulator.add_device("a2", "127.0.3.97", 0)))
        worker.start()
        while worker.is_alive():
            await asyncio.sleep(0.01)
        loop = asyncio.get_running_loop()
        codes = [await loop.run_in_executor(None, answers, simulator.device(n)) for n in ("a1", "a2")]
        status, listed = await loop.run_in_executor(None, control, f"http://127.0.0.1:{port}", "/devices")
        await simulator.astop()
        return codes[0], codes[1], len(listed)

    assert asyncio.run(scenario()) == (401, 401, 2)  # both listen (no credentials: 401), both listed


@pytest.mark.parametrize("simulator", [EosSimulator, NxosSimulator, JunosSimulator], ids=["eos", "nxos", "junos"])
def test_command_line_refusals(simulator, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv(simulator.CREDENTIAL_ENV, raising=False)
    cfg = tmp_path / "sim.json"
    assert simulator.main(["--config", str(cfg)]) == 2
    assert f"{simulator.NAME}: cannot read" in capsys.readouterr().err
    cfg.write_text(json.dumps({"devices": []}))
    assert simulator.main(["--config", str(cfg)]) == 2
    assert f"in {simulator.CREDENTIAL_ENV}" in capsys.readouterr().err
    cfg.write_text(json.dumps({"devices": "many"}))
    assert simulator.main(["--config", str(cfg)]) == 2
    assert "config must be" in capsys.readouterr().err
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    try:
        port = taken.getsockname()[1]
        cfg.write_text(json.dumps({"password": PASSWORD, "devices": [{"name": "x", "port": port}]}))
        started = time.monotonic()
        assert simulator.main(["--config", str(cfg), "--control-port", "0"]) == 1
        err = capsys.readouterr().err
        assert f"{simulator.NAME}: cannot start: " in err and f"device x: cannot listen on 127.0.0.1:{port}" in err
        assert time.monotonic() - started < 5
    finally:
        taken.close()
