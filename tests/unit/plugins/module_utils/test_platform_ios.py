"""The Cisco IOS platform: its rules, the exceptions of NAPALM's ios driver (netmiko, paramiko, scp, napalm's own)
mapped to the flow's typed errors, and the deploy flow asking it (driver doubles). The same flow against the
real driver and the IOS simulator: tests/simulator/test_ios_sim.py."""

from __future__ import annotations

import paramiko
import pytest
from napalm import get_network_driver
from napalm.base.exceptions import CommitConfirmException, ConnectionException, MergeConfigException
from netmiko.exceptions import NetmikoAuthenticationException, NetmikoTimeoutException, ReadTimeout
from scp import SCPException

from ansible_collections.sotsync.nautobot.plugins.module_utils import platforms
from ansible_collections.sotsync.nautobot.plugins.module_utils.deploy import classify_device_error, deploy
from ansible_collections.sotsync.nautobot.plugins.module_utils.errors import (
    CommitFailed,
    ConfigRejected,
    DeviceAuthenticationFailed,
    DeviceError,
    DeviceUnreachable,
)
from ansible_collections.sotsync.nautobot.plugins.module_utils.platforms.ios import Ios

IOS = platforms.for_driver("ios")

RUNNING = """Building configuration...

Current configuration : 512 bytes
!
! Last configuration change at 10:00:00 UTC Mon Dec 7 2026 by netops
!
version 17.9
hostname access1
!
vlan 10
 name users
!
interface GigabitEthernet0/0
 vrf forwarding Mgmt-vrf
 ip address 10.0.0.1 255.255.255.0
 negotiation auto
!
interface GigabitEthernet1/0/1
 description uplink
 switchport mode trunk
!
router bgp 65000
 bgp log-neighbor-changes
 neighbor 10.0.0.2 remote-as 65001
 !
 address-family ipv4
  neighbor 10.0.0.2 activate
 exit-address-family
!
banner motd ^C
Authorized access only
^C
!
line vty 0 4
 login local
 transport input ssh
!
end
"""

# what NAPALM's ios driver raises when "copy flash:/merge_config.txt running-config" prints IOS's refusal
MERGE_FAILED = (
    "Configuration merge failed; automatic rollback attempted:\n"
    "          ^\n% Invalid input detected at '^' marker.\n\n210 bytes copied in 0.040 secs (5250 bytes/sec)"
)
NETMIKO_AUTH = """Authentication to device failed.

Common causes of this problem are:
1. Invalid username and password
2. Incorrect SSH-key file
3. Connecting to the wrong device

Device settings: cisco_ios 10.0.0.1:22


Authentication failed."""
NETMIKO_READ_TIMEOUT = """

Pattern not detected: 'access1\\#' in output.

Things you might try to fix this:
1. Explicitly set your pattern using the expect_string argument.
2. Increase the read_timeout to a larger value.

You can also look at the Netmiko session_log or debug log for more information.

"""
ARCHIVE_DISABLED = "For Cisco devices, revert_in requires 'archive' feature to be enabled."


def test_ios_is_a_known_platform_with_its_own_rules():
    assert isinstance(IOS, Ios) and platforms.known_platforms()["ios"] is IOS
    assert platforms.for_driver("NAPALM_IOS") is IOS
    assert (IOS.label, IOS.network_driver, IOS.parser) == ("Cisco IOS", "cisco_ios", "IOSConfigParser")
    assert IOS.commit_confirm is True and IOS.confirm_granularity == 60
    assert IOS.no_confirm_risk() is None
    assert "flash:rollback_config.txt" in IOS.rollback_point and IOS.restore_point_after(True) == IOS.rollback_point
    assert "not atomic" in IOS.rejection_outcome and "rewrites flash:rollback_config.txt" in IOS.restore_caveat


def test_platform_of_a_real_napalm_ios_driver_object():
    driver = get_network_driver("ios")("127.0.0.1", "u", "p", timeout=1)  # not opened
    assert platforms.for_driver_object(driver) is IOS


@pytest.mark.parametrize(
    ("asked", "used", "note"),
    [
        (60, 60, None),
        (120, 120, None),
        (90, 120, "rounded up to 120 s (2 min)"),
        (1, 60, "rounded up to 60 s (1 min)"),
        (7200, 7200, None),
        (7201, 7200, "at most 120 min: commit_confirm_seconds 7201 was lowered to 7200 s"),
        (86400, 7200, "was lowered to 7200 s"),
    ],
)
def test_commit_confirm_in_whole_minutes_up_to_two_hours(asked, used, note):
    seconds, said = IOS.revert_seconds(asked)
    assert seconds == used
    assert (said is None) if note is None else (note in said)


def test_verification_reads_ios_hierarchy_through_netutils():
    intent = (
        "hostname access1\ninterface GigabitEthernet1/0/1\n description uplink\n switchport mode trunk\n"
        "router bgp 65000\n address-family ipv4\n  neighbor 10.0.0.2 activate\n exit-address-family\nend\n"
    )
    assert IOS.missing_lines(intent, RUNNING) == []
    # the same lines under another interface: a flat comparison would pass this
    moved = intent.replace("GigabitEthernet1/0/1", "GigabitEthernet1/0/2")
    assert IOS.missing_lines(moved, RUNNING) == [
        "interface GigabitEthernet1/0/2",
        "interface GigabitEthernet1/0/2 > description uplink",
        "interface GigabitEthernet1/0/2 > switchport mode trunk",
    ]
    # indentation depth and sibling order do not matter; "no ..." lines assert an absence and are skipped
    shuffled = "interface GigabitEthernet1/0/1\n   switchport mode trunk\n   description uplink\n no ip domain lookup\n"
    assert IOS.missing_lines(shuffled, RUNNING) == []


def test_the_refused_line_cannot_be_told_from_ios_words():
    # IOS prints a caret under the refused word and its message, not the line: nothing names it
    assert IOS.rejected_line(MERGE_FAILED, "hostname a\nfrobnicate all\nend\n") is None
    # a message that quotes an intended line names it (the generic rule)
    assert IOS.rejected_line("line 'frobnicate all' refused", "hostname a\nfrobnicate all\n") == "frobnicate all"


def test_a_merge_refused_by_ios_is_reported_with_its_message():
    typed = classify_device_error(
        MergeConfigException(MERGE_FAILED), host="10.0.0.1", stage="commit_config", intent="x", platform=IOS
    )
    assert isinstance(typed, ConfigRejected) and typed.details["line"] is None
    assert "rejected the candidate configuration; IOS applied the other lines" in typed.message
    assert "% Invalid input detected at '^' marker." in typed.message


def test_netmiko_and_paramiko_faults_become_typed_errors():
    def typed(exc, stage="open"):
        return classify_device_error(exc, host="10.0.0.1", stage=stage, platform=IOS)

    refused = typed(NetmikoAuthenticationException(NETMIKO_AUTH))
    assert isinstance(refused, DeviceAuthenticationFailed)
    assert refused.message == (
        "The device 10.0.0.1 refused the NAPALM credentials (open): Authentication to device failed. "
        "Device settings: cisco_ios 10.0.0.1:22 Authentication failed."
    )
    assert isinstance(typed(paramiko.AuthenticationException("Authentication failed.")), DeviceAuthenticationFailed)
    late = typed(ReadTimeout(NETMIKO_READ_TIMEOUT), "get_config")
    assert isinstance(late, DeviceUnreachable)
    assert (
        late.message
        == "The device 10.0.0.1 did not answer in time (get_config): Pattern not detected: 'access1\\#' in output."
    )
    down = typed(
        NetmikoTimeoutException("TCP connection to device failed.\n\nCommon causes of this problem are:\n1. x")
    )
    assert isinstance(down, DeviceUnreachable) and down.message.endswith("TCP connection to device failed.")
    assert isinstance(typed(paramiko.SSHException("Error reading SSH protocol banner")), DeviceUnreachable)
    scp_failed = typed(SCPException("No response from server"), "load_merge_candidate")
    assert isinstance(scp_failed, DeviceError) and scp_failed.code == "device_error"
    assert "did not take the candidate file over SCP" in scp_failed.message
    assert Ios().classify(ValueError("x"), "h", "", "x") is None  # not one of IOS's libraries


def test_napalms_cannot_connect_keeps_netmikos_reason():
    def napalm_open(cause):  # what napalm's _netmiko_open does with netmiko's timeout
        try:
            try:
                raise cause
            except NetmikoTimeoutException:
                raise ConnectionException("Cannot connect to 10.0.0.1")  # noqa: B904 - as napalm does
        except ConnectionException as exc:
            return exc

    banner = napalm_open(
        NetmikoTimeoutException(
            "\nA paramiko SSHException occurred during connection creation:\n\nError reading SSH protocol banner\n"
        )
    )
    typed = classify_device_error(banner, host="10.0.0.1", stage="open", platform=IOS)
    assert isinstance(typed, DeviceUnreachable)
    assert typed.message == (
        "The device 10.0.0.1 is unreachable (open): Cannot connect to 10.0.0.1 (A paramiko SSHException occurred "
        "during connection creation: Error reading SSH protocol banner)"
    )


def test_commit_confirm_without_archive_is_a_refused_commit_that_applied_nothing():
    typed = classify_device_error(
        CommitConfirmException(ARCHIVE_DISABLED), host="10.0.0.1", stage="commit_config(revert_in=60)", platform=IOS
    )
    assert isinstance(typed, CommitFailed)
    assert "has no archive" in typed.message and "nothing was applied" in typed.message
    # another CommitConfirmException (Junos's minutes rule, say) is not IOS's to explain
    assert Ios().classify(CommitConfirmException("revert_in must be a multiple of 60"), "h", "", "x") is None


def _double(fakes, **kw):
    cls = type("Double", (fakes.FakeDriver,), {"platform": "ios"})
    return cls(**kw)


def test_deploy_on_ios_uses_whole_minutes_and_says_so(fakes):
    driver = _double(fakes)
    result = deploy(driver, fakes.INTENT, dry_run=False, commit_confirm_seconds=90)
    assert driver.revert_in == 120 and result.commit_confirm is True and result.verified is True
    assert any("Cisco IOS counts commit-confirm timers in whole minutes" in w for w in result.warnings)
    assert driver.calls[-2:] == ["confirm_commit", "close"]


def test_deploy_on_ios_keeps_the_timer_within_two_hours(fakes):
    driver = _double(fakes)
    result = deploy(driver, fakes.INTENT, dry_run=False, commit_confirm_seconds=3 * 3600)
    assert driver.revert_in == 7200
    assert any("at most 120 min" in w for w in result.warnings)


def test_a_failed_ios_verification_rolls_back_to_flash_rollback_config(fakes):
    from ansible_collections.sotsync.nautobot.plugins.module_utils.errors import CommitVerificationFailed

    driver = _double(fakes, running_after_commit="hostname other\n")
    with pytest.raises(CommitVerificationFailed) as info:
        deploy(driver, fakes.INTENT, dry_run=False, commit_confirm_seconds=60)
    assert "rollback" in driver.calls and info.value.details["rolled_back"] == "rollback"
    assert "rolled back to flash:rollback_config.txt" in info.value.message


def test_after_a_move_without_confirm_ios_saves_at_the_new_address():
    saved = []
    device = type("Netmiko", (), {"save_config": lambda self: saved.append("write mem") or "[OK]"})()
    driver = type("Driver", (), {"device": device})()
    assert "saved to startup-config at its new address" in IOS.after_move(driver)
    assert saved == ["write mem"]
    assert IOS.detach_pending_commit(driver) is None  # IOS's revert timer is the device's, not the session's


def test_a_merge_candidate_without_end_gets_one_and_one_with_it_is_as_it_is():
    ios = platforms.for_driver("ios")
    assert ios.merge_candidate("no ntp server 192.0.2.99") == "no ntp server 192.0.2.99\nend\n"
    assert ios.merge_candidate("hostname a\n!\nend\n") == "hostname a\n!\nend\n"
    assert ios.merge_candidate("") == ""
    assert platforms.for_driver("eos").merge_candidate("no ntp server x") == "no ntp server x"
