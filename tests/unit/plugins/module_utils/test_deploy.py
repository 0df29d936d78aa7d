"""The NAPALM flow against a driver double: what reaches the device on every path."""

from __future__ import annotations


import pytest
from napalm.base import exceptions as napalm_exc
from pyeapi import eapilib

from ansible_collections.sotsync.nautobot.plugins.module_utils import messages
from ansible_collections.sotsync.nautobot.plugins.module_utils.deploy import (
    classify_device_error,
    deploy,
    missing_lines,
    rejected_line,
    supports_commit_confirm,
)
from ansible_collections.sotsync.nautobot.plugins.module_utils.platforms.base import intended_lines
from ansible_collections.sotsync.nautobot.plugins.module_utils.errors import (
    CommitFailed,
    CommitVerificationFailed,
    ConfigRejected,
    DeviceAuthenticationFailed,
    DeviceError,
    DeviceLocked,
    DeviceUnreachable,
)

REJECT_MSG = (
    "Error [1002]: CLI command 3 of 9 'interface Ethernet99/1' failed: invalid command "
    "[errors: ['Invalid input (at token 1: 'Ethernet99/1')']]"
)


def test_dry_run_discards_and_closes(fakes):
    driver = fakes.FakeDriver()
    result = deploy(driver, fakes.INTENT, dry_run=True)
    assert driver.calls == ["open", "load_merge_candidate", "compare_config", "discard_config", "close"]
    assert (result.changed, result.committed, result.diff, result.msg) == (True, False, fakes.DIFF, messages.DRY_RUN)


def test_dry_run_without_difference_is_not_a_change(fakes):
    result = deploy(fakes.FakeDriver(diff=""), fakes.INTENT, dry_run=True)
    assert (result.changed, result.msg) == (False, messages.DRY_RUN)


def test_empty_diff_is_never_committed(fakes):
    driver = fakes.FakeDriver(diff="  \n")
    result = deploy(driver, fakes.INTENT, dry_run=False)
    assert not [c for c in driver.calls if c.startswith("commit")]
    assert driver.calls[-2:] == ["discard_config", "close"]
    assert (result.changed, result.committed, result.msg) == (False, False, messages.NO_CHANGES)


def test_commit_confirm_verified_then_confirmed(fakes):
    driver = fakes.FakeDriver()
    result = deploy(driver, fakes.INTENT, dry_run=False, commit_confirm_seconds=45)
    assert driver.calls == [
        "open",
        "load_merge_candidate",
        "compare_config",
        "get_config",  # the configuration before the commit: the rollback point
        "commit_config(revert_in)",
        "get_config",
        "confirm_commit",
        "close",
    ]
    assert driver.revert_in == 45
    assert result.before_running == fakes.RUNNING and result.after_running == fakes.INTENT
    assert (result.changed, result.committed, result.commit_confirm, result.verified) == (True, True, True, True)
    assert result.msg == messages.COMMITTED


def test_missing_lines_after_commit_roll_back(fakes):
    driver = fakes.FakeDriver(running_after_commit="hostname old-name\n")
    with pytest.raises(CommitVerificationFailed) as info:
        deploy(driver, fakes.INTENT, dry_run=False)
    assert "confirm_commit" not in driver.calls
    assert driver.calls[-2:] == ["rollback", "close"]
    assert info.value.details["rolled_back"] == "rollback"
    assert "hostname access1" in info.value.details["missing_lines"]
    assert info.value.details["config_diff"] == fakes.DIFF


def test_silent_device_after_commit_is_left_to_the_timer(fakes):
    driver = fakes.FakeDriver(fail_after_commit={"get_config": eapilib.ConnectionError("http", "timed out")})
    with pytest.raises(CommitVerificationFailed, match="commit-confirm timer reverts it within 60s") as info:
        deploy(driver, fakes.INTENT, dry_run=False)
    assert info.value.details["rolled_back"] == "timer"
    assert "confirm_commit" not in driver.calls and "rollback" not in driver.calls
    assert driver.calls[-1] == "close"


def test_failed_confirm_says_the_timer_reverts(fakes):
    driver = fakes.FakeDriver(fail={"confirm_commit": napalm_exc.CommitError("No pending commit-confirm found!")})
    with pytest.raises(CommitVerificationFailed, match="Could not confirm") as info:
        deploy(driver, fakes.INTENT, dry_run=False)
    assert info.value.details["rolled_back"] == "timer"
    assert driver.calls[-1] == "close"


def test_verify_off_still_confirms(fakes):
    driver = fakes.FakeDriver(running_after_commit="unrelated\n")
    result = deploy(driver, fakes.INTENT, dry_run=False, verify=False)
    # get_config only for the rollback point: before the commit, and after the confirm
    assert driver.calls[3:] == ["get_config", "commit_config(revert_in)", "confirm_commit", "get_config", "close"]
    assert (result.committed, result.verified) == (True, None)
    assert result.after_running == "unrelated\n"


@pytest.mark.parametrize("seconds", [0, None])
def test_commit_confirm_off_commits_plainly(fakes, seconds):
    driver = fakes.FakeDriver()
    result = deploy(driver, fakes.INTENT, dry_run=False, commit_confirm_seconds=seconds)
    assert driver.calls == [
        "open",
        "load_merge_candidate",
        "compare_config",
        "get_config",
        "commit_config",
        "get_config",
        "close",
    ]
    assert (result.committed, result.commit_confirm) == (True, False)


def test_driver_without_commit_confirm_commits_plainly(fakes):
    driver = fakes.NoConfirmDriver()
    assert not supports_commit_confirm(driver)
    result = deploy(driver, fakes.INTENT, dry_run=False, commit_confirm_seconds=60)
    assert "commit_config" in driver.calls and result.committed and not result.commit_confirm


def test_not_implemented_commit_confirm_falls_back_with_a_warning(fakes):
    driver = fakes.FakeDriver(fail_once={"commit_config(revert_in)": NotImplementedError()})
    result = deploy(driver, fakes.INTENT, dry_run=False)
    assert result.committed and "commit_config" in driver.calls
    assert result.warnings and "no commit-confirm" in result.warnings[0]


def test_plain_commit_missing_lines_roll_back(fakes):
    driver = fakes.FakeDriver(running_after_commit="hostname old-name\n")
    with pytest.raises(CommitVerificationFailed) as info:
        deploy(driver, fakes.INTENT, dry_run=False, commit_confirm_seconds=0)
    assert info.value.details["rolled_back"] == "rollback"


def test_plain_commit_silent_device_says_not_rolled_back(fakes):
    driver = fakes.FakeDriver(fail_after_commit={"get_config": OSError("no route"), "rollback": OSError("no route")})
    with pytest.raises(CommitVerificationFailed, match="NOT rolled back") as info:
        deploy(driver, fakes.INTENT, dry_run=False, commit_confirm_seconds=0)
    assert info.value.details["rolled_back"] is False


# Every failure path: the candidate is discarded (when one may be loaded) and the driver closed.
@pytest.mark.parametrize(
    ("stage", "exc", "error", "discarded"),
    [
        (
            "open",
            eapilib.ConnectionError("http", "Socket error during eAPI connection: [Errno 111] refused"),
            DeviceUnreachable,
            False,
        ),
        (
            "open",
            eapilib.ConnectionError("http", "Unauthorized. Unable to authenticate user"),
            DeviceAuthenticationFailed,
            False,
        ),
        ("open", napalm_exc.ConnectAuthError("bad credentials"), DeviceAuthenticationFailed, False),
        ("open", TimeoutError("timed out"), DeviceUnreachable, False),
        ("load_merge_candidate", napalm_exc.MergeConfigException(REJECT_MSG), ConfigRejected, True),
        ("load_merge_candidate", napalm_exc.SessionLockedException("Session is already in use"), DeviceLocked, True),
        ("compare_config", eapilib.ConnectionError("http", "timed out"), DeviceUnreachable, True),
        (
            "commit_config(revert_in)",
            napalm_exc.CommitError("Pending commit confirm already in process!"),
            CommitFailed,
            True,
        ),
        ("commit_config(revert_in)", RuntimeError("boom"), DeviceError, True),
    ],
)
def test_failures_are_typed_and_cleaned_up(fakes, stage, exc, error, discarded):
    driver = fakes.FakeDriver(fail={stage: exc})
    with pytest.raises(error):
        deploy(driver, fakes.INTENT, dry_run=False, host="127.0.1.11")
    assert driver.calls[-1] == "close"
    assert ("discard_config" in driver.calls) is discarded


def test_dry_run_discard_failure_still_closes(fakes):
    driver = fakes.FakeDriver(fail={"discard_config": eapilib.ConnectionError("http", "timed out")})
    with pytest.raises(DeviceUnreachable):
        deploy(driver, fakes.INTENT, dry_run=True)
    assert driver.calls[-1] == "close"


def test_cleanup_errors_do_not_mask_the_real_error(fakes):
    logged = []
    driver = fakes.FakeDriver(
        fail={
            "load_merge_candidate": napalm_exc.MergeConfigException(REJECT_MSG),
            "discard_config": OSError("gone"),
            "close": OSError("gone too"),
        }
    )
    with pytest.raises(ConfigRejected) as info:
        deploy(driver, fakes.INTENT, dry_run=False, log=logged.append)
    assert info.value.details["line"] == "interface Ethernet99/1"
    assert any("discard_config during cleanup failed" in m for m in logged)
    assert any("close during cleanup failed" in m for m in logged)


def test_cleanup_errors_do_not_spoil_a_success(fakes):
    driver = fakes.FakeDriver(fail={"close": OSError("gone")})
    result = deploy(driver, fakes.INTENT, dry_run=True)
    assert result.msg == messages.DRY_RUN


@pytest.mark.parametrize(
    ("message", "line"),
    [
        (REJECT_MSG, "interface Ethernet99/1"),
        ("Error [1002]: CLI command 2 of 4 'frobnicate all' failed: invalid command", "frobnicate all"),
        ("% Invalid input at 'ntp serv 1.2.3.4'", None),
        ("something else", None),
    ],
)
def test_rejected_line(message, line):
    assert rejected_line(message) == line


def test_rejected_line_falls_back_to_a_quoted_intended_line():
    assert rejected_line("bad: 'ip address 1.2.3.4/99' refused", "hostname a\nip address 1.2.3.4/99\n") == (
        "ip address 1.2.3.4/99"
    )


def test_intended_lines_and_missing_lines():
    intent = "! comment\nhostname a\n\ninterface Management1\n   ip address  10.0.0.1/24\n   no shutdown\n!\nend\n"
    assert intended_lines(intent) == ["hostname a", "interface Management1", "ip address 10.0.0.1/24"]
    running = "hostname a\ninterface Management1\n  ip address 10.0.0.1/24\n"
    assert missing_lines(intent, running) == []
    assert missing_lines(intent, "hostname b\n") == ["hostname a", "interface Management1", "ip address 10.0.0.1/24"]


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (napalm_exc.ConnectionException("Socket error"), "device_unreachable"),
        (napalm_exc.ConnectionException("401 Unauthorized"), "device_authentication"),
        (ConnectionRefusedError(111, "refused"), "device_unreachable"),
        (TimeoutError("timed out"), "device_unreachable"),
        (eapilib.CommandError(1000, "bad", command_error="x"), "device_error"),
        (napalm_exc.MergeConfigException("something odd"), "config_rejected"),
        (ValueError("odd"), "device_error"),
    ],
)
def test_classify_device_error(exc, code):
    error = classify_device_error(exc, host="127.0.1.11")
    assert error.code == code
    assert "127.0.1.11" in error.message
