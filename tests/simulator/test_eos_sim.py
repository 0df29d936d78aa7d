"""The EOS eAPI simulator, proven with the real NAPALM ``eos`` driver (pyeapi ``http`` transport)."""

from __future__ import annotations

import base64
import json
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from napalm import get_network_driver
from napalm.base.exceptions import CommitError, ConnectionException, MergeConfigException
from pyeapi.eapilib import ConnectionError as EapiConnectionError

from lab.simulator.eos_sim import Device, EosSimulator
from tests.simulator.simhelpers import cli_simulator, control, wait_until

USER, PASSWORD = "admin", "sim-Secret-42"

INITIAL = """\
hostname access1
ip domain-name lab.local
ntp server 10.0.0.1
!
username admin privilege 15 role network-admin secret sha512 $6$old
!
vlan 10
   name users
!
interface Management1
   description management
   ip address 127.0.1.201/24
!
interface Ethernet1
   description uplink
   switchport mode trunk
!
interface Ethernet2
   switchport access vlan 10
   shutdown
!
management api http-commands
   no shutdown
!
end
"""


def body(config: str) -> str:
    """A config without its ``! Command: ...`` line (running and startup differ only there)."""
    return config.split("\n", 1)[1]


def eapi(dev: Device, cmds: list, fmt: str = "json", auth: tuple[str, str] | None = (USER, PASSWORD)):
    """A raw eAPI call: (HTTP status, decoded body)."""
    data = json.dumps(
        {"jsonrpc": "2.0", "method": "runCmds", "params": {"version": 1, "cmds": cmds, "format": fmt}, "id": "t1"}
    ).encode()
    req = urllib.request.Request(f"http://{dev.address}:{dev.port}/command-api", data=data, method="POST")
    req.add_header("Content-Type", "application/json-rpc")
    if auth:
        req.add_header("Authorization", "Basic " + base64.b64encode(":".join(auth).encode()).decode())
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


@pytest.fixture(scope="module")
def sim():
    simulator = EosSimulator(username=USER, password=PASSWORD)
    simulator.add_device("access1", "127.0.1.201", 0, INITIAL)
    simulator.add_device("spare", "127.0.0.1", 0)
    simulator.start()
    yield simulator
    simulator.stop()


@pytest.fixture
def dev(sim) -> Device:
    device = sim.device("access1")
    device.reset(INITIAL)
    yield device
    device.reset(INITIAL)  # also lifts faults, so held requests are released


@pytest.fixture
def connect(dev):
    def _connect(password: str = PASSWORD, timeout: int = 10, device: Device | None = None):
        device = device or dev
        drv = get_network_driver("eos")(
            device.address, USER, password, timeout=timeout, optional_args={"transport": "http", "port": device.port}
        )
        return drv

    return _connect


# ---------------------------------------------------------------------------------------------
# NAPALM driver flows
# ---------------------------------------------------------------------------------------------
def test_open_and_get_facts(connect, dev):
    drv = connect()
    drv.open()
    facts = drv.get_facts()
    assert facts["hostname"] == "access1"
    assert facts["fqdn"] == "access1.lab.local"
    assert facts["vendor"] == "Arista" and facts["model"] == "vEOS-lab"
    assert facts["os_version"].startswith("4.30.0F")
    assert facts["interface_list"] == ["Ethernet1", "Ethernet2", "Management1"]
    assert facts["serial_number"] == dev.serial_number
    assert drv.get_interfaces()["Ethernet2"]["is_enabled"] is False
    drv.close()


def test_merge_compare_shows_hostname_change(connect, dev):
    drv = connect()
    drv.open()
    drv.load_merge_candidate(config="hostname access-switch-1\n")
    diff = drv.compare_config()
    assert "-hostname access1" in diff.splitlines()
    assert "+hostname access-switch-1" in diff.splitlines()
    assert diff.startswith("@@ ")  # NAPALM dropped the ---/+++ header
    assert dev.open_sessions == [drv.config_session]
    candidate = drv.get_config(retrieve="candidate")["candidate"]
    assert "hostname access-switch-1" in candidate
    drv.discard_config()
    drv.close()


def test_discard_leaves_running_unchanged_and_no_session(connect, dev):
    before = dev.running_config
    drv = connect()
    drv.open()
    drv.load_merge_candidate(config="hostname other\ninterface Ethernet9\n   description new\n")
    assert dev.open_sessions
    drv.discard_config()
    assert dev.running_config == before
    assert dev.open_sessions == [] and dev.sessions == {}
    assert drv.compare_config() == ""
    drv.close()


def test_commit_changes_running_and_startup_then_merge_is_idempotent(connect, dev):
    lines = "hostname access-switch-1\nvlan 20\n   name servers\ninterface Ethernet1\n   description core uplink\n"
    drv = connect()
    drv.open()
    drv.load_merge_candidate(config=lines)
    drv.commit_config()
    running = dev.running_config
    assert "hostname access-switch-1" in running and "vlan 20\n   name servers" in running
    assert "   description core uplink" in running and "description uplink" not in running
    assert body(dev.startup_config) == body(running)
    assert dev.files["flash:rollback-0"].count("hostname access1\n") == 1  # startup before the commit
    assert dev.open_sessions == []
    drv.load_merge_candidate(config=lines)
    assert drv.compare_config() == ""
    drv.discard_config()
    config = drv.get_config()
    assert "hostname access-switch-1" in config["running"] and "hostname access-switch-1" in config["startup"]
    drv.close()


def test_merge_replaces_interface_ip_address(connect, dev):
    drv = connect()
    drv.open()
    drv.load_merge_candidate(config="interface Management1\n   ip address 127.0.1.202/24\n")
    diff = drv.compare_config().splitlines()
    assert "-   ip address 127.0.1.201/24" in diff
    assert "+   ip address 127.0.1.202/24" in diff
    drv.commit_config()
    assert "127.0.1.201" not in dev.running_config
    assert dev.running_config.count("   ip address ") == 1
    drv.close()


def test_invalid_line_is_rejected_and_session_aborted(connect, dev):
    before = dev.running_config
    drv = connect()
    drv.open()
    with pytest.raises(MergeConfigException) as info:
        drv.load_merge_candidate(config="hostname changed\nfrobnicate the widget\nhostname later\n")
    message = str(info.value)
    assert "'frobnicate the widget' failed: invalid command" in message
    assert "Invalid input (at token 0: 'frobnicate')" in message
    assert drv.config_session is None  # NAPALM aborted the session itself
    assert dev.open_sessions == [] and dev.running_config == before
    drv.close()
    assert dev.sessions == {} and dev.running_config == before


def test_commit_timer_reverts_when_not_confirmed(connect, dev):
    before = dev.running_config
    drv = connect()
    drv.open()
    drv.load_merge_candidate(config="hostname access-switch-1\n")
    started = time.monotonic()
    drv.commit_config(revert_in=2)
    assert "hostname access-switch-1" in dev.running_config
    assert dev.pending_commit["session"] == drv.config_session
    assert drv.has_pending_commit()
    assert "hostname access1\n" in dev.startup_config  # not written while pending
    assert wait_until(lambda: dev.running_config == before, timeout=6)
    elapsed = time.monotonic() - started
    assert 1.5 <= elapsed < 5, elapsed
    assert dev.pending_commit is None and dev.sessions == {}
    drv.close()  # aborting the vanished session is accepted
    assert dev.running_config == before


def test_commit_timer_confirmed_is_kept(connect, dev):
    drv = connect()
    drv.open()
    drv.load_merge_candidate(config="hostname access-switch-1\n")
    drv.commit_config(revert_in=30)
    assert 25 < dev.pending_commit["expires_in"] <= 30
    with pytest.raises(CommitError):
        drv.commit_config(revert_in=30)  # NAPALM refuses a second pending commit
    drv.confirm_commit()
    assert dev.pending_commit is None
    assert drv.config_session is None
    assert "hostname access-switch-1" in dev.running_config and "hostname access-switch-1" in dev.startup_config
    assert list(dev.sessions.values())[0]["state"] == "completed"
    drv.close()


def test_close_during_commit_timer_reverts_at_once(connect, dev):
    """NAPALM trap: close() discards, i.e. aborts the session, and EOS then rolls the commit back."""
    before = dev.running_config
    drv = connect()
    drv.open()
    drv.load_merge_candidate(config="hostname access-switch-1\n")
    drv.commit_config(revert_in=30)
    drv.close()
    assert dev.running_config == before and dev.pending_commit is None


def test_rollback_restores_previous_config(connect, dev):
    before = body(dev.running_config)
    drv = connect()
    drv.open()
    drv.load_merge_candidate(config="hostname access-switch-1\nno vlan 10\n")
    drv.commit_config()
    assert "\nvlan 10\n" not in dev.running_config
    drv.rollback()
    assert body(dev.running_config) == before
    assert body(dev.startup_config) == before
    drv.close()


def test_rollback_during_commit_timer(connect, dev):
    before = body(dev.running_config)
    drv = connect()
    drv.open()
    drv.load_merge_candidate(config="hostname access-switch-1\n")
    drv.commit_config(revert_in=30)
    drv.rollback()
    assert body(dev.running_config) == before and dev.pending_commit is None
    drv.close()


def test_wrong_password_is_a_clear_401(connect, dev):
    drv = connect(password="wrong")
    with pytest.raises(EapiConnectionError) as info:
        drv.open()
    # The driver calls "show version" outside its try/except: pyeapi's ConnectionError escapes
    # open() as it is, *not* as napalm's ConnectionException. Callers must catch both.
    assert not isinstance(info.value, ConnectionException)
    assert "Unauthorized" in str(info.value) and "Bad username/password" in str(info.value)
    status, text = eapi(dev, ["show version"], auth=None)
    assert status == 401 and "authenticate" in text


def test_unresponsive_device_times_out(connect, dev):
    dev.unresponsive = True
    drv = connect(timeout=2)
    started = time.monotonic()
    with pytest.raises(EapiConnectionError) as info:
        drv.open()
    elapsed = time.monotonic() - started
    assert "timed out" in str(info.value)
    assert 1.5 <= elapsed < 4, elapsed
    dev.unresponsive = False
    drv.open()
    assert drv.get_facts()["hostname"] == "access1"


def test_fail_after_commit_then_commit_timer_revert_brings_it_back(connect, dev):
    before = dev.running_config
    dev.fail_after_commit = True
    drv = connect(timeout=1)
    drv.open()
    drv.load_merge_candidate(config="interface Management1\n   ip address 127.0.1.99/24\n")
    drv.commit_config(revert_in=2)  # applied and answered, then the device goes silent
    assert dev.unresponsive and "127.0.1.99/24" in dev.running_config
    with pytest.raises(EapiConnectionError, match="timed out"):
        drv.confirm_commit()
    assert wait_until(lambda: dev.running_config == before and not dev.unresponsive, timeout=6)
    drv.config_session = None  # the session is gone with the revert
    assert drv.get_facts()["hostname"] == "access1"


def test_fail_after_commit_plain_commit_stays_silent(connect, dev):
    dev.fail_after_commit = True
    drv = connect(timeout=1)
    drv.open()
    drv.load_merge_candidate(config="hostname access-switch-1\n")
    drv.commit_config()
    assert "hostname access-switch-1" in dev.startup_config and dev.unresponsive
    with pytest.raises(EapiConnectionError, match="timed out"):
        drv.get_facts()


# ---------------------------------------------------------------------------------------------
# eAPI details and merge semantics
# ---------------------------------------------------------------------------------------------
def test_eapi_error_shape_and_stop_at_first_failure(dev):
    cmds = ["enable", "configure session s1", "hostname first", "bogus words", "hostname second", "end"]
    status, reply = eapi(dev, cmds)
    assert status == 200
    assert reply["id"] == "t1" and reply["jsonrpc"] == "2.0" and "result" not in reply
    assert reply["error"] == {
        "code": 1002,
        "message": "CLI command 4 of 6 'bogus words' failed: invalid command",
        "data": [{}, {}, {}, {"errors": ["Invalid input (at token 0: 'bogus')"]}],
    }
    assert "hostname first" in dev.sessions["s1"]["config"]
    assert "hostname second" not in dev.sessions["s1"]["config"]
    assert dev.open_sessions == ["s1"]
    status, reply = eapi(dev, ["enable", "configure session s1 abort"], "text")
    assert reply["result"] == [{"output": ""}, {"output": ""}] and dev.sessions == {}


def test_eapi_show_commands(dev):
    _, reply = eapi(dev, ["enable", "show versions"])
    assert reply["error"]["code"] == 1002 and reply["error"]["data"][-1]["errors"] == [
        "Invalid input (at token 1: 'versions')"
    ]
    _, reply = eapi(dev, ["show version", "show configuration sessions detail"])
    version, sessions = reply["result"]
    assert version["version"] == "4.30.0F" and version["modelName"] == "vEOS-lab" and version["uptime"] > 0
    assert sessions == {"sessions": {}, "maxSavedSessions": 1, "maxOpenSessions": 5}
    _, reply = eapi(dev, ["show running-config sanitized"], "text")
    assert "secret sha512 <removed>" in reply["result"][0]["output"]
    _, reply = eapi(dev, ["configure session x"])  # without enable
    assert "privileged mode required" in reply["error"]["data"][-1]["errors"][0]


def run_session(dev: Device, *lines: str) -> str:
    reply = dev.execute(["enable", "configure session t", *lines, "end", "show session-config named t diffs"], "text")
    assert "error" not in reply, reply
    dev.execute(["enable", "configure session t abort"])
    return reply["result"][-1]["output"]


def changes(diff: str) -> list[str]:
    """Changed lines of a session diff, without the ``!`` separators."""
    return [ln for ln in diff.splitlines()[2:] if ln[:1] in "+-" and ln[1:].strip() != "!"]


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (["hostname access1"], []),
        (["ntp server 10.0.0.2"], ["+ntp server 10.0.0.2"]),
        (["ntp server 10.0.0.1 prefer"], ["-ntp server 10.0.0.1", "+ntp server 10.0.0.1 prefer"]),
        (
            ["username admin privilege 15 role network-admin secret sha512 $6$new"],
            [
                "-username admin privilege 15 role network-admin secret sha512 $6$old",
                "+username admin privilege 15 role network-admin secret sha512 $6$new",
            ],
        ),
        (["vlan 10", "name staff"], ["-   name users", "+   name staff"]),
        (["interface Ethernet2", "no shutdown"], ["-   shutdown"]),
        (["interface Ethernet1", "shutdown"], ["+   shutdown"]),
        (
            ["interface Ethernet2", "switchport access vlan 20"],
            ["-   switchport access vlan 10", "+   switchport access vlan 20"],
        ),
        (["no ntp server 10.0.0.1"], ["-ntp server 10.0.0.1"]),
        (["no vlan 10"], ["-vlan 10", "-   name users"]),
        (["interface Management1", "no description"], ["-   description management"]),
        (["management api http-commands", "shutdown"], ["-   no shutdown", "+   shutdown"]),
        (["management api http-commands", "no shutdown"], []),
        # stripped lines: "ip domain-name" is not an interface command, so it leaves the interface
        (
            ["interface Ethernet1", "description x", "ip domain-name corp.local"],
            ["-ip domain-name lab.local", "+ip domain-name corp.local", "-   description uplink", "+   description x"],
        ),
        (["interface Ethernet1", "!", "ip address 10.1.1.1/31 secondary"], ["+   ip address 10.1.1.1/31 secondary"]),
        (
            [
                "router bgp 65000",
                "neighbor 10.0.0.2 remote-as 65001",
                "address-family ipv4",
                "neighbor 10.0.0.2 activate",
                "exit",
                "router-id 1.1.1.1",
            ],
            [
                "+router bgp 65000",
                "+   neighbor 10.0.0.2 remote-as 65001",
                "+   router-id 1.1.1.1",
                "+   address-family ipv4",
                "+      neighbor 10.0.0.2 activate",
            ],
        ),
    ],
)
def test_merge_semantics(dev, lines, expected):
    assert sorted(changes(run_session(dev, *lines))) == sorted(expected)


def test_merge_rejects_lines_outside_their_mode(dev):
    reply = dev.execute(["enable", "configure session t", "description orphan", "end"])
    assert reply["error"]["message"] == "CLI command 3 of 4 'description orphan' failed: invalid command"
    dev.execute(["enable", "configure session t abort"])


def test_banner_and_mode_comment_inputs(dev):
    diff = run_session(
        dev, {"cmd": "banner login", "input": "Authorized use only\nEOF"}, {"cmd": "comment", "input": "x"}
    )
    assert changes(diff) == ["+banner login", "+Authorized use only", "+EOF"]


def test_load_replace_candidate(connect, dev):
    drv = connect()
    drv.open()
    drv.load_replace_candidate(config="hostname minimal\n")
    diff = drv.compare_config().splitlines()
    assert "+hostname minimal" in diff and "-vlan 10" in diff
    drv.discard_config()
    drv.close()


# ---------------------------------------------------------------------------------------------
# CLI mode and scale
# ---------------------------------------------------------------------------------------------


def test_cli_two_devices_and_control_api(tmp_path):
    config = {
        "username": USER,
        "port": 0,
        "devices": [
            {"name": "cli-a", "address": "127.0.1.202", "running_config": "hostname cli-a\n"},
            {"name": "cli-b", "address": "127.0.1.203"},
        ],
    }
    with cli_simulator(tmp_path, "eos", config, {"EOS_SIM_PASSWORD": PASSWORD}) as (base, log):
        status, devices = control(base, "/devices")
        assert status == 200 and [d["name"] for d in devices] == ["cli-a", "cli-b"]
        ports = {d["name"]: (d["address"], d["port"]) for d in devices}

        def facts(name, timeout=5):
            address, port = ports[name]
            drv = get_network_driver("eos")(
                address, USER, PASSWORD, timeout=timeout, optional_args={"transport": "http", "port": port}
            )
            drv.open()
            return drv, drv.get_facts()

        assert facts("cli-a")[1]["hostname"] == "cli-a"
        drv, got = facts("cli-b")
        assert got["hostname"] == "cli-b"
        drv.load_merge_candidate(config="hostname cli-b-renamed\n")
        status, detail = control(base, "/devices/cli-b")
        assert detail["open_sessions"] == [drv.config_session] and "hostname cli-b\n" in detail["running_config"]
        drv.commit_config(revert_in=60)
        status, detail = control(base, "/devices/cli-b")
        assert detail["pending_commit"]["session"] == drv.config_session
        drv.confirm_commit()

        status, summary = control(base, "/devices/cli-b/faults", "POST", b'{"unresponsive": true}')
        assert status == 200 and summary["unresponsive"] is True
        with pytest.raises(EapiConnectionError, match="timed out"):
            facts("cli-b", timeout=1)
        assert (
            control(base, "/devices/cli-b/faults", "POST", b'{"unresponsive": false, "fail_after_commit": false}')[0]
            == 200
        )
        assert facts("cli-b")[1]["hostname"] == "cli-b-renamed"
        assert control(base, "/devices/cli-b/faults", "POST", b'{"bogus": 1}')[0] == 400

        req = urllib.request.Request(base + "/devices/cli-a/running-config", data=b"hostname reset-a\n", method="PUT")
        with urllib.request.urlopen(req, timeout=5) as resp:
            assert json.loads(resp.read())["hostname"] == "reset-a"
        assert facts("cli-a")[1]["hostname"] == "reset-a"

        status, added = control(
            base,
            "/devices",
            "POST",
            json.dumps(
                {"name": "cli-c", "address": "127.0.1.204", "port": 0, "running_config": "hostname cli-c\n"}
            ).encode(),
        )
        assert status == 201
        ports["cli-c"] = (added["address"], added["port"])
        assert facts("cli-c")[1]["hostname"] == "cli-c"
        assert control(base, "/devices", "POST", b'{"name": "cli-c"}')[0] == 409
        assert control(base, "/devices/nope")[0] == 404
    output = log.read_text()
    assert PASSWORD not in output and base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode() not in output
    assert "session" in output and "committed" in output  # INFO lines for config changes


def test_two_hundred_devices_in_one_process(capsys):
    count = 200
    simulator = EosSimulator(username=USER, password=PASSWORD)
    for i in range(count):
        simulator.add_device(f"sw{i:03d}", f"127.0.2.{i + 1}", 0, f"hostname sw{i:03d}\n")
    started = time.monotonic()
    simulator.start()
    boot = time.monotonic() - started

    def cycle(dev: Device) -> str:
        drv = get_network_driver("eos")(
            dev.address, USER, PASSWORD, timeout=10, optional_args={"transport": "http", "port": dev.port}
        )
        drv.open()
        drv.load_merge_candidate(config=f"hostname {dev.name}-new\n")
        diff = drv.compare_config()
        drv.discard_config()
        drv.close()
        return diff

    try:
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=16) as pool:
            diffs = list(pool.map(cycle, simulator.devices.values()))
        elapsed = time.monotonic() - started
        assert all(f"+hostname sw{i:03d}-new" in d for i, d in enumerate(diffs))
        assert all(not d.sessions for d in simulator.devices.values())
    finally:
        simulator.stop()
    with capsys.disabled():
        print(
            f"\n[eos-sim] {count} devices: started in {boot:.2f} s; open+merge+compare+discard+close on all "
            f"in {elapsed:.2f} s ({elapsed / count * 1000:.1f} ms/device, 16 threads)"
        )


def test_device_answers_on_its_committed_management_address():
    """With follow_management_address, a commit that re-addresses Management1 moves the device: the
    old address stops answering, the new one answers; the commit timer's revert moves it back."""
    simulator = EosSimulator(username=USER, password=PASSWORD, follow_management_address=True)
    dev = simulator.add_device("mover", "127.0.1.211", 0, INITIAL.replace("127.0.1.201", "127.0.1.211"))
    simulator.start()
    try:
        port = dev.port

        def driver(host):
            drv = get_network_driver("eos")(
                host, USER, PASSWORD, timeout=2, optional_args={"transport": "http", "port": port}
            )
            drv.open()
            return drv

        def answers(host):
            try:
                driver(host).get_facts()
            except Exception:  # noqa: BLE001 - any failure means "does not answer there"
                return False
            return True

        old = driver("127.0.1.211")
        old.load_merge_candidate(config="interface Management1\n   ip address 127.0.1.212/24\n")
        old.commit_config(revert_in=2)
        assert wait_until(lambda: dev.address == "127.0.1.212", timeout=3)
        assert answers("127.0.1.212") and not answers("127.0.1.211")
        # Not confirmed: the timer reverts the configuration, and with it the address.
        assert wait_until(lambda: dev.address == "127.0.1.211", timeout=6)
        assert answers("127.0.1.211") and not answers("127.0.1.212")
        assert "127.0.1.211/24" in dev.running_config

        # Confirmed from the new address (a new session that names the pending one): it stays there.
        old = driver("127.0.1.211")
        old.load_merge_candidate(config="interface Management1\n   ip address 127.0.1.212/24\n")
        old.commit_config(revert_in=2)
        assert wait_until(lambda: dev.address == "127.0.1.212", timeout=3)
        new = driver("127.0.1.212")
        new.config_session = old.config_session
        new.confirm_commit()
        time.sleep(2.5)
        assert dev.address == "127.0.1.212" and "127.0.1.212/24" in dev.startup_config
    finally:
        simulator.stop()
