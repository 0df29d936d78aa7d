"""The Junos NETCONF simulator, proven with the real NAPALM ``junos`` driver (PyEZ -> ncclient -> SSH)."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.error
import urllib.request

import pytest
from jnpr.junos.exception import ConnectAuthError, ConnectClosedError, RpcTimeoutError
from napalm import get_network_driver
from napalm.base.exceptions import MergeConfigException, ReplaceConfigException, UnlockError
from ncclient import manager
from ncclient.transport.session import NetconfBase

from lab.simulator.junos_sim import Device, JunosSimulator, compare, parse_config, render_text
from tests.simulator.simhelpers import (
    add_through_control,
    cli_simulator,
    control,
    drive_sample,
    rss_mb,
    scale_figures,
    settled_threads,
    wait_until,
)

USER, PASSWORD = "admin", "sim-Secret-42"
MINUTE = 0.5  # a Junos "minute" lasts 0.5 s here: commit confirmed 1 reverts after 0.5 s

INITIAL = """\
version 23.4R1.9;
system {
    host-name edge1;
    domain-name lab.local;
    name-server {
        10.0.0.53;
    }
    login {
        user admin {
            uid 2000;
            class super-user;
            authentication {
                encrypted-password "$6$salt$hashhash"; ## SECRET-DATA
            }
        }
    }
    services {
        ssh;
        netconf {
            ssh;
        }
    }
    syslog {
        file messages {
            any notice;
        }
    }
    ntp {
        server 10.0.0.1;
    }
}
interfaces {
    ge-0/0/0 {
        description uplink;
        unit 0 {
            family inet {
                address 10.0.0.2/24;
            }
        }
    }
    ge-0/0/1 {
        disable;
    }
    fxp0 {
        unit 0 {
            family inet {
                address 127.0.3.11/24;
            }
        }
    }
}
snmp {
    location lab;
    community public {
        authorization read-only;
    }
}
routing-options {
    static {
        route 0.0.0.0/0 next-hop 10.0.0.1;
    }
}
vlans {
    users {
        vlan-id 10;
    }
}
"""


@pytest.fixture(scope="module")
def sim():
    simulator = JunosSimulator(username=USER, password=PASSWORD, minute_seconds=MINUTE)
    simulator.add_device("edge1", "127.0.3.11", 0, INITIAL)
    simulator.start()
    yield simulator
    simulator.stop()


@pytest.fixture
def dev(sim) -> Device:
    device = sim.device("edge1")
    device.reset(INITIAL)
    yield device
    device.reset(INITIAL)  # also lifts faults, so held sessions are released


def close_sessions(drivers):
    """Close each driver's NETCONF session directly. A napalm junos driver left open closes itself from
    ``__del__`` when the garbage collector gets to it; if that happens while another session is making
    an RPC, ncclient deadlocks (its listener's creation lock is not reentrant): seen here as a test run
    that hung for an hour. So no test leaves a driver open."""
    for drv in drivers:
        try:
            if drv.device.connected:
                drv.device._conn._session.close()
        except Exception:  # noqa: BLE001 - best effort: the session may already be gone
            pass


@pytest.fixture
def connect(dev):
    drivers = []

    def _connect(password: str = PASSWORD, timeout: int = 10, device: Device | None = None, host: str | None = None):
        device = device or dev
        drv = get_network_driver("junos")(
            host or device.address, USER, password, timeout=timeout, optional_args={"port": device.port}
        )
        drivers.append(drv)
        return drv

    yield _connect
    close_sessions(drivers)  # do not leave sessions (and their locks) behind


# ---------------------------------------------------------------------------------------------
# NAPALM driver flows
# ---------------------------------------------------------------------------------------------
def test_open_and_get_facts(connect, dev):
    drv = connect()
    drv.open()
    facts = drv.get_facts()
    assert facts["vendor"] == "Juniper" and facts["model"] == "VSRX"
    assert facts["hostname"] == "edge1" and facts["fqdn"] == "edge1.lab.local"
    assert facts["os_version"] == "23.4R1.9"
    assert facts["serial_number"] == dev.serial_number
    assert facts["uptime"] >= 300
    assert facts["interface_list"] == ["ge-0/0/0", "ge-0/0/1", "fxp0"]
    assert drv.get_interfaces()["ge-0/0/1"]["is_enabled"] is False
    assert drv.is_alive()["is_alive"] is True
    drv.close()


def test_merge_text_and_compare_in_junos_format(connect, dev):
    drv = connect()
    drv.open()
    drv.load_merge_candidate(
        config='system { host-name edge2; }\ninterfaces { ge-0/0/2 { description "new port"; '
        "unit 0 { family inet { address 10.2.0.1/24; } } } }\n"
    )
    assert dev.summary()["lock"]["session_id"] is not None  # NAPALM locks before loading
    assert drv.compare_config() == (
        "[edit system]\n"
        "-  host-name edge1;\n"
        "+  host-name edge2;\n"
        "[edit interfaces]\n"
        "+   ge-0/0/2 {\n"
        '+       description "new port";\n'
        "+       unit 0 {\n"
        "+           family inet {\n"
        "+               address 10.2.0.1/24;\n"
        "+           }\n"
        "+       }\n"
        "+   }"
    )
    candidate = drv.get_config(retrieve="candidate")["candidate"]
    assert "host-name edge2;" in candidate and "host-name edge1;" not in candidate
    drv.discard_config()
    drv.close()


def test_set_format_merge_and_delete(connect, dev):
    drv = connect()
    drv.open()
    drv.load_merge_candidate(
        config="set system ntp server 10.0.0.9 prefer\n"
        "set interfaces ge-0/0/0 unit 0 family inet address 10.0.9.1/24\n"
        "delete snmp location\n"
        "set vlans servers vlan-id 20\n"
    )
    assert drv.compare_config() == (
        "[edit system ntp]\n"
        "+    server 10.0.0.9 prefer;\n"
        "[edit interfaces ge-0/0/0 unit 0 family inet]\n"
        "+        address 10.0.9.1/24;\n"
        "[edit snmp]\n"
        "-  location lab;\n"
        "[edit vlans]\n"
        "+   servers {\n"
        "+       vlan-id 20;\n"
        "+   }"
    )
    drv.discard_config()
    drv.close()


def test_commit_changes_running_and_rollback_history(connect, dev):
    assert dev.rollback_count == 1
    drv = connect()
    drv.open()
    drv.load_merge_candidate(config="snmp { contact noc@example.net; location dc1; }")
    drv.commit_config(message="snmp contact")
    assert "contact noc@example.net;" in dev.running_config and "location dc1;" in dev.running_config
    assert dev.rollback_count == 2 and dev.summary()["lock"] is None  # NAPALM unlocked after the commit
    assert dev.summary(detail=True)["commits"][0]["log"] == "snmp contact"
    drv.load_merge_candidate(config="snmp { contact noc@example.net; }")
    assert drv.compare_config() == ""  # merging what is there changes nothing
    drv.discard_config()
    assert not drv.has_pending_commit()
    drv.close()


def test_commit_confirmed_then_confirm(connect, dev):
    drv = connect()
    drv.open()
    drv.load_merge_candidate(config="system { host-name edge-confirmed; }")
    drv.commit_config(revert_in=120)  # NAPALM: 2 minutes -> <confirmed/><confirm-timeout>2</confirm-timeout>
    pending = dev.pending_commit
    assert pending["minutes"] == 2 and 0 < pending["expires_in"] <= 2 * MINUTE
    assert drv.has_pending_commit() is True
    assert dev.summary(detail=True)["commits"][0]["log"] == "commit confirmed, rollback in 2mins"
    drv.confirm_commit()
    assert dev.pending_commit is None and drv.has_pending_commit() is False
    time.sleep(2 * MINUTE + 0.3)
    assert dev.hostname == "edge-confirmed" and dev.rollback_count == 3
    drv.close()


def test_commit_confirmed_not_confirmed_reverts_by_itself(connect, dev):
    before = dev.running_config
    drv = connect()
    drv.open()
    drv.load_merge_candidate(config="system { host-name edge-temporary; }")
    started = time.monotonic()
    drv.commit_config(revert_in=60)
    assert dev.hostname == "edge-temporary" and drv.has_pending_commit()
    assert wait_until(lambda: dev.running_config == before, timeout=5)
    elapsed = time.monotonic() - started
    assert MINUTE * 0.8 <= elapsed < MINUTE + 1.5, elapsed
    assert dev.pending_commit is None and not drv.has_pending_commit()
    assert dev.rollback_count == 3  # the confirmed commit, then the automatic rollback commit
    assert drv.compare_config() == ""  # the candidate was reverted too
    drv.close()


def test_revert_in_must_be_whole_minutes(connect, dev):
    from napalm.base.exceptions import CommitConfirmException

    drv = connect()
    drv.open()
    drv.load_merge_candidate(config="system { host-name edge2; }")
    with pytest.raises(CommitConfirmException, match="multiple of 60"):
        drv.commit_config(revert_in=90)  # refused by NAPALM itself (and it unlocked)
    assert dev.summary()["lock"] is None and dev.hostname == "edge1"
    drv.discard_config()
    drv.close()


def test_discard_leaves_nothing(connect, dev):
    before = dev.running_config
    drv = connect()
    drv.open()
    drv.load_merge_candidate(config="system { host-name other; } snmp { contact x; }")
    assert dev.summary()["candidate_modified"]
    drv.discard_config()
    assert drv.compare_config() == ""
    detail = dev.summary(detail=True)
    assert detail["candidate_diff"] == "" and detail["lock"] is None and not detail["candidate_modified"]
    assert dev.running_config == before and dev.rollback_count == 1
    drv.close()


@pytest.mark.parametrize(
    ("config", "path", "bad", "message"),
    [
        ("system { host-name ok; frobnicate yes; }", "[edit system]", "frobnicate", "syntax error"),
        ("interfaces { ge-0/0/0 { unit 0 { family inet { adress 10.0.0.3/24; } } } }", None, "adress", None),
        ("set system services netconf bogus", "[edit system services netconf]", "bogus", "syntax error"),
        ("vlans { v1 { vlan-id 5000; } }", "[edit vlans v1 vlan-id]", None, "Value 5000 is not within range (1..4094)"),
    ],
)
def test_rejected_statement_raises_and_leaves_everything_untouched(connect, dev, config, path, bad, message):
    before = dev.running_config
    drv = connect()
    drv.open()
    with pytest.raises(MergeConfigException) as info:
        drv.load_merge_candidate(config=config)
    errs = info.value.args[0]
    assert errs[0]["severity"] == "error"
    if path:
        assert errs[0]["edit_path"] == path
    if bad:
        assert errs[0]["bad_element"] == bad
    assert errs[0]["message"] == (message or "syntax error")
    # NAPALM discarded (load rollback 0) and unlocked
    assert dev.summary()["lock"] is None and not dev.summary()["candidate_modified"]
    assert dev.running_config == before and drv.compare_config() == ""
    drv.close()


def test_rollback_restores_previous_config(connect, dev):
    before = dev.running_config
    drv = connect()
    drv.open()
    drv.load_merge_candidate(config="delete: vlans;\nsystem { host-name edge-new; }")
    drv.commit_config()
    assert "vlans" not in dev.running_config and dev.hostname == "edge-new"
    drv.rollback()  # load rollback 1 + commit
    assert dev.running_config == before and dev.rollback_count == 3
    drv.close()


def test_replace_candidate_and_replace_tag(connect, dev):
    drv = connect()
    drv.open()
    drv.load_merge_candidate(config="snmp { replace: community public { authorization read-write; } }")
    assert "-          authorization read-only;" not in drv.compare_config()  # leaf change shown in place
    assert drv.compare_config() == (
        "[edit snmp community public]\n-    authorization read-only;\n+    authorization read-write;"
    )
    drv.discard_config()
    drv.load_replace_candidate(config="system { host-name minimal; }")  # <load-configuration action="override">
    diff = drv.compare_config()
    assert "[edit]\n-  version 23.4R1.9;" in diff and "-  interfaces {" in diff and "+  host-name minimal;" in diff
    drv.discard_config()
    with pytest.raises(ReplaceConfigException):
        drv.load_replace_candidate(config="system { host-name minimal; nonsense; }")
    drv.close()


def test_get_config_running_round_trips(connect, dev):
    drv = connect()
    drv.open()
    running = drv.get_config(retrieve="running")["running"]
    assert running.lstrip().startswith("## Last changed: ")
    assert running.split("\n", 2)[2] == INITIAL  # after the "## Last changed" line: the config as loaded
    drv.load_replace_candidate(config=running)
    assert drv.compare_config() == ""
    drv.discard_config()
    sanitized = drv.get_config(retrieve="running", sanitized=True)["running"]
    assert "$6$salt" not in sanitized
    drv.close()


def test_wrong_password_is_refused(connect, dev):
    drv = connect(password="wrong")
    with pytest.raises(ConnectAuthError):
        drv.open()
    assert dev.summary()["lock"] is None


def test_lock_held_by_another_session_is_refused(connect, dev):
    holder = connect()
    holder.open()
    holder.device.cu.lock()
    other = connect()
    other.open()
    from napalm.base.exceptions import LockError

    with pytest.raises(LockError, match="configuration database locked by"):
        other.load_merge_candidate(config="system { host-name nope; }")
    holder.load_merge_candidate(config="system { host-name mine; }")  # NAPALM's own _lock: already ours
    assert str(dev.summary()["lock"]["session_id"]) == holder.device._conn.session_id
    # Closing a session that holds the lock discards its uncommitted changes (as Junos does).
    holder.device._conn._session.close()
    assert wait_until(lambda: dev.summary()["lock"] is None)
    assert not dev.summary()["candidate_modified"]
    other.load_merge_candidate(config="system { host-name now-mine; }")
    other.discard_config()
    other.close()


def test_lock_refused_when_candidate_modified_by_another_session(connect, dev):
    """A shared-candidate change without a lock (napalm lock_disable) blocks other sessions' locks."""
    dirty = get_network_driver("junos")(
        dev.address, USER, PASSWORD, timeout=10, optional_args={"port": dev.port, "lock_disable": True}
    )
    try:
        dirty.open()
        dirty.load_merge_candidate(config="system { host-name dirty; }")
        other = connect()
        other.open()
        from napalm.base.exceptions import LockError

        with pytest.raises(LockError, match="configuration database modified"):
            other.load_merge_candidate(config="system { host-name nope; }")
        dirty.discard_config()
        other.close()
    finally:
        close_sessions([dirty])


def test_unresponsive_device_times_out(connect, dev):
    drv = connect(timeout=1)
    drv.open()
    dev.set_faults(unresponsive=True)
    started = time.monotonic()
    with pytest.raises(RpcTimeoutError):
        drv.get_facts()
    assert 0.8 <= time.monotonic() - started < 3
    # A new connection gets no SSH banner at all.
    with socket.create_connection((dev.address, dev.port), timeout=2) as raw:
        raw.settimeout(0.5)
        with pytest.raises(TimeoutError):
            raw.recv(100)
    dev.set_faults(unresponsive=False)
    fresh = connect()
    fresh.open()
    assert fresh.get_facts()["hostname"] == "edge1"
    fresh.close()


def test_delay_slows_every_answer(connect, dev):
    drv = connect()
    drv.open()
    dev.set_faults(delay=0.3)
    started = time.monotonic()
    drv.get_config(retrieve="running")
    assert 0.3 <= time.monotonic() - started < 1.5
    dev.set_faults(delay=0)
    drv.close()


def test_fail_after_commit_then_commit_confirmed_revert_brings_it_back(connect, dev):
    before = dev.running_config
    dev.set_faults(fail_after_commit=True)
    drv = connect(timeout=1)
    drv.open()
    drv.load_merge_candidate(config="system { host-name edge-lost; }")
    with pytest.raises(UnlockError):  # commit answered; the unlock that follows is never answered
        drv.commit_config(revert_in=240)  # 4 "minutes" = 2 s here, more than the 1 s RPC timeout
    assert dev.unresponsive and dev.hostname == "edge-lost"
    assert wait_until(lambda: dev.running_config == before and not dev.unresponsive, timeout=5)
    assert wait_until(lambda: dev.summary()["lock"] is None)  # the silent session is dropped when it comes back
    fresh = connect()
    fresh.open()
    assert fresh.get_facts()["hostname"] == "edge1" and not fresh.has_pending_commit()
    fresh.close()


def test_management_address_follows_commit():
    simulator = JunosSimulator(username=USER, password=PASSWORD, minute_seconds=MINUTE, follow_management_address=True)
    dev = simulator.add_device("mover", "127.0.3.21", 0, INITIAL.replace("127.0.3.11", "127.0.3.21"))
    simulator.start()
    opened = []
    try:

        def driver(host):
            drv = get_network_driver("junos")(host, USER, PASSWORD, timeout=2, optional_args={"port": dev.port})
            opened.append(drv)
            drv.open()
            return drv

        def answers(host):
            try:
                drv = driver(host)
                drv.get_facts()
                drv.close()
            except Exception:  # noqa: BLE001 - any failure means "does not answer there"
                return False
            return True

        old = driver("127.0.3.21")
        old.load_merge_candidate(
            config="set interfaces fxp0 unit 0 family inet address 127.0.3.22/24\n"
            "delete interfaces fxp0 unit 0 family inet address 127.0.3.21/24"
        )
        with pytest.raises(ConnectClosedError):  # answered the commit, then left the old address
            old.commit_config(revert_in=240)  # 4 "minutes" = 2 s here
        assert dev.address == "127.0.3.22"
        assert answers("127.0.3.22") and not answers("127.0.3.21")
        # Not confirmed: the automatic rollback restores the old address.
        assert wait_until(lambda: dev.address == "127.0.3.21", timeout=5)
        assert answers("127.0.3.21") and not answers("127.0.3.22")

        # Confirmed from the new address: it stays there.
        old = driver("127.0.3.21")
        old.load_merge_candidate(
            config="set interfaces fxp0 unit 0 family inet address 127.0.3.22/24\n"
            "delete interfaces fxp0 unit 0 family inet address 127.0.3.21/24"
        )
        with pytest.raises(ConnectClosedError):
            old.commit_config(revert_in=120)
        new = driver("127.0.3.22")
        new.confirm_commit()
        time.sleep(2 * MINUTE + 0.3)
        assert dev.address == "127.0.3.22" and dev.pending_commit is None
        assert "address 127.0.3.22/24;" in dev.running_config
        new.close()
    finally:
        close_sessions(opened)
        simulator.stop()


# ---------------------------------------------------------------------------------------------
# NETCONF details (raw ncclient where the driver has no call)
# ---------------------------------------------------------------------------------------------
def test_netconf_11_chunked_framing_when_offered():
    simulator = JunosSimulator(username=USER, password=PASSWORD, netconf_11=True)
    dev = simulator.add_device("chunky", "127.0.3.31", 0)
    simulator.start()
    try:
        with manager.connect(
            host=dev.address,
            port=dev.port,
            username=USER,
            password=PASSWORD,
            hostkey_verify=False,
            look_for_keys=False,
            allow_agent=False,
            device_params={"name": "junos"},
        ) as m:
            assert "urn:ietf:params:netconf:base:1.1" in m.server_capabilities
            assert m._session._base == NetconfBase.BASE_11
            reply = m.rpc(etree_elem("<get-software-information/>"))
            assert reply.xpath("//host-name")[0].text == "chunky"
            big = 'system { host-name chunky; }\nsnmp { description "' + "x" * 70000 + '"; }\n'
            m.load_configuration(action="merge", format="text", config=big)
            cfg = m.rpc(etree_elem('<get-configuration compare="rollback" rollback="0" format="text"/>'))
            assert "x" * 70000 in cfg.xpath("//configuration-output")[0].text
    finally:
        simulator.stop()


def etree_elem(text: str):
    from lxml import etree

    return etree.fromstring(text)


def test_junos_refuses_unknown_rpc(connect, dev):
    drv = connect()
    drv.open()
    from jnpr.junos.exception import RpcError

    with pytest.raises(RpcError, match="syntax error"):
        drv.device.rpc.get_frobnication_information()
    drv.close()


# ---------------------------------------------------------------------------------------------
# Model: parse/render/compare without the network
# ---------------------------------------------------------------------------------------------
def test_parse_render_round_trip_and_flat_statements():
    tree = parse_config(INITIAL)
    assert render_text(tree) == INITIAL
    flat = parse_config("interfaces ge-0/0/5 unit 0 family inet address 10.5.0.1/24;\nsystem host-name x;\n")
    assert render_text(flat).startswith("system {\n    host-name x;\n}\ninterfaces {\n    ge-0/0/5 {")
    assert compare(tree, tree) == ""


# ---------------------------------------------------------------------------------------------
# CLI mode and control API
# ---------------------------------------------------------------------------------------------


def test_cli_two_devices_and_control_api(tmp_path):
    config = {
        "username": USER,
        "port": 0,
        "minute_seconds": MINUTE,
        "devices": [
            {"name": "cli-a", "address": "127.0.3.41", "running_config": "system { host-name cli-a; }\n"},
            {"name": "cli-b", "address": "127.0.3.42"},
        ],
    }
    opened = []
    with cli_simulator(tmp_path, "junos", config, {"JUNOS_SIM_PASSWORD": PASSWORD}) as (base, log):
        try:
            status, devices = control(base, "/devices")
            assert status == 200 and [d["name"] for d in devices] == ["cli-a", "cli-b"]
            ports = {d["name"]: (d["address"], d["port"]) for d in devices}

            def driver(name, timeout=5):
                address, port = ports[name]
                drv = get_network_driver("junos")(
                    address, USER, PASSWORD, timeout=timeout, optional_args={"port": port}
                )
                opened.append(drv)
                drv.open()
                return drv

            assert driver("cli-a").get_facts()["hostname"] == "cli-a"
            drv = driver("cli-b")
            assert drv.get_facts()["hostname"] == "cli-b"
            drv.load_merge_candidate(
                config="system { host-name cli-b-renamed; login { user ops { class super-user; authentication { "
                'encrypted-password "$6$topsecret$hash"; } } } }'
            )
            status, detail = control(base, "/devices/cli-b")
            assert detail["lock"]["user"] == USER and "+  host-name cli-b-renamed;" in detail["candidate_diff"]
            drv.commit_config(revert_in=120)
            status, detail = control(base, "/devices/cli-b")
            assert detail["pending_commit"]["minutes"] == 2 and detail["rollback_count"] == 2
            drv.confirm_commit()
            drv.close()

            status, summary = control(base, "/devices/cli-b/faults", "POST", b'{"unresponsive": true, "delay": 0.1}')
            assert status == 200 and summary["unresponsive"] is True and summary["delay"] == 0.1
            assert control(base, "/devices/cli-b/faults", "POST", b'{"unresponsive": false, "delay": 0}')[0] == 200
            assert driver("cli-b").get_facts()["hostname"] == "cli-b-renamed"
            assert control(base, "/devices/cli-b/faults", "POST", b'{"bogus": 1}')[0] == 400
            assert control(base, "/devices/cli-b/faults", "POST", b'{"delay": "slow"}')[0] == 400

            req = urllib.request.Request(
                base + "/devices/cli-a/running-config", data=b"system { host-name reset-a; }\n", method="PUT"
            )
            with urllib.request.urlopen(req, timeout=5) as resp:
                assert json.loads(resp.read())["hostname"] == "reset-a"
            assert control(base, "/devices/cli-a/running-config", "PUT", b"system { bogus; }")[0] == 400

            status, added = control(
                base,
                "/devices",
                "POST",
                json.dumps({"name": "cli-c", "address": "127.0.3.43", "port": 0}).encode(),
            )
            assert status == 201
            ports["cli-c"] = (added["address"], added["port"])
            assert driver("cli-c").get_facts()["hostname"] == "cli-c"
            assert control(base, "/devices", "POST", b'{"name": "cli-c"}')[0] == 409
            assert control(base, "/devices/cli-c", "DELETE")[0] == 200
            assert control(base, "/devices/nope")[0] == 404
        finally:
            close_sessions(opened)
    output = log.read_text()
    assert PASSWORD not in output and "topsecret" not in output
    assert "commit confirmed by admin" in output and "load replace/text" in output


def test_hundred_devices_added_through_the_control_api(capsys, caplog):
    """The mixed-fleet benchmark's load: 100 devices added one request at a time (each on its own
    address, all on one port; one SSH host key for all), then NAPALM sessions to a sample of them, one
    and then several at once (a dry run: merge, compare, discard). Every session ends cleanly (no
    connection reset on either side), and threads come back to the simulator's one."""
    count, sample = 100, 5
    threads_before = threading.active_count()
    simulator = JunosSimulator(username=USER, password=PASSWORD, minute_seconds=MINUTE)
    simulator.start(control_port=0)
    base = f"http://127.0.0.1:{simulator.control_port}"
    opened = []
    try:
        rss_before = rss_mb()
        started = time.monotonic()
        added = add_through_control(base, count, "127.0.6", lambda name: f"system {{ host-name {name}; }}\n")
        add_seconds = time.monotonic() - started
        rss_added, threads_added = rss_mb(), threading.active_count()
        assert len({d["address"] for d in added}) == count and len({d["port"] for d in added}) == 1
        assert [d["name"] for d in control(base, "/devices")[1]] == [d["name"] for d in added]
        assert threads_added == threads_before + 1  # the simulator's loop, whatever the number of devices

        def cycle(summary: dict) -> tuple[str, str]:
            drv = get_network_driver("junos")(
                summary["address"], USER, PASSWORD, timeout=10, optional_args={"port": summary["port"]}
            )
            opened.append(drv)
            drv.open()
            try:
                hostname = drv.get_facts()["hostname"]
                drv.load_merge_candidate(config=f"system {{ host-name {summary['name']}-new; }}")
                diff = drv.compare_config()
                drv.discard_config()
            finally:
                drv.close()
            return hostname, diff

        picks = added[:: count // sample]
        results, drive_seconds = drive_sample(cycle, picks)
        assert results == [
            (d["name"], f"[edit system]\n-  host-name {d['name']};\n+  host-name {d['name']}-new;") for d in picks
        ]
        assert all(control(base, f"/devices/{d['name']}")[1]["lock"] is None for d in picks)
        assert wait_until(lambda: simulator.open_connections == 0)
        threads_idle = settled_threads(threads_before + 1)
        assert threads_idle <= threads_before + 1
        rss_after = rss_mb()
        assert rss_after - rss_before < 100
        assert all(control(base, f"/devices/{d['name']}", "DELETE")[0] == 200 for d in added)
        assert control(base, "/devices")[1] == []
    finally:
        close_sessions(opened)
        simulator.stop()
    assert add_seconds < 20
    resets = [r.getMessage() for r in caplog.records if "Socket exception" in r.getMessage()]
    assert resets == []
    with capsys.disabled():
        rss = (rss_before, rss_added, rss_after)
        print(scale_figures("junos", count, add_seconds, len(picks), drive_seconds, rss, (threads_added, threads_idle)))
