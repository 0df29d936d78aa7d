"""Hostile input: over 10,000 requests against the real ``sotsync.nautobot.webhook`` source.

The source runs in its own process, loaded as ansible-rulebook loads it (``runpy.run_path`` on the file
in the collection link tree, ``tests/support/source_process.py``), so its memory is measured alone and
its log is exactly what it wrote. Each category is sent over real HTTP on loopback (or raw TCP for what
is not HTTP at all), many at once. Asserted: every bad request gets its 4xx (never a 5xx), every valid
one gets 200 and is delivered exactly once, no traceback in the log, the process is still running, its
RSS grew by less than ``RSS_GROWTH_LIMIT``, slow clients are cut off within ``SLOW_BOUND`` seconds.
The counts per category are printed (``pytest -s``).

A change delivered twice (a replay of a signed body, or a second webhook for the same change) gets
409 and is not delivered again (``docs/event.md``). A wrong type at a key the event is built from gets
400; at a key nobody reads (Nautobot's other fields) the body is accepted and the event still keeps
the contract's types.
"""

from __future__ import annotations

import asyncio
import collections
import json
import os
import random
import subprocess
import sys
import time
import uuid
from pathlib import Path

import aiohttp
import pytest

from tests.support import nautobot_webhooks as nw
from tests.support.net import free_port, wait_for_port

ROOT = Path(__file__).resolve().parents[2]
LINKED_SOURCE = (
    ROOT / ".build/collections/ansible_collections/sotsync/nautobot/extensions/eda/plugins/event_source/webhook.py"
)
HOST = "127.0.0.1"
MAX_BODY = 256 * 1024
CONCURRENCY = 128
SLOW_CLIENTS = 20
SLOW_BOUND = 13.0  # the source's REQUEST_TIMEOUT (10 s) plus scheduling slack
RSS_GROWTH_LIMIT = 40 * 1024 * 1024
WRONG_VALUES = (7, True, [1])  # no key the event is built from accepts any of these

# Keys the event is built from (docs/event.md): a wrong type there is a 400. ``*`` matches one key.
READ_KEYS = {
    "event",
    "model",
    "timestamp",
    "username",
    "request_id",
    "data",
    "snapshots",
    "data.id",
    "data.name",
    "data.status",
    "data.role",
    "data.location",
    "data.platform",
    "data.primary_ip4",
    "data.status.id",
    "data.status.name",
    "data.status.display",
    "data.role.id",
    "data.role.name",
    "data.role.display",
    "data.location.id",
    "data.location.name",
    "data.location.display",
    "data.platform.id",
    "data.platform.name",
    "data.platform.display",
    "data.platform.network_driver",
    "data.platform.napalm_driver",
    "data.platform.network_driver_mappings",
    "data.platform.network_driver_mappings.*",
    "data.primary_ip4.id",
    "data.primary_ip4.address",
    "data.primary_ip4.host",
    "snapshots.prechange",
    "snapshots.postchange",
    "snapshots.differences",
    "snapshots.differences.added",
    "snapshots.differences.removed",
}


def is_read(path):
    if path in READ_KEYS:
        return True
    parent, _, _ = path.rpartition(".")
    return f"{parent}.*" in READ_KEYS


def key_paths(value, prefix=""):
    """Every key path of a JSON object (lists are not descended: their items have no key)."""
    for key, child in value.items():
        path = f"{prefix}{key}"
        yield path
        if isinstance(child, dict):
            yield from key_paths(child, path + ".")


def with_value(payload, path, value):
    changed = json.loads(json.dumps(payload))  # a copy as Nautobot sends it: no shared sub-objects
    *outer, last = path.split(".")
    target = changed
    for key in outer:
        target = target[key]
    target[last] = value
    return changed


def fresh(payload=None):
    """A real Nautobot rename body as a new change (its own request id)."""
    return dict(payload or nw.rename(), request_id=str(uuid.uuid4()))


def signed(raw, content_type="application/json", secret=nw.SECRET):
    headers = {"Content-Type": content_type}
    if secret:
        headers["X-Hook-Signature"] = nw.sign(raw, secret)
    return headers


def nested(depth):
    return b'{"a":' * depth + b"1" + b"}" * depth


class Tally:
    """Statuses per category, and what each category must get."""

    def __init__(self):
        self.statuses = collections.defaultdict(collections.Counter)
        self.expected = {}
        self.delivered_ids = collections.Counter()
        self.valid_ids = set()
        self.slow_seconds = []

    def expect(self, category, statuses):
        self.expected[category] = set(statuses)

    def record(self, category, status):
        self.statuses[category][status] += 1

    @property
    def total(self):
        return sum(sum(c.values()) for c in self.statuses.values())


async def post(session, tally, category, raw, headers, method="POST", path="/", valid_id=None):
    try:
        async with session.request(method, f"http://{HOST}:{tally.port}{path}", data=raw, headers=headers) as resp:
            await resp.read()
            status = resp.status
    except aiohttp.ClientError as exc:
        status = f"client error {type(exc).__name__}"
    tally.record(category, status)
    if valid_id is not None and status == 200:
        tally.valid_ids.add(valid_id)


async def raw_tcp(tally, category, data, expect_reply=True):
    """Bytes that are not HTTP at all, straight on a socket; the status line the server answers."""
    reader, writer = await asyncio.open_connection(HOST, tally.port)
    try:
        writer.write(data)
        await writer.drain()
        line = await asyncio.wait_for(reader.readline(), 15)
        status = int(line.split()[1]) if line.startswith(b"HTTP/1.") else f"no answer {line[:20]!r}"
    finally:
        writer.close()
    tally.record(category, status)


async def slow_headers(tally):
    """Slowloris: headers one byte every 0.5 s, never finished. The source must cut the connection."""
    reader, writer = await asyncio.open_connection(HOST, tally.port)
    started = time.monotonic()
    request = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Slow: " + b"a" * 200
    closed = False
    try:
        for byte in request:
            writer.write(bytes([byte]))
            await writer.drain()
            try:
                if await asyncio.wait_for(reader.read(1), 0.5) == b"":
                    closed = True
                    break
            except TimeoutError:
                pass
            if time.monotonic() - started > SLOW_BOUND + 5:
                break
    except ConnectionError:
        closed = True
    finally:
        writer.close()
    seconds = time.monotonic() - started
    tally.slow_seconds.append(seconds)
    tally.record("slow headers (closed by the source)", "closed" if closed and seconds <= SLOW_BOUND else "still open")


async def slow_body(tally):
    """Headers at once, then a body that never comes: 408, timed to the answer."""
    raw = nw.encode(fresh())
    headers = "".join(f"{k}: {v}\r\n" for k, v in signed(raw).items())
    head = f"POST / HTTP/1.1\r\nHost: x\r\n{headers}Content-Length: {len(raw)}\r\n\r\n".encode()
    reader, writer = await asyncio.open_connection(HOST, tally.port)
    started = time.monotonic()
    try:
        writer.write(head + raw[:10])
        await writer.drain()
        line = await asyncio.wait_for(reader.readline(), SLOW_BOUND + 5)
        status = int(line.split()[1]) if line.startswith(b"HTTP/1.") else "closed without an answer"
    except TimeoutError:
        status = "no answer"
    finally:
        writer.close()
    tally.slow_seconds.append(time.monotonic() - started)
    tally.record("slow body", status)


def rss(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


@pytest.fixture
def source_process(tmp_path):
    port = free_port()
    args = {
        "host": HOST,
        "port": port,
        "secret": nw.SECRET,
        "models": ["device"],
        "coalesce_seconds": 0,
        "max_events_per_second": 0,
        "max_body_bytes": MAX_BODY,
    }
    out, err = (tmp_path / "events.jsonl").open("w+"), (tmp_path / "source.log").open("w+")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "NAUTOBOT_URL", "NAUTOBOT_TOKEN")}
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "tests/support/source_process.py"), str(LINKED_SOURCE), json.dumps(args)],
        stdout=out,
        stderr=err,
        env=env,
    )
    yield proc, port, tmp_path / "events.jsonl", tmp_path / "source.log"
    proc.terminate()
    proc.wait(10)
    out.close()
    err.close()


async def run_categories(tally, port):
    tally.port = port
    rng = random.Random(20261125)  # reproducible
    connector = aiohttp.TCPConnector(limit=CONCURRENCY, force_close=True)  # a new connection per request
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        jobs = []

        def add(category, statuses, coroutines):
            tally.expect(category, statuses)
            jobs.extend(coroutines)

        valid = [fresh() for _ in range(1500)]
        valid_raw = [nw.encode(p) for p in valid]
        add(
            "valid signed",
            {200},
            (
                post(session, tally, "valid signed", r, signed(r), valid_id=p["request_id"])
                for p, r in zip(valid, valid_raw, strict=True)
            ),
        )
        add(
            "missing signature",
            {401},
            (post(session, tally, "missing signature", r, signed(r, secret=None)) for r in valid_raw[:500]),
        )
        add(
            "forged signature",
            {401},
            (
                post(session, tally, "forged signature", r, {**signed(r), "X-Hook-Signature": rng.randbytes(64).hex()})
                for r in valid_raw[:500]
            ),
        )
        add(
            "wrong secret",
            {401},
            (post(session, tally, "wrong secret", r, signed(r, secret="not-the-secret")) for r in valid_raw[:300]),
        )
        add(
            "tampered body",
            {401},
            (
                post(session, tally, "tampered body", r.replace(b"access-switch-1", b"access-switch-X"), signed(r))
                for r in valid_raw[:300]
            ),
        )
        randoms = [rng.randbytes(rng.randint(1, 4096)) for _ in range(2200)]
        add(
            "random bytes, signed",
            {400},
            (post(session, tally, "random bytes, signed", r, signed(r)) for r in randoms[:1400]),
        )
        add(
            "random bytes, unsigned",
            {401},
            (
                post(session, tally, "random bytes, unsigned", r, {"Content-Type": "application/json"})
                for r in randoms[1400:]
            ),
        )
        truncated = [r[: rng.randint(0, len(r) - 1)] for r in valid_raw[:1000]]
        add(
            "truncated JSON, signed",
            {400},
            (post(session, tally, "truncated JSON, signed", r, signed(r)) for r in truncated),
        )
        deep = [nested(d) for d in (65, 100, 500, 999, 1001, 5000, 20000)] + [
            b"[" * 100_000,
            b"[" * 50_000 + b"]" * 50_000,
        ]
        add(
            "deeply nested JSON, signed",
            {400},
            (post(session, tally, "deeply nested JSON, signed", r, signed(r)) for r in deep * 25),
        )
        big_ok = json.dumps({"numbers": list(range(30_000))}).encode()  # ~200 KB, under the limit
        big_huge = b'{"padding": "' + b"x" * (2 * MAX_BODY) + b'"}'
        add(
            "huge JSON within the limit, signed",
            {400},
            (post(session, tally, "huge JSON within the limit, signed", big_ok, signed(big_ok)) for _ in range(25)),
        )
        add(
            "huge JSON over the limit",
            {413},
            (post(session, tally, "huge JSON over the limit", big_huge, signed(big_huge)) for _ in range(25)),
        )

        real = nw.rename()
        paths = list(key_paths(real))
        for value in WRONG_VALUES:
            for path in paths:
                payload = with_value(fresh(real), path, value)
                raw = nw.encode(payload)
                if is_read(path):
                    category, statuses, valid_id = "wrong type at a key read", {400}, None
                else:
                    category, statuses, valid_id = (
                        "wrong type at a key not read (accepted)",
                        {200},
                        payload.get("request_id"),
                    )
                add(category, statuses, [post(session, tally, category, raw, signed(raw), valid_id=valid_id)])

        replays = valid_raw[:400]
        tally.expect("replayed signed body", {409})
        for method in ("GET", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"):
            add(
                "wrong method",
                {405},
                (post(session, tally, "wrong method", r, signed(r), method=method) for r in valid_raw[:60]),
            )
        for content_type in ("text/plain", "application/x-www-form-urlencoded", "", "multipart/form-data", "text/json"):
            add(
                "wrong content type, signed",
                {415},
                (
                    post(session, tally, "wrong content type, signed", r, signed(r, content_type))
                    for r in valid_raw[:60]
                ),
            )
        add(
            "wrong path",
            {404},
            (
                post(session, tally, "wrong path", r, signed(r), path="/x" + str(i))
                for i, r in enumerate(valid_raw[:100])
            ),
        )
        garbage = [rng.randbytes(rng.randint(1, 200)) + b"\r\n\r\n" for _ in range(150)] + [
            b"GET / HTTP/1.1\r\n" + b"X: " + b"y" * 20000 + b"\r\n\r\n"
        ] * 50
        add("not HTTP at all (raw TCP)", {400}, (raw_tcp(tally, "not HTTP at all (raw TCP)", g) for g in garbage))
        add("slow headers (closed by the source)", {"closed"}, (slow_headers(tally) for _ in range(SLOW_CLIENTS)))
        add("slow body", {408}, (slow_body(tally) for _ in range(SLOW_CLIENTS)))

        random.Random(7).shuffle(jobs)
        started = time.monotonic()
        await asyncio.gather(*jobs)
        # replays after their originals were accepted
        await asyncio.gather(*(post(session, tally, "replayed signed body", r, signed(r)) for r in replays))
        # many connections at once: 500 new valid changes opened together, no client-side limit
        burst_connector = aiohttp.TCPConnector(limit=0, force_close=True)
        async with aiohttp.ClientSession(connector=burst_connector, timeout=timeout) as burst:
            burst_bodies = [fresh() for _ in range(500)]
            tally.expect("500 concurrent connections", {200})
            await asyncio.gather(
                *(
                    post(
                        burst,
                        tally,
                        "500 concurrent connections",
                        nw.encode(p),
                        signed(nw.encode(p)),
                        valid_id=p["request_id"],
                    )
                    for p in burst_bodies
                )
            )
        return time.monotonic() - started


def delivered(events_file):
    ids = collections.Counter()
    for line in events_file.read_text().splitlines():
        event = json.loads(line)
        nb = event["nautobot"]
        assert isinstance(nb["object_name"], (str, type(None))) and isinstance(nb["device"]["id"], str)
        assert all(isinstance(f, str) for f in nb["changed_fields"]) and isinstance(nb["readiness"]["ready"], bool)
        for key in ("status", "role", "location", "primary_ip4", "primary_ip4_host"):
            assert isinstance(nb["device"][key], (str, type(None))), (key, nb["device"][key])
        ids[nb["request_id"]] += 1
    return ids


async def test_hostile_input(source_process):
    proc, port, events_file, log_file = source_process
    await wait_for_port(port, HOST, timeout=20)
    # warm up: the first requests import and allocate what every later one reuses
    tally = Tally()
    tally.port = port
    async with aiohttp.ClientSession() as session:
        for _ in range(200):
            payload = fresh()
            raw = nw.encode(payload)
            await post(session, tally, "warm-up (valid)", raw, signed(raw), valid_id=payload["request_id"])
    tally.expect("warm-up (valid)", {200})
    rss_before = rss(proc.pid)

    seconds = await run_categories(tally, port)

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and sum(delivered(events_file).values()) < len(tally.valid_ids):
        await asyncio.sleep(0.2)
    ids = delivered(events_file)
    rss_after = rss(proc.pid)
    log = log_file.read_text()

    print(
        f"\n{tally.total} requests (200 of them warm-up) in {seconds:.1f} s against the real source (pid {proc.pid}):"
    )
    for category, counter in tally.statuses.items():
        print(f"  {category:45} {sum(counter.values()):6}  {dict(counter)}")
    print(f"  delivered events: {sum(ids.values())} (valid requests: {len(tally.valid_ids)})")
    print(f"  slow clients cut after at most {max(tally.slow_seconds):.1f} s")
    print(f"  source RSS: {rss_before / 2**20:.1f} MiB before, {rss_after / 2**20:.1f} MiB after")
    print(f"  log: {len(log.splitlines())} lines, {log.count('Rejected')} 'Rejected' warnings")

    assert tally.total - sum(tally.statuses["warm-up (valid)"].values()) >= 10_000
    for category, counter in tally.statuses.items():
        assert set(counter) <= tally.expected[category], (category, dict(counter))
    assert not any(isinstance(s, int) and s >= 500 for c in tally.statuses.values() for s in c)
    assert ids == collections.Counter(dict.fromkeys(tally.valid_ids, 1)), "every valid request delivered once"
    assert "Traceback" not in log and "Unexpected error" not in log and "ERROR" not in log
    assert log.count("Rejected malformed HTTP: 400 LineTooLong") == 50  # aiohttp's own 400s: one line each
    assert proc.poll() is None, "the source exited"
    assert rss_after - rss_before < RSS_GROWTH_LIMIT
    assert max(tally.slow_seconds) <= SLOW_BOUND
