"""``lab.hookrun.RulebookDaemon.owes`` on replayed daemon output: when the lab tests may count runs.
It needs neither the lab nor a daemon; being under tests/integration, it runs in the lab stage."""

from lab import hookrun

LAB = {"env": {"SOTSYNC_LAB_SOURCE_LISTEN": "127.0.0.1:5000"}}


def daemon(lines):
    d = hookrun.RulebookDaemon(LAB, log_name="owes-test")
    d.marker = "owes-test-no-such-process"  # no process carries it: no ansible-playbook is running
    d.lines = list(lines)
    return d


def ready(name):
    return f"Device {name} is ready for provisioning"


def triggered(*names):
    return f"Provisioning triggered (dry_run=True, {len(names)} device(s) in one run: {', '.join(names)})"


def test_a_decision_without_its_run_is_owed():
    assert daemon([ready("a"), triggered("a"), "PLAY RECAP", ready("b")]).owes() == ["a run for b"]


def test_a_triggered_run_that_has_not_ended_is_owed():
    assert daemon([ready("a"), triggered("a")]).owes() == ["1 triggered run(s) not ended"]


def test_idle_when_every_decision_has_its_run_and_every_run_ended():
    assert daemon([ready("a"), triggered("a"), "PLAY RECAP", ready("b"), triggered("b"), "PLAY RECAP"]).owes() == []


def test_a_device_renamed_within_one_window_is_covered_by_the_windows_trigger():
    # the window groups by device id and names each device as its first event did (d-r4); the later
    # decision under the new name (d-r5) came before the trigger
    lines = [ready("d-r4"), ready("e-r4"), ready("d-r5"), triggered("d-r4", "e-r4"), "PLAY RECAP"]
    assert daemon(lines).owes() == []


def test_a_decision_after_the_last_trigger_is_owed_whatever_its_name():
    lines = [ready("d-r4"), triggered("d-r4"), "PLAY RECAP", ready("d-r5")]
    assert daemon(lines).owes() == ["a run for d-r5"]
