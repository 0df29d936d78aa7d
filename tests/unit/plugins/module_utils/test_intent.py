"""Parsing Golden Config's answers: a usable intent, or a typed refusal."""

from __future__ import annotations

import datetime

import pytest

from ansible_collections.sotsync.nautobot.plugins.module_utils.errors import (
    IntentUnavailable,
    NautobotError,
    RenderFailed,
)
from ansible_collections.sotsync.nautobot.plugins.module_utils.intent import (
    GENERATE_PATH,
    STORED_PATH,
    fetch_intent,
    has_content,
    parse_generated,
    parse_stored,
    parse_timestamp,
)

GOOD = "hostname access1\n!\ninterface Management1\n   ip address 127.0.1.11/24\nend\n"


def test_generated_config_is_returned():
    assert parse_generated(200, {"intended_config": GOOD, "diff": None}, "access1") == GOOD


@pytest.mark.parametrize(
    "config",
    ["", "   \n", "!\n! only comments\n!\nend\n", None],
    ids=["empty", "blank", "comments-only", "null"],
)
def test_empty_render_is_refused(config):
    with pytest.raises(RenderFailed, match="empty intended configuration for access1") as info:
        parse_generated(200, {"intended_config": config}, "access1")
    assert info.value.code == "render_failed"


def test_render_failure_detail_is_kept():
    body = {"detail": "Failed to render Jinja template: 'name' is undefined"}
    with pytest.raises(RenderFailed) as info:
        parse_generated(400, body, "access1")
    assert "'name' is undefined" in info.value.message
    assert info.value.details["detail"] == body["detail"]
    assert info.value.to_result()["error"] == "render_failed"


def test_no_settings_is_a_render_failure():
    with pytest.raises(RenderFailed, match="No Golden Config settings found"):
        parse_generated(400, {"detail": "No Golden Config settings found for this device"}, "access1")


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (404, {"detail": "Not found."}, NautobotError),
        (502, "bad gateway", NautobotError),
        (200, {"unexpected": 1}, RenderFailed),
        (200, ["not", "a", "dict"], RenderFailed),
    ],
)
def test_other_answers_are_typed(status, body, error):
    with pytest.raises(error):
        parse_generated(status, body, "access1")


NOW = datetime.datetime(2026, 11, 25, 1, 0, 0, tzinfo=datetime.UTC)


def test_stored_config_and_age():
    body = {"count": 1, "results": [{"intended_config": GOOD, "intended_last_success_date": "2026-11-25T00:58:20Z"}]}
    config, age, last = parse_stored(200, body, "access1", now=NOW)
    assert (config, age, last) == (GOOD, 100, "2026-11-25T00:58:20Z")


@pytest.mark.parametrize(
    "body",
    [{"count": 0, "results": []}, {"results": [{"intended_config": "", "intended_last_success_date": None}]}],
    ids=["no-record", "empty-config"],
)
def test_missing_stored_config_is_refused(body):
    with pytest.raises(IntentUnavailable, match="intent_source=regenerate") as info:
        parse_stored(200, body, "access1", now=NOW)
    assert info.value.code == "intent_unavailable"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-25T00:58:20Z", datetime.datetime(2026, 11, 25, 0, 58, 20, tzinfo=datetime.UTC)),
        (
            "2026-11-25 00:23:24.382970+00:00",
            datetime.datetime(2026, 11, 25, 0, 23, 24, 382970, tzinfo=datetime.UTC),
        ),
        (
            "2026-11-25T00:23:24.3829701234+00:00",
            datetime.datetime(2026, 11, 25, 0, 23, 24, 382970, tzinfo=datetime.UTC),
        ),
        ("2026-11-25T00:23:24", datetime.datetime(2026, 11, 25, 0, 23, 24, tzinfo=datetime.UTC)),
        ("yesterday", None),
        (None, None),
    ],
)
def test_parse_timestamp(text, expected):
    assert parse_timestamp(text) == expected


@pytest.mark.parametrize(("text", "content"), [("hostname x", True), ("!\nend", False), ("", False)])
def test_has_content(text, content):
    assert has_content(text) is content


class Client:
    def __init__(self, answer):
        self.answer = answer
        self.asked = []

    def get_json(self, path, params=None):
        self.asked.append((path, params))
        return self.answer


def test_fetch_regenerate_asks_the_render_endpoint():
    client = Client((200, {"intended_config": GOOD}))
    ticks = iter([10.0, 10.25])
    intent = fetch_intent(client, "uuid-1", "access1", "regenerate", clock=lambda: next(ticks))
    assert client.asked == [(GENERATE_PATH, {"device_id": "uuid-1"})]
    assert (intent.config, intent.source, intent.render_seconds, intent.age_seconds) == (GOOD, "regenerate", 0.25, None)


def test_fetch_stored_asks_the_golden_config_list():
    client = Client((200, {"results": [{"intended_config": GOOD, "intended_last_success_date": None}]}))
    intent = fetch_intent(client, "uuid-1", "access1", "stored")
    assert client.asked == [(STORED_PATH, {"device": "uuid-1"})]
    assert (intent.config, intent.source, intent.age_seconds) == (GOOD, "stored", None)


def test_fetch_refuses_unknown_source():
    with pytest.raises(ValueError, match="intent_source"):
        fetch_intent(Client(None), "uuid-1", "access1", "replace")


class NewDeviceClient(Client):
    """Golden Config does not know a new device until its job refreshed the group cache."""

    def __init__(self):
        super().__init__(None)
        self.jobs = []

    def get_json(self, path, params=None):
        self.asked.append((path, params))
        if not self.jobs:
            return 400, {"detail": "No Golden Config settings found for this device"}
        return 200, {"intended_config": GOOD}

    def run_job(self, name, data):
        self.jobs.append((name, data))
        return "SUCCESS"


def test_fetch_regenerate_refreshes_golden_config_for_a_new_device_once():
    client = NewDeviceClient()
    intent = fetch_intent(client, "uuid-9", "access9", "regenerate")
    assert client.jobs == [("Generate Intended Configurations", {"device": ["uuid-9"]})]
    assert client.asked == [(GENERATE_PATH, {"device_id": "uuid-9"})] * 2
    assert intent.config == GOOD


def test_fetch_regenerate_other_render_errors_are_not_retried():
    client = Client((400, {"detail": "template error: 'foo' is undefined"}))
    with pytest.raises(RenderFailed, match="is undefined"):
        fetch_intent(client, "uuid-1", "access1", "regenerate")
    assert len(client.asked) == 1


class RacingClient(Client):
    """The render endpoint answers the template-repository sync race ``races`` times, then renders."""

    def __init__(self, races):
        super().__init__(None)
        self.races = races

    def get_json(self, path, params=None):
        self.asked.append((path, params))
        if len(self.asked) <= self.races:
            return 400, {"detail": "Error trying to sync git repository"}
        return 200, {"intended_config": GOOD}


def test_fetch_regenerate_retries_the_git_sync_race():
    client, slept = RacingClient(races=3), []
    intent = fetch_intent(client, "uuid-1", "access1", "regenerate", sleep=slept.append)
    assert intent.config == GOOD
    assert len(client.asked) == 4 and len(slept) == 3
    assert all(0 < pause <= 2.3 for pause in slept)


def test_fetch_regenerate_gives_up_on_a_lasting_git_sync_failure():
    client, slept = RacingClient(races=100), []
    with pytest.raises(RenderFailed, match="Error trying to sync git repository"):
        fetch_intent(client, "uuid-1", "access1", "regenerate", sleep=slept.append)
    assert len(client.asked) == 6 and len(slept) == 5
