"""Unit tests of the Webhook desired state, comparison and redaction (no Ansible, no Nautobot)."""

import pytest

from ansible_collections.sotsync.nautobot.plugins.module_utils import webhooks

PARAMS = {
    "name": "sotsync device hook",
    "content_types": ["dcim.device"],
    "type_create": True,
    "type_update": True,
    "type_delete": False,
    "payload_url": "http://10.213.7.2:5000/",
    "enabled": True,
    "secret": "s3cret",
    "ssl_verification": True,
}


def test_desired_has_every_managed_field():
    desired = webhooks.desired_webhook(PARAMS)
    assert set(webhooks.MANAGED_FIELDS) <= set(desired)
    assert desired["http_content_type"] == "application/json"
    assert desired["http_method"] == "POST"


@pytest.mark.parametrize(
    "override, message",
    [
        ({"type_create": False, "type_update": False}, "at least one of create"),
        ({"content_types": []}, "content_types"),
        ({"payload_url": "10.0.0.1:5000"}, "http:// or https://"),
    ],
)
def test_desired_rejects_bad_input(override, message):
    with pytest.raises(ValueError, match=message):
        webhooks.desired_webhook(dict(PARAMS, **override))


def test_no_change_when_equal_regardless_of_content_type_order():
    record = dict(webhooks.desired_webhook(PARAMS), id="x", url="u", content_types=["dcim.device"])
    assert webhooks.webhook_changes(webhooks.current_webhook(record), webhooks.desired_webhook(PARAMS)) == {}


@pytest.mark.parametrize(
    "field, value",
    [("payload_url", "http://10.213.7.2:5001/"), ("secret", "other"), ("type_create", False), ("enabled", False)],
)
def test_changes_name_only_what_differs(field, value):
    record = webhooks.desired_webhook(PARAMS)
    record[field] = value
    changes = webhooks.webhook_changes(webhooks.current_webhook(record), webhooks.desired_webhook(PARAMS))
    assert list(changes) == [field]


def test_redacted_never_shows_the_secret():
    shown = webhooks.redacted(webhooks.desired_webhook(PARAMS))
    assert "s3cret" not in repr(shown)
    assert shown["secret"] == webhooks.SECRET_MASK
    assert webhooks.redacted(None) is None
