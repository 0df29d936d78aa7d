"""The module's thin main(): argument spec = documentation, typed errors -> fail_json, diff mode."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from ansible.module_utils.testing import patch_module_args

from ansible_collections.sotsync.nautobot.plugins.module_utils.arguments import GOLDEN_CONFIG_DEPLOY_ARGUMENT_SPEC
from ansible_collections.sotsync.nautobot.plugins.module_utils.batch import summarise
from ansible_collections.sotsync.nautobot.plugins.module_utils.errors import DeviceNotReady
from ansible_collections.sotsync.nautobot.plugins.modules import golden_config_deploy

ROOT = Path(__file__).resolve().parents[4]
SETTINGS = ROOT / "rulebooks" / "vars" / "device_config_hook.yml"
TOKEN = "0123456789abcdef0123456789abcdef01234567"
PASSWORD = "pw-that-must-not-leak"


@pytest.fixture(scope="module")
def docs():
    """The module's documentation as ansible-doc renders it (fragments merged)."""
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".build" / "collections"), ANSIBLE_NOCOLOR="1")
    out = subprocess.run(
        [str(Path(sys.executable).with_name("ansible-doc")), "--json", "sotsync.nautobot.golden_config_deploy"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=120,
    ).stdout
    return json.loads(out)["sotsync.nautobot.golden_config_deploy"]


def test_documentation_matches_the_argument_spec(docs):
    options = docs["doc"]["options"]
    assert set(options) == set(GOLDEN_CONFIG_DEPLOY_ARGUMENT_SPEC)
    for name, spec in GOLDEN_CONFIG_DEPLOY_ARGUMENT_SPEC.items():
        doc = options[name]
        assert doc.get("type", "str") == spec.get("type", "str"), name
        assert doc.get("default") == spec.get("default"), name
        assert bool(doc.get("required")) == bool(spec.get("required")), name
        assert doc.get("choices") == spec.get("choices"), name
        assert doc.get("elements") == spec.get("elements"), name
    assert docs["doc"]["attributes"]["check_mode"]["support"] == "full"
    assert docs["doc"]["attributes"]["diff_mode"]["support"] == "full"
    assert {
        "msg",
        "config_diff",
        "diff",
        "committed",
        "dry_run",
        "device",
        "intent_source",
        "intent_age_seconds",
        "note_id",
        "error",
        "results",
        "summary",
        "failed_devices",
    } <= set(docs["return"])


def test_summary_is_documented_key_for_key(docs):
    """Every key of ``summary`` (the counts, the names, the timings) is in RETURN, and nothing more."""
    documented = docs["return"]["summary"]["contains"]
    # added by run_batch; the last two after live commits only (update_compliance)
    returned = set(summarise([])) | {"intent_source", "lookup_seconds", "total_seconds"}
    returned |= {"compliance", "compliance_seconds"}
    assert set(documented) == returned
    for key in ("drifted", "skipped_devices", "failed_devices"):
        assert (documented[key]["type"], documented[key]["elements"]) == ("list", "str"), key
    assert set(docs["return"]["summary"]["sample"]) <= returned


def test_secrets_are_no_log():
    assert GOLDEN_CONFIG_DEPLOY_ARGUMENT_SPEC["password"]["no_log"] is True
    assert GOLDEN_CONFIG_DEPLOY_ARGUMENT_SPEC["nautobot_token"]["no_log"] is True
    assert "default" not in GOLDEN_CONFIG_DEPLOY_ARGUMENT_SPEC["username"]
    assert "default" not in GOLDEN_CONFIG_DEPLOY_ARGUMENT_SPEC["password"]


def test_default_ready_statuses_equal_the_settings_file():
    settings = yaml.safe_load(SETTINGS.read_text())
    assert GOLDEN_CONFIG_DEPLOY_ARGUMENT_SPEC["ready_statuses"]["default"] == settings["ready_statuses"]


def run_main(args, capsys):
    with patch_module_args(args), pytest.raises(SystemExit) as info:
        golden_config_deploy.main()
    out = capsys.readouterr().out
    return info.value.code, json.loads(out), out


BASE = {"device": "access1", "nautobot_url": "http://127.0.0.1:9", "nautobot_token": TOKEN}


def test_a_missing_global_login_is_not_refused_before_the_devices_are_read(capsys, monkeypatch):
    """Devices may have their login from the inventory or their secrets group: Nautobot is asked first."""
    monkeypatch.delenv("NAPALM_USERNAME", raising=False)
    monkeypatch.delenv("NAPALM_PASSWORD", raising=False)
    code, result, out = run_main(dict(BASE, password=PASSWORD, nautobot_timeout=2), capsys)
    assert code == 1 and result["failed"] is True
    assert result["error"] == "nautobot_unreachable"
    assert PASSWORD not in out and TOKEN not in out


def test_device_credentials_are_no_log():
    assert GOLDEN_CONFIG_DEPLOY_ARGUMENT_SPEC["device_credentials"] == {"type": "dict", "no_log": True}


def test_credentials_fall_back_to_the_environment(capsys, monkeypatch):
    monkeypatch.setenv("NAPALM_USERNAME", "admin")
    monkeypatch.setenv("NAPALM_PASSWORD", PASSWORD)
    code, result, out = run_main(dict(BASE, nautobot_url="http://127.0.0.1:9", nautobot_timeout=2), capsys)
    assert result["error"] == "nautobot_unreachable"  # got past the credential check, to Nautobot
    assert PASSWORD not in out and TOKEN not in out


def batch_of(*results, warnings=()):
    from ansible_collections.sotsync.nautobot.plugins.module_utils.batch import summarise

    return {"results": list(results), "summary": summarise(list(results)), "warnings": list(warnings)}


def test_whole_run_error_becomes_fail_json(capsys, monkeypatch):
    def unreachable(params, check_mode=False, log=None):
        raise DeviceNotReady("Device is not ready for provisioning: no primary IPv4", reasons=["no primary IPv4"])

    monkeypatch.setattr(golden_config_deploy, "run_batch", unreachable)
    code, result, _out = run_main(dict(BASE, username="u", password=PASSWORD), capsys)
    assert (code, result["failed"], result["error"]) == (1, True, "device_not_ready")
    assert result["reasons"] == ["no primary IPv4"]


def test_one_device_failure_is_the_task_failure_with_its_keys(capsys, monkeypatch):
    failed = {
        "failed": True,
        "error": "device_not_ready",
        "msg": "Device is not ready for provisioning: no primary IPv4",
        "reasons": ["no primary IPv4"],
        "device": "access1",
        "note_id": "j-1",
    }
    monkeypatch.setattr(golden_config_deploy, "run_batch", lambda params, check_mode=False, log=None: batch_of(failed))
    code, result, _out = run_main(dict(BASE, username="u", password=PASSWORD), capsys)
    assert (code, result["failed"], result["error"]) == (1, True, "device_not_ready")
    assert result["reasons"] == ["no primary IPv4"] and result["note_id"] == "j-1"
    assert result["results"] == [failed]


def test_a_batch_fails_naming_its_failed_devices_only(capsys, monkeypatch):
    ok = {
        "failed": False,
        "changed": True,
        "committed": False,
        "device": "access2",
        "msg": "DRY RUN",
        "config_diff": "x",
    }
    bad = {"failed": True, "error": "device_unreachable", "msg": "unreachable", "device": "access1"}
    monkeypatch.setattr(golden_config_deploy, "run_batch", lambda params, check_mode=False, log=None: batch_of(ok, bad))
    args = dict(BASE, device=None, devices=["access1", "access2"], username="u", password=PASSWORD)
    code, result, _out = run_main(args, capsys)
    assert (code, result["failed"]) == (1, True)
    assert result["failed_devices"] == ["access1"]
    assert result["summary"]["failed"] == 1 and result["summary"]["dry_run"] == 1
    assert "error" not in result  # a batch's keys are per device, in results


def test_unexpected_error_keeps_the_shape(capsys, monkeypatch):
    def boom(params, check_mode=False, log=None):
        raise KeyError("surprise")

    monkeypatch.setattr(golden_config_deploy, "run_batch", boom)
    code, result, _out = run_main(dict(BASE, username="u", password=PASSWORD), capsys)
    assert (code, result["failed"], result["error"]) == (1, True, "unexpected")


@pytest.mark.parametrize(("diff_mode", "check_mode"), [(True, False), (False, False), (True, True)])
def test_success_and_diff_mode(capsys, monkeypatch, diff_mode, check_mode):
    seen = {}

    def ok(params, check_mode=False, log=None):
        seen["check_mode"] = check_mode
        return batch_of(
            {
                "failed": False,
                "changed": True,
                "msg": "DRY RUN mode: Discarding configuration changes",
                "config_diff": "-a\n+b",
                "committed": False,
                "dry_run": True,
                "warnings": ["careful"],
            }
        )

    monkeypatch.setattr(golden_config_deploy, "run_batch", ok)
    args = dict(BASE, username="u", password=PASSWORD, _ansible_diff=diff_mode, _ansible_check_mode=check_mode)
    code, result, _out = run_main(args, capsys)
    assert code == 0 and result["changed"] is True and result["config_diff"] == "-a\n+b"
    assert seen["check_mode"] is check_mode
    assert ("diff" in result) is diff_mode
    if diff_mode:
        assert result["diff"] == {"prepared": "-a\n+b"}
    assert "careful" in json.dumps(result["warnings"])  # a module.warn(), whatever its wire shape
