"""One device's provisioning end to end (``provision_one``, the step ``batch.run_batch`` runs for each
device it read), with a Nautobot double and a driver double; parameter checks through ``run_batch``."""

from __future__ import annotations

import pytest
from napalm.base import exceptions as napalm_exc

from ansible_collections.sotsync.nautobot.plugins.module_utils import messages
from ansible_collections.sotsync.nautobot.plugins.module_utils.batch import run_batch
from ansible_collections.sotsync.nautobot.plugins.module_utils.errors import (
    ConfigRejected,
    DeviceNotReady,
    InvalidParameter,
    MissingCredentials,
    NautobotUnreachable,
    RenderFailed,
)
from ansible_collections.sotsync.nautobot.plugins.module_utils.intent import fetch_intent
from ansible_collections.sotsync.nautobot.plugins.module_utils.provision import (
    DeviceProvision,
    note_text,
    merged_optional_args,
    provision_one,
    redact_config_secrets,
    scrub,
)

PASSWORD = "s3cr3t-device-password"
TOKEN = "0123456789abcdef0123456789abcdef01234567"


def params(**overrides):
    data = {
        "device": "access1",
        "nautobot_url": "http://nautobot.invalid",
        "nautobot_token": TOKEN,
        "validate_certs": True,
        "nautobot_timeout": 30,
        "intent_source": "regenerate",
        "dry_run": True,
        "username": "admin",
        "password": PASSWORD,
        "optional_args": None,
        "timeout": 60,
        "ready_statuses": ["Active", "Planned", "Staged"],
        "commit_confirm_seconds": 60,
        "verify": True,
        "notes": True,
        "trigger": "rulebook: name changed",
    }
    data.update(overrides)
    return data


class Factory:
    """Records the connection facts the flow derived, hands out one driver."""

    def __init__(self, driver):
        self.driver = driver
        self.args = None

    def __call__(self, driver_name, host, username, password, timeout, optional_args):
        self.args = {
            "driver": driver_name,
            "host": host,
            "username": username,
            "timeout": timeout,
            "optional_args": optional_args,
        }
        return self.driver


def provision(params, check_mode=False, client=None, driver_factory=None):
    """``provision_one`` wired as ``run_batch`` wires it for a device it read: the intent from
    ``fetch_intent``, notes to the client."""
    device = client.device

    def intent_for(device_id, name):
        return fetch_intent(client, device_id, name, params["intent_source"])

    return provision_one(device, params, check_mode, intent_for, client.create_note, driver_factory)


def test_dry_run_result_and_note(fakes):
    nautobot, factory = fakes.FakeNautobot(fakes.ready_device()), Factory(fakes.FakeDriver())
    result = provision(params(), client=nautobot, driver_factory=factory)
    assert result["msg"] == messages.DRY_RUN
    assert (result["changed"], result["committed"], result["dry_run"]) == (True, False, True)
    assert result["config_diff"] == fakes.DIFF
    assert (result["device"], result["host"], result["napalm_driver"]) == ("access1", "127.0.1.11", "eos")
    assert result["note_id"] == "note-1"
    assert factory.args["optional_args"] == {"transport": "http", "port": 9080}
    entry = nautobot.notes[0]
    assert entry["kind"] == "info"
    assert "dry run" in entry["comments"] and "rulebook: name changed" in entry["comments"]
    assert "-hostname old-name" in entry["comments"] and "+hostname access1" in entry["comments"]


def test_commit_is_noted_as_success(fakes):
    nautobot = fakes.FakeNautobot(fakes.ready_device())
    result = provision(params(dry_run=False), client=nautobot, driver_factory=Factory(fakes.FakeDriver()))
    assert (result["msg"], result["committed"], result["dry_run"]) == (messages.COMMITTED, True, False)
    assert nautobot.notes[0]["kind"] == "success"


def test_check_mode_is_a_dry_run_and_writes_nothing(fakes):
    nautobot, driver = fakes.FakeNautobot(fakes.ready_device()), fakes.FakeDriver()
    result = provision(params(dry_run=False), check_mode=True, client=nautobot, driver_factory=Factory(driver))
    assert (result["dry_run"], result["committed"], result["note_id"]) == (True, False, None)
    assert not [c for c in driver.calls if c.startswith("commit")]
    assert nautobot.notes == []


def test_notes_can_be_switched_off(fakes):
    nautobot = fakes.FakeNautobot(fakes.ready_device())
    result = provision(params(notes=False), client=nautobot, driver_factory=Factory(fakes.FakeDriver()))
    assert result["note_id"] is None and nautobot.notes == []


def test_note_failure_is_a_warning(fakes):
    nautobot = fakes.FakeNautobot(fakes.ready_device(), note_error=NautobotUnreachable("Nautobot went away"))
    result = provision(params(), client=nautobot, driver_factory=Factory(fakes.FakeDriver()))
    assert result["note_id"] is None
    assert result["warnings"] == ["Could not write the note: Nautobot went away"]


@pytest.mark.parametrize(
    ("missing", "words"),
    [
        ({"username": None}, "username"),
        ({"password": ""}, "password"),
        ({"username": None, "password": None}, "username and password"),
    ],
)
def test_no_login_for_any_device_fails_the_run_before_any_connection(batch_fakes, missing, words):
    """Without inventory credentials or a secrets group, a missing global login fails the run once the
    devices are read, naming what is missing and every source tried, before any render or connection."""
    nautobot, factory = (
        batch_fakes.FakeBatchNautobot(inventory=[batch_fakes.ready_device()]),
        batch_fakes.DriverFactory(),
    )
    with pytest.raises(MissingCredentials, match="NAPALM credentials missing: " + words) as info:
        run_batch(params(**missing), client=nautobot, driver_factory=factory)
    assert [c[0] for c in nautobot.calls] == ["get_devices"]
    assert factory.drivers == {}
    assert (
        "NAPALM_USERNAME" in info.value.message
        and "access1 (inventory: no inventory host access1" in info.value.message
    )
    assert PASSWORD not in info.value.message


@pytest.mark.parametrize(
    "bad", [{"commit_confirm_seconds": -1}, {"commit_confirm_seconds": 86400}, {"timeout": 0}, {"device": " "}]
)
def test_bad_parameters(fakes, bad):
    with pytest.raises(InvalidParameter):
        run_batch(params(**bad), client=fakes.FakeNautobot(fakes.ready_device()))


def test_not_ready_device_is_refused_and_noted(fakes):
    nautobot = fakes.FakeNautobot(fakes.ready_device(platform=None, status={"name": "Offline"}))
    factory = Factory(fakes.FakeDriver())
    with pytest.raises(DeviceNotReady) as info:
        provision(params(), client=nautobot, driver_factory=factory)
    assert info.value.message == (
        "Device is not ready for provisioning: platform missing; status not Active, Planned or Staged (is Offline)"
    )
    assert info.value.details["reasons"] == ["platform missing", "status not Active, Planned or Staged (is Offline)"]
    assert info.value.details["note_id"] == "note-1"
    assert nautobot.notes[0]["kind"] == "warning"
    assert factory.args is None  # no device connection
    assert not [c for c in nautobot.calls if c[0] == "get_json"]  # no render either


def test_ready_statuses_come_from_the_parameter(fakes):
    nautobot = fakes.FakeNautobot(fakes.ready_device(status={"name": "Planned"}))
    with pytest.raises(DeviceNotReady, match="status not Active"):
        provision(params(ready_statuses=["Active"]), client=nautobot, driver_factory=Factory(fakes.FakeDriver()))


def test_failed_render_is_refused_and_noted(fakes):
    nautobot = fakes.FakeNautobot(fakes.ready_device(), render=(400, {"detail": "'name' is undefined"}))
    factory = Factory(fakes.FakeDriver())
    with pytest.raises(RenderFailed, match="'name' is undefined") as info:
        provision(params(), client=nautobot, driver_factory=factory)
    assert factory.args is None
    assert info.value.details["device"] == "access1"
    assert "FAILED (render_failed)" in nautobot.notes[0]["comments"]


def test_stored_intent_reports_its_age(fakes):
    stored = (
        200,
        {"results": [{"intended_config": fakes.INTENT, "intended_last_success_date": "2020-01-01T00:00:00Z"}]},
    )
    nautobot = fakes.FakeNautobot(fakes.ready_device(), stored=stored)
    result = provision(params(intent_source="stored"), client=nautobot, driver_factory=Factory(fakes.FakeDriver()))
    assert result["intent_source"] == "stored"
    assert result["intent_age_seconds"] > 86400 * 365
    assert result["render_seconds"] is None


def test_device_failure_is_noted_and_keeps_no_secret(fakes):
    reject = napalm_exc.MergeConfigException(
        f"Error [1002]: CLI command 2 of 5 'bogus {PASSWORD}' failed: invalid command"
    )
    nautobot = fakes.FakeNautobot(fakes.ready_device())
    driver = fakes.FakeDriver(fail={"load_merge_candidate": reject})
    with pytest.raises(ConfigRejected) as info:
        provision(params(), client=nautobot, driver_factory=Factory(driver))
    assert PASSWORD not in info.value.message
    assert PASSWORD not in nautobot.notes[0]["comments"]
    assert driver.calls[-1] == "close"


def test_nautobot_failure_writes_no_note(fakes):
    class Down(fakes.FakeNautobot):
        def get_json(self, path, params=None):
            raise NautobotUnreachable("Nautobot at http://nautobot.invalid is unreachable")

    nautobot = Down(fakes.ready_device())
    with pytest.raises(NautobotUnreachable) as info:
        provision(params(), client=nautobot, driver_factory=Factory(fakes.FakeDriver()))
    assert nautobot.notes == [] and info.value.details["device"] == "access1"


@pytest.mark.parametrize(
    ("context", "task", "merged"),
    [
        ({"napalm": {"optional_args": {"transport": "http", "port": 9080}}}, None, {"transport": "http", "port": 9080}),
        (
            {"napalm": {"optional_args": {"transport": "http", "port": 9080}}},
            {"port": 443, "transport": "https"},
            {"transport": "https", "port": 443},
        ),
        ({}, {"port": 1}, {"port": 1}),
        (None, None, {}),
        ({"napalm": "nonsense"}, None, {}),
    ],
)
def test_optional_args_merge(context, task, merged):
    assert merged_optional_args({"config_context": context}, task) == merged


def test_scrub_and_comments():
    assert scrub("token abcdef in text", ["abcdef", None, ""]) == "token ******** in text"
    text = note_text(
        "access1",
        "commit",
        messages.COMMITTED,
        "manual",
        "regenerate",
        "",
        extra={"result": "0 line(s) differ", "skip": None},
    )
    assert "No differences." in text and "skip" not in text and "- trigger: manual" in text


@pytest.mark.parametrize(
    ("line", "shown"),
    [
        ("+username admin secret 0 plain-text", "+username admin secret 0 <removed>"),
        ("+username admin privilege 15 secret sha512 $6$abc", "+username admin privilege 15 secret sha512 <removed>"),
        ("+snmp-server community public ro", "+snmp-server community <removed> ro"),
        ("+   neighbor 10.0.0.1 password 7 0822455D0A16", "+   neighbor 10.0.0.1 password 7 <removed>"),
        ("+hostname access1", "+hostname access1"),
    ],
)
def test_note_diff_hides_config_secrets(line, shown):
    assert redact_config_secrets(line) == shown
    assert shown in note_text("a", "dry run", "m", "t", "regenerate", line)


# --- device secrets: masked in every output, never a configuration copy in a note -------------------
SECRET_DIFF = "\n".join(
    [
        "-hostname old-name",
        "+hostname access1",
        "-snmp-server community Old-C0mm ro",
        "+snmp-server community New-C0mm ro",
        "+ntp authentication-key 1 md5 7 075E731F1A",
    ]
)
SECRET_RUNNING = (
    "hostname old-name\nusername admin secret sha512 $6$Run-Secret-Hash\nsnmp-server community Old-C0mm ro\n"
)


def test_commit_note_keeps_fingerprints_and_masked_diff_only(fakes):
    nautobot = fakes.FakeNautobot(fakes.ready_device())
    driver = fakes.FakeDriver(diff=SECRET_DIFF, running=SECRET_RUNNING)
    result = provision(params(dry_run=False), client=nautobot, driver_factory=Factory(driver))
    assert result["committed"]
    note = nautobot.notes[0]["comments"]
    assert "- rollback point: before sha256:" in note
    assert "- device restore point: flash:rollback-0" in note
    assert "Running configuration before this push" not in note and "username admin" not in note
    for shown in (note, result["config_diff"]):
        for secret in ("Old-C0mm", "New-C0mm", "075E731F1A", "$6$Run-Secret-Hash"):
            assert secret not in shown
        assert "~snmp-server community <removed> ro  (secret changed)" in shown
        assert "+ntp authentication-key 1 md5 <removed>" in shown
    # what was pushed is the intent, unmasked
    assert driver.candidate is None and "<removed>" not in fakes.INTENT


def test_a_refused_secret_line_is_masked_in_the_error_and_the_note(fakes):
    reject = napalm_exc.MergeConfigException(
        "Error [1002]: CLI command 2 of 5 'snmp-server community Refused-C0mm ro' failed: invalid command"
    )
    nautobot = fakes.FakeNautobot(fakes.ready_device())
    driver = fakes.FakeDriver(fail={"load_merge_candidate": reject})
    with pytest.raises(ConfigRejected) as info:
        provision(params(), client=nautobot, driver_factory=Factory(driver))
    assert "Refused-C0mm" not in info.value.message and "Refused-C0mm" not in str(info.value.details)
    assert info.value.details["line"] == "snmp-server community <removed> ro"
    assert "Refused-C0mm" not in nautobot.notes[0]["comments"]


def test_batch_results_and_printed_lines_are_masked(batch_fakes):
    from ansible_collections.sotsync.nautobot.plugins.module_utils.batch import format_outcome, module_result

    nautobot = batch_fakes.FakeBatchNautobot(inventory=[batch_fakes.batch_device(1)])
    factory = batch_fakes.DriverFactory(diff=SECRET_DIFF)
    batch = run_batch(params(device="dev1"), client=nautobot, driver_factory=factory)
    result, failed = module_result(batch, single=True)
    printed = "\n".join(format_outcome(batch["results"][0]))
    notes = "\n".join(c for _d, _k, c in nautobot.note_entries())
    for shown in (str(result), printed, notes):
        assert "Old-C0mm" not in shown and "New-C0mm" not in shown and "075E731F1A" not in shown
        assert "(secret changed)" in shown
    assert not failed


# --- one device's steps, one at a time (``DeviceProvision``) --------------------------------------------
def steps(fakes, device=None, driver=None, **overrides):
    """A ``DeviceProvision`` as ``provision`` wires it; its ``nautobot``, its ``factory`` and the intents asked."""
    nautobot = fakes.FakeNautobot(device or fakes.ready_device())
    factory = Factory(driver or fakes.FakeDriver())
    asked = []

    def intent_for(device_id, name):
        asked.append(name)
        return fetch_intent(nautobot, device_id, name, "regenerate")

    run = DeviceProvision(nautobot.device, params(**overrides), False, intent_for, nautobot.create_note, factory)
    run.nautobot, run.factory, run.asked = nautobot, factory, asked
    return run


def test_step_deploy_intent_leaves_readiness_platform_and_intent(fakes):
    run = steps(fakes)
    outcome = run.deploy_intent()
    assert outcome.changed and outcome.msg == messages.DRY_RUN
    assert (run.readiness.host, run.readiness.napalm_driver, run.platform) == ("127.0.1.11", "eos", "eos")
    assert run.intent.config == fakes.INTENT and run.base["intent_source"] == run.intent_source == "regenerate"
    assert run.asked == ["access1"] and run.factory.args["host"] == "127.0.1.11"


def test_step_deploy_intent_refuses_an_unready_device_before_its_intent(fakes):
    run = steps(fakes, device=fakes.ready_device(platform=None))
    with pytest.raises(DeviceNotReady):
        run.deploy_intent()
    assert run.asked == [] and run.factory.args is None and run.readiness is None


def test_step_report_failure_notes_a_device_failure_and_not_nautobots(fakes):
    run = steps(fakes)
    rejected = ConfigRejected(f"rejected, password {PASSWORD}", line="x")
    run.report_failure(rejected)
    assert PASSWORD not in rejected.message and rejected.details["device"] == "access1"
    assert rejected.details["note_id"] == "note-1" and run.nautobot.notes[0]["kind"] == "warning"
    down = NautobotUnreachable("Nautobot is unreachable")
    run.report_failure(down)
    assert down.details["device"] == "access1" and "note_id" not in down.details
    assert len(run.nautobot.notes) == 1


def test_step_write_note_turns_a_failed_note_into_a_warning(fakes):
    run = steps(fakes)
    run.nautobot.note_error = NautobotUnreachable(f"token {TOKEN} refused")
    assert run.write_note("info", "text") is None
    assert run.warnings == ["Could not write the note: token ******** refused"]
    assert steps(fakes, notes=False).write_note("info", "text") is None


def test_step_report_lists_the_facts_and_skips_the_note_of_an_unchanged_device_in_a_drift_check(fakes):
    run = steps(fakes, driver=fakes.FakeDriver(diff=""), notes_unchanged=False)
    result = run.report(run.deploy_intent())
    assert (result["changed"], result["note_id"], run.nautobot.notes) == (False, None, [])
    committed = steps(fakes, dry_run=False)
    outcome = committed.deploy_intent()
    facts = committed.note_facts(outcome)
    assert facts["driver"] == "eos at 127.0.1.11" and facts["result"] == "2 line(s) differ"
    assert facts["commit-confirm"] == "confirmed" and facts["rollback point"]
    assert committed.report(outcome)["note_id"] == "note-1"
