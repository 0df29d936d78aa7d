"""The Cisco IOS-XE simulator, proven with the real NAPALM ``ios`` driver (netmiko ``cisco_ios`` over SSH, the
candidate copied to flash by netmiko's SCP ``FileTransfer``), and the collection's deploy flow on top of it.
Nothing is mocked: every test drives a real SSH connection to the simulator."""

from __future__ import annotations

import json
import socket
import time

import paramiko
import pytest
from napalm import get_network_driver
from napalm.base.exceptions import CommandErrorException, ConnectionException, MergeConfigException
from netmiko.exceptions import NetmikoAuthenticationException, ReadTimeout

from ansible_collections.sotsync.nautobot.plugins.module_utils import messages
from ansible_collections.sotsync.nautobot.plugins.module_utils.deploy import deploy, make_driver
from ansible_collections.sotsync.nautobot.plugins.module_utils.errors import (
    CommitFailed,
    CommitVerificationFailed,
    ConfigRejected,
    DeviceAuthenticationFailed,
    DeviceUnreachable,
)
from lab.simulator.ios_sim import (
    ARCHIVE_OFF,
    INVALID,
    Device,
    IosSimulator,
    default_config,
    incremental_diff,
    load_config,
    render_body,
)
from tests.simulator.simhelpers import cli_simulator, control, wait_until

USER, PASSWORD = "netops", "sim-Secret-42"
MINUTE = 2.5  # an IOS "minute" lasts 2.5 s here: "configure terminal revert timer 1" reverts after 2.5 s
ADDRESS = "127.0.5.11"
INITIAL = default_config("sw1", ADDRESS, 24, USER).replace(
    "login on-success log\n", "ip domain name lab.local\n!\nlogin on-success log\n"
)
# fail fast on a silent device (netmiko waits 15 s for a banner and 10 s for a prompt by default)
FAST = {"banner_timeout": 2, "read_timeout_override": 1.5}


def body(text: str) -> str:
    """A configuration without its header comments (they carry the time of the last change)."""
    return "\n".join(ln for ln in text.splitlines() if not ln.startswith("! "))


@pytest.fixture(scope="module")
def sim():
    simulator = IosSimulator(username=USER, password=PASSWORD, minute_seconds=MINUTE)
    simulator.add_device("sw1", ADDRESS, 0, INITIAL)
    simulator.start()
    yield simulator
    simulator.stop()


@pytest.fixture
def dev(sim) -> Device:
    device = sim.device("sw1")
    device.reset(INITIAL)
    device.minute_seconds = MINUTE
    yield device
    device.reset(INITIAL)  # also lifts faults, so held sessions are released


@pytest.fixture
def connect(dev):
    """NAPALM ios drivers for the test, every one closed at the end (a driver left open closes itself from
    ``__del__`` whenever the garbage collector gets to it, in whatever thread: never leave one)."""
    drivers = []

    def _connect(password: str = PASSWORD, device: Device | None = None, host: str | None = None, **optional):
        device = device or dev
        args = {"port": device.port, **optional}
        drv = get_network_driver("ios")(host or device.address, USER, password, timeout=5, optional_args=args)
        drivers.append(drv)
        return drv

    yield _connect
    dev.set_faults(unresponsive=False, fail_after_commit=False, delay=0)
    for drv in drivers:
        try:
            drv.close()
        except Exception:  # noqa: BLE001 - best effort: the device may have been made silent
            if getattr(drv, "device", None) is not None:
                drv.device.disconnect()


# ---------------------------------------------------------------------------------------------
# The model: parser, rendering, diffs (no SSH)
# ---------------------------------------------------------------------------------------------
def test_the_configuration_round_trips_through_the_parser():
    tree = load_config(INITIAL, 24)
    again = load_config("\n".join(render_body(tree)) + "\nend\n", 24)
    assert render_body(again) == render_body(tree)
    assert "interface GigabitEthernet0/0\n vrf forwarding Mgmt-vrf\n ip address 127.0.5.11 255.255.255.0" in (
        "\n".join(render_body(tree))
    )
    assert "interface Vlan1\n no ip address\n shutdown" in "\n".join(render_body(tree))
    with pytest.raises(ValueError, match=r"line 2 'frobnicate' refused: .*Invalid input"):
        load_config("hostname x\nfrobnicate\n", 24)


def test_refusals_in_ios_wording(dev):
    out = dev.cli(
        [
            "configure terminal",
            "interface Gi1/0/1",
            "ip address 10.0.0.1 255.255.255.0",  # a switchport
            "no switchport",
            "ip address 10.0.0.1 255.0.255.0",
            "ip address 10.0.0.0 255.255.255.0",
            "vrf forwarding Blue",
            "frobnicate",
            "description",
            "s",
            "exit",
            "no interface GigabitEthernet1/0/2",
            "vlan 1",
            "name users",
            "end",
        ]
    )
    assert "sw1(config-if)#ip address 10.0.0.1 255.255.255.0\n% IP addresses may not be configured on L2 links." in out
    assert "Bad mask 0xFF00FF00 for address 10.0.0.1" in out
    assert "Bad mask /24 for address 10.0.0.0" in out
    assert "% VRF Blue not configured." in out
    # the caret under the refused word, after the prompt
    assert "sw1(config-if)#frobnicate\n" + " " * len("sw1(config-if)#") + "^\n" + INVALID in out
    assert "sw1(config-if)#description\n% Incomplete command." in out
    assert 'sw1(config-if)#s\n% Ambiguous command:  "s"' in out
    caret = " " * len("sw1(config)#no interface ") + "^"
    assert "sw1(config)#no interface GigabitEthernet1/0/2\n" + caret + "\n" + INVALID in out
    assert "Default VLAN 1 may not have its name changed." in out
    # an unknown word at the exec prompt is a host to telnet to, as on IOS
    assert 'Translating "frobnicate"...domain server (255.255.255.255)' in dev.cli(["frobnicate"])
    running = dev.running_config
    assert "interface GigabitEthernet1/0/1\n no switchport\n no ip address" in running and "Blue" not in running


def test_a_copy_to_running_config_is_not_atomic(dev):
    dev.write_file("bad.txt", b"hostname sw9\nfrobnicate everything\nvlan 30\n name guests\nend\n")
    out = dev.cli(["configure terminal", "file prompt quiet", "end", "copy flash:/bad.txt running-config"])
    # IOS prints the caret and its message, not the refused line, and goes on with the next line
    assert "sw1#copy flash:/bad.txt running-config\n^\n" + INVALID + "\n\n" in out
    assert "frobnicate" not in out.split("copy flash:/bad.txt running-config", 1)[1]
    assert "bytes copied in" in out
    assert dev.hostname == "sw9" and "vlan 30\n name guests" in dev.running_config


def test_incremental_diffs_as_ios_prints_them(dev):
    running = dev.running_config
    assert incremental_diff(running, "hostname sw1\nend\n", True) == "!List of Commands:\nend\n!No changes were found"
    diff = incremental_diff(running, "interface GigabitEthernet0/0\n description mgmt\n negotiation auto\nend\n", True)
    assert diff == "!List of Commands:\ninterface GigabitEthernet0/0\n description mgmt\nend"
    assert "cfgdiff returned error 5" in incremental_diff(running, "hostname sw2\n", True)  # no final "end"
    assert incremental_diff(running, "HOSTNAME SW1\nend\n", True).endswith("!No changes were found")
    assert "HOSTNAME SW1" in incremental_diff(running, "HOSTNAME SW1\nend\n", False)


def test_revert_timers_need_the_archive(dev):
    dev.reset(INITIAL.replace("archive\n path flash:archive\n maximum 14\n", ""))
    out = dev.cli(["show archive", "configure terminal revert timer 1", "configure replace flash:x force time 1"])
    assert "sw1#show archive\nArchive feature not enabled\n" in out
    assert "sw1#configure terminal revert timer 1\n" + ARCHIVE_OFF + "\nsw1#" in out  # stays in exec mode
    assert dev.pending_commit is None


# ---------------------------------------------------------------------------------------------
# The NAPALM ios driver
# ---------------------------------------------------------------------------------------------
def test_open_get_facts_and_get_config(connect, dev):
    drv = connect()
    drv.open()
    assert dev.summary()["open_sessions"] == 1
    facts = drv.get_facts()
    assert (facts["vendor"], facts["model"], facts["hostname"], facts["fqdn"]) == (
        "Cisco",
        "C9300-24T",
        "sw1",
        "sw1.lab.local",
    )
    assert facts["os_version"].endswith("Version 17.9.4a, RELEASE SOFTWARE (fc3)")
    assert facts["serial_number"] == dev.serial_number and facts["uptime"] >= 300
    assert facts["interface_list"][:2] == ["GigabitEthernet0/0", "GigabitEthernet1/0/1"]
    assert "Vlan1" in facts["interface_list"]
    config = drv.get_config()
    assert "hostname sw1" in config["running"] and "Building configuration" not in config["running"]
    assert config["startup"].startswith("Using ") and "hostname sw1" in config["startup"]
    assert drv.is_alive()["is_alive"] is True
    drv.close()
    assert wait_until(lambda: dev.summary()["open_sessions"] == 0)


def test_merge_is_copied_to_flash_compared_then_discarded(connect, dev):
    before = body(dev.running_config)
    drv = connect()
    drv.open()
    candidate = (
        "interface GigabitEthernet1/0/5\n description printer\n switchport access vlan 10\nvlan 10\n name users\nend\n"
    )
    drv.load_merge_candidate(config=candidate)
    assert dev.files["flash:/merge_config.txt"] == candidate  # over SCP, byte for byte
    listing = drv.cli(["dir flash:"])["dir flash:"]
    assert f"{len(candidate)}" in listing and "merge_config.txt" in listing
    assert drv.compare_config() == (
        "+interface GigabitEthernet1/0/5\n+ description printer\n+ switchport access vlan 10\n+vlan 10\n+ name users"
    )
    drv.discard_config()
    assert dev.files["flash:/merge_config.txt"] == ""  # copy null: flash:/merge_config.txt
    drv.close()
    assert body(dev.running_config) == before


def test_commit_applies_and_saves_then_rollback_restores(connect, dev):
    before = body(dev.running_config)
    drv = connect()
    drv.open()
    drv.load_merge_candidate(config="hostname sw2\ninterface GigabitEthernet1/0/3\n description uplink\nend\n")
    drv.commit_config()
    running = dev.running_config
    assert "hostname sw2" in running and "interface GigabitEthernet1/0/3\n description uplink" in running
    assert "hostname sw2" in dev.startup_config  # write memory
    assert "hostname sw1" in dev.files["flash:/rollback_config.txt"]  # the running configuration before the commit
    drv.rollback()  # configure replace flash:/rollback_config.txt force
    drv.close()
    assert body(dev.running_config) == before
    assert "hostname sw1" in dev.startup_config


def test_a_refused_line_raises_with_ios_message_and_is_rolled_back(connect, dev):
    before = body(dev.running_config)
    drv = connect()
    drv.open()
    drv.load_merge_candidate(config="hostname sw2\nfrobnicate everything\nvlan 20\n name lab\nend\n")
    assert "+frobnicate everything" in drv.compare_config()  # the diff does not parse the lines
    with pytest.raises(MergeConfigException) as info:
        drv.commit_config()
    message = str(info.value)
    assert message.startswith("Configuration merge failed; automatic rollback attempted:")
    assert INVALID in message and "bytes copied in" in message
    drv.close()
    assert body(dev.running_config) == before  # configure replace flash:/rollback_config.txt force


def test_commit_confirm_reverts_unless_confirmed(connect, dev):
    drv = connect()
    drv.open()
    drv.load_merge_candidate(config="interface GigabitEthernet1/0/7\n description temporary\nend\n")
    drv.commit_config(revert_in=60)  # configure terminal revert timer 1
    assert drv.has_pending_commit() is True
    assert dev.pending_commit["minutes"] == 1 and dev.pending_commit["user"] == USER
    assert "description temporary" in dev.running_config and "description temporary" not in dev.startup_config
    assert wait_until(lambda: dev.pending_commit is None, timeout=MINUTE + 2)  # nobody confirmed
    assert "description temporary" not in dev.running_config
    assert drv.has_pending_commit() is False

    dev.minute_seconds = 5.0  # room for commit_config and confirm_commit (about 2 s here) within the minute
    drv.load_merge_candidate(config="interface GigabitEthernet1/0/7\n description kept\nend\n")
    started = time.monotonic()
    drv.commit_config(revert_in=60)
    drv.confirm_commit()  # configure confirm, then write memory
    assert dev.pending_commit is None and time.monotonic() - started < dev.minute_seconds
    time.sleep(max(dev.minute_seconds - (time.monotonic() - started), 0) + 0.3)  # past the timer's deadline
    assert "description kept" in dev.running_config and "description kept" in dev.startup_config
    assert any(name.startswith("flash:/archive-") for name in dev.files)  # the revert timers' backups
    drv.close()


def test_wrong_password_is_refused_by_ssh(connect, dev):
    drv = connect(password="wrong-password")
    with pytest.raises(NetmikoAuthenticationException):
        drv.open()
    assert dev.summary()["open_sessions"] == 0


def test_an_unresponsive_device_times_out(connect, dev):
    drv = connect(**FAST)
    drv.open()
    dev.set_faults(unresponsive=True)
    started = time.monotonic()
    with pytest.raises(ReadTimeout):  # the session is held: no echo, no prompt comes back
        # NAPALM's getters first hunt for the prompt (netmiko's find_prompt backs off for about a minute before
        # it gives up): the same connection, asked without that hunt, shows the silence at once
        drv.device.send_command("show version", auto_find_prompt=False)
    with pytest.raises(ConnectionException, match="Cannot connect"):  # TCP accepted, no SSH banner
        connect(**FAST).open()
    assert time.monotonic() - started < 8


def test_scp_needs_ip_scp_server_enable(connect, dev):
    dev.reset(INITIAL.replace("ip scp server enable\n", ""))
    drv = connect()
    drv.open()
    with pytest.raises(CommandErrorException, match="ip scp server enable"):  # NAPALM's own check
        drv.load_merge_candidate(config="hostname sw2\nend\n")
    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    client.connect(dev.address, dev.port, USER, PASSWORD, look_for_keys=False, allow_agent=False)
    try:
        with pytest.raises(paramiko.SSHException):  # and the device refuses the exec channel
            client.exec_command("scp -t flash:/merge_config.txt")
    finally:
        client.close()


def test_the_device_follows_its_management_address():
    simulator = IosSimulator(username=USER, password=PASSWORD, minute_seconds=MINUTE, follow_management_address=True)
    device = simulator.add_device("edge", "127.0.5.21", 0, default_config("edge", "127.0.5.21", 4, USER))
    simulator.start()
    try:
        drv = get_network_driver("ios")(device.address, USER, PASSWORD, optional_args={"port": device.port, **FAST})
        drv.open()
        try:
            drv.load_merge_candidate(config="interface GigabitEthernet0/0\n ip address 127.0.5.22 255.255.255.0\nend\n")
            with pytest.raises((OSError, EOFError, ReadTimeout)):  # the session at the old address is gone
                drv.commit_config()
        finally:
            with pytest.raises(Exception):  # noqa: B017, PT011 - napalm's close sends "no file prompt quiet"
                drv.close()
            drv.device.disconnect() if drv.device else None
        assert wait_until(lambda: device.address == "127.0.5.22")
        moved = get_network_driver("ios")("127.0.5.22", USER, PASSWORD, optional_args={"port": device.port})
        moved.open()
        try:
            assert moved.get_facts()["hostname"] == "edge"
        finally:
            moved.close()
        with pytest.raises(OSError):
            socket.create_connection(("127.0.5.21", device.port), timeout=1).close()
    finally:
        simulator.stop()


def test_command_line_and_control_api(tmp_path):
    config = {"username": USER, "port": 0, "minute_seconds": 10, "devices": [{"name": "cli1", "address": "127.0.5.31"}]}
    with cli_simulator(tmp_path, "ios", config, {"IOS_SIM_PASSWORD": "env-Secret-7"}) as (base, log):
        status, devices = control(base, "/devices")
        assert status == 200 and devices[0]["model"] == "C9300-24T" and devices[0]["archive"] is True
        status, detail = control(base, "/devices/cli1")
        assert "hostname cli1" in detail["running_config"] and "flash:/packages.conf" in detail["files"]
        port = devices[0]["port"]
        drv = get_network_driver("ios")("127.0.5.31", USER, "env-Secret-7", optional_args={"port": port})
        drv.open()
        try:
            assert drv.get_facts()["hostname"] == "cli1"
        finally:
            drv.close()
        status, summary = control(base, "/devices/cli1/faults", "POST", b'{"delay": 0.2, "unresponsive": false}')
        assert status == 200 and summary["delay"] == 0.2
        status, reply = control(base, "/devices/cli1/running-config", "PUT", b"hostname x\nfrobnicate\n")
        assert status == 400 and "Invalid input" in reply["error"]
        status, summary = control(base, "/devices/cli1/running-config", "PUT", b"hostname cli2\n")
        assert status == 200 and summary["hostname"] == "cli2" and summary["delay"] == 0
        body_ = json.dumps({"name": "cli3", "address": "127.0.5.32", "port": 0, "ports": 8}).encode()
        status, added = control(base, "/devices", "POST", body_)
        assert status == 201 and "GigabitEthernet1/0/8\n" in added["running_config"]
    logged = log.read_text()
    assert "env-Secret-7" not in logged and "show version" in logged  # DEBUG: the commands, not the password


# ---------------------------------------------------------------------------------------------
# The collection's deploy flow (platform "ios") against the simulator
# ---------------------------------------------------------------------------------------------
INTENT = """! intended configuration for access-switch-1 (rendered by Nautobot Golden Config)
hostname access-switch-1
ip domain name site-a.lab.sotsync.test
!
vlan 10
 name users
!
interface GigabitEthernet1/0/1
 description uplink to distribution
 switchport mode trunk
!
end
"""


@pytest.fixture
def device(sim, request):
    name = "dep-" + request.node.name[:40]
    dev = sim.add_device(name, "127.0.5.41", 0, default_config(name, "127.0.5.41", 4, USER))
    yield dev
    dev.set_faults(unresponsive=False, fail_after_commit=False)
    sim.remove_device(name)


def ios_driver(dev, password=PASSWORD, **optional):
    return make_driver("ios", dev.address, USER, password, 5, {"port": dev.port, **optional})


def test_deploy_dry_run_shows_the_diff_and_changes_nothing(device):
    before = device.running_config
    result = deploy(ios_driver(device), INTENT, dry_run=True, host=device.address)
    assert result.msg == messages.DRY_RUN and result.changed and not result.committed
    assert "+hostname access-switch-1" in result.diff.splitlines()
    assert "+ switchport mode trunk" in result.diff.splitlines()
    assert body(device.running_config) == body(before) and device.pending_commit is None


def test_deploy_live_commits_confirms_and_verifies(device):
    device.minute_seconds = 30.0  # no revert while the flow verifies and confirms
    result = deploy(ios_driver(device), INTENT, dry_run=False, commit_confirm_seconds=30, host=device.address)
    assert (result.msg, result.committed, result.commit_confirm, result.verified) == (
        messages.COMMITTED,
        True,
        True,
        True,
    )
    assert any("rounded up to 60 s (1 min)" in w for w in result.warnings)  # IOS counts whole minutes
    running = device.running_config
    assert "hostname access-switch-1" in running and "interface GigabitEthernet1/0/1\n description uplink" in running
    assert device.pending_commit is None and "hostname access-switch-1" in device.startup_config
    again = deploy(ios_driver(device), INTENT, dry_run=False, host=device.address)
    assert (again.changed, again.committed, again.msg) == (False, False, messages.NO_CHANGES)


def test_deploy_reports_the_refused_line_in_the_devices_words(device):
    before = body(device.running_config)
    bad = INTENT.replace("vlan 10\n", "frobnicate everything now\nvlan 10\n")
    with pytest.raises(ConfigRejected) as info:
        deploy(ios_driver(device), bad, dry_run=False, host=device.address)
    assert INVALID in info.value.message and "rolled the device back" in info.value.message
    assert info.value.details["line"] is None  # IOS does not repeat the refused line
    assert body(device.running_config) == before and device.pending_commit is None


def test_deploy_without_archive_refuses_commit_confirm_and_applies_nothing(device):
    device.reset(default_config(device.name, device.address, 4, USER).replace(" path flash:archive\n", ""))
    before = body(device.running_config)
    with pytest.raises(CommitFailed, match="has no archive") as info:
        deploy(ios_driver(device), INTENT, dry_run=False, host=device.address)
    assert "nothing was applied" in info.value.message
    assert body(device.running_config) == before


def test_deploy_wrong_password_and_silent_device(device):
    with pytest.raises(DeviceAuthenticationFailed, match="refused the NAPALM credentials"):
        deploy(ios_driver(device, password="wrong-password"), INTENT, host=device.address)
    device.set_faults(unresponsive=True)
    with pytest.raises(DeviceUnreachable, match="is unreachable"):
        deploy(ios_driver(device, **FAST), INTENT, host=device.address)


def test_deploy_device_silent_after_commit_is_reverted_by_its_timer(device):
    before = body(device.running_config)
    device.set_faults(fail_after_commit=True)
    with pytest.raises(CommitVerificationFailed, match="commit-confirm timer reverts it") as info:
        deploy(ios_driver(device, **FAST), INTENT, dry_run=False, commit_confirm_seconds=60, host=device.address)
    assert info.value.details["rolled_back"] == "timer"
    assert wait_until(lambda: device.pending_commit is None, timeout=MINUTE + 3)
    now, then = set(body(device.running_config).splitlines()), set(before.splitlines())
    assert now - then == {"file prompt quiet"} and then - now == set()  # NAPALM's own line stays
    assert device.unresponsive is False  # the revert ends the silence
