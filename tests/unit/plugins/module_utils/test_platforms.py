"""The platform layer: each platform's rules, and the deploy flow asking them (driver doubles)."""

from __future__ import annotations

import pytest
from napalm import get_network_driver

from ansible_collections.sotsync.nautobot.plugins.module_utils import platforms
from ansible_collections.sotsync.nautobot.plugins.module_utils.deploy import deploy
from ansible_collections.sotsync.nautobot.plugins.module_utils.errors import CommitFailed, CommitVerificationFailed

EOS_INTENT = """hostname access1
interface Management1
   description management
   ip address 10.0.0.1/24
!
router ospf 1
   network 10.0.0.0/8 area 0
end
"""

JUNOS_RUNNING = """## Last commit: 2026-12-07 07:00:00 UTC by sotsync
version 21.4R3;
system {
    host-name r1;
    ntp {
        server 10.0.0.1;
    }
}
interfaces {
    fxp0 {
        unit 0 {
            family inet {
                address 10.1.1.1/24;
            }
        }
    }
}
"""


@pytest.mark.parametrize(
    ("name", "label", "confirm"),
    [
        ("eos", "Arista EOS", True),
        ("junos", "Junos", True),
        ("nxos", "NX-OS", False),
        ("NAPALM_EOS", "Arista EOS", True),
    ],
)
def test_platforms_by_napalm_driver(name, label, confirm):
    platform = platforms.for_driver(name)
    assert (platform.label, platform.commit_confirm) == (label, confirm)


def test_unknown_driver_is_the_generic_platform():
    platform = platforms.for_driver("iosxr")
    assert platform.__class__ is platforms.Platform  # not one of the known platforms' subclasses
    assert platform.napalm_driver == "iosxr" and platform.commit_confirm is True and platform.parser is None
    assert platforms.for_driver(None).napalm_driver == "unknown"


@pytest.mark.parametrize("name", ["eos", "ios", "junos", "nxos"])
def test_platform_of_a_real_napalm_driver_object(name):
    driver = get_network_driver(name)("127.0.0.1", "u", "p", timeout=1)  # not opened
    assert platforms.for_driver_object(driver).napalm_driver == name


def test_junos_rounds_commit_confirm_up_to_whole_minutes_and_says_so():
    junos = platforms.for_driver("junos")
    assert junos.revert_seconds(60) == (60, None)
    assert junos.revert_seconds(120) == (120, None)
    seconds, note = junos.revert_seconds(90)
    assert seconds == 120
    assert "rounded up to 120 s (2 min)" in note and "90" in note
    assert junos.revert_seconds(1)[0] == 60
    assert platforms.for_driver("eos").revert_seconds(90) == (90, None)


def test_only_a_platform_without_commit_confirm_states_the_risk():
    assert platforms.for_driver("eos").no_confirm_risk() is None
    risk = platforms.for_driver("nxos").no_confirm_risk()
    assert "NX-OS has no commit-confirm" in risk and "checkpoint file rollback_config.txt" in risk


def test_eos_verification_is_hierarchical():
    eos = platforms.for_driver("eos")
    assert eos.missing_lines(EOS_INTENT, EOS_INTENT) == []
    # the same lines, but the description under another interface: a flat line set would pass this
    moved = EOS_INTENT.replace("   description management\n", "") + "interface Ethernet1\n   description management\n"
    assert eos.missing_lines(EOS_INTENT, moved) == ["interface Management1 > description management"]
    # indentation and sibling order do not matter
    reordered = (
        "router ospf 1\n  network 10.0.0.0/8 area 0\nhostname access1\ninterface Management1\n"
        "  ip address 10.0.0.1/24\n  description management\n"
    )
    assert eos.missing_lines(EOS_INTENT, reordered) == []


def test_junos_verification_reads_curly_braces():
    junos = platforms.for_driver("junos")
    intent = "system {\n    host-name r1;\n    ntp {\n        server 10.0.0.1;\n    }\n}\n"
    assert junos.missing_lines(intent, JUNOS_RUNNING) == []
    assert junos.missing_lines(intent.replace("r1", "r2"), JUNOS_RUNNING) == ["system > host-name r2"]
    wrong_place = "snmp {\n    ntp {\n        server 10.0.0.1;\n    }\n}\n"
    assert junos.missing_lines(wrong_place, JUNOS_RUNNING) == ["snmp", "snmp > ntp", "snmp > ntp > server 10.0.0.1"]


def test_junos_verification_of_a_set_format_intent():
    junos = platforms.for_driver("junos")
    intent = "set system host-name r1\nset interfaces fxp0 unit 0 family inet address 10.1.1.1/24\n"
    assert junos.missing_lines(intent, JUNOS_RUNNING) == []
    assert junos.missing_lines("set system host-name r9\n", JUNOS_RUNNING) == ["set system host-name r9"]


def test_nxos_verification_is_hierarchical():
    nxos = platforms.for_driver("nxos")
    running = "hostname n1\ninterface mgmt0\n  vrf member management\n  ip address 10.2.0.1/24\n"
    intent = "hostname n1\ninterface mgmt0\n  ip address 10.2.0.1/24\n"
    assert nxos.missing_lines(intent, running) == []
    assert nxos.missing_lines(intent.replace("mgmt0", "Ethernet1/1"), running) == [
        "interface Ethernet1/1",
        "interface Ethernet1/1 > ip address 10.2.0.1/24",
    ]


def test_rejected_line_in_each_platforms_wording():
    eos = platforms.for_driver("eos")
    assert eos.rejected_line("Error [1002]: CLI command 2 of 4 'frobnicate all' failed: invalid command") == (
        "frobnicate all"
    )
    junos = platforms.for_driver("junos")
    message = "ConfigLoadError(severity: error, bad_element: frobnicate, message: error: syntax error)"
    assert junos.rejected_line(message, "system {\n    frobnicate all;\n}\n") == "frobnicate all"
    assert junos.rejected_line(message) == "frobnicate"
    assert junos.rejected_line("something else") is None


def _double(fakes, platform, **kw):
    cls = type("Double", (fakes.FakeDriver,), {"platform": platform})
    return cls(**kw)


def test_nxos_live_push_commits_after_its_checkpoint_and_states_the_risk(fakes):
    driver = _double(fakes, "nxos")
    result = deploy(driver, fakes.INTENT, dry_run=False, commit_confirm_seconds=60)
    assert "commit_config" in driver.calls and "commit_config(revert_in)" not in driver.calls
    assert result.committed and result.commit_confirm is False
    assert any("NX-OS has no commit-confirm" in w for w in result.warnings)


def test_nxos_failed_verification_rolls_back_to_the_checkpoint(fakes):
    driver = _double(fakes, "nxos", running_after_commit="hostname other\n")
    with pytest.raises(CommitVerificationFailed) as info:
        deploy(driver, fakes.INTENT, dry_run=False)
    assert "rollback" in driver.calls
    assert "rolled back to checkpoint file rollback_config.txt" in info.value.message
    assert info.value.details["rolled_back"] == "rollback"


def test_nxos_readdressing_is_refused_without_the_opt_in(fakes):
    driver = _double(fakes, "nxos")
    with pytest.raises(CommitFailed) as info:
        deploy(driver, fakes.INTENT, dry_run=False, host="10.0.0.1", moved_to="10.0.0.2", reconnect=lambda: driver)
    assert "nothing was applied" in info.value.message
    assert not any(c.startswith("commit_config") for c in driver.calls)


def test_junos_live_push_uses_whole_minutes_and_says_so(fakes):
    driver = _double(fakes, "junos")
    result = deploy(driver, fakes.INTENT, dry_run=False, commit_confirm_seconds=90)
    assert driver.revert_in == 120 and result.commit_confirm is True
    assert any("rounded up to 120 s" in w for w in result.warnings)


def test_junos_verification_reads_braces_not_indentation():
    junos = platforms.for_driver("junos")
    # what a template with a dropped Jinja comment renders: a line indented deeper than its children
    intent = (
        "interfaces {\n    fxp0 {\n        unit 0 {\n                        replace: family inet {\n"
        "                address 10.1.1.1/24;\n            }\n        }\n    }\n}\n"
    )
    assert junos.missing_lines(intent, JUNOS_RUNNING) == []
    one_line = "system { host-name r1; ntp { server 10.0.0.1; } }\n/* a comment */\n# another\n"
    assert junos.missing_lines(one_line, JUNOS_RUNNING) == []
    moved = intent.replace("10.1.1.1/24", "10.1.1.2/24")
    assert junos.missing_lines(moved, JUNOS_RUNNING) == [
        "interfaces > fxp0 > unit 0 > family inet > address 10.1.1.2/24"
    ]


def test_junos_delete_tag_asserts_an_absence_and_is_not_checked():
    junos = platforms.for_driver("junos")
    intent = "system {\n    host-name r1;\n    delete: name-server;\n}\n"
    assert junos.missing_lines(intent, JUNOS_RUNNING) == []


def test_contact_lost_during_a_confirmed_commit_is_left_to_the_timer(fakes):
    driver = _double(fakes, "junos", fail={"commit_config(revert_in)": TimeoutError("timed out")})
    with pytest.raises(CommitVerificationFailed) as info:
        deploy(driver, fakes.INTENT, dry_run=False, host="10.0.0.1")
    assert info.value.details["rolled_back"] == "timer"
    assert "stopped answering during the commit" in info.value.message
    assert "discard_config" not in driver.calls  # a silent device: its timer reverts what it applied


def test_contact_lost_during_a_commit_without_confirm_says_the_change_may_stand(fakes):
    driver = _double(fakes, "nxos", fail={"commit_config": ConnectionResetError(104, "reset")})
    with pytest.raises(CommitVerificationFailed) as info:
        deploy(driver, fakes.INTENT, dry_run=False, host="10.0.0.1")
    assert info.value.details["rolled_back"] is False
    assert "may be applied and was NOT rolled back" in info.value.message
    assert "NX-OS has no commit-confirm" in info.value.message


def test_a_refused_commit_is_not_taken_for_a_lost_contact(fakes):
    from napalm.base import exceptions as napalm_exc

    driver = _double(fakes, "junos", fail={"commit_config(revert_in)": napalm_exc.CommitError("refused")})
    with pytest.raises(CommitFailed):
        deploy(driver, fakes.INTENT, dry_run=False)
    assert "discard_config" in driver.calls


def test_junos_readdressing_confirms_at_the_new_address_when_the_old_session_drops(fakes):
    old = _double(fakes, "junos", fail={"commit_config(revert_in)": ConnectionResetError(104, "session dropped")})
    new = _double(fakes, "junos", running=fakes.INTENT)
    new.pending = True
    result = deploy(old, fakes.INTENT, dry_run=False, host="10.0.0.1", moved_to="10.0.0.2", reconnect=lambda: new)
    assert result.committed and result.commit_confirm
    assert "confirm_commit" in new.calls and "open" in new.calls
    assert any("moved to its new management address 10.0.0.2" in w for w in result.warnings)


def test_nxos_readdressing_with_the_opt_in_commits_then_verifies_at_the_new_address(fakes):
    old = _double(fakes, "nxos")
    new = _double(fakes, "nxos", running=fakes.INTENT)
    saved = []
    new.device = type("NxapiDevice", (), {"save": lambda self, filename: saved.append(filename) or True})()
    result = deploy(
        old,
        fakes.INTENT,
        dry_run=False,
        host="10.0.0.1",
        moved_to="10.0.0.2",
        reconnect=lambda: new,
        readdress_without_confirm=True,
    )
    assert "commit_config" in old.calls and "commit_config(revert_in)" not in old.calls
    assert result.committed and result.verified and result.commit_confirm is False
    assert "open" in new.calls and "confirm_commit" not in new.calls
    assert any("moved to its new management address 10.0.0.2; verified there" in w for w in result.warnings)
    assert any("without commit-confirm, as readdress_without_confirm asked" in w for w in result.warnings)
    # the commit's own copy to startup-config went to the old address: saved again at the new one
    assert saved == ["startup-config"]
    assert any("saved to startup-config at its new address" in w for w in result.warnings)


def test_nxos_readdressing_with_the_opt_in_reports_a_device_silent_at_its_new_address(fakes, monkeypatch):
    from ansible_collections.sotsync.nautobot.plugins.module_utils import deploy as deploy_module

    monkeypatch.setattr(deploy_module, "REACH_WITHOUT_CONFIRM_SECONDS", 1)  # looked for 1 s, not 60
    old = _double(fakes, "nxos", fail={"commit_config": ConnectionResetError(104, "the address moved")})
    silent = _double(fakes, "nxos", fail={"open": ConnectionRefusedError(111, "refused")})
    with pytest.raises(CommitVerificationFailed) as info:
        deploy(
            old,
            fakes.INTENT,
            dry_run=False,
            host="10.0.0.1",
            moved_to="10.0.0.2",
            reconnect=lambda: silent,
            readdress_without_confirm=True,
        )
    assert info.value.details["rolled_back"] is False
    assert "does not answer at its new management address 10.0.0.2" in info.value.message
    assert "NOT rolled back: check the device" in info.value.message


def test_an_nxapi_connection_error_is_an_unreachable_device():
    from napalm.nxapi_plumbing.errors import NXAPIConnectionError

    from ansible_collections.sotsync.nautobot.plugins.module_utils.deploy import classify_device_error
    from ansible_collections.sotsync.nautobot.plugins.module_utils.errors import DeviceUnreachable

    exc = NXAPIConnectionError("('Connection aborted.', RemoteDisconnected('Remote end closed connection'))")
    typed = classify_device_error(exc, host="10.0.0.1", stage="commit_config", platform=platforms.for_driver("nxos"))
    assert isinstance(typed, DeviceUnreachable) and "did not answer (commit_config)" in typed.message


def test_a_junos_login_refused_is_an_authentication_error_not_an_unreachable_device():
    from jnpr.junos.exception import ConnectAuthError, ConnectRefusedError

    from ansible_collections.sotsync.nautobot.plugins.module_utils.deploy import classify_device_error
    from ansible_collections.sotsync.nautobot.plugins.module_utils.errors import (
        DeviceAuthenticationFailed,
        DeviceUnreachable,
    )

    junos = platforms.for_driver("junos")
    dev = type("Device", (), {"hostname": "10.0.0.1", "user": "u", "_port": 830})()  # what PyEZ's errors read
    refused = classify_device_error(ConnectAuthError(dev), host="10.0.0.1", stage="open", platform=junos)
    assert isinstance(refused, DeviceAuthenticationFailed) and "refused the NAPALM credentials" in refused.message
    down = classify_device_error(ConnectRefusedError(dev), host="10.0.0.1", stage="open", platform=junos)
    assert isinstance(down, DeviceUnreachable)


def test_an_nxos_login_refused_behind_napalms_cannot_connect_is_an_authentication_error():
    from napalm.base.exceptions import ConnectionException
    from napalm.nxapi_plumbing.errors import NXAPIAuthError, NXAPIConnectionError

    from ansible_collections.sotsync.nautobot.plugins.module_utils.deploy import classify_device_error
    from ansible_collections.sotsync.nautobot.plugins.module_utils.errors import (
        DeviceAuthenticationFailed,
        DeviceUnreachable,
    )

    def napalm_open(cause):  # what napalm's nxos open() does with either
        try:
            try:
                raise cause
            except (NXAPIConnectionError, NXAPIAuthError):
                raise ConnectionException("Cannot connect to 10.0.0.1")  # noqa: B904 - as napalm does
        except ConnectionException as exc:
            return exc

    nxos = platforms.for_driver("nxos")
    refused = classify_device_error(napalm_open(NXAPIAuthError("401")), host="10.0.0.1", stage="open", platform=nxos)
    assert isinstance(refused, DeviceAuthenticationFailed)
    down = napalm_open(NXAPIConnectionError("refused"))
    assert isinstance(classify_device_error(down, host="10.0.0.1", stage="open", platform=nxos), DeviceUnreachable)


class _JunosHistory:
    """A NAPALM junos driver as Junos's restore sees it: PyEZ's Config utility over a commit history."""

    def __init__(self, history):
        self.history, self.calls, self.candidate = history, [], history[0]
        self.device = type("Device", (), {"cu": self})()

    def lock(self):
        self.calls.append("lock")

    def unlock(self):
        self.calls.append("unlock")

    def rollback(self, rb_id):
        if rb_id >= len(self.history):
            raise ValueError("rollback not found")
        self.calls.append(f"rollback {rb_id}")
        self.candidate = self.history[rb_id]

    def commit(self):
        self.calls.append("commit")

    def get_config(self, retrieve):
        return {retrieve: self.candidate}


def test_junos_restore_finds_the_configuration_before_the_push_in_its_commit_history():
    # 0: the confirming commit, 1: the commit confirmed (both what the push left), 2: before the push
    driver = _JunosHistory(["pushed", "pushed", "before", "older"])
    assert platforms.for_driver("junos").restore(driver, lambda c: c == "before").startswith("rollback 2 ")
    assert driver.calls == ["lock", "rollback 1", "rollback 2", "commit", "unlock"]


def test_junos_restore_refuses_when_no_rollback_holds_it_and_leaves_the_candidate_clean():
    from ansible_collections.sotsync.nautobot.plugins.module_utils.errors import RollbackRefused

    driver = _JunosHistory(["pushed", "pushed", "other"])
    with pytest.raises(RollbackRefused, match="newest rollbacks holds the configuration from before the push"):
        platforms.for_driver("junos").restore(driver, lambda c: c == "before")
    assert "commit" not in driver.calls and driver.calls[-2:] == ["rollback 0", "unlock"]
