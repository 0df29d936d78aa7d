"""Unit tests of the webhook source's logic: signature, validation, normalisation, coalescing."""

import asyncio
import copy
import json
import logging

import nautobot_webhooks as nw
import pytest

from ansible_collections.sotsync.nautobot.plugins.module_utils import messages as msg
from ansible_collections.sotsync.nautobot.plugins.plugin_utils import webhook as wh

EVENT_KEYS, DEVICE_KEYS = nw.EVENT_KEYS, nw.DEVICE_KEYS


def hook_of(payload, models=wh.DEFAULT_MODELS):
    return wh.validate_payload(payload, models)


def event_of(payload, resolve=None):
    return wh.normalize_device_event(hook_of(payload), "/", {"Content-Type": "application/json"}, resolve)


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
    wh.verify_signature(body, nw.SECRET.encode(), signature)


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
    with pytest.raises(wh.WebhookRejected) as err:
        wh.verify_signature(body, nw.SECRET.encode(), signature)
    assert err.value.status == 401
    assert reason in err.value.reason


def test_sign_matches_nautobot():
    # nautobot.extras.utils.generate_signature: hmac.new(secret.encode("utf8"), body, sha512).hexdigest()
    assert wh.sign(RAW, nw.SECRET) == nw.sign(RAW) == wh.sign(RAW, nw.SECRET.encode())
    assert len(wh.sign(b"", "k")) == 128


# --- content type and body ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "content_type",
    ["application/json", "application/json; charset=utf-8", "Application/JSON", "application/vnd.x+json"],
)
def test_content_type_accepted(content_type):
    wh.check_content_type(content_type)


@pytest.mark.parametrize("content_type", [None, "", "text/plain", "application/x-www-form-urlencoded", "text/json"])
def test_content_type_rejected(content_type):
    with pytest.raises(wh.WebhookRejected) as err:
        wh.check_content_type(content_type)
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
    with pytest.raises(wh.WebhookRejected) as err:
        wh.parse_body(raw)
    assert err.value.status == 400
    assert reason in err.value.reason


def test_parse_body_object():
    assert wh.parse_body(RAW)["event"] == "updated"


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
    with pytest.raises(wh.WebhookRejected) as err:
        wh.validate_payload(payload, wh.DEFAULT_MODELS)
    assert err.value.status == status
    assert reason in err.value.reason


def test_model_left_out_by_settings_is_422():
    with pytest.raises(wh.WebhookRejected) as err:
        wh.validate_payload(nw.ip_edit(), (wh.DEVICE,))
    assert err.value.status == 422
    assert "handled: device" in err.value.reason


def test_ipaddress_needs_address():
    payload = nw.ip_edit()
    del payload["data"]["address"]
    with pytest.raises(wh.WebhookRejected) as err:
        wh.validate_payload(payload)
    assert err.value.status == 400 and "data.address" in err.value.reason


@pytest.mark.parametrize("model", ["device", "dcim.device", "Device"])
def test_validate_payload_device(model):
    hook = wh.validate_payload(_with(model=model))
    assert hook.model == "dcim.device"
    assert hook.action == "updated"
    assert hook.timestamp == "2026-11-25T00:23:24.382970+00:00"
    assert hook.username == "admin" and hook.request_id == nw.REQUEST_ID


def test_username_and_request_id_may_be_null():
    hook = wh.validate_payload(_with(username=None, request_id=None))
    assert hook.username is None and hook.request_id is None


# --- arguments ------------------------------------------------------------------------------------
BASE_ARGS = {"port": 5001, "secret": "k", "models": ["device"]}


def test_args_defaults():
    settings = wh.validate_args(dict(BASE_ARGS), environ={})
    assert settings.host == "0.0.0.0"
    assert settings.port == 5001
    assert settings.path == "/"
    assert settings.secret == b"k"
    assert settings.max_body_bytes == 1024 * 1024
    assert settings.coalesce_seconds == 0.0
    assert settings.lone_event_seconds == 2.0
    assert settings.ready_statuses == ("Active", "Planned", "Staged")
    assert settings.models == ("dcim.device",)
    assert settings.nautobot_url is None


def test_args_default_models_need_nautobot():
    settings = wh.validate_args(
        {"port": "5001", "secret": "k"}, environ={"NAUTOBOT_URL": "http://nb:8080/", "NAUTOBOT_TOKEN": "t"}
    )
    assert settings.models == ("dcim.device", "ipam.ipaddress")
    assert settings.port == 5001
    assert settings.nautobot_url == "http://nb:8080"
    assert settings.nautobot_token == "t"


def test_args_arguments_win_over_environment():
    settings = wh.validate_args(
        dict(BASE_ARGS, nautobot_url="https://a", nautobot_token="x"),
        environ={"NAUTOBOT_URL": "http://b", "NAUTOBOT_TOKEN": "y"},
    )
    assert (settings.nautobot_url, settings.nautobot_token) == ("https://a", "x")


def test_args_repr_hides_secrets():
    settings = wh.validate_args(
        dict(BASE_ARGS, secret="topsecret", nautobot_url="http://nb", nautobot_token="tok123"), environ={}
    )
    assert "topsecret" not in repr(settings) and "tok123" not in repr(settings)


def test_args_insecure_without_secret():
    settings = wh.validate_args({"port": 5001, "insecure_no_signature": "true", "models": "device"}, environ={})
    assert settings.secret is None and settings.insecure_no_signature


def test_args_ignore_rulebook_internals():
    assert wh.validate_args(dict(BASE_ARGS, eda_feedback_queue=object()), environ={}).port == 5001


def test_args_tls_pair(tmp_path):
    cert, key = tmp_path / "c.pem", tmp_path / "k.pem"
    cert.write_text("x")
    key.write_text("y")
    settings = wh.validate_args(dict(BASE_ARGS, certfile=str(cert), keyfile=str(key)), environ={})
    assert settings.certfile == str(cert)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param({"secret": "k", "models": ["device"]}, "Missing required argument: port", id="no-port"),
        pytest.param(dict(BASE_ARGS, port="http"), "port must be an integer", id="port-text"),
        pytest.param(dict(BASE_ARGS, port=70000), "port must be between 1 and 65535", id="port-range"),
        pytest.param(dict(BASE_ARGS, port=True), "port must be an integer", id="port-bool"),
        pytest.param(dict(BASE_ARGS, port=50.5), "port must be an integer", id="port-float"),
        pytest.param({"port": 5001, "models": ["device"]}, "Missing required argument: secret", id="no-secret"),
        pytest.param(
            {"port": 5001, "secret": "", "models": ["device"]}, "Missing required argument: secret", id="empty-secret"
        ),
        pytest.param(dict(BASE_ARGS, secret=12), "secret must be a string", id="secret-number"),
        pytest.param(
            dict(BASE_ARGS, insecure_no_signature="maybe"), "insecure_no_signature must be true or false", id="bad-bool"
        ),
        pytest.param(dict(BASE_ARGS, certfile="/nonexistent.pem"), "certfile and keyfile go together", id="cert-only"),
        pytest.param(dict(BASE_ARGS, keyfile="/nonexistent.pem"), "certfile and keyfile go together", id="key-only"),
        pytest.param(dict(BASE_ARGS, certfile="/no/c.pem", keyfile="/no/k.pem"), "does not exist", id="missing-files"),
        pytest.param(dict(BASE_ARGS, path="hook"), "path must start with '/'", id="relative-path"),
        pytest.param(dict(BASE_ARGS, max_body_bytes=0), "max_body_bytes must be at least 1", id="zero-body"),
        pytest.param(
            dict(BASE_ARGS, coalesce_seconds=-1), "coalesce_seconds must be a finite number", id="negative-window"
        ),
        pytest.param(dict(BASE_ARGS, coalesce_seconds="soon"), "coalesce_seconds must be a number", id="window-text"),
        pytest.param(dict(BASE_ARGS, models=[]), "models must be a non-empty list", id="no-models"),
        pytest.param(dict(BASE_ARGS, models=["device", "circuit"]), "unknown model 'circuit'", id="unknown-model"),
        pytest.param(
            {"port": 5001, "secret": "k"}, "ipaddress events need a Nautobot", id="ipaddress-without-nautobot"
        ),
        pytest.param(dict(BASE_ARGS, nautobot_url="http://nb"), "nautobot_token is not", id="url-without-token"),
        pytest.param(
            dict(BASE_ARGS, nautobot_url="nb:8080", nautobot_token="t"), "must start with http", id="url-scheme"
        ),
        pytest.param(dict(BASE_ARGS, secert="k"), "unknown argument(s): secert", id="typo"),
        pytest.param("port=5000", "must be a mapping", id="not-a-mapping"),
    ],
)
def test_args_rejected(args, message):
    with pytest.raises(ValueError) as err:
        wh.validate_args(args, environ={})
    assert message in str(err.value)


# --- normalisation --------------------------------------------------------------------------------
def test_event_contract_shape():
    event = event_of(nw.rename())
    assert set(event) == {"nautobot", "meta"}
    assert set(event["nautobot"]) == EVENT_KEYS
    assert set(event["nautobot"]["device"]) == DEVICE_KEYS
    assert event["meta"] == {"endpoint": "/", "headers": {"Content-Type": "application/json"}}
    nb = event["nautobot"]
    assert nb["model"] == nb["source_model"] == "dcim.device"
    assert nb["timestamp"] == "2026-11-25T00:23:24.382970+00:00"
    assert nb["username"] == "admin" and nb["request_id"] == nw.REQUEST_ID
    assert nb["events_coalesced"] == 1


def test_rename():
    nb = event_of(nw.rename())["nautobot"]
    assert nb["action"] == "updated"
    assert nb["changed_fields"] == ["name"]  # display and natural_slug are noise
    assert nb["changes"] == [{"field": "name"}]
    assert nb["object_id"] == nw.DEVICE_ID
    assert nb["object_name"] == "access-switch-1"
    assert nb["device"] == {
        "id": nw.DEVICE_ID,
        "name": "access-switch-1",
        "status": "Active",
        "role": "Access",
        "location": "Site A",
        "platform": {"name": "EOS", "network_driver": "arista_eos", "napalm_driver": "eos"},
        "primary_ip4": "172.20.20.11/24",
        "primary_ip4_host": "172.20.20.11",
    }


@pytest.mark.parametrize(
    ("payload", "changed", "device_subset"),
    [
        pytest.param(
            nw.primary_ip_change(),
            ["primary_ip4"],
            {"primary_ip4": "172.20.20.21/24", "primary_ip4_host": "172.20.20.21"},
            id="primary-ip",
        ),
        pytest.param(nw.role_change(), ["role"], {"role": "Distribution"}, id="role"),
        pytest.param(nw.comments_only(), ["comments"], {"name": "access1"}, id="comments-only"),
        pytest.param(nw.stale_nested_comments(), ["comments"], {"location": "Site A"}, id="stale-nested-copies"),
        pytest.param(nw.status_offline(), ["status"], {"status": "Offline"}, id="status"),
        pytest.param(
            nw.platform_without_driver(),
            ["serial", "platform"],
            {"platform": {"name": "Generic", "network_driver": None, "napalm_driver": None}},
            id="platform-without-driver",
        ),
        pytest.param(nw.platform_null(), ["platform"], {"platform": None}, id="platform-null"),
    ],
)
def test_update_scenarios(payload, changed, device_subset):
    nb = event_of(payload)["nautobot"]
    assert nb["changed_fields"] == changed
    for key, value in device_subset.items():
        assert nb["device"][key] == value


def test_create_lists_every_field():
    nb = event_of(nw.create())["nautobot"]
    assert nb["action"] == "created"
    assert [c["field"] for c in nb["changes"]] == nb["changed_fields"]
    assert nb["object_name"] == "access3" and nb["object_id"] == nw.DEVICE2_ID
    data = nw.create()["data"]
    assert nb["changed_fields"] == [k for k in data if k not in wh.NOISE_FIELDS]
    for field in ("name", "status", "role", "platform", "location", "primary_ip4", "comments"):
        assert field in nb["changed_fields"]
    for noise in ("display", "natural_slug", "last_updated", "created", "url", "id"):
        assert noise not in nb["changed_fields"]
    assert nb["device"]["primary_ip4_host"] == "172.20.20.12"


def test_delete_changes_nothing():
    payload = nw.body("deleted", "device", nw.device())
    nb = event_of(payload)["nautobot"]
    assert nb["action"] == "deleted" and nb["changed_fields"] == []
    assert nb["device"]["name"] == "access1"


def test_update_without_differences_diffs_the_snapshots():
    payload = nw.rename()
    payload["snapshots"]["differences"] = None
    assert event_of(payload)["nautobot"]["changed_fields"] == ["name"]


def test_update_without_any_snapshot_lists_nothing():
    payload = nw.rename()
    payload["snapshots"] = None
    assert event_of(payload)["nautobot"]["changed_fields"] == []


def test_update_without_prechange_lists_every_field():
    # Nautobot without a previous change record: differences.added is the whole postchange.
    payload = nw.rename()
    payload["snapshots"]["differences"] = {"added": payload["data"], "removed": None}
    assert "comments" in event_of(payload)["nautobot"]["changed_fields"]


def test_nested_change_to_another_object_counts():
    before, after = nw.device(), nw.device()
    after["location"] = dict(after["location"], id="c3c3c3c3-0000-4000-8000-000000000099", name="Site B")
    nb = event_of(nw.updated(before, after))["nautobot"]
    assert nb["changed_fields"] == ["location"] and nb["device"]["location"] == "Site B"


def test_tags_compared_by_identity():
    tag = {"id": "9e9e9e9e-0000-4000-8000-000000000001", "object_type": "extras.tag", "name": "edge"}
    before, after = nw.device(), nw.device(comments="x")
    before["tags"] = [dict(tag, color="red")]
    after["tags"] = [dict(tag, color="blue")]
    assert event_of(nw.updated(before, after))["nautobot"]["changed_fields"] == ["comments"]
    after["tags"] = [dict(tag, id="9e9e9e9e-0000-4000-8000-000000000002")]
    assert event_of(nw.updated(before, after))["nautobot"]["changed_fields"] == ["comments", "tags"]


@pytest.mark.parametrize(
    ("platform", "expected"),
    [
        pytest.param(nw.platform(), "eos", id="nautobot-mapping"),
        pytest.param(nw.platform(napalm_driver="custom_eos"), "custom_eos", id="explicit-wins"),
        pytest.param(nw.platform(mappings={"netmiko": "arista_eos"}), None, id="mapping-without-napalm"),
        pytest.param({"name": "IOS", "network_driver": "cisco_ios"}, "ios", id="netutils-fallback"),
        pytest.param({"name": "X", "network_driver": "no_such_driver"}, None, id="unknown-driver"),
        pytest.param({"name": "X", "network_driver": None, "napalm_driver": None}, None, id="nothing"),
        pytest.param({"name": "X", "network_driver": "", "napalm_driver": "  "}, None, id="blank"),
    ],
)
def test_napalm_driver(platform, expected):
    assert wh.napalm_driver_of(platform) == expected


def test_reference_only_resolved():
    objects = nw.reference_objects()
    calls = []

    def resolve(object_type, object_id):
        calls.append((object_type, object_id))
        return copy.deepcopy(objects.get((object_type, object_id)))

    payload = nw.reference_only()
    assert wh.needs_lookup(payload["data"])
    nb = event_of(payload, resolve)["nautobot"]
    assert nb["device"] == event_of(nw.rename())["nautobot"]["device"] | {"name": "access1"}
    assert nb["changed_fields"] == ["name"]
    assert sorted(calls) == sorted(objects)


def test_reference_only_without_nautobot(caplog):
    caplog.set_level(logging.WARNING)
    nb = event_of(nw.reference_only())["nautobot"]
    device = nb["device"]
    assert [device[k] for k in ("status", "role", "location", "platform", "primary_ip4", "primary_ip4_host")] == [
        None
    ] * 6
    assert device["name"] == "access1"
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 5
    assert any("platform is only a reference (dcim.platform" in w for w in warnings)


def test_reference_not_found(caplog):
    caplog.set_level(logging.WARNING)
    nb = event_of(nw.reference_only(), lambda object_type, object_id: None)["nautobot"]
    assert nb["device"]["platform"] is None
    assert any("was not found in Nautobot" in r.getMessage() for r in caplog.records)


def test_legacy_bare_uuid_reference():
    payload = nw.rename()
    payload["data"]["platform"] = nw.PLATFORM_ID
    seen = []

    def resolve(object_type, object_id):
        seen.append((object_type, object_id))
        return nw.platform()

    assert wh.needs_lookup(payload["data"])
    nb = event_of(payload, resolve)["nautobot"]
    assert seen == [("dcim.platform", nw.PLATFORM_ID)]
    assert nb["device"]["platform"]["napalm_driver"] == "eos"


def test_full_device_needs_no_lookup():
    assert not wh.needs_lookup(nw.rename()["data"])


def test_ipaddress_event_becomes_device_event():
    hook = hook_of(nw.ip_edit())
    device_data = nw.device()
    event = wh.normalize_ipaddress_device_event(hook, device_data, "/hook", {"X": "1"})
    nb = event["nautobot"]
    assert set(nb) == EVENT_KEYS
    assert nb["action"] == "updated"
    assert nb["model"] == "dcim.device" and nb["source_model"] == "ipam.ipaddress"
    assert nb["object_id"] == nw.DEVICE_ID and nb["object_name"] == "access1"
    assert nb["changed_fields"] == ["primary_ip4"] and nb["changes"] == [{"field": "primary_ip4"}]
    assert nb["device"]["primary_ip4"] == "172.20.20.11/24"
    assert event["meta"] == {"endpoint": "/hook", "headers": {"X": "1"}}
    assert wh.changed_fields(hook.action, hook.data, hook.snapshots) == ["dns_name"]


@pytest.mark.parametrize(
    ("interfaces", "expected"),
    [
        pytest.param(
            [nw.interface(nw.DEVICE_ID), nw.interface(nw.DEVICE2_ID), nw.interface(nw.DEVICE_ID)],
            [nw.DEVICE_ID, nw.DEVICE2_ID],
            id="two-devices",
        ),
        pytest.param([], [], id="no-interface"),
        pytest.param([{"device": nw.DEVICE_ID}], [nw.DEVICE_ID], id="bare-id"),
        pytest.param([{"name": "eth0"}, "junk"], [], id="no-device"),
    ],
)
def test_ip_candidate_devices(interfaces, expected):
    assert wh.ip_candidate_devices({"interfaces": interfaces}) == expected


def test_ip_candidate_devices_unknown():
    assert wh.ip_candidate_devices({"address": "10.0.0.1/24"}) is None


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
    assert wh.safe_headers(headers) == {"Content-Type": "application/json", "User-Agent": "python-requests/2.32.5"}


def test_describe():
    assert wh.describe(event_of(nw.rename())) == "device updated access-switch-1: changed ['name']"


# --- coalescing -----------------------------------------------------------------------------------
def _ev(action="updated", fields=("name",), name="access1", device_id=nw.DEVICE_ID, count=1, source="dcim.device"):
    return {
        "nautobot": {
            "action": action,
            "model": "dcim.device",
            "source_model": source,
            "object_id": device_id,
            "object_name": name,
            "changed_fields": list(fields),
            "events_coalesced": count,
            "device": {"id": device_id, "name": name},
        },
        "meta": {"endpoint": "/", "headers": {}},
    }


@pytest.mark.parametrize(
    ("first", "later", "action"),
    [
        ("updated", "updated", "updated"),
        ("created", "updated", "created"),
        ("updated", "created", "created"),
        ("created", "deleted", "deleted"),
        ("updated", "deleted", "deleted"),
        ("deleted", "updated", "updated"),
    ],
)
def test_merge_action(first, later, action):
    assert wh.merge_events(_ev(first), _ev(later))["nautobot"]["action"] == action


def test_merge_keeps_order_and_latest_data():
    first = _ev(fields=["name", "role"], name="a")
    later = _ev(fields=["primary_ip4", "name"], name="b", source="ipam.ipaddress", count=2)
    merged = wh.merge_events(first, later)
    nb = merged["nautobot"]
    assert nb["changed_fields"] == ["name", "role", "primary_ip4"]
    assert nb["changes"] == [{"field": "name"}, {"field": "role"}, {"field": "primary_ip4"}]
    assert nb["object_name"] == "b" and nb["device"]["name"] == "b"
    assert nb["source_model"] == "ipam.ipaddress"
    assert nb["events_coalesced"] == 3
    assert first["nautobot"]["changed_fields"] == ["name", "role"]  # inputs untouched


async def test_coalescer_passes_through_without_window():
    out = []

    async def emit(event):
        out.append(event)

    coalescer = wh.Coalescer(0, emit)
    await coalescer.add(_ev())
    await coalescer.add(_ev(fields=["role"]))
    assert [e["nautobot"]["changed_fields"] for e in out] == [["name"], ["role"]]


async def test_coalescer_merges_within_window(caplog):
    caplog.set_level(logging.INFO)
    out = []

    async def emit(event):
        out.append(event)

    coalescer = wh.Coalescer(0.1, emit)
    await coalescer.add(_ev(fields=["name"], name="a"))
    await coalescer.add(_ev(fields=["role"], name="b"))
    await coalescer.add(_ev(fields=["primary_ip4"], name="other", device_id=nw.DEVICE2_ID))
    await coalescer.add(_ev(action="created", fields=["name"], name="c"))
    assert out == [] and coalescer.pending == 2
    await asyncio.sleep(0.25)
    assert coalescer.pending == 0
    by_id = {e["nautobot"]["object_id"]: e["nautobot"] for e in out}
    assert by_id[nw.DEVICE_ID]["changed_fields"] == ["name", "role"]
    assert by_id[nw.DEVICE_ID]["events_coalesced"] == 3
    assert by_id[nw.DEVICE_ID]["action"] == "created"
    assert by_id[nw.DEVICE_ID]["object_name"] == "c"
    assert by_id[nw.DEVICE2_ID]["events_coalesced"] == 1
    assert any("Coalesced 3 events into one" in r.getMessage() for r in caplog.records)
    # a later event opens a new window
    await coalescer.add(_ev(fields=["status"]))
    await asyncio.sleep(0.2)
    assert out[-1]["nautobot"]["changed_fields"] == ["status"] and out[-1]["nautobot"]["events_coalesced"] == 1


async def test_coalescer_close_returns_pending():
    out = []

    async def emit(event):
        out.append(event)

    coalescer = wh.Coalescer(10, emit)
    await coalescer.add(_ev())
    dropped = await coalescer.close()
    assert len(dropped) == 1 and out == [] and coalescer.pending == 0


async def test_coalescer_survives_failing_emit(caplog):
    async def emit(event):
        raise RuntimeError("queue gone")

    coalescer = wh.Coalescer(0.01, emit)
    await coalescer.add(_ev())
    await asyncio.sleep(0.05)
    assert any("Could not queue" in r.getMessage() for r in caplog.records)


async def test_coalescer_waits_for_a_quiet_period():
    """Events 0.1 s apart with a 0.15 s quiet period stay one burst, though the burst lasts 0.3 s."""
    out = []

    async def emit(event):
        out.append(event)

    coalescer = wh.Coalescer(0.15, emit)
    for fields in (["name"], ["role"], ["primary_ip4"], ["status"]):
        await coalescer.add(_ev(fields=fields))
        await asyncio.sleep(0.1)
    assert out == [], "the burst must not be cut while events keep coming within the quiet period"
    await asyncio.sleep(0.2)
    assert len(out) == 1
    assert out[0]["nautobot"]["changed_fields"] == ["name", "role", "primary_ip4", "status"]
    assert out[0]["nautobot"]["events_coalesced"] == 4


async def test_coalescer_never_holds_longer_than_max_hold():
    out = []

    async def emit(event):
        out.append(event)

    coalescer = wh.Coalescer(0.1, emit, max_hold=0.25)
    for _i in range(8):  # a device that changes every 0.05 s for 0.4 s
        await coalescer.add(_ev(fields=["name"]))
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.2)
    assert len(out) >= 2, "a continuous stream must still be emitted after max_hold"
    assert sum(e["nautobot"]["events_coalesced"] for e in out) == 8


# --- readiness on the event, lone changes and bursts -------------------------------------------------
def test_readiness_verdict_is_the_modules():
    ready = wh.add_readiness(wh.normalize_device_event(wh.validate_payload(nw.rename())))
    assert ready["nautobot"]["readiness"] == {
        "ready": True,
        "reasons": [],
        "message": msg.DEVICE_READY.format(name=ready["nautobot"]["device"]["name"]),
    }
    offline = wh.add_readiness(
        wh.normalize_device_event(wh.validate_payload(nw.status_offline())), ready_statuses=("active",)
    )
    verdict = offline["nautobot"]["readiness"]
    assert verdict["ready"] is False
    assert verdict["reasons"] == [msg.bad_status_reason(("active",), "Offline")]
    # any letter case: the module's rule, now also the rulebook's
    staged = wh.add_readiness(wh.normalize_device_event(wh.validate_payload(nw.rename())), ready_statuses=("ACTIVE",))
    assert staged["nautobot"]["readiness"]["ready"] is True


def test_ready_statuses_argument_is_checked():
    assert wh.validate_args({"port": 5001, "secret": "k", "models": ["device"], "ready_statuses": "Active, Staged"})
    with pytest.raises(ValueError, match="ready_statuses"):
        wh.validate_args({"port": 5001, "secret": "k", "models": ["device"], "ready_statuses": [1]})


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_burst_marker_tells_a_lone_change_from_a_burst():
    clock = Clock()
    marker = wh.BurstMarker(2.0, clock=clock)

    def mark():
        return marker.mark({"nautobot": {}})["nautobot"]["burst"]

    assert mark() is False  # the first event: lone
    clock.now += 0.5
    assert mark() is True  # 0.5 s later: a burst
    clock.now += 1.9
    assert mark() is True  # still within 2 s of the previous one
    clock.now += 2.0
    assert mark() is False  # 2 s of quiet: lone again
    assert wh.BurstMarker(0, clock=clock).mark({"nautobot": {}})["nautobot"]["burst"] is False


def test_a_coalesced_event_is_a_burst():
    one = wh.normalize_device_event(wh.validate_payload(nw.rename()))
    merged = wh.merge_events(one, json.loads(json.dumps(one)))
    assert merged["nautobot"]["burst"] is True


async def test_pacer_keeps_order_and_rate():
    clock = Clock()
    slept = []

    async def sleep(seconds):
        slept.append(round(seconds, 3))
        clock.now += seconds

    out = []

    async def put(event):
        out.append((event, round(clock.now, 3)))

    pacer = wh.Pacer(10, put, clock=clock, sleep=sleep)
    await asyncio.gather(*(pacer(n) for n in range(4)))
    assert [event for event, _ in out] == [0, 1, 2, 3]
    assert [when for _, when in out] == [100.0, 100.1, 100.2, 100.3]  # 10 a second, the first at once
    clock.now += 5
    await pacer("later")
    assert out[-1] == ("later", 105.3) and slept == [0.1, 0.1, 0.1]  # after a pause: at once


async def test_pacer_zero_rate_passes_through():
    out = []

    async def put(event):
        out.append(event)

    pacer = wh.Pacer(0, put)
    await pacer("a")
    assert out == ["a"] and pacer.interval == 0.0
