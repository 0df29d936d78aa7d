"""Stopping the daemon while a live run is in flight, on the lab, through the real ansible-rulebook: the
way a person (Ctrl-C: SIGINT to the daemon's process group), systemd (SIGTERM to every process of the
service) or an accident (SIGKILL of the daemon alone) stops it, at two moments (the run just triggered;
the device's NAPALM session open). Each stop must leave no process of the daemon alive, no session open
and no commit pending on the simulated device, and the device either fully provisioned (its session had
begun: it finished) or untouched (it had not: ``run_stopped``), never in between.

Then the daemon is started again on the same ledger and cursor: the cut change is provisioned (the ledger
hands over again a device whose run was cut, or that no run had taken), and a device that went silent for
30 s reaches its intent once it answers again (a failure a retry can fix is retried with backoff).
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from lab import hookrun, labctl
from tests.integration.provision_helpers import restored, sim_device, sim_faults

pytestmark = pytest.mark.lab

DEVICE = "access2"
PROC = Path("/proc")
# A device in its session finishes (its NAPALM timeout and commit-confirm window bound it), then the run's
# ansible-playbook ends: the stop's bound, plus the 20 s the issue allows.
GRACE = 60 + 20
# The restarted daemon: its start, the hand-over again, a run (Golden Config's render, the session).
RESTART_BOUND = 120


def left_alive(daemon):
    return [pid for pid in daemon._marked() if pid != os.getpid()]


def describe(pid):
    """``pid``'s command, state, parent and what it waits in, for a failure's message."""
    try:
        stat = (PROC / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
        cmd = (PROC / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()[:100]
        wchan = (PROC / str(pid) / "wchan").read_text()
        return f"{pid} {cmd!r} state {stat[0]} ppid {stat[1]} pgrp {stat[2]} waiting in {wchan}"
    except OSError:
        return f"{pid} (gone)"


def stop(daemon, how):
    if how == "sigint-group":  # Ctrl-C in the daemon's terminal
        os.killpg(daemon.proc.pid, signal.SIGINT)
    elif how == "sigterm-all":  # systemd, KillMode=control-group: every process of the service
        for pid in left_alive(daemon):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    else:  # the daemon alone, killed
        os.kill(daemon.proc.pid, signal.SIGKILL)


def hostname(lab, name):
    lines = [ln for ln in sim_device(lab, name)["running_config"].splitlines() if ln.startswith("hostname ")]
    return lines[0].split(" ", 1)[1] if lines else None


@pytest.mark.parametrize("moment", ["triggered", "session-open"])
@pytest.mark.parametrize("how", ["sigint-group", "sigterm-all", "sigkill-daemon"])
def test_a_stop_leaves_nothing_running_and_no_device_half_done(lab, how, moment):
    new = f"{DEVICE}-stop"
    with restored(lab, DEVICE) as ctx:
        daemon = hookrun.RulebookDaemon(lab, log_name=f"test-stop-{how}-{moment}", dry_run=False)
        daemon.start()
        try:
            sessions_before = len(sim_device(lab, DEVICE)["sessions"])
            ctx["device"].update({"name": new})
            daemon.wait_for(lambda text: "Provisioning triggered" in text, 90, "the run's trigger")
            if moment == "session-open":
                deadline = time.monotonic() + 60
                while len(sim_device(lab, DEVICE)["sessions"]) == sessions_before:
                    assert time.monotonic() < deadline, "the run opened no session"
                    time.sleep(0.05)
            assert left_alive(daemon), "nothing was running"
            stop(daemon, how)
            deadline = time.monotonic() + GRACE
            while left_alive(daemon) and time.monotonic() < deadline:
                time.sleep(0.5)
            left = left_alive(daemon)
            assert not left, (
                f"{how} at {moment}: still running {GRACE} s after the stop: {[describe(pid) for pid in left]}\n"
                + daemon.text()[-2000:]
            )
            state = sim_device(lab, DEVICE)
            assert state["open_sessions"] == [], state
            assert state["pending_commit"] is None, state
            assert hostname(lab, DEVICE) in (DEVICE, new), "the device is neither as it was nor as intended"
            if moment == "session-open":
                # its session had begun: it was finished, committed and confirmed
                assert hostname(lab, DEVICE) == new, daemon.text()[-3000:]
            cut = hostname(lab, DEVICE) != new
        finally:
            daemon.stop()
        # started again on the same ledger and cursor: the change is on the device within a bounded time
        again = hookrun.RulebookDaemon(lab, log_name=f"test-stop-{how}-{moment}", keep_cursor=True, dry_run=False)
        again.start()
        try:
            started = time.monotonic()
            deadline = started + RESTART_BOUND
            while hostname(lab, DEVICE) != new:
                assert time.monotonic() < deadline, (
                    f"{how} at {moment}: the device is not on its intent {RESTART_BOUND} s after the restart:\n"
                    + again.text()[-3000:]
                )
                time.sleep(0.5)
            if cut:
                assert "is owed a run" in again.text(), again.text()[-3000:]
            again.settle()
            state = sim_device(lab, DEVICE)
            assert state["open_sessions"] == [] and state["pending_commit"] is None, state
        finally:
            again.stop()


def test_a_device_silent_for_30_s_reaches_its_intent_once_it_answers_again(lab):
    """A device that does not answer: its run fails (device_unreachable), the daemon retries with backoff, each try
    logged with why; once the device answers again, the next try provisions it."""
    new = f"{DEVICE}-outage"
    with restored(lab, DEVICE) as ctx:
        with hookrun.RulebookDaemon(
            lab,
            log_name="test-outage-device",
            dry_run=False,
            retry_first_seconds=5,
            retry_max_seconds=10,
            host_vars={"provision_napalm_timeout": 5},
        ) as daemon:
            sim_faults(lab, DEVICE, unresponsive=True)
            silent_from = time.monotonic()
            ctx["device"].update({"name": new})
            daemon.wait_for(
                lambda text: "FAILED (device_unreachable)" in text, 90, "the run failing on the silent device"
            )
            daemon.wait_for(lambda text: f"Device {new}: its run failed; try 2 in" in text, 30, "the retry's line")
            time.sleep(max(0.0, 30 - (time.monotonic() - silent_from)))
            assert hostname(lab, DEVICE) == DEVICE  # nothing reached it while silent
            sim_faults(lab, DEVICE, unresponsive=False)
            answering = time.monotonic()
            while hostname(lab, DEVICE) != new:
                assert time.monotonic() - answering < 60, daemon.text()[-3000:]
                time.sleep(0.5)
            text = daemon.text()
            assert f"Device {new} is owed a run: try " in text and "the last failed (device_unreachable" in text, text[
                -3000:
            ]
            daemon.settle()


def test_nautobot_down_for_30_s_mid_run_the_device_reaches_its_intent_once_it_is_back(lab):
    """Nautobot's web server stopped as a live run begins, for 30 s: the run fails nautobot_unreachable, the
    daemon stays up and retries with backoff; once Nautobot answers again, the next try provisions the device."""
    new = f"{DEVICE}-nautobot-outage"
    with restored(lab, DEVICE) as ctx:
        with hookrun.RulebookDaemon(
            lab, log_name="test-outage-nautobot", dry_run=False, retry_first_seconds=5, retry_max_seconds=10
        ) as daemon:
            ctx["device"].update({"name": new})
            daemon.wait_for(lambda text: "Provisioning triggered" in text, 90, "the run's trigger")
            labctl.stop("nautobot")
            down = time.monotonic()
            try:
                daemon.wait_for(lambda text: "nautobot_unreachable" in text, 120, "the run failing on Nautobot")
                time.sleep(max(0.0, 30 - (time.monotonic() - down)))
                assert hostname(lab, DEVICE) == DEVICE  # nothing reached the device while Nautobot was down
            finally:
                labctl.nautobot_services_up(labctl.load_secrets(), labctl.load_state())
            back = time.monotonic()
            while hostname(lab, DEVICE) != new:
                assert time.monotonic() - back < 120, daemon.text()[-3000:]
                time.sleep(0.5)
            text = daemon.text()
            assert f"Device {new} is owed a run: try " in text and "nautobot_unreachable" in text, text[-3000:]
            daemon.settle()
