"""Benchmark: the device side of provisioning (NAPALM merge dry run) against many simulated EOS devices.

What is compared, in the same run and against the same simulator process:

- BASELINE ``bare napalm``: what napalm-ansible does, nothing more: ``get_network_driver("eos")``,
  ``open``, ``load_merge_candidate``, ``compare_config``, ``discard_config``, ``close``;
- ``sotsync deploy()``: our flow at the module_utils level (``make_driver`` + ``deploy(dry_run=True)``,
  intent passed directly, no Nautobot): the same device calls plus our bookkeeping and error handling.

Both run sequentially and on a thread pool, for N devices. The ratio is ours / baseline for the same
N and mode, so it is our overhead per device. Each figure is the median of ROUNDS rounds (the order of
the two flows alternates between rounds). Correctness is asserted, speed is only printed: every diff is
exactly the expected one, both flows make the same number of eAPI requests, and at the end no device
has an open configuration session, a pending commit or a changed hostname.

Optionally (if ansible-playbook and napalm-ansible are installed) napalm-ansible's
``napalm_install_config`` module, run by ``ansible-playbook`` against a subset of the devices, is
compared per device with the bare napalm calls on the same devices.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from tests.bench.benchlib import SimulatorProcess, median, table

from ansible_collections.sotsync.nautobot.plugins.module_utils import messages
from ansible_collections.sotsync.nautobot.plugins.module_utils.deploy import deploy, make_driver

napalm = pytest.importorskip("napalm", reason="napalm is not installed")

USERNAME, PASSWORD = "bench", "bench-sim-password-7"
SIZES = (50, 200)
WORKERS = 8
ROUNDS = 5
TIMEOUT = 10  # seconds per device call: a stuck device fails the run instead of hanging it
ANSIBLE_DEVICES = 16
ANSIBLE_FORKS = 8
ANSIBLE_TIMEOUT = 240


# --- the devices ---------------------------------------------------------------------------------
def device_name(i):
    return f"access-{i:03d}"


def address(i):
    return f"127.0.2.{i + 1}"  # 127.0.2.1 .. 127.0.2.200: not the lab's 127.0.1.x


def running_config(i):
    """What device ``i`` runs: ~110 lines, an old hostname and domain, every access port the same."""
    lines = [
        f"hostname {device_name(i)}-old",
        "ip domain-name old.lab.sotsync.test",
        "ntp server 10.0.0.1",
        "username netops privilege 15 role network-admin secret sha512 $6$benchsalt$benchhash",
        "spanning-tree mode mstp",
    ]
    for vlan, name in ((10, "users"), (20, "printers"), (30, "cameras")):
        lines += [f"vlan {vlan}", f"   name {name}"]
    lines += ["interface Management1", "   description management", f"   ip address {address(i)}/24"]
    for port in range(1, 25):
        lines += [
            f"interface Ethernet{port}",
            f"   description access port {port}",
            "   switchport access vlan 10",
            "   spanning-tree portfast",
        ]
    return "\n".join(lines) + "\n"


def uplink(i):
    return 1 + i % 24


def intent(i):
    """Device ``i``'s intended config (as Golden Config renders it): 4 changed lines, one new VLAN."""
    text = running_config(i)
    text = text.replace(f"hostname {device_name(i)}-old", f"hostname {device_name(i)}")
    text = text.replace("old.lab.sotsync.test", "site-a.lab.sotsync.test")
    text = text.replace(f"   description access port {uplink(i)}\n", f"   description uplink to dist-{i % 4}\n")
    return f"! intended configuration for {device_name(i)}\n{text}vlan 40\n   name voice\nend\n"


def expected_changes(i):
    """The +/- lines of device ``i``'s diff (sorted; ``!`` separators left out: where difflib puts them
    depends on how the hunks align)."""
    return sorted(
        [
            f"-hostname {device_name(i)}-old",
            f"+hostname {device_name(i)}",
            "-ip domain-name old.lab.sotsync.test",
            "+ip domain-name site-a.lab.sotsync.test",
            "+vlan 40",
            "+   name voice",
            f"-   description access port {uplink(i)}",
            f"+   description uplink to dist-{i % 4}",
        ]
    )


def changes(diff):
    """The +/- lines of a unified diff, sorted, without the file header and ``!`` separators."""
    return sorted(
        line
        for line in (diff or "").splitlines()
        if line.startswith(("+", "-")) and not line.startswith(("+++", "---")) and line[1:].strip() != "!"
    )


# --- the two flows -------------------------------------------------------------------------------
class Target:
    """One device: where it listens and what to merge (built before any timing)."""

    def __init__(self, index, host, port):
        self.index, self.host, self.port = index, host, port
        self.intent = intent(index)


def bare_napalm(target):
    """BASELINE: the NAPALM calls alone, as napalm-ansible's napalm_install_config makes them."""
    driver_class = napalm.get_network_driver("eos")
    device = driver_class(
        hostname=target.host,
        username=USERNAME,
        password=PASSWORD,
        timeout=TIMEOUT,
        optional_args={"transport": "http", "port": target.port},
    )
    device.open()
    device.load_merge_candidate(config=target.intent)
    diff = device.compare_config()
    device.discard_config()
    device.close()
    return diff


def sotsync_deploy(target):
    """Our flow: make_driver + deploy(dry_run=True): open, merge, compare, discard, close."""
    driver = make_driver("eos", target.host, USERNAME, PASSWORD, TIMEOUT, {"transport": "http", "port": target.port})
    result = deploy(driver, target.intent, dry_run=True, host=target.host)
    assert result.dry_run and not result.committed and result.msg == messages.DRY_RUN
    return result.diff


def run(flow, targets, workers):
    """Run ``flow`` on every target; return (seconds, diffs in target order)."""
    if workers == 1:
        started = time.perf_counter()
        diffs = [flow(t) for t in targets]
        return time.perf_counter() - started, diffs
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="bench") as pool:
        started = time.perf_counter()
        diffs = list(pool.map(flow, targets))
        elapsed = time.perf_counter() - started
    return elapsed, diffs


def check_diffs(targets, diffs, label):
    assert len(diffs) == len(targets)
    for target, diff in zip(targets, diffs, strict=True):
        assert changes(diff) == expected_changes(target.index), f"{label}: unexpected diff on {target.host}"


def assert_devices_untouched(sim, count):
    for entry in sim.summary():
        assert entry["open_sessions"] == [], f"{entry['name']} has open sessions {entry['open_sessions']}"
        assert entry["pending_commit"] is None, f"{entry['name']} has a pending commit"
    hostnames = {d["name"]: d["hostname"] for d in sim.summary()}
    assert hostnames == {device_name(i): f"{device_name(i)}-old" for i in range(count)}  # dry run: unchanged


@pytest.fixture(scope="module")
def simulator(tmp_path_factory):
    count = max(SIZES)
    sim = SimulatorProcess(
        tmp_path_factory.mktemp("eos-sim"),
        USERNAME,
        PASSWORD,
        [(device_name(i), address(i), running_config(i)) for i in range(count)],
    )
    yield sim
    sim.stop()


def targets_for(sim, count):
    return [Target(i, *sim.devices[device_name(i)]) for i in range(count)]


# --- the benchmarks ------------------------------------------------------------------------------
def test_bench_deploy_dry_run(simulator, capsys):
    """Our deploy flow vs bare NAPALM calls, N devices, sequential and on a thread pool."""
    flows = {"bare napalm": bare_napalm, "sotsync deploy()": sotsync_deploy}
    rows = []
    for count in SIZES:
        targets = targets_for(simulator, count)
        names = {device_name(i) for i in range(count)}
        for workers in (1, WORKERS):
            mode = "sequential" if workers == 1 else f"{workers} threads"
            seconds = {name: [] for name in flows}
            requests = {name: [] for name in flows}
            for round_index in range(ROUNDS):
                order = list(flows) if round_index % 2 == 0 else list(reversed(flows))
                for name in order:
                    before = simulator.requests(names)
                    elapsed, diffs = run(flows[name], targets, workers)
                    requests[name].append(simulator.requests(names) - before)
                    check_diffs(targets, diffs, f"{name}, {mode}, round {round_index + 1}")
                    seconds[name].append(elapsed)
            # Same device conversation: our flow adds no eAPI round trip.
            assert requests["sotsync deploy()"] == requests["bare napalm"]
            base = median(seconds["bare napalm"])
            for name in flows:
                total = median(seconds[name])
                rows.append(
                    (
                        f"{name}, {mode}" + (" (baseline)" if name == "bare napalm" else ""),
                        count,
                        total,
                        total / count * 1000,
                        f"{total / base:.2f}x",
                        f"{(total - base) / count * 1000:+.3f}",
                        requests[name][0] // count,
                        f"{min(seconds[name]):.3f}-{max(seconds[name]):.3f}",
                    )
                )
    assert_devices_untouched(simulator, max(SIZES))
    with capsys.disabled():
        print()
        print(
            table(
                f"NAPALM merge dry run per device (eos driver, http, simulator in its own process; "
                f"median of {ROUNDS} rounds)",
                (
                    "flow",
                    "n",
                    "total s",
                    "per-device ms",
                    "ratio vs baseline",
                    "overhead ms/device",
                    "eAPI req/device",
                    "rounds min-max s",
                ),
                rows,
            )
        )


def _ansible_playbook():
    candidate = Path(sys.executable).with_name("ansible-playbook")
    return str(candidate) if candidate.exists() else shutil.which("ansible-playbook")


def test_bench_napalm_install_config_vs_bare(simulator, tmp_path, capsys):
    """napalm-ansible's napalm_install_config (dry run, via ansible-playbook) vs bare NAPALM, per device."""
    playbook_bin = _ansible_playbook()
    spec = importlib.util.find_spec("napalm_ansible")
    if playbook_bin is None or spec is None or not spec.submodule_search_locations:
        pytest.skip("ansible-playbook or napalm-ansible is not installed")
    library = Path(list(spec.submodule_search_locations)[0]) / "modules"
    if not (library / "napalm_install_config.py").exists():
        pytest.skip("napalm-ansible has no napalm_install_config module")

    targets = targets_for(simulator, ANSIBLE_DEVICES)
    names = {device_name(t.index) for t in targets}
    work = tmp_path / "ansible"
    (work / "configs").mkdir(parents=True)
    (work / "diffs").mkdir()
    hosts = []
    for t in targets:
        config_file = work / "configs" / f"{device_name(t.index)}.cfg"
        config_file.write_text(t.intent, encoding="utf-8")
        hosts.append(f"    {device_name(t.index)}: {{eos_host: '{t.host}', eos_port: {t.port}}}")
    (work / "inventory.yml").write_text(
        "all:\n"
        "  vars:\n"
        f"    ansible_connection: local\n"
        f"    ansible_python_interpreter: '{sys.executable}'\n"
        "  hosts:\n" + "\n".join(hosts) + "\n",
        encoding="utf-8",
    )
    (work / "noop.yml").write_text(
        textwrap.dedent(
            """\
            - name: Ansible's own cost (no module runs)
              hosts: all
              gather_facts: false
              tasks:
                - name: Nothing (an action that runs in the controller, no module)
                  ansible.builtin.debug:
                    msg: "{{ inventory_hostname }}"
            """
        ),
        encoding="utf-8",
    )
    (work / "install.yml").write_text(
        textwrap.dedent(
            f"""\
            - name: napalm_install_config dry run (merge, diff, discard)
              hosts: all
              gather_facts: false
              tasks:
                - name: Merge candidate and get the diff
                  napalm_install_config:
                    hostname: "{{{{ eos_host }}}}"
                    username: {USERNAME}
                    password: {PASSWORD}
                    dev_os: eos
                    timeout: {TIMEOUT}
                    config_file: "{work}/configs/{{{{ inventory_hostname }}}}.cfg"
                    commit_changes: false
                    replace_config: false
                    get_diffs: true
                    diff_file: "{work}/diffs/{{{{ inventory_hostname }}}}.diff"
                    optional_args:
                      transport: http
                      port: "{{{{ eos_port }}}}"
            """
        ),
        encoding="utf-8",
    )
    (work / "ansible.cfg").write_text(
        f"[defaults]\nforks = {ANSIBLE_FORKS}\nlibrary = {library}\nretry_files_enabled = false\n"
        f"local_tmp = {work}/tmp\nremote_tmp = {work}/tmp\n",
        encoding="utf-8",
    )
    env = dict(os.environ)
    env.update(
        {
            "ANSIBLE_CONFIG": str(work / "ansible.cfg"),
            "ANSIBLE_HOME": str(work / "home"),
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_DEPRECATION_WARNINGS": "0",
        }
    )

    def playbook(name):
        started = time.perf_counter()
        done = subprocess.run(
            [playbook_bin, "-i", str(work / "inventory.yml"), str(work / name)],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=ANSIBLE_TIMEOUT,
        )
        elapsed = time.perf_counter() - started
        assert done.returncode == 0, f"{name} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        assert "failed=0" in done.stdout and "unreachable=0" in done.stdout
        return elapsed

    noop_seconds = playbook("noop.yml")
    before = simulator.requests(names)
    install_seconds = playbook("install.yml")
    install_requests = simulator.requests(names) - before
    for t in targets:
        diff = (work / "diffs" / f"{device_name(t.index)}.diff").read_text(encoding="utf-8")
        assert changes(diff) == expected_changes(t.index), f"napalm_install_config: unexpected diff on {t.host}"

    bare_runs = []
    for _ in range(ROUNDS):  # cheap: the median of ROUNDS runs
        before = simulator.requests(names)
        elapsed, diffs = run(bare_napalm, targets, ANSIBLE_FORKS)
        bare_requests = simulator.requests(names) - before
        check_diffs(targets, diffs, "bare napalm")
        bare_runs.append(elapsed)
    bare_seconds = median(bare_runs)
    assert install_requests == bare_requests  # the same device conversation
    assert_devices_untouched(simulator, max(SIZES))

    n = len(targets)
    rows = [
        (
            f"bare napalm, {ANSIBLE_FORKS} threads (baseline, median of {ROUNDS})",
            n,
            bare_seconds,
            bare_seconds / n * 1000,
            "1.00x",
        ),
        (
            f"ansible-playbook, debug task only, forks {ANSIBLE_FORKS}",
            n,
            noop_seconds,
            noop_seconds / n * 1000,
            f"{noop_seconds / bare_seconds:.2f}x",
        ),
        (
            f"ansible-playbook napalm_install_config, forks {ANSIBLE_FORKS}",
            n,
            install_seconds,
            install_seconds / n * 1000,
            f"{install_seconds / bare_seconds:.2f}x",
        ),
    ]
    with capsys.disabled():
        print()
        print(
            table(
                "napalm-ansible napalm_install_config (dry run, ansible-playbook wall time) vs bare NAPALM calls "
                "(one ansible-playbook run each)",
                ("flow", "n", "total s", "per-device ms", "ratio vs baseline"),
                rows,
            )
        )
