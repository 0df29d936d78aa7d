"""NautobotClient against a tiny local HTTP server: real requests/pynautobot, canned answers."""

from __future__ import annotations

import socket

import pytest

from ansible_collections.sotsync.nautobot.plugins.module_utils.errors import (
    DeviceNotFound,
    NautobotAuthenticationFailed,
    NautobotError,
    NautobotUnreachable,
)
from ansible_collections.sotsync.nautobot.plugins.module_utils.nautobot import NautobotClient, is_uuid
from tests.support.net import free_port
from tests.unit.plugins.module_utils.nautobot_http import TOKEN, FakeNautobotServer, client_for

UUID = "0b0e6c0e-1111-4222-8333-444455556666"
DEVICE = {
    "id": UUID,
    "name": "access1",
    "status": {"name": "Active"},
    "platform": None,
    "primary_ip4": None,
    "config_context": {"napalm": {"optional_args": {"port": 9080}}},
}


@pytest.fixture
def server():
    srv = FakeNautobotServer()
    yield srv
    srv.close()


def page(results):
    return {"count": len(results), "next": None, "previous": None, "results": results}


GRAPHQL = ("POST", "/api/graphql/")


def devices_answer(*devices):
    return {"data": {"devices": list(devices)}}


def test_devices_by_name_are_one_graphql_query_with_config_context(server):
    server.routes[GRAPHQL] = (200, devices_answer(DEVICE))
    named, selected, missing = client_for(server).get_devices(["access1"])
    assert (len(named), selected, missing) == (1, [], {})
    assert named[0]["name"] == "access1"
    assert named[0]["config_context"] == {"napalm": {"optional_args": {"port": 9080}}}
    body = server.requests[0]["body"]
    assert body["variables"] == {"name": ["access1"]} and "config_context" in body["query"]
    assert server.requests[0]["auth"] == "Token " + TOKEN


def test_device_by_uuid(server):
    server.routes[GRAPHQL] = (200, devices_answer(DEVICE))
    named, _selected, missing = client_for(server).get_devices([UUID])
    assert named[0]["id"] == UUID and missing == {}
    assert server.requests[0]["body"]["variables"] == {"id": [UUID]}


@pytest.mark.parametrize("ident", ["ghost", UUID])
def test_unknown_device(server, ident):
    server.routes[GRAPHQL] = (200, devices_answer())
    named, _selected, missing = client_for(server).get_devices([ident])
    assert named == [] and list(missing) == [ident]
    assert isinstance(missing[ident], DeviceNotFound) and "was not found in Nautobot" in missing[ident].message


def test_ambiguous_name(server):
    server.routes[GRAPHQL] = (200, devices_answer(DEVICE, dict(DEVICE, id="other")))
    named, _selected, missing = client_for(server).get_devices(["access1"])
    assert named == [] and "ambiguous" in missing["access1"].message


@pytest.mark.parametrize("status", [401, 403])
def test_refused_token_is_an_authentication_error_without_the_token(server, status):
    server.routes[GRAPHQL] = (status, {"detail": "Invalid token"})
    with pytest.raises(NautobotAuthenticationFailed) as info:
        client_for(server).get_devices(["access1"])
    assert "Invalid token" in info.value.message and TOKEN not in info.value.message
    assert info.value.code == "nautobot_authentication"


def test_refused_token_on_render(server):
    server.routes[("GET", "/api/plugins/golden-config/generate-intended-config/")] = (403, {"detail": "Invalid token"})
    with pytest.raises(NautobotAuthenticationFailed):
        client_for(server).get_json("plugins/golden-config/generate-intended-config/", {"device_id": UUID})


def test_render_400_is_returned_for_the_parser(server):
    path = "/api/plugins/golden-config/generate-intended-config/"
    server.routes[("GET", path)] = (400, {"detail": "template error"})
    assert client_for(server).get_json(path[5:], {"device_id": UUID}) == (400, {"detail": "template error"})
    assert server.requests[0]["query"] == {"device_id": [UUID]}


def test_server_error_is_a_nautobot_error(server):
    server.routes[GRAPHQL] = (500, {"detail": "boom"})
    with pytest.raises(NautobotError, match="HTTP 500"):
        client_for(server).get_devices(["access1"])


@pytest.mark.parametrize("call", ["device", "json", "note"])
def test_nautobot_down_is_unreachable(call):
    client = NautobotClient(f"http://127.0.0.1:{free_port()}", TOKEN, timeout=2)
    with pytest.raises(NautobotUnreachable, match="unreachable") as info:
        if call == "device":
            client.get_devices(["access1"])
        elif call == "json":
            client.get_json("plugins/golden-config/golden-config/", {"device": UUID})
        else:
            client.create_note(UUID, "info", "x")
    assert TOKEN not in info.value.message


def test_hung_nautobot_times_out():
    with socket.socket() as listener:  # accepts connections, never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        client = NautobotClient(f"http://127.0.0.1:{listener.getsockname()[1]}", TOKEN, timeout=0.5)
        with pytest.raises(NautobotUnreachable, match="Timeout"):
            client.get_devices(["access1"])


def test_a_note_on_the_device(server):
    server.routes[("POST", "/api/extras/notes/")] = (201, {"id": "j-1", "note": "[success] done"})
    assert client_for(server).create_note(UUID, "success", "done") == "j-1"
    assert server.requests[0]["body"] == {
        "assigned_object_type": "dcim.device",
        "assigned_object_id": UUID,
        "note": "[success] done",
    }


def test_a_note_on_a_config_plan(server):
    server.routes[("POST", "/api/extras/notes/")] = (201, {"id": "n-2", "note": "[info] planned"})
    client = client_for(server)
    assert client.create_note(UUID, "info", "planned", object_type="nautobot_golden_config.configplan") == "n-2"
    assert server.requests[0]["body"]["assigned_object_type"] == "nautobot_golden_config.configplan"


def test_patch_json_sends_the_body_and_translates_refusals(server):
    path = f"/api/plugins/golden-config/config-plan/{UUID}/"
    server.routes[("PATCH", path)] = (200, {"id": UUID, "status": {"name": "Completed"}})
    status, body = client_for(server).patch_json(f"plugins/golden-config/config-plan/{UUID}/", {"status": "s-1"})
    assert (status, body["status"]["name"]) == (200, "Completed")
    assert server.requests[0]["body"] == {"status": "s-1"} and server.requests[0]["auth"] == f"Token {TOKEN}"
    server.routes[("PATCH", path)] = (403, {"detail": "You do not have permission"})
    with pytest.raises(NautobotAuthenticationFailed) as caught:
        client_for(server).patch_json(f"plugins/golden-config/config-plan/{UUID}/", {"status": "s-1"})
    assert TOKEN not in caught.value.message


def test_note_kind_is_checked(server):
    with pytest.raises(ValueError):
        client_for(server).create_note(UUID, "fatal", "x")


@pytest.mark.parametrize(
    ("value", "expected"), [(UUID, True), (UUID.replace("-", ""), True), ("access1", False), ("", False), (None, False)]
)
def test_is_uuid(value, expected):
    assert is_uuid(value) is expected
