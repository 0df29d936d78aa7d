"""The installed collection's ``sotsync.nautobot.reconcile`` run as users run it, without the lab: a small
Nautobot double (the GraphQL device query, Golden Config's on-demand render, notes) and simulated EOS
devices (lab/simulator) that the real NAPALM eos driver talks to.

What the playbook itself decides is checked here: the default selection (a status filter built from
ready_statuses), the drift summary and its set_stats result, notes on drifted devices only, the exit
status (drift, fail_on_drift, a failed device) and remediation. The lab test
tests/integration/test_reconcile_lab.py runs the same against real Nautobot and Golden Config.
"""

import json
import re
import subprocess
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest
from tests.packaging.collection_package import tool

eos_sim = pytest.importorskip("lab.simulator.eos_sim", reason="the EOS simulator (lab/simulator/) is missing")

USERNAME, PASSWORD = "netops", "sim-password-4711"
TOKEN = "0123456789abcdef0123456789abcdef01234567"
INTENT = "hostname {name}\n!\ninterface Ethernet1\n   description uplink\n!\nend\n"
BY_HAND = "   description changed by hand"
STATS = re.compile(r"^CUSTOM STATS: \*+\s*\n\s*RUN: (\{.*\})\s*$", re.M)


class FakeNautobot:
    """What the batch asks Nautobot for: devices (GraphQL), renders, notes. Records the filters and notes."""

    def __init__(self, devices):
        self.devices = devices
        self.queries = []
        self.notes = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def reply(self, code, body):
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):  # noqa: N802 - http.server's name
                url = urlparse(self.path)
                if url.path == "/api/plugins/golden-config/generate-intended-config/":
                    device_id = parse_qs(url.query)["device_id"][0]
                    (device,) = [d for d in owner.devices if d["id"] == device_id]
                    return self.reply(200, {"intended_config": INTENT.format(name=device["name"])})
                return self.reply(200, {})

            def do_POST(self):  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])) or b"{}")
                if self.path == "/api/graphql/":
                    variables = body.get("variables") or {}
                    owner.queries.append(variables)
                    selected = [
                        d
                        for d in owner.devices
                        if all(
                            str(d[key]["name"] if isinstance(d.get(key), dict) else d.get(key)) in values
                            for key, values in variables.items()
                        )
                    ]
                    return self.reply(200, {"data": {"devices": selected}})
                if self.path == "/api/extras/notes/":
                    created = [dict(note, id=str(uuid.uuid4())) for note in body]
                    owner.notes.extend(created)
                    return self.reply(201, created)
                return self.reply(404, {"detail": "not here"})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def nautobot_device(name, port=None, status="Active", platform=True, location="Site A"):
    return {
        "id": str(uuid.uuid5(uuid.NAMESPACE_DNS, name)),
        "name": name,
        "status": {"name": status},
        "role": {"name": "Access"},
        "location": {"name": location},
        "platform": {"name": "Arista EOS", "napalm_driver": "eos", "network_driver": "arista_eos"}
        if platform
        else None,
        "primary_ip4": {"address": "127.0.0.1/32"},
        "config_context": {"napalm": {"optional_args": {"transport": "http", "port": port}}},
    }


@pytest.fixture(scope="module")
def simulator():
    sim = eos_sim.EosSimulator(username=USERNAME, password=PASSWORD)
    sim.start()
    yield sim
    sim.stop()


@pytest.fixture
def world(simulator, request):
    """Two ready devices, sw1 drifted (a line changed by hand) and sw2 in sync; one selected device not
    ready (no platform); one Offline device, which the default selection leaves out."""
    prefix = "r" + uuid.uuid4().hex[:6]
    names = {key: f"{prefix}-{key}" for key in ("sw1", "sw2", "noplatform", "offline")}
    sims = {}
    for key in ("sw1", "sw2"):
        sims[key] = simulator.add_device(names[key], "127.0.0.1", 0, INTENT.format(name=names[key]))
    sims["sw1"].reset(INTENT.format(name=names["sw1"]).replace("   description uplink", BY_HAND))
    nautobot = FakeNautobot(
        [
            nautobot_device(names["sw1"], sims["sw1"].port),
            nautobot_device(names["sw2"], sims["sw2"].port),
            nautobot_device(names["noplatform"], platform=False),
            nautobot_device(names["offline"], status="Offline"),
        ]
    )
    yield {"names": names, "sims": sims, "nautobot": nautobot}
    nautobot.close()
    for key in sims:
        simulator.remove_device(names[key])


def reconcile(installed, world, *args):
    env = installed.env(
        NAUTOBOT_URL=world["nautobot"].url,
        NAUTOBOT_TOKEN=TOKEN,
        NAPALM_USERNAME=USERNAME,
        NAPALM_PASSWORD=PASSWORD,
        ANSIBLE_SHOW_CUSTOM_STATS="true",
    )
    proc = subprocess.run(
        [tool("ansible-playbook"), "sotsync.nautobot.reconcile", *args],
        env=env,
        cwd=installed.workdir,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = proc.stdout + proc.stderr
    assert PASSWORD not in output and TOKEN not in output
    found = STATS.findall(proc.stdout)
    return proc.returncode, output, json.loads(found[-1])["sotsync_reconcile"] if found else None


def running(world, key):
    return world["sims"][key].running_config


def test_a_dry_run_reports_the_drifted_device_and_notes_it_only(installed, world):
    names, nautobot = world["names"], world["nautobot"]
    before = running(world, "sw1")
    code, out, result = reconcile(installed, world, "-e", "trigger=nightly")
    assert code == 0, out  # drift is a finding: the run succeeds unless fail_on_drift
    assert nautobot.queries == [{"status": ["Active", "Planned", "Staged"]}]  # every device with a ready status
    assert f"{names['sw1']}: DRY RUN mode: Discarding configuration changes" in out
    assert f"-{BY_HAND}" in out.splitlines() and "+   description uplink" in out.splitlines()
    # this Nautobot has no Golden Config: the lines beyond the merge are said not checked by it, never "none";
    # the line changed by hand is in no compliance feature (there is none), read from the NAPALM session
    not_set_up = (
        "Golden Config is not set up to back the devices up and check their compliance (no Golden Config settings)"
    )
    compliance = result.pop("compliance")
    assert compliance["updated"] == 0 and compliance["msg"].startswith("Drift beyond the merge, 2 device(s)")
    assert result == {
        "remediate": False,
        "dry_run": True,
        "devices": 3,
        "drifted": [names["sw1"]],
        "extra": {},
        "not_covered": {
            names["sw1"]: {"count": 1, "lines": ["interface Ethernet1 > description changed by hand"], "more": 0}
        },
        "not_checked": {names["sw1"]: not_set_up, names["sw2"]: not_set_up},
        "committed": 0,
        "in_sync": 1,
        "skipped": [names["noplatform"]],
        "failed": [],
        "error": None,
        "msg": "3 device(s): 0 committed, 1 with differences (dry run), 1 already as intended, "
        "1 skipped (not ready), 0 failed",
    }
    assert f'"drifted: {names["sw1"]}"' in out and '"failed: none"' in out
    assert "Drift check (dry run) of 3 device(s): 1 differ from their intent, 1 in sync" in out
    assert "; 0 with extra lines, 1 with lines in no compliance feature, 2 not checked by Golden Config" in out
    assert f'"not covered (lines in no Golden Config compliance feature): {names["sw1"]} (1 line(s))"' in out
    assert f'"not checked by Golden Config: {names["sw1"]}, {names["sw2"]}"' in out
    assert f"{names['sw1']}:   not covered: interface Ethernet1 > description changed by hand" in out
    assert names["offline"] not in out
    assert running(world, "sw1") == before
    (note,) = nautobot.notes
    assert note["assigned_object_id"] == nautobot.devices[0]["id"]
    assert note["note"].startswith("[info]") and "- trigger: drift check: nightly" in note["note"]
    assert f"-{BY_HAND}" in note["note"]
    assert "**Beyond the merge**" in note["note"] and "Golden Config could NOT check it" in note["note"]


def test_extra_lines_false_is_the_merge_only_check_and_fail_on_not_covered_fails(installed, world):
    names = world["names"]
    code, out, result = reconcile(installed, world, "-e", "extra_lines=false")
    assert code == 0, out
    assert (result["extra"], result["not_covered"], result["not_checked"], result["compliance"]) == (None,) * 4
    assert "Drift check (dry run) of 3 device(s): 1 differ from their intent, 1 in sync, 1 skipped (not ready), " in out
    assert "not covered" not in out and "Beyond the merge" not in world["nautobot"].notes[0]["note"]

    code, out, result = reconcile(installed, world, "-e", "fail_on_not_covered=true")
    assert code == 2, out
    assert f"Drift: 1 device(s) have lines in no Golden Config compliance feature: {names['sw1']}" in out


def test_fail_on_drift_fails_the_run_and_check_mode_writes_nothing(installed, world):
    code, out, result = reconcile(installed, world, "--check", "-e", "fail_on_drift=true")
    assert code == 2, out
    assert f"Drift: 1 device(s) differ from their intended configuration: {world['names']['sw1']}" in out
    assert result["drifted"] == [world["names"]["sw1"]] and result["dry_run"] is True
    assert world["nautobot"].notes == []


def test_remediate_commits_the_difference_then_nothing_differs(installed, world):
    names, nautobot = world["names"], world["nautobot"]
    code, out, result = reconcile(
        installed, world, "-e", "remediate=true", "-e", "fail_on_drift=true", "-e", "extra_lines=false"
    )
    assert code == 0, out  # nothing left differing
    assert f"{names['sw1']}: Configuration committed successfully" in out
    assert (result["remediate"], result["dry_run"], result["committed"]) == (True, False, 1)
    assert result["drifted"] == [names["sw1"]]
    assert "Drift remediation of 3 device(s): 1 differ from their intent (1 committed)" in out
    # this Nautobot has no Golden Config settings: the commit stands, the run says once what to set up and
    # runs no Golden Config job
    assert result["compliance"] is None
    skipped = "Golden Config compliance after the commits skipped: Golden Config is not set up for it (no Golden "
    assert out.count(skipped) >= 1 and "compliance NOT brought up to date" not in out, out
    assert "   description uplink" in running(world, "sw1").splitlines()
    assert world["sims"]["sw1"].pending_commit is None  # committed under commit-confirm, then confirmed
    (note,) = nautobot.notes
    assert note["note"].startswith("[success]") and "- trigger: drift check and remediation: manual" in note["note"]

    code, out, result = reconcile(installed, world, "-e", "fail_on_drift=true")
    assert code == 0, out
    assert result["drifted"] == [] and result["in_sync"] == 2 and '"drifted: none"' in out
    assert result["extra"] == {} and result["not_covered"] == {}  # the line changed by hand is gone
    assert len(nautobot.notes) == 1  # no note for devices in sync


def test_a_filter_selects_and_a_failed_device_fails_the_run(installed, world):
    names, nautobot = world["names"], world["nautobot"]
    code, out, result = reconcile(
        installed, world, "-e", 'filter={"location":"Site A"}', "-e", f"device=ghost-{names['sw2']}"
    )
    assert code == 2, out
    assert {"location": ["Site A"]} in nautobot.queries
    assert f"ghost-{names['sw2']}: FAILED (device_not_found)" in out
    assert result["failed"] == [f"ghost-{names['sw2']}"] and result["drifted"] == [names["sw1"]]
    assert result["skipped"] == sorted([names["noplatform"], names["offline"]])  # a filter takes any status


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        ("dry_run=false", "reconcile is a dry run unless -e remediate=true; it takes no dry_run"),
        (
            "remediate=ture",
            "remediate, fail_on_drift, extra_lines, fail_on_not_covered and remediation_plans take true or false (got ",
        ),
    ],
)
def test_a_wrong_switch_is_refused_before_anything_runs(installed, world, extra, words):
    code, out, _result = reconcile(installed, world, "-e", extra)
    assert code == 2 and words in out, out
    assert world["nautobot"].queries == [] and world["nautobot"].notes == []
