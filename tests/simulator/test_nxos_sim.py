"""The NX-OS NX-API simulator, proven with the real NAPALM ``nxos`` driver (nxapi_plumbing, ``http``)."""

from __future__ import annotations

import base64
import difflib
import json
import re
import socket
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from napalm import get_network_driver
from napalm.base.exceptions import ConnectionException, MergeConfigException, ReplaceConfigException
from napalm.nxapi_plumbing import NXAPIAuthError, NXAPICommandError, NXAPIConnectionError

from lab.simulator.nxos_sim import Device, NxosSimulator
from tests.simulator.simhelpers import (
    add_through_control,
    cli_simulator,
    control,
    drive_sample,
    rss_mb,
    scale_figures,
    settled_threads,
    wait_until,
)

USER, PASSWORD = "admin", "sim-Secret-42"

INITIAL = """\
hostname leaf1
feature nxapi
feature lldp
no password strength-check
username admin password 5 $5$KDZmXbOF$Yr0L0uvp1k3fbdTnOvZ4xRa2AtLyabeT6bFXmTNSVe5  role network-admin
ip domain-lookup
ip domain-name lab.local
snmp-server community public group network-operator
ntp server 10.0.0.1 use-vrf management
vlan 1,10
vlan 10
  name users
vrf context management
  ip route 0.0.0.0/0 127.0.3.1
interface Ethernet1/1
  description uplink
  switchport mode trunk
interface Ethernet1/2
  switchport access vlan 10
  shutdown
interface loopback0
  ip address 10.255.0.1/32
interface mgmt0
  vrf member management
  ip address 127.0.3.201/24
line console
line vty
"""


def body(config: str) -> str:
    """A configuration without its ``!`` header lines (their timestamps change)."""
    return "\n".join(ln for ln in config.splitlines() if not ln.startswith("!")).strip() + "\n"


def nxapi(dev: Device, cmds: list[str] | str, method: str = "cli", auth=(USER, PASSWORD), content_type=None):
    """A raw NX-API JSON-RPC call, built as nxapi_plumbing builds it: (HTTP status, decoded body)."""
    items = [cmds] if isinstance(cmds, str) else cmds
    payload = [
        {"jsonrpc": "2.0", "method": method, "params": {"cmd": c, "version": 1.0}, "id": i}
        for i, c in enumerate(items, start=1)
    ]
    data = json.dumps(payload if isinstance(cmds, list) else payload[0]).encode()
    req = urllib.request.Request(f"http://{dev.address}:{dev.port}/ins", data=data, method="POST")
    req.add_header("Content-Type", content_type or "application/json-rpc")
    if auth:
        req.add_header("Authorization", "Basic " + base64.b64encode(":".join(auth).encode()).decode())
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        text = exc.read().decode()
        try:
            return exc.code, json.loads(text)
        except ValueError:
            return exc.code, text


@pytest.fixture(scope="module")
def sim():
    simulator = NxosSimulator(username=USER, password=PASSWORD)
    simulator.add_device("leaf1", "127.0.3.201", 0, INITIAL)
    simulator.start()
    yield simulator
    simulator.stop()


@pytest.fixture
def dev(sim) -> Device:
    device = sim.device("leaf1")
    device.reset(INITIAL)
    yield device
    device.reset(INITIAL)  # also lifts faults, so held requests are released


@pytest.fixture
def connect(dev):
    def _connect(password: str = PASSWORD, timeout: int = 10, device: Device | None = None, host: str | None = None):
        device = device or dev
        return get_network_driver("nxos")(
            host or device.address,
            USER,
            password,
            timeout=timeout,
            optional_args={"transport": "http", "port": device.port},
        )

    return _connect


# ---------------------------------------------------------------------------------------------
# NAPALM driver flows
# ---------------------------------------------------------------------------------------------
def test_open_get_facts_and_interfaces(connect, dev):
    drv = connect()
    drv.open()
    facts = drv.get_facts()
    assert facts["hostname"] == "leaf1" and facts["fqdn"] == "leaf1.lab.local"
    assert facts["vendor"] == "Cisco" and facts["model"] == "cisco Nexus9000 C9300v Chassis"
    assert facts["os_version"] == "10.3(4a)" and facts["serial_number"] == dev.serial_number
    assert facts["interface_list"][:2] == ["Ethernet1/1", "Ethernet1/2"]
    assert facts["interface_list"][-2:] == ["mgmt0", "loopback0"] and len(facts["interface_list"]) == 10
    interfaces = drv.get_interfaces()
    assert interfaces["Ethernet1/2"]["is_enabled"] is False and interfaces["Ethernet1/1"]["is_enabled"] is True
    assert interfaces["Ethernet1/1"]["description"] == "uplink" and interfaces["Ethernet1/1"]["mtu"] == 1500
    assert drv.is_alive() == {"is_alive": True}
    drv.close()
    assert drv.is_alive() == {"is_alive": False}


def test_merge_compare_shows_lines_that_would_change_and_discard(connect, dev):
    before = body(dev.running_config)
    drv = connect()
    drv.open()
    drv.load_merge_candidate(
        config="hostname leaf1-new\ninterface Ethernet1/1\n  description uplink\n"
        "interface Ethernet1/3\n  description server\nntp server 10.0.0.1 use-vrf management\n"
    )
    # NAPALM diffs offline (netutils) against "show running-config all": only the missing lines
    assert drv.compare_config().splitlines() == [
        "hostname leaf1-new",
        "interface Ethernet1/3",
        "  description server",
    ]
    assert body(dev.running_config) == before  # a merge candidate never reaches the device
    drv.discard_config()
    assert drv.compare_config() == ""
    with pytest.raises(ReplaceConfigException, match="No config loaded"):
        drv.commit_config()
    drv.close()


def test_commit_applies_checkpoints_and_saves_startup(connect, dev):
    before = body(dev.running_config)
    lines = "hostname leaf1-new\nvlan 20\n  name servers\ninterface Ethernet1/1\n  description core uplink\n"
    drv = connect()
    drv.open()
    drv.load_merge_candidate(config=lines)
    drv.commit_config()
    running = dev.running_config
    assert "hostname leaf1-new" in running and "\nvlan 1,10,20\n" in running and "vlan 20\n  name servers" in running
    assert "  description core uplink" in running and "description uplink" not in running
    assert body(dev.startup_config) == body(running)  # copy run startup-config
    assert list(dev.files) == ["bootflash:rollback_config.txt"]
    assert body(dev.files["bootflash:rollback_config.txt"]) == before  # the pre-commit checkpoint
    assert dev.files["bootflash:rollback_config.txt"].startswith("\n!Command: Checkpoint cmd vdc 1\n!Time: ")
    drv.load_merge_candidate(config=lines)
    assert drv.compare_config() == ""  # idempotent
    drv.discard_config()
    drv.close()


def test_rejected_line_raises_and_device_is_rolled_back(connect, dev):
    before_running, before_startup = body(dev.running_config), body(dev.startup_config)
    drv = connect()
    drv.open()
    drv.load_merge_candidate(config="hostname changed\ninterface Ethernet1/3\n  description x\nfrobnicate the widget\n")
    with pytest.raises(MergeConfigException) as info:
        drv.commit_config()
    assert str(info.value) == (
        "Configuration merge failed; automatic rollback attempted:\n"
        + repr('The command "frobnicate the widget" gave the error "% Invalid command at \'^\' marker.\n".')
    )
    assert body(dev.running_config) == before_running  # rollback running-config file rollback_config.txt
    assert body(dev.startup_config) == before_startup
    assert drv.loaded is True  # NAPALM keeps the candidate loaded after the failure
    drv.close()


def test_feature_gated_command_is_refused_until_its_feature_is_on(connect, dev):
    drv = connect()
    drv.open()
    drv.load_merge_candidate(config="router ospf 1\n  router-id 10.255.0.1\n")
    with pytest.raises(MergeConfigException, match=r'The command \\?"router ospf 1\\?" gave the error'):
        drv.commit_config()
    assert "router ospf" not in dev.running_config
    drv.discard_config()
    drv.load_merge_candidate(
        config="feature ospf\nrouter ospf 1\n  router-id 10.255.0.1\ninterface loopback0\n  ip router ospf 1 area 0\n"
    )
    drv.commit_config()
    assert "router ospf 1\n  router-id 10.255.0.1" in dev.running_config
    assert "  ip router ospf 1 area 0.0.0.0" in dev.running_config  # NX-OS prints the area dotted
    drv.close()


def test_rollback_restores_the_checkpoint(connect, dev):
    before = body(dev.running_config)
    drv = connect()
    drv.open()
    drv.load_merge_candidate(config="hostname leaf1-new\nno vlan 10\nno interface loopback0\n")
    drv.commit_config()
    assert "\nvlan 10\n" not in dev.running_config and "loopback0" not in dev.running_config
    drv.rollback()
    assert body(dev.running_config) == before and body(dev.startup_config) == before
    drv.close()


def test_no_commit_confirm_on_nxos(connect, dev):
    """The platform layer relies on this: NX-OS (and its NAPALM driver) has no commit confirm."""
    before = body(dev.running_config)
    drv = connect()
    drv.open()
    drv.load_merge_candidate(config="hostname leaf1-new\n")
    with pytest.raises(NotImplementedError, match="Commit confirm has not been implemented on this platform."):
        drv.commit_config(revert_in=60)
    with pytest.raises(NotImplementedError):
        drv.has_pending_commit()
    with pytest.raises(NotImplementedError):
        drv.confirm_commit()
    assert body(dev.running_config) == before and dev.files == {}
    assert dev.summary()["pending_commit"] is None
    drv.close()


def test_wrong_password_and_unreachable_device(connect, dev):
    drv = connect(password="wrong")
    with pytest.raises(ConnectionException, match=f"^Cannot connect to {re.escape(dev.address)}$") as info:
        drv.open()
    assert isinstance(info.value.__context__, NXAPIAuthError)
    status, text = nxapi(dev, "show hostname", auth=(USER, "wrong"))
    assert status == 401 and "401 Authorization Required" in text
    assert nxapi(dev, "show hostname", auth=None)[0] == 401

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.3.250", 0))
        free = probe.getsockname()[1]
    drv = get_network_driver("nxos")(
        "127.0.3.250", USER, PASSWORD, timeout=2, optional_args={"transport": "http", "port": free}
    )
    with pytest.raises(ConnectionException, match="^Cannot connect to 127.0.3.250$") as info:
        drv.open()
    assert isinstance(info.value.__context__, NXAPIConnectionError)


def test_unresponsive_device_times_out(connect, dev):
    dev.unresponsive = True
    drv = connect(timeout=1)
    started = time.monotonic()
    # requests' ReadTimeout is not a ConnectionError: it escapes open() unwrapped
    with pytest.raises(requests.exceptions.ReadTimeout):
        drv.open()
    assert 0.9 < time.monotonic() - started < 3


def test_delay_slows_every_answer(connect, dev):
    drv = connect()
    drv.open()
    dev.set_faults(delay=0.3)
    started = time.monotonic()
    assert drv.get_facts()["hostname"] == "leaf1"  # 4 requests
    assert time.monotonic() - started >= 1.2
    dev.set_faults(delay=0)


def test_fail_after_commit_applies_then_goes_silent(connect, dev):
    dev.fail_after_commit = True
    drv = connect(timeout=1)
    drv.open()
    drv.load_merge_candidate(config="hostname leaf1-new\n")
    # the configuration batch is applied and answered, then "copy run startup-config" gets no answer
    with pytest.raises(requests.exceptions.ReadTimeout):
        drv.commit_config()
    assert "hostname leaf1-new" in dev.running_config and "hostname leaf1\n" in dev.startup_config
    assert dev.unresponsive and not dev.fail_after_commit
    time.sleep(0.3)
    assert "hostname leaf1-new" in dev.running_config  # nothing reverts it on NX-OS
    with pytest.raises(requests.exceptions.ReadTimeout):
        drv.get_facts()


def test_get_config_round_trip(connect, dev):
    drv = connect()
    drv.open()
    config = drv.get_config()
    running, startup = config["running"], config["startup"]
    assert config["candidate"] == ""
    assert running.startswith("!Running configuration last done at: ")  # NAPALM filters !Command and !Time
    assert "!Command" not in running and "!Time" not in running and "Startup config saved" not in startup
    assert running.splitlines()[2:4] == ["version 10.3(4a) Bios:version", "hostname leaf1"]
    assert body(running) == body(startup)
    assert "username admin password 5 $5$KDZmXbOF$" in running and "  role network-admin" in running
    # Golden Config backup (nornir_napalm napalm_get): get_config(retrieve="running")
    assert drv.get_config(retrieve="running") == {"running": running, "startup": "", "candidate": ""}
    drv.load_merge_candidate(config=running)
    assert drv.compare_config() == ""
    before = body(dev.running_config)
    drv.commit_config()  # replaying the whole running-config changes nothing
    assert body(dev.running_config) == before
    drv.close()


def test_management_address_follows_commit():
    simulator = NxosSimulator(username=USER, password=PASSWORD, follow_management_address=True)
    dev = simulator.add_device("mover", "127.0.3.211", 0, INITIAL.replace("127.0.3.201", "127.0.3.211"))
    simulator.start()
    try:
        port = dev.port

        def driver(host):
            drv = get_network_driver("nxos")(
                host, USER, PASSWORD, timeout=2, optional_args={"transport": "http", "port": port}
            )
            drv.open()
            return drv

        def answers(host):
            try:
                driver(host)
            except Exception:  # noqa: BLE001 - any failure means "does not answer there"
                return False
            return True

        drv = driver("127.0.3.211")
        drv.load_merge_candidate(config="interface mgmt0\n  ip address 127.0.3.212/24\n")
        # The configuration batch is applied and answered; the old address is gone at once, so the
        # "copy run startup-config" NAPALM sends next fails: the new address is not saved.
        with pytest.raises(NXAPIConnectionError):
            drv.commit_config()
        assert "ip address 127.0.3.212/24" in dev.running_config
        assert "ip address 127.0.3.211/24" in dev.startup_config
        assert wait_until(lambda: dev.address == "127.0.3.212", timeout=3)
        assert answers("127.0.3.212") and not answers("127.0.3.211")
        new = driver("127.0.3.212")
        new._copy_run_start()
        assert "ip address 127.0.3.212/24" in dev.startup_config
        with pytest.raises(NXAPIConnectionError):
            new.rollback()  # back to the checkpoint: the address moves back (and the save is lost again)
        assert wait_until(lambda: dev.address == "127.0.3.211", timeout=3)
        assert answers("127.0.3.211") and not answers("127.0.3.212")
    finally:
        simulator.stop()


# ---------------------------------------------------------------------------------------------
# NX-API details
# ---------------------------------------------------------------------------------------------
def test_nxapi_error_shapes(dev):
    status, reply = nxapi(dev, "frobnicate")
    assert status == 500
    assert reply == {
        "jsonrpc": "2.0",
        "error": {"code": -32602, "message": "Invalid params", "data": {"msg": "% Invalid command at '^' marker.\n"}},
        "id": 1,
    }
    status, reply = nxapi(dev, ["hostname"])
    assert reply[0]["error"]["data"]["msg"] == "% Incomplete command at '^' marker.\n"
    status, reply = nxapi(dev, ["description orphan"])  # an interface command outside an interface
    assert reply[0]["error"]["data"]["msg"] == "% Invalid command at '^' marker.\n"
    status, reply = nxapi(dev, ["interface Ethernet1/1", "mtu 20000"])
    assert reply[1]["error"]["data"]["msg"] == "% Invalid number, range is (576:9216) at '^' marker.\n"
    status, reply = nxapi(dev, ["no snmp-server community nosuch"])
    assert reply[0]["error"]["data"]["msg"] == "SNMP community entry not found.\n"
    status, reply = nxapi(dev, "show running-config")  # method cli: JSON only
    assert status == 500 and reply["error"]["data"]["msg"] == "Structured output unsupported\n"
    status, reply = nxapi(dev, "show hostname ; show version")
    assert reply["error"]["data"]["msg"] == "Request contains invalid special characters\n"
    status, reply = nxapi(dev, "show hostname", method="cli_show")
    assert status == 500 and reply["error"] == {"code": -32601, "message": "Method not found"}
    status, _ = nxapi(dev, "show hostname", content_type="application/json")
    assert status == 400
    status, reply = nxapi(dev, ["show hostname", "show version"])
    assert status == 200 and reply[0] == {
        "jsonrpc": "2.0",
        "result": {"body": {"hostname": "leaf1.lab.local"}},
        "id": 1,
    }
    assert reply[1]["result"]["body"]["host_name"] == "leaf1"
    status, reply = nxapi(dev, "show hostname", method="cli_ascii")
    assert reply["result"] == {"msg": "leaf1.lab.local \n"}


def test_batch_stops_at_first_error_and_keeps_earlier_lines(dev):
    cmds = ["hostname first", "interface Ethernet1/3", "  description before", "bogus words", "hostname second"]
    status, reply = nxapi(dev, cmds)
    assert status == 500 and len(reply) == 4  # the commands after the error are neither run nor answered
    assert [r.get("result", "error") for r in reply] == [None, None, None, "error"]
    assert reply[3]["id"] == 4 and reply[3]["error"]["data"]["msg"] == "% Invalid command at '^' marker.\n"
    running = dev.running_config
    assert "hostname first" in running and "interface Ethernet1/3\n  description before" in running
    assert "hostname second" not in running
    # nxapi_plumbing reports the failing command
    drv = get_network_driver("nxos")(dev.address, USER, PASSWORD, optional_args={"transport": "http", "port": dev.port})
    drv.open()
    with pytest.raises(NXAPICommandError) as info:
        drv._send_config(["hostname third", "bogus"])
    assert info.value.command == "bogus" and info.value.message == "% Invalid command at '^' marker.\n"


def test_checkpoint_and_rollback_commands(dev):
    before = body(dev.running_config)
    status, reply = nxapi(dev, ["terminal dont-ask", "checkpoint file cp1", "no terminal dont-ask"])
    assert status == 200 and [r["result"] for r in reply] == [None, None, None]
    nxapi(dev, ["hostname changed", "no interface loopback0", "feature ospf", "router ospf 7"])
    assert "router ospf 7" in dev.running_config
    status, reply = nxapi(dev, "rollback running-config file bootflash:cp1", method="cli_ascii")
    assert status == 200 and "Rollback completed successfully." in reply["result"]["msg"]
    assert body(dev.running_config) == before
    status, reply = nxapi(dev, "dir cp1", method="cli_ascii")
    assert "  cp1\n" in reply["result"]["msg"] and "Usage for bootflash://sup-local" in reply["result"]["msg"]
    status, reply = nxapi(dev, "dir nosuch", method="cli_ascii")
    assert reply["result"]["msg"] == "No such file or directory\n"
    status, reply = nxapi(dev, "rollback running-config file nosuch", method="cli_ascii")
    assert status == 500 and reply["error"]["data"]["msg"] == "No such file or directory\n"
    status, reply = nxapi(dev, "copy run start", method="cli_ascii")
    assert reply["result"]["msg"].endswith("Copy complete.\n")
    assert nxapi(dev, "write memory")[1]["error"]["data"]["msg"] == "% Invalid command at '^' marker.\n"
    assert nxapi(dev, ["terminal dont-ask", "delete bootflash:cp1", "no terminal dont-ask"])[0] == 200
    assert dev.files == {}


def run_lines(dev: Device, *lines: str) -> list[str]:
    """Apply lines over NX-API; return the running-config lines that changed (``-``/``+``)."""
    before = body(dev.running_config).splitlines()
    status, reply = nxapi(dev, list(lines))
    assert status == 200, reply
    after = body(dev.running_config).splitlines()
    dev.reset(INITIAL)
    diff = difflib.unified_diff(before, after, lineterm="", n=0)
    return [ln for ln in diff if ln[:1] in "+-" and ln[1:].strip() and not ln.startswith(("+++", "---"))]


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (["hostname leaf1"], []),
        (["switchname leaf9"], ["-hostname leaf1", "+hostname leaf9"]),
        (["ntp server 10.0.0.2"], ["+ntp server 10.0.0.2"]),
        (
            ["ntp server 10.0.0.1 prefer use-vrf management"],
            ["-ntp server 10.0.0.1 use-vrf management"] + ["+ntp server 10.0.0.1 prefer use-vrf management"],
        ),
        (["no ntp server 10.0.0.1"], ["-ntp server 10.0.0.1 use-vrf management"]),
        (["snmp-server community private rw"], ["+snmp-server community private group network-admin"]),
        (["vlan 10", "name staff"], ["-  name users", "+  name staff"]),
        (["vlan 30-31"], ["-vlan 1,10", "+vlan 1,10,30-31"]),
        (["no vlan 10"], ["-vlan 1,10", "-vlan 10", "-  name users", "+vlan 1"]),
        (["interface Ethernet1/2", "no shutdown"], ["-  shutdown"]),
        (["interface eth1/1", "shutdown"], ["+  shutdown"]),
        (["int e1/2", "switchport access vlan 20"], ["-  switchport access vlan 10", "+  switchport access vlan 20"]),
        (
            ["interface loopback0", "ip address 10.255.0.2 255.255.255.255"],
            ["-  ip address 10.255.0.1/32", "+  ip address 10.255.0.2/32"],
        ),
        (["interface lo0", "ip address 10.255.1.1/32 secondary"], ["+  ip address 10.255.1.1/32 secondary"]),
        (["interface Ethernet1/1", "no description"], ["-  description uplink"]),
        (["interface Ethernet1/1", "no switchport"], ["-  switchport mode trunk", "+  no switchport"]),
        (["ip route 10.1.0.0 255.255.0.0 127.0.3.1"], ["+ip route 10.1.0.0/16 127.0.3.1"]),
        (["vrf context management", "ip route 10.9.0.0/16 127.0.3.2"], ["+  ip route 10.9.0.0/16 127.0.3.2"]),
        # stripped lines: "ip domain-name" is not an interface command, so it leaves the interface
        (
            ["interface Ethernet1/1", "description x", "ip domain-name corp.local"],
            ["-ip domain-name lab.local", "-  description uplink", "+ip domain-name corp.local", "+  description x"],
        ),
        (
            ["username bob password 0 Clear-Text-1 role network-operator"],
            ["+username bob password 5 $5$"],  # checked by prefix below: hashed, never stored in clear
        ),
        (
            ["feature interface-vlan", "interface Vlan10", "no shutdown"],
            ["+feature interface-vlan", "+interface Vlan10", "+  no shutdown"],
        ),
        (
            ["feature ospf", "router ospf 1", "router-id 1.1.1.1", "no feature ospf"],
            [],
        ),
        (["no password strength-check"], []),
        (["password strength-check"], ["-no password strength-check"]),
    ],
)
def test_merge_semantics(dev, lines, expected):
    got = run_lines(dev, *lines)
    if expected and expected[-1].endswith("$5$"):
        assert len(got) == 1 and got[0].startswith(expected[0]) and got[0].endswith("  role network-operator")
        assert "Clear-Text-1" not in got[0]
        return
    assert sorted(got) == sorted(expected)


def test_show_running_config_layout(dev):
    text = nxapi(dev, "show running-config", method="cli_ascii")[1]["result"]["msg"]
    lines = text.splitlines()
    assert lines[0] == "" and lines[1] == "!Command: show running-config"
    assert lines[2].startswith("!Running configuration last done at: ") and lines[3].startswith("!Time: ")
    assert lines[4:7] == ["", "version 10.3(4a) Bios:version", "hostname leaf1"]
    assert "\nfeature nxapi\nfeature lldp\n\nno password strength-check\n" in text
    assert (
        "ntp server 10.0.0.1 use-vrf management\nvlan 1,10\nvlan 10\n  name users\n\nvrf context management\n" in text
    )
    assert (
        "\n\ninterface Ethernet1/8\n\ninterface mgmt0\n  vrf member management\n  ip address 127.0.3.201/24\n" in text
    )
    full = nxapi(dev, "show running-config all", method="cli_ascii")[1]["result"]["msg"]
    assert "!Command: show running-config all" in full
    assert "interface Ethernet1/3\n  mtu 1500\n  no shutdown\n" in full
    startup = nxapi(dev, "show startup-config", method="cli_ascii")[1]["result"]["msg"]
    assert startup.splitlines()[4].startswith("!Startup config saved at: ")


def test_initial_config_is_validated():
    with pytest.raises(ValueError, match=r"config line 2 'frobnicate': % Invalid command"):
        Device("bad", "127.0.0.1", 0, "hostname bad\nfrobnicate\n")
    with pytest.raises(ValueError, match="router ospf 1"):
        Device("bad", "127.0.0.1", 0, "router ospf 1\n")  # feature ospf is off
    fresh = Device("fresh", "127.0.0.1", 0)
    assert "hostname fresh\n\nfeature nxapi\n" in fresh.running_config
    assert fresh.running_config.count("interface Ethernet1/") == 8


# ---------------------------------------------------------------------------------------------
# CLI mode and scale
# ---------------------------------------------------------------------------------------------


def test_cli_two_devices_and_control_api(tmp_path):
    config = {
        "username": USER,
        "port": 0,
        "devices": [
            {"name": "cli-a", "address": "127.0.3.202", "running_config": "hostname cli-a\n"},
            {"name": "cli-b", "address": "127.0.3.203", "ethernet_ports": 4},
        ],
    }
    with cli_simulator(tmp_path, "nxos", config, {"NXOS_SIM_PASSWORD": PASSWORD}) as (base, log):
        status, devices = control(base, "/devices")
        assert status == 200 and [d["name"] for d in devices] == ["cli-a", "cli-b"]
        ports = {d["name"]: (d["address"], d["port"]) for d in devices}

        def driver(name, timeout=5):
            address, port = ports[name]
            drv = get_network_driver("nxos")(
                address, USER, PASSWORD, timeout=timeout, optional_args={"transport": "http", "port": port}
            )
            drv.open()
            return drv

        assert driver("cli-a").get_facts()["hostname"] == "cli-a"
        drv = driver("cli-b")
        assert len(drv.get_facts()["interface_list"]) == 5
        drv.load_merge_candidate(config="hostname cli-b-renamed\nusername ops password 0 Very-Secret-9 role priv-15\n")
        drv.commit_config()
        status, detail = control(base, "/devices/cli-b")
        assert (
            "hostname cli-b-renamed" in detail["running_config"]
            and "hostname cli-b-renamed" in detail["startup_config"]
        )
        assert detail["files"] == ["bootflash:rollback_config.txt"] and detail["pending_commit"] is None

        status, summary = control(base, "/devices/cli-b/faults", "POST", b'{"unresponsive": true}')
        assert status == 200 and summary["unresponsive"] is True
        with pytest.raises(requests.exceptions.ReadTimeout):
            driver("cli-b", timeout=1)
        body_ = b'{"unresponsive": false, "fail_after_commit": false, "delay": 0.2}'
        status, summary = control(base, "/devices/cli-b/faults", "POST", body_)
        assert status == 200 and summary["delay"] == 0.2
        started = time.monotonic()
        assert driver("cli-b").get_facts()["hostname"] == "cli-b-renamed"
        assert time.monotonic() - started >= 0.8
        assert control(base, "/devices/cli-b/faults", "POST", b'{"bogus": 1}')[0] == 400
        assert control(base, "/devices/cli-b/faults", "POST", b'{"delay": -1}')[0] == 400

        req = urllib.request.Request(base + "/devices/cli-a/running-config", data=b"hostname reset-a\n", method="PUT")
        with urllib.request.urlopen(req, timeout=5) as resp:
            assert json.loads(resp.read())["hostname"] == "reset-a"
        assert driver("cli-a").get_facts()["hostname"] == "reset-a"
        bad = urllib.request.Request(base + "/devices/cli-a/running-config", data=b"frobnicate\n", method="PUT")
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(bad, timeout=5)
        assert info.value.code == 400

        new = {"name": "cli-c", "address": "127.0.3.204", "port": 0, "running_config": "hostname cli-c\n"}
        status, added = control(base, "/devices", "POST", json.dumps(new).encode())
        assert status == 201
        ports["cli-c"] = (added["address"], added["port"])
        assert driver("cli-c").get_facts()["hostname"] == "cli-c"
        assert control(base, "/devices", "POST", b'{"name": "cli-c"}')[0] == 409
        assert control(base, "/devices/cli-c", "DELETE")[1] == {"removed": "cli-c"}
        assert control(base, "/devices/nope")[0] == 404
    output = log.read_text()
    assert PASSWORD not in output and base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode() not in output
    assert "Very-Secret-9" not in output and "password 0 <removed>" in output
    assert "running-config changed" in output and "checkpoint file bootflash:rollback_config.txt" in output


def test_hundred_devices_in_one_process(capsys):
    count = 100
    simulator = NxosSimulator(username=USER, password=PASSWORD)
    for i in range(count):
        simulator.add_device(f"sw{i:03d}", f"127.0.4.{i + 1}", 0, f"hostname sw{i:03d}\n")
    started = time.monotonic()
    simulator.start()
    boot = time.monotonic() - started

    def cycle(dev: Device) -> str:
        drv = get_network_driver("nxos")(
            dev.address, USER, PASSWORD, timeout=10, optional_args={"transport": "http", "port": dev.port}
        )
        drv.open()
        drv.load_merge_candidate(config=f"hostname {dev.name}-new\n")
        diff = drv.compare_config()
        drv.commit_config()
        drv.close()
        return diff

    try:
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=16) as pool:
            diffs = list(pool.map(cycle, simulator.devices.values()))
        elapsed = time.monotonic() - started
        assert all(d == f"hostname sw{i:03d}-new" for i, d in enumerate(diffs))
        assert all(d.hostname == f"{d.name}-new" for d in simulator.devices.values())
    finally:
        simulator.stop()
    with capsys.disabled():
        print(
            f"\n[nxos-sim] {count} devices: started in {boot:.2f} s; open+merge+compare+commit on all "
            f"in {elapsed:.2f} s ({elapsed / count * 1000:.1f} ms/device, 16 threads)"
        )


def test_hundred_devices_added_through_the_control_api(capsys):
    """The mixed-fleet benchmark's load: 100 devices added one request at a time (each on its own
    address, all on one port), then NAPALM sessions to a sample of them, one and then several at once
    (a dry run: merge, compare, discard). Threads and memory stay bounded."""
    count, sample = 100, 5
    threads_before = threading.active_count()
    simulator = NxosSimulator(username=USER, password=PASSWORD)
    simulator.start(control_port=0)
    base = f"http://127.0.0.1:{simulator.control_port}"
    try:
        rss_before = rss_mb()
        started = time.monotonic()
        added = add_through_control(base, count, "127.0.5", lambda name: f"hostname {name}\n")
        add_seconds = time.monotonic() - started
        rss_added, threads_added = rss_mb(), threading.active_count()
        assert len({d["address"] for d in added}) == count and len({d["port"] for d in added}) == 1
        assert [d["name"] for d in control(base, "/devices")[1]] == [d["name"] for d in added]
        assert threads_added == threads_before + 1  # the simulator's loop, whatever the number of devices

        def cycle(summary: dict) -> tuple[str, str]:
            drv = get_network_driver("nxos")(
                summary["address"],
                USER,
                PASSWORD,
                timeout=10,
                optional_args={"transport": "http", "port": summary["port"]},
            )
            drv.open()
            try:
                hostname = drv.get_facts()["hostname"]
                drv.load_merge_candidate(config=f"hostname {summary['name']}-new\n")
                diff = drv.compare_config()
                drv.discard_config()
            finally:
                drv.close()
            return hostname, diff

        picks = added[:: count // sample]
        results, drive_seconds = drive_sample(cycle, picks)
        assert results == [(d["name"], f"hostname {d['name']}-new") for d in picks]
        assert all(simulator.device(d["name"]).hostname == d["name"] for d in picks)  # a dry run
        threads_idle = settled_threads(threads_before + 1)
        assert threads_idle <= threads_before + 1
        rss_after = rss_mb()
        assert rss_after - rss_before < 100
        assert all(control(base, f"/devices/{d['name']}", "DELETE")[0] == 200 for d in added)
        assert control(base, "/devices")[1] == []
    finally:
        simulator.stop()
    assert add_seconds < 20
    with capsys.disabled():
        rss = (rss_before, rss_added, rss_after)
        print(scale_figures("nxos", count, add_seconds, len(picks), drive_seconds, rss, (threads_added, threads_idle)))
