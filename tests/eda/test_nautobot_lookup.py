"""Unit tests of the event source's Nautobot look-ups (a fake pynautobot API; one real refused connection)."""

import socket

import pytest

from ansible_collections.sotsync.nautobot.plugins.plugin_utils import nautobot_lookup as nl
from tests.support import nautobot_webhooks as nw

IP_ID = nw.IP_IDS["172.20.20.11/24"]


class FakeEndpoint:
    def __init__(self, records=None, objects=None, error=None):
        self.records = records or []
        self.objects = objects or {}
        self.error = error
        self.calls = []

    def filter(self, **kwargs):
        self.calls.append(("filter", kwargs))
        if self.error:
            raise self.error
        return list(self.records)

    def get(self, object_id):
        self.calls.append(("get", object_id))
        if self.error:
            raise self.error
        return self.objects.get(object_id)


class FakeApp:
    def __init__(self, **endpoints):
        self.__dict__.update(endpoints)


class FakeApi:
    def __init__(self, devices=None, statuses=None, platforms=None):
        self.dcim = FakeApp(devices=devices or FakeEndpoint(), platforms=platforms or FakeEndpoint())
        self.extras = FakeApp(statuses=statuses or FakeEndpoint(), roles=FakeEndpoint())
        self.ipam = FakeApp(ip_addresses=FakeEndpoint())


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def lookup_with(api, clock=None, **kwargs):
    return nl.NautobotLookup(
        "http://nautobot.test", "0123456789abcdef-token-value", api=api, clock=clock or Clock(), **kwargs
    )


def test_devices_for_ip_keeps_only_primary_and_bounds_query():
    other = nw.device("access2", device_id=nw.DEVICE2_ID, ip="172.20.20.21/24")  # has the IP, not as primary
    devices = FakeEndpoint(records=[nw.device(), other])
    lookup = lookup_with(FakeApi(devices=devices), max_devices=5)
    found = lookup.devices_for_ip(IP_ID)
    assert [d["name"] for d in found] == ["access1"]
    assert devices.calls == [("filter", {"ip_addresses": IP_ID, "depth": 1, "limit": 5, "offset": 0})]


def test_devices_for_ip_caches_positive_answers_for_ttl():
    clock = Clock()
    devices = FakeEndpoint(records=[nw.device()])
    lookup = lookup_with(FakeApi(devices=devices), clock=clock, cache_ttl=30)
    lookup.devices_for_ip(IP_ID)
    clock.now += 29
    found = lookup.devices_for_ip(IP_ID)
    found[0]["name"] = "mutated"  # callers get copies
    assert lookup.devices_for_ip(IP_ID)[0]["name"] == "access1"
    assert len(devices.calls) == 1
    clock.now += 2
    lookup.devices_for_ip(IP_ID)
    assert len(devices.calls) == 2


def test_devices_for_ip_does_not_cache_no_device():
    devices = FakeEndpoint(records=[])
    lookup = lookup_with(FakeApi(devices=devices))
    assert lookup.devices_for_ip(IP_ID) == []
    assert lookup.devices_for_ip(IP_ID) == []
    assert len(devices.calls) == 2


def test_device_change_invalidates_cached_answer():
    devices = FakeEndpoint(records=[nw.device()])
    lookup = lookup_with(FakeApi(devices=devices))
    lookup.devices_for_ip(IP_ID)
    lookup.invalidate_device(nw.DEVICE2_ID)
    lookup.devices_for_ip(IP_ID)
    assert len(devices.calls) == 1
    lookup.invalidate_device(nw.DEVICE_ID)
    lookup.devices_for_ip(IP_ID)
    assert len(devices.calls) == 2


def test_get_object_cached_and_none_for_unknown():
    statuses = FakeEndpoint(objects={nw.STATUS_IDS["Active"]: nw.status("Active")})
    lookup = lookup_with(FakeApi(statuses=statuses))
    assert lookup.get_object("extras.status", nw.STATUS_IDS["Active"])["name"] == "Active"
    assert lookup.get_object("extras.status", nw.STATUS_IDS["Active"])["name"] == "Active"
    assert lookup.get_object("extras.status", "00000000-0000-4000-8000-000000000000") is None
    assert lookup.get_object("dcim.cable", "x") is None  # not a type we read
    assert [c[0] for c in statuses.calls] == ["get", "get"]


def test_cache_is_bounded():
    cache = nl.TTLCache(ttl=30, size=2, clock=Clock())
    for key in "abc":
        cache.put(key, key)
    assert len(cache) == 2 and cache.get("a") is None and cache.get("c") == "c"


def test_cache_disabled_with_zero_ttl():
    cache = nl.TTLCache(ttl=0, size=10)
    cache.put("a", 1)
    assert cache.get("a") is None


class _Req:
    status_code = 403
    url = "http://nautobot.test/api/dcim/devices/"
    reason = "Forbidden"
    text = '{"detail": "Invalid token."}'

    class request:  # noqa: N801 - mimics requests.Response.request
        body = None

    def json(self):
        return {"detail": "Invalid token."}


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        pytest.param(nl.requests.exceptions.ConnectionError("refused"), "unreachable (ConnectionError)", id="refused"),
        pytest.param(nl.requests.exceptions.ReadTimeout("slow"), "unreachable (ReadTimeout)", id="timeout"),
        pytest.param(nl.pynautobot.RequestError(_Req()), "HTTP 403 (check nautobot_token", id="forbidden"),
    ],
)
def test_errors_become_lookup_errors(error, expected):
    lookup = lookup_with(FakeApi(devices=FakeEndpoint(error=error)))
    with pytest.raises(nl.NautobotLookupError) as err:
        lookup.devices_for_ip(IP_ID)
    assert expected in str(err.value)
    assert "0123456789abcdef" not in str(err.value)


def _closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_real_client_unreachable_and_timeout_session():
    lookup = nl.NautobotLookup(f"http://127.0.0.1:{_closed_port()}/", "secrettoken", timeout=2)
    try:
        assert lookup.api.http_session.headers["User-Agent"].startswith("python-pynautobot/")
        with pytest.raises(nl.NautobotLookupError) as err:
            lookup.get_object("dcim.platform", nw.PLATFORM_ID)
        assert "unreachable" in str(err.value) and "secrettoken" not in str(err.value)
    finally:
        lookup.close()


def test_timeout_session_sets_default_timeout(monkeypatch):
    seen = {}

    def fake_request(self, method, url, **kwargs):
        seen.update(kwargs)
        raise nl.requests.exceptions.ConnectTimeout("x")

    monkeypatch.setattr(nl.requests.Session, "request", fake_request)
    session = nl._timeout_session(3.5, verify=False)
    with pytest.raises(nl.requests.exceptions.ConnectTimeout):
        session.get("http://nautobot.test/api/")
    assert seen["timeout"] == 3.5 and session.verify is False
