"""Unit tests of plugin_utils/request.py: signature, content type, parsing, payload validation, replays."""

import pytest

from ansible_collections.sotsync.nautobot.plugins.plugin_utils import request as req
from tests.support import nautobot_webhooks as nw


def hook_of(payload, models=req.DEFAULT_MODELS):
    return req.validate_payload(payload, models)


# --- signature ------------------------------------------------------------------------------------
RAW = nw.encode(nw.rename())


@pytest.mark.parametrize(
    ("body", "signature"),
    [
        pytest.param(RAW, nw.sign(RAW), id="right"),
        pytest.param(RAW, nw.sign(RAW).upper(), id="right-uppercase-hex"),
        pytest.param(RAW, "sha512=" + nw.sign(RAW), id="right-with-algorithm-prefix"),
        pytest.param(RAW, "  " + nw.sign(RAW) + "\t", id="right-with-whitespace"),
    ],
)
def test_signature_accepted(body, signature):
    req.verify_signature(body, nw.SECRET.encode(), signature)


@pytest.mark.parametrize(
    ("body", "signature", "reason"),
    [
        pytest.param(RAW, None, "missing", id="missing"),
        pytest.param(RAW, "", "missing", id="empty"),
        pytest.param(RAW, "0" * 128, "does not match", id="wrong"),
        pytest.param(RAW, nw.sign(RAW, "another-secret"), "does not match", id="wrong-secret"),
        pytest.param(
            RAW.replace(b"access-switch-1", b"access-switch-9"), nw.sign(RAW), "does not match", id="tampered"
        ),
        pytest.param(RAW, nw.sign(RAW)[:-2], "does not match", id="truncated"),
        pytest.param(RAW, "sha256=" + nw.sign(RAW), "does not match", id="other-algorithm"),
        pytest.param(RAW, "ü" * 128, "does not match", id="non-ascii"),
    ],
)
def test_signature_rejected(body, signature, reason):
    with pytest.raises(req.RequestRejected) as err:
        req.verify_signature(body, nw.SECRET.encode(), signature)
    assert err.value.status == 401
    assert reason in err.value.reason


def test_sign_matches_nautobot():
    # nautobot.extras.utils.generate_signature: hmac.new(secret.encode("utf8"), body, sha512).hexdigest()
    assert req.sign(RAW, nw.SECRET) == nw.sign(RAW) == req.sign(RAW, nw.SECRET.encode())
    assert len(req.sign(b"", "k")) == 128


# --- content type and body ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "content_type",
    ["application/json", "application/json; charset=utf-8", "Application/JSON", "application/vnd.x+json"],
)
def test_content_type_accepted(content_type):
    req.check_content_type(content_type)


@pytest.mark.parametrize("content_type", [None, "", "text/plain", "application/x-www-form-urlencoded", "text/json"])
def test_content_type_rejected(content_type):
    with pytest.raises(req.RequestRejected) as err:
        req.check_content_type(content_type)
    assert err.value.status == 415


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"{not json", "malformed JSON"),
        (b"", "empty"),
        (b"   ", "empty"),
        (b"\xff\xfe{}", "UTF-8"),
        (b"[1, 2]", "got array"),
        (b'"text"', "got string"),
        (b"42", "got number"),
        (b"null", "got null"),
        (b"true", "got boolean"),
    ],
)
def test_parse_body_rejects(raw, reason):
    with pytest.raises(req.RequestRejected) as err:
        req.parse_body(raw)
    assert err.value.status == 400
    assert reason in err.value.reason


def test_parse_body_object():
    assert req.parse_body(RAW)["event"] == "updated"


# --- payload validation ---------------------------------------------------------------------------
def _without(key):
    payload = nw.rename()
    del payload[key]
    return payload


def _with(**changes):
    payload = nw.rename()
    for key, value in changes.items():
        if "." in key:
            outer, inner = key.split(".")
            payload[outer][inner] = value
        else:
            payload[key] = value
    return payload


@pytest.mark.parametrize(
    ("payload", "status", "reason"),
    [
        pytest.param(_without("event"), 400, "missing key(s): event", id="no-event"),
        pytest.param(_without("model"), 400, "missing key(s): model", id="no-model"),
        pytest.param(_without("data"), 400, "missing key(s): data", id="no-data"),
        pytest.param(_without("snapshots"), 400, "missing key(s): snapshots", id="no-snapshots"),
        pytest.param(_without("timestamp"), 400, "missing key(s): timestamp", id="no-timestamp"),
        pytest.param({"hello": "world"}, 400, "missing key(s): event, model, timestamp, data, snapshots", id="foreign"),
        pytest.param(_with(event="modified"), 400, "event must be one of", id="bad-event"),
        pytest.param(_with(event=None), 400, "event must be one of", id="null-event"),
        pytest.param(_with(model=7), 400, "model must be a non-empty string", id="model-not-string"),
        pytest.param(_with(model="circuit"), 422, "model 'circuit' is not handled", id="unknown-model"),
        pytest.param(_with(model="dcim.interface"), 422, "ignored", id="interface-model"),
        pytest.param(_with(data=[]), 400, "data must be an object, got array", id="data-array"),
        pytest.param(_with(**{"data.id": None}), 400, "data.id is missing", id="data-no-id"),
        pytest.param(_with(snapshots="x"), 400, "snapshots must be an object", id="snapshots-string"),
        pytest.param(_with(timestamp="yesterday"), 400, "not an ISO 8601", id="bad-timestamp"),
        pytest.param(_with(timestamp=12), 400, "timestamp must be", id="numeric-timestamp"),
        pytest.param(_with(username=["admin"]), 400, "username must be a string", id="bad-username"),
        pytest.param(_with(request_id=5), 400, "request_id must be a string", id="bad-request-id"),
        pytest.param([], 400, "JSON object", id="not-object"),
    ],
)
def test_validate_payload_rejects(payload, status, reason):
    with pytest.raises(req.RequestRejected) as err:
        req.validate_payload(payload, req.DEFAULT_MODELS)
    assert err.value.status == status
    assert reason in err.value.reason


def test_model_left_out_by_settings_is_422():
    with pytest.raises(req.RequestRejected) as err:
        req.validate_payload(nw.ip_edit(), (req.DEVICE,))
    assert err.value.status == 422
    assert "handled: device" in err.value.reason


def test_ipaddress_needs_address():
    payload = nw.ip_edit()
    del payload["data"]["address"]
    with pytest.raises(req.RequestRejected) as err:
        req.validate_payload(payload)
    assert err.value.status == 400 and "data.address" in err.value.reason


@pytest.mark.parametrize("model", ["device", "dcim.device", "Device"])
def test_validate_payload_device(model):
    hook = req.validate_payload(_with(model=model))
    assert hook.model == "dcim.device"
    assert hook.action == "updated"
    assert hook.timestamp == "2026-11-25T00:23:24.382970+00:00"
    assert hook.username == "admin" and hook.request_id == nw.REQUEST_ID


def test_username_and_request_id_may_be_null():
    hook = req.validate_payload(_with(username=None, request_id=None))
    assert hook.username is None and hook.request_id is None


def test_safe_headers_drop_credentials():
    headers = {
        "Content-Type": "application/json",
        "X-Hook-Signature": "abc",
        "Authorization": "Token x",
        "Cookie": "sessionid=1",
        "X-Auth-Token": "t",
        "X-Webhook-Secret": "s",
        "User-Agent": "python-requests/2.32.5",
    }
    assert req.safe_headers(headers) == {"Content-Type": "application/json", "User-Agent": "python-requests/2.32.5"}


# --- hostile bodies -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        pytest.param(b"[" * 100_000, "nested deeper", id="deep-array-past-recursion"),
        pytest.param(b'{"a":' * 70 + b"1" + b"}" * 70, "nested deeper", id="deep-object-within-recursion"),
        pytest.param(b'{"a": NaN}', "malformed JSON", id="nan"),
        pytest.param(b'{"a": -Infinity}', "malformed JSON", id="infinity"),
        pytest.param(b'{"a": ' + b"9" * 5000 + b"}", "malformed JSON", id="huge-integer"),
    ],
)
def test_parse_body_refuses_pathological_json(raw, reason):
    with pytest.raises(req.RequestRejected) as err:
        req.parse_body(raw)
    assert err.value.status == 400 and reason in err.value.reason


def test_json_depth():
    assert not req.json_depth_over({"a": [{"b": 1}]}, 3)
    assert req.json_depth_over({"a": [{"b": {}}]}, 3)


READ_KEYS = [
    "data.name",
    "data.status",
    "data.status.name",
    "data.role",
    "data.location.name",
    "data.platform",
    "data.platform.network_driver",
    "data.platform.napalm_driver",
    "data.platform.network_driver_mappings",
    "data.platform.network_driver_mappings.napalm",
    "data.primary_ip4",
    "data.primary_ip4.address",
    "data.primary_ip4.host",
    "snapshots.prechange",
    "snapshots.differences",
    "snapshots.differences.added",
]


def _set(payload, path, value):
    *outer, last = path.split(".")
    target = payload
    for key in outer:
        target = target[key]
    target[last] = value


@pytest.mark.parametrize("path", READ_KEYS)
@pytest.mark.parametrize("value", [7, True, 1.5, ["x"]], ids=["int", "bool", "float", "array"])
def test_every_key_read_is_type_checked(path, value):
    payload = nw.rename()
    _set(payload, path, value)
    with pytest.raises(req.RequestRejected) as err:
        req.validate_payload(payload)
    assert err.value.status == 400 and path in err.value.reason


def test_ipaddress_interfaces_type_checked():
    payload = nw.ip_edit()
    payload["data"]["interfaces"] = [7]
    with pytest.raises(req.RequestRejected) as err:
        req.validate_payload(payload)
    assert err.value.status == 400 and "data.interfaces[]" in err.value.reason


def test_keys_not_read_are_left_alone():
    payload = nw.rename()
    payload["data"]["comments"] = {"any": ["json"]}
    payload["data"]["custom_fields"] = 5
    assert req.validate_payload(payload).data["custom_fields"] == 5


def test_replay_guard_refuses_a_change_twice_and_stays_bounded():
    guard = req.ReplayGuard(size=2)
    first = req.change_key(req.validate_payload(nw.rename()))
    guard.check(first)
    guard.remember(first)
    with pytest.raises(req.RequestRejected) as err:
        guard.check(first)
    assert err.value.status == 409 and "already accepted" in err.value.reason
    later = dict(nw.rename(), timestamp="2026-11-25 00:23:25.000000+00:00")  # the same device, a later change
    guard.check(req.change_key(req.validate_payload(later)))
    guard.check(req.change_key(req.validate_payload(nw.comments_only())))  # another change, same request
    for n in range(2):
        guard.remember(("dcim.device", f"id-{n}", "updated", None, "t", "digest"))
    assert len(guard) == 2
    guard.check(first)  # forgotten: the oldest go first
