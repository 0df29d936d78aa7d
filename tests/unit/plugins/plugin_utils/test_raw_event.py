"""Unit tests of plugin_utils/raw_event.py: raw webhook events (ansible.eda.webhook, AAP) -> device events."""

import logging

import pytest

from ansible_collections.sotsync.nautobot.plugins.module_utils import messages as msg
from ansible_collections.sotsync.nautobot.plugins.plugin_utils.raw_event import RawEventFilter
from ansible_collections.sotsync.nautobot.plugins.plugin_utils.settings import FilterSettings
from tests.support import nautobot_webhooks as nw


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def nested_list(depth):
    value = []
    for _level in range(depth):
        value = [value]
    return value


def raw_event(payload, endpoint="", **meta):
    """What ansible.eda.webhook / eda.builtin.webhook put on the queue (signature header kept)."""
    raw = nw.encode(payload)
    return {"payload": payload, "meta": {"endpoint": endpoint, "headers": nw.headers(raw), **meta}}


@pytest.fixture
def event_filter():
    return RawEventFilter(FilterSettings(ready_statuses=("Active",), lone_event_seconds=2.0), clock=Clock())


def test_a_device_webhook_becomes_the_sources_event(event_filter):
    (event,) = event_filter(raw_event(nw.rename()))
    assert set(event) == {"nautobot", "meta"}
    nb = event["nautobot"]
    assert set(nb) == nw.EVENT_KEYS | nw.RECEIVER_KEYS
    assert (nb["action"], nb["object_name"], nb["changed_fields"]) == ("updated", "access-switch-1", ["name"])
    assert nb["readiness"] == {"ready": True, "reasons": [], "message": msg.DEVICE_READY.format(name="access-switch-1")}
    assert nb["burst"] is False
    assert event["meta"]["endpoint"] == "/"
    assert "X-Hook-Signature" not in event["meta"]["headers"]
    assert event["meta"]["headers"]["Content-Type"] == "application/json"


def test_an_event_stream_keeps_its_meta(event_filter):
    (event,) = event_filter(raw_event(nw.rename(), endpoint="/eda-event-streams/api/x/", eda_event_stream_name="nb"))
    assert event["meta"]["eda_event_stream_name"] == "nb" and event["meta"]["endpoint"] == "/eda-event-streams/api/x/"


def test_ready_statuses_and_bursts(event_filter):
    (offline,) = event_filter(raw_event(nw.status_offline()))
    assert offline["nautobot"]["readiness"]["ready"] is False
    assert offline["nautobot"]["readiness"]["reasons"] == [msg.bad_status_reason(("Active",), "Offline")]
    (soon,) = event_filter(raw_event(nw.comments_only()))  # same fake instant: a burst
    assert soon["nautobot"]["burst"] is True


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        pytest.param({"payload": {"hello": "world"}, "meta": {}}, "400 missing key(s)", id="foreign-body"),
        pytest.param({"payload": {"body": "text"}, "meta": {}}, "400 missing key(s)", id="aap-non-object-body"),
        pytest.param({"payload": None}, "400 body must be a JSON object", id="null-payload"),
        pytest.param({"something": "else"}, "not a webhook event", id="no-payload"),
        pytest.param("text", "not a webhook event", id="not-a-dict"),
        pytest.param(raw_event(dict(nw.rename(), model="circuit")), "422 model 'circuit'", id="other-model"),
        pytest.param(raw_event(nw.ip_edit()), "the sotsync.nautobot.webhook source handles them", id="ipaddress"),
        pytest.param(raw_event(dict(nw.rename(), data=[])), "400 data must be an object", id="data-array"),
        pytest.param({"payload": {"a": nested_list(70)}}, "nested deeper", id="deep"),
    ],
)
def test_unusable_events_are_dropped_with_a_warning(event_filter, caplog, event, reason):
    assert event_filter(event) == []
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and reason in warnings[0], warnings


def test_the_same_change_twice_is_passed_on_once(event_filter, caplog):
    assert len(event_filter(raw_event(nw.rename()))) == 1
    assert event_filter(raw_event(nw.rename())) == []
    assert "409 duplicate delivery" in caplog.text


def test_a_device_event_passes_unchanged(event_filter):
    (event,) = event_filter(raw_event(nw.rename()))
    assert event_filter(event) == [event]


def test_an_unexpected_error_drops_the_event_and_never_raises(event_filter, caplog, monkeypatch):
    monkeypatch.setattr(event_filter.bursts, "mark", lambda event: 1 / 0)
    assert event_filter(raw_event(nw.rename())) == []
    assert "Dropped an event: unexpected error" in caplog.text
