"""The NAPALM flow against a driver double: what reaches the device on every path."""

from __future__ import annotations


import pytest
from napalm.base import exceptions as napalm_exc
from pyeapi import eapilib

from ansible_collections.sotsync.nautobot.plugins.module_utils import messages, platforms
from ansible_collections.sotsync.nautobot.plugins.module_utils.deploy import (
    DeploySession,
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


# --- the running configuration handed to a drift check (keep_running) ------------------------------------
def test_a_dry_run_hands_over_the_running_configuration_read_after_the_discard(fakes):
    kept = []
    driver = fakes.FakeDriver()
    deploy(driver, fakes.INTENT, dry_run=True, keep_running=kept.append)
    assert kept == [fakes.RUNNING]
    assert driver.calls == ["open", "load_merge_candidate", "compare_config", "discard_config", "get_config", "close"]


def test_a_commit_hands_over_the_running_configuration_verification_read(fakes):
    kept = []
    driver = fakes.FakeDriver()
    deploy(driver, fakes.INTENT, dry_run=False, keep_running=kept.append)
    assert kept == [fakes.INTENT] and driver.calls.count("get_config") == 2  # before the commit, verification


def test_a_failed_read_is_handed_over_as_its_error_and_the_dry_run_stands(fakes):
    kept = []
    failure = OSError("connection reset")
    driver = fakes.FakeDriver(fail={"get_config": failure})
    result = deploy(driver, fakes.INTENT, dry_run=True, keep_running=kept.append)
    assert kept == [failure] and result.msg == messages.DRY_RUN and driver.calls[-1] == "close"


def test_without_keep_running_nothing_more_is_read(fakes):
    driver = fakes.FakeDriver()
    deploy(driver, fakes.INTENT, dry_run=True)
    assert "get_config" not in driver.calls


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


# --- the flow's steps, one at a time (``DeploySession``) ----------------------------------------------
# The whole flow is the tests above; each test here calls a step or two and checks the state it leaves
# for the next step and for the cleanup.
def session(driver, intent, moved_to=None, reconnect=None, readdress_without_confirm=False):
    logged = []
    run = DeploySession(
        driver,
        intent,
        "127.0.1.11",
        logged.append,
        platforms.for_driver_object(driver),
        moved_to=moved_to,
        reconnect=reconnect,
        readdress_without_confirm=readdress_without_confirm,
    )
    run.logged = logged
    return run


def test_step_compare_leaves_a_candidate_to_discard(fakes):
    driver = fakes.FakeDriver()
    run = session(driver, fakes.INTENT)
    assert run.compare() is True and run.result.diff == fakes.DIFF
    assert (run.opened, run.candidate, run.pending, run.stage) == (True, True, False, "compare_config")
    assert run.discard() is run.result and run.result.msg == messages.DRY_RUN and run.candidate is False
    run.cleanup()
    assert driver.calls == ["open", "load_merge_candidate", "compare_config", "discard_config", "close"]


def test_step_plan_commit_reads_the_rollback_point_and_chooses_commit_confirm(fakes):
    with_confirm, without = session(fakes.FakeDriver(), fakes.INTENT), session(fakes.NoConfirmDriver(), fakes.INTENT)
    assert with_confirm.plan_commit(45) is True and with_confirm.seconds == 45
    assert without.plan_commit(45) is False
    assert with_confirm.result.before_running == fakes.RUNNING
    assert session(fakes.FakeDriver(), fakes.INTENT).plan_commit(0) is False


def test_step_plan_commit_refuses_a_move_without_commit_confirm_before_anything_is_applied(fakes):
    driver = fakes.NoConfirmDriver()
    run = session(driver, fakes.INTENT, moved_to="127.0.1.99")
    with pytest.raises(CommitFailed, match="Refusing to move 127.0.1.11 to its new management address 127.0.1.99"):
        run.plan_commit(60)
    assert not [call for call in driver.calls if call.startswith("commit")]
    allowed = session(fakes.NoConfirmDriver(), fakes.INTENT, moved_to="127.0.1.99", readdress_without_confirm=True)
    assert allowed.plan_commit(60) is False


def test_step_commit_with_confirm_leaves_a_pending_commit(fakes):
    driver = fakes.FakeDriver()
    run = session(driver, fakes.INTENT)
    run.compare()
    run.plan_commit(45)
    assert run.commit_with_confirm() is True
    assert (run.candidate, run.pending, run.result.commit_confirm, driver.revert_in) == (False, True, True, 45)


def test_step_commit_with_confirm_on_a_driver_without_it_commits_nothing(fakes):
    driver = fakes.FakeDriver(fail={"commit_config(revert_in)": NotImplementedError()})
    run = session(driver, fakes.INTENT)
    run.compare()
    run.plan_commit(45)
    assert run.commit_with_confirm() is False
    assert (run.candidate, run.pending, driver.committed) == (True, False, False)  # still to commit or discard
    assert run.result.warnings == [
        "The NAPALM driver has no commit-confirm; committed without an automatic revert timer"
    ]


def test_step_move_follows_the_device_to_its_new_address(fakes):
    old, new = fakes.FakeDriver(), fakes.FakeDriver(running=fakes.INTENT)  # the commit, seen at the new address
    run = session(old, fakes.INTENT, moved_to="127.0.1.99", reconnect=lambda: new)
    run.compare()
    run.plan_commit(45)
    run.commit_with_confirm()
    run.move()
    assert (run.driver, run.host, run.opened, run.pending) == (new, "127.0.1.99", True, True)
    assert old.calls[-1] == "close" and new.calls == ["open"]
    run.verify()
    run.confirm()
    assert run.finish_commit().committed is True and new.pending is False
    assert run.result.warnings == [
        "127.0.1.11 moved to its new management address 127.0.1.99; verified and confirmed there"
    ]


def test_step_typed_error_names_the_stage_and_keeps_the_diff(fakes):
    run = session(fakes.FakeDriver(), fakes.INTENT)
    run.compare()
    run.stage = "commit_config(revert_in=45)"
    error = run.typed_error(RuntimeError("boom"))
    assert isinstance(error, DeviceError) and "(commit_config(revert_in=45))" in error.message
    assert error.details["stage"] == "commit_config" and error.details["config_diff"] == fakes.DIFF


def test_step_cleanup_discards_only_a_loaded_candidate_and_logs_its_own_errors(fakes):
    driver = fakes.FakeDriver(fail={"discard_config": OSError("gone"), "close": OSError("gone too")})
    run = session(driver, fakes.INTENT)
    run.cleanup()  # nothing opened: nothing to do
    assert driver.calls == [] and run.logged == []
    run.compare()
    run.cleanup()
    assert driver.calls[-2:] == ["discard_config", "close"]
    assert run.logged == [
        "127.0.1.11: discard_config during cleanup failed: gone",
        "127.0.1.11: close during cleanup failed: gone too",
    ]
