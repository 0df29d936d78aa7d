"""The real ``sotsync.nautobot.webhook`` source over real HTTP on a free port.

The source is loaded the way ansible-rulebook loads it: ``runpy.run_path`` on the file inside the
``ansible_collections/sotsync/nautobot`` link tree.
"""

import asyncio
import datetime
import json
import logging
import os
import runpy
import ssl
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from ansible_collections.sotsync.nautobot.plugins.plugin_utils import settings

from tests.support import nautobot_webhooks as nw
from tests.support.net import free_port, wait_for_port, wait_for_port_sync

ROOT = Path(__file__).resolve().parents[2]
COLLECTIONS = ROOT / ".build" / "collections"
LINKED_SOURCE = COLLECTIONS / "ansible_collections/sotsync/nautobot/extensions/eda/plugins/event_source/webhook.py"
TOKEN = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture(scope="module")
def source():
    return runpy.run_path(str(LINKED_SOURCE))


class Running:
    def __init__(self, port, queue, task, scheme="http"):
        self.port, self.queue, self.task = port, queue, task
        self.url = f"{scheme}://127.0.0.1:{port}"

    async def post(self, payload=None, *, raw=None, headers=None, path="/", method="POST", secret=nw.SECRET, **kwargs):
        """Post ``payload`` as a new change (its own request id: the source refuses a change twice) or
        ``raw`` bytes as they are."""
        if raw is None:
            raw = nw.encode(dict(payload, request_id=str(uuid.uuid4())))
        headers = nw.headers(raw, secret) if headers is None else headers
        async with aiohttp.ClientSession() as session:
            async with session.request(method, self.url + path, data=raw, headers=headers, **kwargs) as response:
                return response.status, await response.text(), dict(response.headers)

    async def events(self, wait=0.05):
        await asyncio.sleep(wait)
        out = []
        while not self.queue.empty():
            out.append(self.queue.get_nowait())
        return out

    async def next_event(self, timeout=5.0):
        """The next event on the queue, waiting at most ``timeout`` seconds for it."""
        return await asyncio.wait_for(self.queue.get(), timeout)


@pytest.fixture
async def start(source):
    tasks = []

    async def _start(scheme="http", **args):
        port = free_port()
        queue = asyncio.Queue()
        args = {
            "port": port,
            "host": "127.0.0.1",
            "secret": nw.SECRET,
            "coalesce_seconds": 0,
            "max_events_per_second": 0,
            "models": ["device"],
            **args,
        }
        task = asyncio.create_task(source["main"](queue, args))
        tasks.append(task)
        await wait_for_port(port)
        return Running(port, queue, task, scheme)

    yield _start
    for task in tasks:
        task.cancel()
    for task in tasks:
        try:
            await task
        except asyncio.CancelledError:
            pass


def assert_contract(event):
    assert set(event) == {"nautobot", "meta"}
    nb = event["nautobot"]
    assert set(nb) == nw.EVENT_KEYS | nw.RECEIVER_KEYS
    assert set(nb["device"]) == nw.DEVICE_KEYS
    assert set(nb["readiness"]) == {"ready", "reasons", "message"}
    assert isinstance(nb["burst"], bool)
    assert nb["model"] == "dcim.device"
    datetime.datetime.fromisoformat(nb["timestamp"])
    headers = {k.lower() for k in event["meta"]["headers"]}
    assert "x-hook-signature" not in headers and "authorization" not in headers
    json.dumps(event)  # plain JSON all the way down


async def test_valid_signed_body_gives_exactly_one_event(start, caplog):
    caplog.set_level(logging.INFO, logger="sotsync.nautobot.webhook")
    running = await start()
    status, text, _ = await running.post(nw.rename(), headers=None)
    assert status == 200, text
    events = await running.events()
    assert len(events) == 1
    event = events[0]
    assert_contract(event)
    nb = event["nautobot"]
    assert (nb["action"], nb["object_name"], nb["changed_fields"]) == ("updated", "access-switch-1", ["name"])
    assert nb["device"]["platform"] == {"name": "EOS", "network_driver": "arista_eos", "napalm_driver": "eos"}
    assert nb["device"]["primary_ip4_host"] == "172.20.20.11"
    assert event["meta"]["endpoint"] == "/"
    assert event["meta"]["headers"]["Content-Type"] == "application/json"
    assert "Accepted device updated access-switch-1: changed ['name']" in caplog.text


async def test_secret_headers_never_queued(start):
    running = await start()
    raw = nw.encode(nw.comments_only())
    headers = nw.headers(raw, Authorization="Token abc", Cookie="sessionid=1", **{"X-Request-Source": "nb"})
    status, _, _ = await running.post(raw=raw, headers=headers)
    assert status == 200
    (event,) = await running.events()
    assert event["meta"]["headers"]["X-Request-Source"] == "nb"
    assert not {"Authorization", "Cookie", "X-Hook-Signature"} & set(event["meta"]["headers"])
    assert event["nautobot"]["changed_fields"] == ["comments"]


def _signed(raw, content_type="application/json"):
    return nw.headers(raw, **{"Content-Type": content_type})


VALID = nw.encode(nw.rename())
NO_KEYS = nw.encode({"event": "updated", "model": "device"})
UNKNOWN_MODEL = nw.encode(dict(nw.rename(), model="circuit"))
BIG = nw.encode(dict(nw.rename(), padding="x" * 70_000))

BAD_REQUESTS = [
    pytest.param(
        {"raw": VALID, "headers": nw.headers(VALID, secret=None)}, 401, "missing X-Hook-Signature", id="no-signature"
    ),
    pytest.param(
        {"raw": VALID, "headers": nw.headers(VALID, secret="wrong")}, 401, "does not match", id="wrong-secret"
    ),
    pytest.param(
        {"raw": VALID.replace(b"access-switch-1", b"evil"), "headers": nw.headers(VALID)},
        401,
        "does not match",
        id="tampered",
    ),
    pytest.param({"raw": VALID, "headers": _signed(VALID, "text/plain")}, 415, "Content-Type", id="wrong-content-type"),
    pytest.param({"raw": b"{oops", "headers": _signed(b"{oops")}, 400, "malformed JSON", id="malformed-json"),
    pytest.param({"raw": b"[1,2]", "headers": _signed(b"[1,2]")}, 400, "JSON object", id="non-object"),
    pytest.param({"raw": b"", "headers": _signed(b"")}, 400, "empty", id="empty-body"),
    pytest.param(
        {"raw": NO_KEYS, "headers": _signed(NO_KEYS)},
        400,
        "missing key(s): timestamp, data, snapshots",
        id="missing-keys",
    ),
    pytest.param({"raw": UNKNOWN_MODEL, "headers": _signed(UNKNOWN_MODEL)}, 422, "not handled", id="unknown-model"),
    pytest.param({"raw": BIG, "headers": _signed(BIG)}, 413, "max_body_bytes", id="over-size"),
    pytest.param({"raw": VALID, "method": "GET"}, 405, "use POST", id="get"),
    pytest.param({"raw": VALID, "method": "PUT"}, 405, "use POST", id="put"),
    pytest.param({"raw": VALID, "path": "/other"}, 404, "no webhook at /other", id="wrong-path"),
]


@pytest.mark.parametrize(("request_kwargs", "status", "reason"), BAD_REQUESTS)
async def test_bad_request_rejected_and_source_keeps_serving(start, caplog, request_kwargs, status, reason):
    caplog.set_level(logging.WARNING, logger="sotsync.nautobot.webhook")
    running = await start(max_body_bytes=65536)
    got, text, headers = await running.post(**request_kwargs)
    assert got == status
    assert reason in json.loads(text)["error"]
    if status == 405:
        assert headers["Allow"] == "POST"
    assert await running.events() == []
    line = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Rejected")]
    assert len(line) == 1 and f": {status} " in line[0] and "from 127.0.0.1" in line[0] and reason in line[0]
    # still serving
    got, _, _ = await running.post(nw.rename())
    assert got == 200
    assert len(await running.events()) == 1
    assert not running.task.done()


async def test_chunked_over_size_body(start):
    running = await start(max_body_bytes=1024)

    async def chunks():
        for _ in range(8):
            yield b"x" * 512

    status, text, _ = await running.post(
        raw=chunks(), headers={"Content-Type": "application/json", "X-Hook-Signature": "0"}
    )
    assert status == 413, text
    status, text, _ = await running.post(raw=b'{"event": "updated"}')  # small and signed: answered on its merits
    assert status == 400 and "missing key(s)" in text and not running.task.done()


async def test_coalescing_window(start, caplog):
    """Over HTTP with the real clock: held, then one event (the timing itself: tests/unit, fake clock)."""
    caplog.set_level(logging.INFO, logger="sotsync.nautobot.webhook")
    running = await start(coalesce_seconds=1.0)
    for payload in (nw.rename(), nw.role_change(), nw.comments_only()):
        status, _, _ = await running.post(payload)
        assert status == 200
    assert running.queue.empty()  # held in the window
    event = await running.next_event()
    assert await running.events(wait=0) == []
    nb = event["nautobot"]
    assert nb["changed_fields"] == ["name", "role", "comments"]
    assert nb["events_coalesced"] == 3
    assert nb["object_name"] == "access1"  # the latest data (the comments edit)
    assert "Coalesced 3 events into one" in caplog.text


async def test_a_change_delivered_twice_is_refused_the_second_time(start, caplog):
    """A replayed request (the exact signed body again) or a second webhook for the same change: 409."""
    running = await start()
    raw = nw.encode(nw.rename())
    assert (await running.post(raw=raw))[0] == 200
    status, text, _ = await running.post(raw=raw)
    assert status == 409 and "already accepted" in text
    assert len(await running.events()) == 1
    later = nw.encode(dict(nw.rename(), timestamp="2026-11-25 00:23:25.000000+00:00"))  # a new change: accepted
    assert (await running.post(raw=later))[0] == 200


async def test_ipaddress_event_created_is_ignored(start):
    running = await start(models=["device", "ipaddress"], nautobot_url="http://127.0.0.1:9", nautobot_token=TOKEN)
    status, text, _ = await running.post(nw.ip_edit(event="created"))
    assert status == 200 and "ignored" in text
    assert await running.events() == []


# --- a fake Nautobot REST API for look-ups --------------------------------------------------------
@pytest.fixture
async def fake_nautobot():
    seen = []
    devices = []
    objects = nw.reference_objects()
    plurals = {v: k for k, v in nw.PLURALS.items()}

    async def handler(request):
        seen.append(request.path_qs)
        if request.headers.get("Authorization") != f"Token {TOKEN}":
            return web.json_response({"detail": "Invalid token."}, status=403)
        parts = request.path.strip("/").split("/")  # api, app, plural[, id]
        if parts[1:3] == ["dcim", "devices"] and len(parts) == 3:
            # ip_addresses=<id>: the devices with that IP on an interface (primary or not)
            ip_id = request.query.get("ip_addresses")
            found = [device for device, ip_ids in devices if ip_id in ip_ids]
            return web.json_response({"count": len(found), "next": None, "previous": None, "results": found})
        object_type = plurals.get("/".join(parts[1:3]))
        found = objects.get((object_type, parts[3] if len(parts) > 3 else None))
        if found is None:
            return web.json_response({"detail": "Not found."}, status=404)
        return web.json_response(found)

    app = web.Application()
    app.router.add_get("/{tail:.*}", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    yield {"url": f"http://127.0.0.1:{port}", "seen": seen, "devices": devices}
    await runner.cleanup()


async def test_ipaddress_update_maps_to_device(start, fake_nautobot, caplog):
    caplog.set_level(logging.INFO, logger="sotsync.nautobot.webhook")
    ip_id = nw.IP_IDS["172.20.20.11/24"]
    fake_nautobot["devices"].append((nw.device("access1"), {ip_id}))
    # carries the IP on an interface too, but its primary IPv4 is another one
    fake_nautobot["devices"].append((nw.device("access2", device_id=nw.DEVICE2_ID, ip="172.20.20.21/24"), {ip_id}))
    running = await start(models=["device", "ipaddress"], nautobot_url=fake_nautobot["url"], nautobot_token=TOKEN)
    status, _, _ = await running.post(nw.ip_edit())
    assert status == 202
    event = await running.next_event()
    assert_contract(event)
    nb = event["nautobot"]
    assert nb["source_model"] == "ipam.ipaddress" and nb["changed_fields"] == ["primary_ip4"]
    assert nb["object_id"] == nw.DEVICE_ID and nb["device"]["primary_ip4"] == "172.20.20.11/24"
    assert nb["device"]["platform"]["napalm_driver"] == "eos"
    query = fake_nautobot["seen"][0]
    assert "ip_addresses=" + nw.IP_IDS["172.20.20.11/24"] in query and "depth=1" in query and "limit=" in query
    assert "(via ipaddress 172.20.20.11/24 changed ['dns_name'])" in caplog.text
    assert TOKEN not in caplog.text


async def test_ipaddress_update_no_device_is_dropped(start, fake_nautobot, caplog):
    caplog.set_level(logging.INFO, logger="sotsync.nautobot.webhook")
    running = await start(models=["ipaddress"], nautobot_url=fake_nautobot["url"], nautobot_token=TOKEN)
    status, _, _ = await running.post(nw.ip_edit())
    assert status == 202
    assert await running.events(wait=0.3) == []
    assert "it is no device's primary IPv4" in caplog.text
    # not on any interface: answered at once, no look-up
    payload = nw.ip_edit(device_ids=())
    status, _, _ = await running.post(payload)
    assert status == 200 and len(fake_nautobot["seen"]) == 1


async def test_nautobot_unreachable_drops_and_keeps_serving(start, caplog):
    caplog.set_level(logging.INFO, logger="sotsync.nautobot.webhook")
    dead = f"http://127.0.0.1:{free_port()}"
    running = await start(models=["device", "ipaddress"], nautobot_url=dead, nautobot_token=TOKEN, nautobot_timeout=2)
    status, _, _ = await running.post(nw.ip_edit())
    assert status == 202
    assert await running.events(wait=0.5) == []
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert any("Dropped ipaddress updated 172.20.20.11/24" in e and "unreachable" in e for e in errors)
    assert TOKEN not in caplog.text
    status, _, _ = await running.post(nw.rename())
    assert status == 200 and len(await running.events()) == 1


async def test_reference_only_device_resolved_through_nautobot(start, fake_nautobot):
    running = await start(models=["device"], nautobot_url=fake_nautobot["url"], nautobot_token=TOKEN)
    status, _, _ = await running.post(nw.reference_only())
    assert status == 202
    event = await running.next_event()
    device = event["nautobot"]["device"]
    assert (device["status"], device["role"], device["location"]) == ("Active", "Access", "Site A")
    assert device["platform"]["napalm_driver"] == "eos" and device["primary_ip4_host"] == "172.20.20.11"


async def test_reference_only_device_without_nautobot(start, caplog):
    running = await start()
    status, _, _ = await running.post(nw.reference_only())
    assert status == 200
    (event,) = await running.events()
    assert event["nautobot"]["device"]["platform"] is None
    assert "only a reference" in caplog.text


async def test_insecure_mode_warns_and_accepts_unsigned(start, caplog):
    caplog.set_level(logging.WARNING, logger="sotsync.nautobot.webhook")
    running = await start(secret=None, insecure_no_signature=True)
    assert "INSECURE" in caplog.text and "UNSIGNED" in caplog.text
    status, _, _ = await running.post(nw.rename(), secret=None)
    assert status == 200 and len(await running.events()) == 1


async def test_custom_path(start):
    running = await start(path="/nautobot")
    assert (await running.post(nw.rename()))[0] == 404
    assert (await running.post(nw.rename(), path="/nautobot"))[0] == 200
    (event,) = await running.events()
    assert event["meta"]["endpoint"] == "/nautobot"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"secret": "x"}, "Missing required argument: port"),
        ({"port": 5000}, "Missing required argument: secret"),
        ({"port": 5000, "secret": "x", "models": ["device"], "certfile": "/x"}, "certfile and keyfile"),
    ],
)
async def test_main_validates_arguments_first(source, args, message):
    with pytest.raises(ValueError, match=message):
        await asyncio.wait_for(source["main"](asyncio.Queue(), args), 2)


async def test_tls(start, tmp_path):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    certfile, keyfile = tmp_path / "cert.pem", tmp_path / "key.pem"
    certfile.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    keyfile.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    running = await start("https", certfile=str(certfile), keyfile=str(keyfile))
    context = ssl.create_default_context(cafile=str(certfile))
    context.check_hostname = False
    status, _, _ = await running.post(nw.rename(), ssl=context)
    assert status == 200 and len(await running.events()) == 1


async def test_tls_bad_files(source, tmp_path):
    bad = tmp_path / "bad.pem"
    bad.write_text("not a certificate")
    args = {"port": free_port(), "secret": "x", "models": ["device"], "certfile": str(bad), "keyfile": str(bad)}
    with pytest.raises(ValueError, match="cannot load certfile/keyfile"):
        await source["main"](asyncio.Queue(), args)


def test_documentation_matches_arguments(source):
    import yaml

    doc = yaml.safe_load(source["DOCUMENTATION"])
    assert sorted(doc["options"]) == sorted(settings.ARGUMENTS)
    assert doc["options"]["port"]["required"] is True
    defaults = settings.Settings(port=1)
    for name in ("host", "path", "max_body_bytes", "coalesce_seconds", "nautobot_timeout", "insecure_no_signature"):
        assert doc["options"][name]["default"] == getattr(defaults, name), name
    examples = yaml.safe_load(source["EXAMPLES"])
    for play in examples:
        args = dict(play["sources"][0]["sotsync.nautobot.webhook"])
        args = {k: ("x" if isinstance(v, str) and "{{" in v else v) for k, v in args.items()}
        args.update(certfile=None, keyfile=None)  # example paths do not exist here
        settings.validate_args(args, environ={})


def test_standalone_main_prints_events():
    port = free_port()
    env = dict(os.environ, WEBHOOK_PORT=str(port), WEBHOOK_SECRET=nw.SECRET)
    env.pop("NAUTOBOT_URL", None)
    env.pop("PYTHONPATH", None)
    proc = subprocess.Popen(
        [sys.executable, str(LINKED_SOURCE)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    printed: list[str] = []
    reader = threading.Thread(target=lambda: printed.extend(proc.stdout), daemon=True)
    reader.start()
    wanted = '"object_name": "access-switch-1"'
    try:
        assert wait_for_port_sync(port, timeout=20, alive=lambda: proc.poll() is None), "the source never listened"
        import urllib.request

        raw = nw.encode(nw.rename())
        request = urllib.request.Request(f"http://127.0.0.1:{port}/", data=raw, headers=nw.headers(raw), method="POST")
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - local test server
            assert response.status == 200
        # The answer comes when the event is accepted; the event is printed when it leaves the source's
        # pacing, a moment later: wait for it (bounded), then stop the source.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not any(wanted in line for line in printed):
            time.sleep(0.05)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        reader.join(timeout=5)
        err = proc.stderr.read()
    assert any(wanted in line for line in printed), err
