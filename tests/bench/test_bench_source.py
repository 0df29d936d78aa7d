"""Benchmark: the ``sotsync.nautobot.webhook`` event source over real HTTP.

M signed Nautobot device webhooks (~17 KB each, built like Nautobot builds them:
``tests/support/nautobot_webhooks.py``) are posted by an aiohttp client with CONCURRENCY requests in
flight (one keep-alive session) to:

- BASELINE: a bare aiohttp server in the same process that reads the body and answers 200;
- the real source, ``main(queue, args)`` loaded as ansible-rulebook loads it (``runpy.run_path`` on the
  file in the collection link tree), ``coalesce_seconds: 0``, ``max_events_per_second: 0`` (its own
  cost, not its pace), ``models: [device]``, with the secret.

Client and servers share one event loop, so both figures include the client's own cost; the difference
per request is the source's cost (signature check, JSON parse, validation, normalisation, queueing).
Each figure is from the median round of ROUNDS (the order alternates). Correctness is asserted, speed is
only printed: every request got 200 and, for the source, every event arrived once, well-formed.
"""

from __future__ import annotations

import asyncio
import json
import runpy
import time

import aiohttp
import pytest
from aiohttp import web
from tests.bench.benchlib import ROOT, median, percentile, table
from tests.support import nautobot_webhooks as nw
from tests.support.net import free_port

COLLECTION = ROOT / ".build" / "collections" / "ansible_collections" / "sotsync" / "nautobot"
LINKED_SOURCE = COLLECTION / "extensions" / "eda" / "plugins" / "event_source" / "webhook.py"
HOST = "127.0.3.1"  # not the lab's addresses
EVENTS = 2000
CONCURRENCY = 16
ROUNDS = 5
WARMUP = 100
DEADLINE = 60.0  # seconds for one round: a stuck server fails the run instead of hanging it


def webhook(i, round_=0):
    """Webhook ``i``: device ``access-<i>`` renamed to ``access-<i>-new``; (raw, headers, id, new name, request id).

    Each round is a new change (its own request id): the source answers a change it already accepted
    with 409, and delivers a change once."""
    device_id = f"4b1c7c10-8d5e-4e63-9a3c-{i:012d}"
    request_id = f"5f0cd1f8-2b4e-4a4c-{round_:04d}-{i:012d}"
    before = nw.device(f"access-{i:04d}", device_id=device_id)
    after = nw.device(f"access-{i:04d}-new", device_id=device_id, last_updated="2026-11-25T00:23:24.300000Z")
    raw = nw.encode(nw.updated(before, after, request_id=request_id))
    return raw, nw.headers(raw), device_id, f"access-{i:04d}-new", request_id


async def start_baseline():
    """BASELINE: read the body, answer 200 (what any aiohttp webhook receiver does at the least)."""

    async def handle(request):
        await request.read()
        return web.json_response({"accepted": True})

    app = web.Application(client_max_size=1024 * 1024)
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port(HOST)
    await web.TCPSite(runner, HOST, port).start()
    return f"http://{HOST}:{port}/", runner


async def start_source():
    source = runpy.run_path(str(LINKED_SOURCE))
    port = free_port(HOST)
    queue = asyncio.Queue()
    args = {
        "host": HOST,
        "port": port,
        "secret": nw.SECRET,
        "coalesce_seconds": 0,
        "max_events_per_second": 0,
        "models": ["device"],
    }
    task = asyncio.create_task(source["main"](queue, args))
    await nw.wait_for_port(port, HOST, timeout=10.0)
    return f"http://{HOST}:{port}/", queue, task


async def blast(url, bodies):
    """Post every body with CONCURRENCY in flight; return (seconds, latencies in s, statuses)."""
    latencies, statuses = [], []
    pending = iter(bodies)
    connector = aiohttp.TCPConnector(limit=CONCURRENCY)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker():
            for raw, headers, *_ in pending:
                started = time.perf_counter()
                async with session.post(url, data=raw, headers=headers) as response:
                    await response.read()
                    statuses.append(response.status)
                latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.wait_for(asyncio.gather(*(worker() for _ in range(CONCURRENCY))), DEADLINE)
        elapsed = time.perf_counter() - started
    return elapsed, latencies, statuses


async def drain(queue, count, timeout=10.0):
    """The events on ``queue``; waits (bounded) until ``count`` arrived, then takes any extra ones too."""
    events = []
    deadline = time.monotonic() + timeout
    while len(events) < count and time.monotonic() < deadline:
        try:
            events.append(await asyncio.wait_for(queue.get(), max(0.01, deadline - time.monotonic())))
        except TimeoutError:
            break
    while not queue.empty():
        events.append(queue.get_nowait())
    return events


def check_events(events, bodies):
    """Every webhook gave exactly one well-formed event about its device."""
    expected = {device_id: (name, request_id) for _, _, device_id, name, request_id in bodies}
    assert len(events) == len(bodies), f"{len(events)} events for {len(bodies)} webhooks"
    seen = set()
    for event in events:
        assert set(event) == {"nautobot", "meta"}
        nb = event["nautobot"]
        assert nb["object_id"] in expected and nb["object_id"] not in seen, nb["object_id"]
        seen.add(nb["object_id"])
        name, request_id = expected[nb["object_id"]]
        assert (nb["action"], nb["model"], nb["source_model"]) == ("updated", "dcim.device", "dcim.device")
        assert (nb["object_name"], nb["request_id"], nb["events_coalesced"]) == (name, request_id, 1)
        assert nb["changed_fields"] == ["name"]
        assert nb["device"]["id"] == nb["object_id"] and nb["device"]["name"] == name
        assert nb["device"]["platform"]["napalm_driver"] == "eos"
        assert nb["device"]["primary_ip4_host"] == "172.20.20.11"
        headers = {key.lower() for key in event["meta"]["headers"]}
        assert "x-hook-signature" not in headers and "authorization" not in headers
        json.dumps(event)  # plain JSON all the way down
    assert seen == set(expected)


@pytest.mark.skipif(not LINKED_SOURCE.exists(), reason="the collection link tree is missing (scripts/setup)")
async def test_bench_webhook_source(capsys):
    bodies = [webhook(i) for i in range(EVENTS)]
    warmup = [webhook(EVENTS + i) for i in range(WARMUP)]
    baseline_url, runner = await start_baseline()
    source_url, queue, task = await start_source()
    rounds = {"baseline": [], "source": []}
    try:
        for url in (baseline_url, source_url):
            _, _, statuses = await blast(url, warmup)
            assert statuses == [200] * WARMUP
        check_events(await drain(queue, WARMUP), warmup)

        for round_index in range(ROUNDS):
            order = ("baseline", "source") if round_index % 2 == 0 else ("source", "baseline")
            bodies = [webhook(i, round_index + 1) for i in range(EVENTS)]
            for name in order:
                elapsed, latencies, statuses = await blast(baseline_url if name == "baseline" else source_url, bodies)
                assert statuses == [200] * EVENTS, f"{name}: not every request got 200"
                if name == "source":
                    check_events(await drain(queue, EVENTS), bodies)
                rounds[name].append((elapsed, latencies))
    finally:
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
        await runner.cleanup()

    figures = {}
    for name, results in rounds.items():
        elapsed, latencies = sorted(results, key=lambda r: r[0])[len(results) // 2]  # the median round
        totals = [r[0] for r in results]
        figures[name] = (
            elapsed,
            percentile(latencies, 0.50),
            percentile(latencies, 0.95),
            f"{min(totals):.3f}-{max(totals):.3f}",
        )
    base = figures["baseline"][0]
    rows = []
    for name, label in (
        ("baseline", "aiohttp read body + 200 (baseline)"),
        ("source", "sotsync.nautobot.webhook main()"),
    ):
        elapsed, p50, p95, spread = figures[name]
        rows.append(
            (
                label,
                EVENTS,
                elapsed,
                elapsed / EVENTS * 1000,
                f"{elapsed / base:.2f}x",
                f"{EVENTS / elapsed:.0f}",
                p50 * 1000,
                p95 * 1000,
                spread,
            )
        )
    size = median([len(raw) for raw, *_ in bodies])
    cost = (figures["source"][0] - base) / EVENTS * 1000
    with capsys.disabled():
        print()
        print(
            table(
                f"Webhook source over HTTP: {EVENTS} signed device webhooks of ~{size / 1024:.1f} KB, "
                f"{CONCURRENCY} in flight, keep-alive (median of {ROUNDS} rounds)",
                (
                    "receiver",
                    "n",
                    "total s",
                    "per-event ms",
                    "ratio vs baseline",
                    "events/s",
                    "p50 ms",
                    "p95 ms",
                    "rounds min-max s",
                ),
                rows,
            )
        )
        print(f"source cost per event (total time difference / n): {cost:.3f} ms")
