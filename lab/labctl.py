#!/usr/bin/env python3
"""The lab: a real Nautobot 3 with Golden Config, its services, a template repository, simulated
EOS devices and a network namespace for webhooks. A test fixture and the demo's world.

    python -m lab.labctl up [--reset]   start (and on first run build) everything; quick and harmless
                                        when up; --reset also resets the simulated devices' configuration
    python -m lab.labctl down           stop exactly what ``up`` started
    python -m lab.labctl status         what runs, where
    python -m lab.labctl destroy        down, then drop the lab's database and remove its folder
    python -m lab.labctl prune [--hours H]  delete object changes, job results and notes older than H
                                        hours (``up`` does it for 12 h, at most once an hour)

(from the checkout's root, as ``scripts/lab`` runs it: ``lab`` is a package)

Everything lives under one folder (``$SOTSYNC_LAB_DIR``, default ``<checkout>/.lab``): logs, PIDs,
the lab's own virtual environment, the Nautobot root, Git repositories and the generated secrets.
Runs with the collection's virtual environment (it needs pynautobot and requests), as root (apt,
PostgreSQL, network namespaces).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAB_SRC = ROOT / "lab"
LAB = Path(os.environ.get("SOTSYNC_LAB_DIR", ROOT / ".lab")).resolve()
LOGS = LAB / "logs"
PIDS = LAB / "pids"
VENV = LAB / "venv"
NB_ROOT = LAB / "nautobot"
GIT = LAB / "git"
SECRETS = LAB / "secrets.json"
# Each platform of the lab has its own device login (the same username, another password), kept the way
# teams keep them and read through each device's Nautobot secrets group, by Golden Config's nornir and by
# the collection alike: EOS from the environment (NAPALM_USERNAME / NAPALM_PASSWORD, also the global
# login), NX-OS and IOS each from a text file of its own, Junos from an environment variable of its own.
NXOS_PASSWORD_FILE = LAB / "device-secrets" / "nxos-password"
IOS_PASSWORD_FILE = LAB / "device-secrets" / "ios-password"
JUNOS_PASSWORD_VAR = "LAB_JUNOS_PASSWORD"  # noqa: S105 - the name of a variable, not a value
# simulator service -> its key in secrets.json
SIM_PASSWORD_KEY = {
    "eos-sim": "device_password",
    "nxos-sim": "nxos_password",
    "junos-sim": "junos_password",
    "ios-sim": "ios_password",
}
STATE = LAB / "state.json"

NAUTOBOT_HOST, NAUTOBOT_PORT = "127.0.0.1", 8080
GIT_HTTP_PORT = 8081
GIT_DAEMON_PORT = 9418
SIM_PORT, SIM_CONTROL_PORT = 9080, 9079
# One simulator per platform, each serving its devices on their own addresses at SIM_PORT:
# service name -> (Nautobot network driver, module, password variable, control port, extra settings).
SIMULATORS = {
    "eos-sim": ("arista_eos", "lab.simulator.eos_sim", "EOS_SIM_PASSWORD", SIM_CONTROL_PORT, {}),
    "nxos-sim": ("cisco_nxos", "lab.simulator.nxos_sim", "NXOS_SIM_PASSWORD", 9078, {}),
    # A Junos "minute" of commit confirmed lasts JUNOS_MINUTE seconds in the lab (a real box: 60), so
    # that a commit left unconfirmed reverts within a test's patience; napalm still asks in minutes.
    "junos-sim": ("juniper_junos", "lab.simulator.junos_sim", "JUNOS_SIM_PASSWORD", 9077, {"minute_seconds": 10}),
    # the same for the minutes of IOS's revert timer (configure terminal revert timer N)
    "ios-sim": ("cisco_ios", "lab.simulator.ios_sim", "IOS_SIM_PASSWORD", 9076, {"minute_seconds": 10}),
}
# The Nautobot job queue the lab's daemon runs Golden Config's job on, served by a Celery worker of its own.
RENDER_QUEUE = "sotsync-render"
PG_PORT, REDIS_PORT = 5432, 6379
NETNS = "sotsync-lab"
VETH_HOST, VETH_NS = "sotsync-h", "sotsync-n"
HOST_ADDR, NS_ADDR = "10.213.7.1", "10.213.7.2"
SOURCE_PORT = 5000

T0 = time.monotonic()


def log(msg: str) -> None:
    print(f"[lab {time.monotonic() - T0:6.1f}s] {msg}", flush=True)


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    kw.setdefault("check", True)
    return subprocess.run(cmd, **kw)


def log_tail(logfile: Path | None, lines: int = 15) -> str:
    """The last ``lines`` lines of a service's log, for an error message ("" when there is none)."""
    if logfile is None or not logfile.exists():
        return ""
    with open(logfile, "rb") as f:
        f.seek(0, os.SEEK_END)
        f.seek(max(0, f.tell() - 64 * 1024))
        tail = f.read().decode(errors="replace").splitlines()[-lines:]
    return "\n".join("    " + ln for ln in tail)


class NotReady(Exception):
    """A lab service did not answer its readiness check in time."""


def wait_for(what: str, check, timeout: float, interval: float = 0.5, logfile: Path | None = None):
    """Poll ``check`` (which asks the service itself) until it returns something true. On time-out,
    exit with the service's name, its log's path and the log's last lines."""
    try:
        return poll(what, check, timeout, interval, logfile)
    except NotReady as exc:
        sys.exit(f"ERROR: {exc}")


def poll(what: str, check, timeout: float, interval: float = 0.5, logfile: Path | None = None):
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() >= deadline:
            break
        time.sleep(interval)
    msg = f"{what} did not answer within {timeout:.0f} s"
    if logfile is not None:
        msg += f"; its log is {logfile}"
        tail = log_tail(logfile)
        if tail:
            msg += f", ending:\n{tail}"
    raise NotReady(msg)


# --------------------------------------------------------------------------------------------
# readiness: each asks the service itself (a connection, its API, Celery's control ping), never
# its log text, which differs from one start to the next
# --------------------------------------------------------------------------------------------
def redis_ready(host: str = "127.0.0.1", port: int = REDIS_PORT, timeout: float = 2.0) -> bool:
    """Redis answers PING with +PONG (a port that accepts connections is not enough: another service
    may hold it, or Redis may still be loading)."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def postgres_ready(port: int = PG_PORT) -> bool:
    """PostgreSQL accepts connections (pg_isready asks the server; it answers "rejecting
    connections" while it starts or recovers)."""
    try:
        res = subprocess.run(
            ["pg_isready", "-q", "-h", "127.0.0.1", "-p", str(port), "-t", "3"], check=False, timeout=10
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return res.returncode == 0


def celery_pong_nodes(output: str) -> set[str]:
    """The node names that answered ``celery inspect ping --json``: its stdout is one JSON object,
    node name -> {"ok": "pong"} (anything else around it, such as a warning line, is ignored)."""
    for line in output.splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            replies = json.loads(line)
        except ValueError:
            continue
        if isinstance(replies, dict):
            return {node for node, reply in replies.items() if isinstance(reply, dict) and reply.get("ok") == "pong"}
    return set()


def celery_nodes() -> dict[str, str]:
    """The lab's Celery workers: service name -> Celery node name."""
    host = socket.gethostname()
    return {"celery": f"celery@{host}", "celery-render": f"render@{host}"}


def celery_ping(sec: dict, nodes: list[str], timeout: float = 3.0) -> set[str]:
    """Ask the workers through the broker (Celery's control ping to their node names): the nodes
    that answered."""
    try:
        res = nb(
            ["celery", "inspect", "ping", "--json", "--timeout", str(timeout), "-d", ",".join(nodes)],
            sec,
            check=False,
            capture_output=True,
            text=True,
            timeout=120,
        )
    except subprocess.TimeoutExpired:
        return set()
    return celery_pong_nodes(res.stdout)


def http_ok(url: str, headers: dict | None = None, timeout: float = 3.0) -> bool:
    import requests

    try:
        return requests.get(url, headers=headers or {}, timeout=timeout).status_code == 200
    except requests.RequestException:
        return False


def netns_listening(netns: str, port: int) -> bool:
    """A socket listens on ``port`` inside ``netns`` (asked of the kernel with ss)."""
    res = run(
        ["ip", "netns", "exec", netns, "ss", "-Hltn", f"sport = :{port}"], check=False, capture_output=True, text=True
    )
    return res.returncode == 0 and bool(res.stdout.strip())


# --------------------------------------------------------------------------------------------
# state: what this lab started (so that ``down`` stops exactly that)
# --------------------------------------------------------------------------------------------
def load_state() -> dict:
    return json.loads(STATE.read_text()) if STATE.exists() else {}


def save_state(state: dict) -> None:
    STATE.write_text(json.dumps(state, indent=2))


def load_secrets() -> dict:
    """Generated once per lab: nothing in the lab has a default password. A lab made before a key
    existed is given it."""
    if SECRETS.exists():
        data = json.loads(SECRETS.read_text())
        keys = ("nxos_password", "junos_password", "ios_password")
        missing = {k: secrets.token_urlsafe(12) for k in keys if k not in data}
        if missing:
            data.update(missing)
            SECRETS.write_text(json.dumps(data, indent=2))
        return data
    data = {
        "db_password": secrets.token_hex(16),
        "superuser": "admin",
        "superuser_password": secrets.token_urlsafe(16),
        "token": secrets.token_hex(20),
        "secret_key": secrets.token_urlsafe(50),
        "device_username": "sotsync",
        "device_password": secrets.token_urlsafe(12),
        "nxos_password": secrets.token_urlsafe(12),
        "junos_password": secrets.token_urlsafe(12),
        "ios_password": secrets.token_urlsafe(12),
        "webhook_secret": secrets.token_hex(24),
    }
    SECRETS.write_text(json.dumps(data, indent=2))
    SECRETS.chmod(0o600)
    return data


# What each service's command line contains: a pid file whose pid now belongs to another process
# (the lab's processes died, the pid was reused) is stale, not "running".
SIGNATURES = {
    "nautobot": "runserver",
    "celery": "celery",
    "celery-render": RENDER_QUEUE,
    "redis": "redis-server",
    "git-http": "http.server",
    "git-daemon": "daemon",
    "eos-sim": "eos_sim",
    "nxos-sim": "nxos_sim",
    "junos-sim": "junos_sim",
    "ios-sim": "ios_sim",
    "webhook-relay": "ns_relay",
}


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def pid_alive(name: str) -> int | None:
    """The pid of the lab's running ``name`` service, or None (no pid file, a dead pid, a zombie, or a
    pid now used by another program: the pid file is stale)."""
    pidfile = PIDS / f"{name}.pid"
    if not pidfile.exists():
        return None
    try:
        pid = int(pidfile.read_text().strip())
        os.kill(pid, 0)
    except (ValueError, ProcessLookupError, PermissionError):
        return None
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None
    if state == "Z" or SIGNATURES.get(name, "") not in cmdline(pid):
        return None
    return pid


def spawn(name: str, cmd: list[str], env: dict | None = None, cwd: Path | None = None) -> int:
    """Start a background process in its own session, output to logs/<name>.log, PID recorded."""
    logfile = LOGS / f"{name}.log"
    with open(logfile, "ab") as out:
        proc = subprocess.Popen(
            cmd,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=cwd,
            start_new_session=True,
        )
    (PIDS / f"{name}.pid").write_text(str(proc.pid))
    return proc.pid


def stop(name: str, timeout: float = 15) -> bool:
    pid = pid_alive(name)
    if pid is None:
        (PIDS / f"{name}.pid").unlink(missing_ok=True)
        return False
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and pid_alive(name):
        time.sleep(0.2)
    if pid_alive(name):
        os.killpg(pid, signal.SIGKILL)
    (PIDS / f"{name}.pid").unlink(missing_ok=True)
    return True


def sha256(*paths: Path) -> str:
    h = hashlib.sha256()
    for p in paths:
        for f in sorted(p.rglob("*")) if p.is_dir() else [p]:
            if f.is_file():
                h.update(str(f.relative_to(p.parent)).encode())
                h.update(f.read_bytes())
    return h.hexdigest()


# --------------------------------------------------------------------------------------------
# Debian services: PostgreSQL and Redis
# --------------------------------------------------------------------------------------------
def apt_install(packages: dict[str, str]) -> None:
    """Install the Debian packages whose command is missing ({package: command})."""
    missing = [pkg for pkg, command in packages.items() if not shutil.which(command)]
    if not missing:
        return
    if os.geteuid() != 0:
        sys.exit(f"ERROR: the lab needs Debian packages {missing}; install them or run as root")
    log(f"installing Debian packages: {' '.join(missing)}")
    run(["apt-get", "update", "-qq"], stdout=subprocess.DEVNULL)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    run(["apt-get", "install", "-y", "-qq", *missing], env=env, stdout=subprocess.DEVNULL)


def psql(sql: str) -> str:
    out = run(
        ["runuser", "-u", "postgres", "--", "psql", "-p", str(PG_PORT), "-tAc", sql],
        capture_output=True,
        text=True,
        cwd="/",
    )
    return out.stdout.strip()


def postgres_up(state: dict, sec: dict) -> None:
    if postgres_ready():
        log(f"PostgreSQL answers on {PG_PORT}: using it as it is")
    else:
        clusters = run(["pg_lsclusters", "-h"], capture_output=True, text=True).stdout.split()
        if len(clusters) < 2:
            sys.exit("ERROR: no PostgreSQL cluster found (pg_lsclusters); create one with pg_createcluster")
        version, cluster = clusters[0], clusters[1]
        log(f"starting PostgreSQL cluster {version}/{cluster}")
        run(["pg_ctlcluster", version, cluster, "start"])
        state["postgres_started"] = [version, cluster]
        save_state(state)
        wait_for("PostgreSQL", postgres_ready, 60, 1, Path(f"/var/log/postgresql/postgresql-{version}-{cluster}.log"))
    if psql("SELECT 1 FROM pg_roles WHERE rolname='nautobot'") != "1":
        psql(f"CREATE ROLE nautobot LOGIN PASSWORD '{sec['db_password']}'")
    else:
        psql(f"ALTER ROLE nautobot PASSWORD '{sec['db_password']}'")
    if psql("SELECT 1 FROM pg_database WHERE datname='nautobot'") != "1":
        log("creating database nautobot")
        psql("CREATE DATABASE nautobot OWNER nautobot")
        state["pruned_at"] = time.time()  # nothing to prune in a new database
        save_state(state)


def redis_up(state: dict) -> None:
    if redis_ready():
        log(f"Redis answers on {REDIS_PORT}: using it as it is")
        return
    if pid_alive("redis"):
        log("Redis (started by the lab) does not answer yet: waiting for it")
        wait_for("Redis", redis_ready, 60, 0.5, LOGS / "redis.log")
        return
    rdir = LAB / "redis"
    rdir.mkdir(exist_ok=True)
    log("starting Redis")
    spawn(
        "redis",
        [
            "redis-server",
            "--daemonize",
            "no",
            "--bind",
            "127.0.0.1",
            "--port",
            str(REDIS_PORT),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(rdir),
        ],
    )
    state.setdefault("started", []).append("redis")
    save_state(state)
    wait_for("Redis", redis_ready, 60, 0.5, LOGS / "redis.log")


# --------------------------------------------------------------------------------------------
# Nautobot in its own virtual environment
# --------------------------------------------------------------------------------------------
def nb_env(sec: dict) -> dict:
    env = dict(os.environ)
    for var in ("ANSIBLE_COLLECTIONS_PATH", "VIRTUAL_ENV", "PYTHONPATH"):
        env.pop(var, None)
    env.update(
        NAUTOBOT_ROOT=str(NB_ROOT),
        NAUTOBOT_DB_PASSWORD=sec["db_password"],
        NAUTOBOT_SECRET_KEY=sec["secret_key"],
        PATH=f"{VENV}/bin:{env['PATH']}",
    )
    return env


def nb(args: list[str], sec: dict, **kw) -> subprocess.CompletedProcess:
    return run([str(VENV / "bin" / "nautobot-server"), *args], env=nb_env(sec), cwd=LAB, **kw)


def venv_up() -> None:
    req = LAB_SRC / "requirements.txt"
    stamp = VENV / ".requirements.sha256"
    want = sha256(req)
    if stamp.exists() and stamp.read_text() == want:
        return
    log("building the lab's Nautobot virtual environment (about 45 s)")
    if not (VENV / "bin" / "python").exists():
        run([getattr(sys, "_base_executable", sys.executable), "-m", "venv", str(VENV)])
    pip = [str(VENV / "bin" / "pip"), "install", "-q", "--disable-pip-version-check"]
    quiet = {"stderr": subprocess.PIPE, "text": True}
    for args in (["--upgrade", "pip"], ["-r", str(req)]):
        res = run(pip + args, check=False, **quiet)
        if res.returncode:
            sys.stderr.write("\n".join(ln for ln in res.stderr.splitlines() if "Location 'file:" not in ln))
            sys.exit(f"ERROR: pip install {' '.join(args)} failed in the lab venv")
    stamp.write_text(want)


CONFIG_OVERRIDES = """
# ---- sotsync lab overrides (written by lab/labctl.py) ----
import os as _os
DATABASES["default"].update({
    "NAME": "nautobot", "USER": "nautobot", "PASSWORD": _os.environ["NAUTOBOT_DB_PASSWORD"],
    "HOST": "127.0.0.1", "PORT": "%(pg_port)s",
})
SECRET_KEY = _os.environ["NAUTOBOT_SECRET_KEY"]
ALLOWED_HOSTS = ["*"]
INSTALLATION_METRICS_ENABLED = False
ALLOWED_URL_SCHEMES = ALLOWED_URL_SCHEMES + ["git"]
PLUGINS = ["nautobot_plugin_nornir", "nautobot_golden_config"]
PLUGINS_CONFIG = {
    "nautobot_plugin_nornir": {
        # Golden Config's intended job builds a Nornir inventory of every device it renders; with
        # connection_options on, that computes each device's config context (about 45 ms a device
        # here) for Nornir's own device connections, which rendering does not use.
        "use_config_context": {"secrets": False, "connection_options": False},
        # Golden Config's backup job reads each device's running configuration with NAPALM (below):
        # the simulated devices answer eAPI over HTTP on the simulator's port.
        # IOS is backed up over SSH with netmiko (below), at the same port.
        "connection_options": {
            "napalm": {"extras": {"optional_args": {"transport": "http", "port": %(sim_port)s}}},
            "netmiko": {"port": %(sim_port)s},
        },
        "nornir_settings": {
            # each device's login from its secrets group (lab/seed.py gives every simulated device one)
            "credentials": "nautobot_plugin_nornir.plugins.credentials.nautobot_secrets.CredentialsNautobotSecrets",
            "runner": {"plugin": "threaded", "options": {"num_workers": 10}},
        },
    },
    "nautobot_golden_config": {
        "per_feature_bar_width": 0.15, "per_feature_width": 13, "per_feature_height": 4,
        # backup + compliance: the collection brings a device's compliance up to date after a live commit
        "enable_backup": True, "enable_compliance": True, "enable_intended": True,
        "enable_sotagg": True, "enable_plan": False, "enable_deploy": False,
        "enable_postprocessing": False,
        "get_config_framework": {
            "arista_eos": "napalm", "cisco_nxos": "napalm", "juniper_junos": "napalm", "cisco_ios": "netmiko",
        },
    },
}
"""


def nautobot_configured(sec: dict, state: dict) -> None:
    cfg = NB_ROOT / "nautobot_config.py"
    if not cfg.exists():
        log("nautobot-server init")
        NB_ROOT.mkdir(parents=True, exist_ok=True)
        nb(["init", "--disable-installation-metrics"], sec, stdout=subprocess.DEVNULL)
        with open(cfg, "a") as f:
            f.write(CONFIG_OVERRIDES % {"pg_port": PG_PORT, "sim_port": SIM_PORT})
    text = cfg.read_text()
    marker = CONFIG_OVERRIDES.lstrip("\n").splitlines()[0]
    overrides = CONFIG_OVERRIDES % {"pg_port": PG_PORT, "sim_port": SIM_PORT}
    if marker in text and not text.endswith(overrides):
        log("updating the lab's overrides in nautobot_config.py (Nautobot and Celery restart with them)")
        cfg.write_text(text[: text.index(marker)].rstrip("\n") + "\n" + overrides)
        for name in ("celery", "celery-render", "nautobot"):
            stop(name, timeout=60)
    want = sha256(LAB_SRC / "requirements.txt", cfg)
    if state.get("migrated") != want:
        log("nautobot-server migrate (about 3 min the first time)")
        with open(LOGS / "migrate.log", "ab") as out:
            nb(["migrate", "--no-input"], sec, stdout=out, stderr=subprocess.STDOUT)
        state["migrated"] = want
        save_state(state)
    if not state.get("superuser"):
        log("creating the superuser and the API token")
        code = (
            "from django.contrib.auth import get_user_model\n"
            "from nautobot.users.models import Token\n"
            "U = get_user_model()\n"
            f"u, _ = U.objects.get_or_create(username={sec['superuser']!r}, "
            "defaults={'is_superuser': True, 'is_staff': True})\n"
            "u.is_superuser = u.is_staff = True\n"
            "u.set_password(__import__('os').environ['LAB_SU_PASSWORD'])\n"
            "u.save()\n"
            "Token.objects.filter(key=__import__('os').environ['LAB_TOKEN']).delete()\n"
            "Token.objects.create(user=u, key=__import__('os').environ['LAB_TOKEN'], description='sotsync lab')\n"
        )
        env = nb_env(sec) | {"LAB_SU_PASSWORD": sec["superuser_password"], "LAB_TOKEN": sec["token"]}
        run(
            [str(VENV / "bin" / "nautobot-server"), "nbshell", "--command", code],
            env=env,
            cwd=LAB,
            stdout=subprocess.DEVNULL,
        )
        state["superuser"] = True
        save_state(state)


# The lab's history (object changes, job results, notes) grows with every test and benchmark run; a lab
# kept across days was measured 2-3x slower in Nautobot and PostgreSQL per device (18,449 object changes
# and 9,714 job results: 121 MB). ``up`` prunes what is older than this, at most once an hour.
HISTORY_HOURS = 12
PRUNE_EVERY_S = 3600


def prune_history(sec: dict, state: dict, hours: float = HISTORY_HOURS, force: bool = False) -> None:
    """Delete the object changes, job results (their logs with them) and notes older than ``hours``, through
    Django (its cascades), with Nautobot's own models."""
    if not force and time.time() - float(state.get("pruned_at") or 0) < PRUNE_EVERY_S:
        return
    code = (
        "import datetime, json\n"
        "from django.utils import timezone\n"
        "from nautobot.extras.models import JobResult, Note, ObjectChange\n"
        f"cut = timezone.now() - datetime.timedelta(hours={float(hours)!r})\n"
        "gone = {'object changes': ObjectChange.objects.filter(time__lt=cut).delete()[0],\n"
        "        'job results': JobResult.objects.filter(date_created__lt=cut).delete()[0],\n"
        "        'notes': Note.objects.filter(created__lt=cut).delete()[0]}\n"
        "print('PRUNED ' + json.dumps(gone))\n"
    )
    res = nb(["nbshell", "--command", code], sec, capture_output=True, text=True, check=False)
    line = next((ln for ln in res.stdout.splitlines() if ln.startswith("PRUNED ")), None)
    if res.returncode or line is None:
        log(f"WARNING: pruning the lab's history failed (exit {res.returncode}): {(res.stderr or '')[-500:]}")
        return
    counts = json.loads(line.removeprefix("PRUNED "))
    log(
        f"pruned the lab's history older than {hours:g} h: "
        + ", ".join(f"{count} {what}" for what, count in counts.items())
        + " (records, their dependants included)"
    )
    state["pruned_at"] = time.time()
    save_state(state)


def nautobot_api_ready(sec: dict) -> bool:
    import requests

    try:
        r = requests.get(
            f"http://{NAUTOBOT_HOST}:{NAUTOBOT_PORT}/api/status/",
            headers={"Authorization": f"Token {sec['token']}"},
            timeout=3,
        )
        return r.status_code == 200
    except requests.RequestException:
        return False


def nautobot_services_up(sec: dict, state: dict) -> None:
    """Start the web server and the two Celery workers that are not running (a half-up lab keeps what
    runs), then wait until each answers: the API with the lab's token, each worker Celery's ping."""
    env = nb_env(sec) | {
        # the environment-variable secrets of the devices' secrets groups, which Nautobot reads for Golden
        # Config's own jobs (nornir's CredentialsNautobotSecrets); NX-OS's is a text file
        "NAPALM_USERNAME": sec["device_username"],
        "NAPALM_PASSWORD": sec["device_password"],
        JUNOS_PASSWORD_VAR: sec["junos_password"],
    }
    server = [str(VENV / "bin" / "nautobot-server")]
    nodes = celery_nodes()
    if not pid_alive("nautobot"):
        log(f"starting the Nautobot web server on {NAUTOBOT_HOST}:{NAUTOBOT_PORT}")
        spawn(
            "nautobot",
            server + ["runserver", f"{NAUTOBOT_HOST}:{NAUTOBOT_PORT}", "--noreload", "--insecure"],
            env=env,
            cwd=LAB,
        )
    if not pid_alive("celery"):
        log("starting the Celery worker")
        # Two worker processes (Celery's default on this 2-core machine): webhooks keep flowing while a
        # Golden Config job renders.
        spawn(
            "celery",
            server + ["celery", "worker", "-l", "INFO", "--concurrency", "2", "-n", nodes["celery"]],
            env=env,
            cwd=LAB,
        )
    if not pid_alive("celery-render"):
        log(f"starting the Celery worker of the {RENDER_QUEUE} queue (Golden Config's renders)")
        # One process serving only the queue the hook runs Golden Config's job on (the job renders one
        # device after another anyway): the renders of a bulk edit need not wait behind its webhooks.
        spawn(
            "celery-render",
            server
            + ["celery", "worker", "-l", "INFO", "--concurrency", "1", "-Q", RENDER_QUEUE]
            + ["-n", nodes["celery-render"]],
            env=env,
            cwd=LAB,
        )
    # Time-outs for a loaded 2-core machine: a worker's first start took 130 s here while other work ran.
    wait_for("Nautobot API", lambda: nautobot_api_ready(sec), 300, 1, LOGS / "nautobot.log")
    waiting = dict(nodes)

    def workers_answer() -> bool:
        for name in [n for n, node in waiting.items() if node in celery_ping(sec, list(waiting.values()))]:
            del waiting[name]
        for name in waiting:  # a worker that died while starting will not answer: say so now
            if not pid_alive(name):
                raise NotReady(f"{name} ({nodes[name]}) exited while starting; see {LOGS / (name + '.log')}")
        return not waiting

    try:
        poll("Celery workers", workers_answer, 300, 2)
    except NotReady as exc:
        name = next(iter(waiting))
        tail = log_tail(LOGS / f"{name}.log")
        sys.exit(
            f"ERROR: {exc}\n  not answering Celery's ping: {', '.join(f'{n} ({nodes[n]})' for n in waiting)}; "
            f"log {LOGS / (name + '.log')}, ending:\n{tail}"
        )


# --------------------------------------------------------------------------------------------
# Git: the template repository (dumb HTTP); the intended and backup repositories (git daemon, push)
# --------------------------------------------------------------------------------------------
def git(*args: str, cwd: Path) -> str:
    env = dict(
        os.environ,
        GIT_AUTHOR_NAME="sotsync lab",
        GIT_AUTHOR_EMAIL="lab@sotsync.invalid",
        GIT_COMMITTER_NAME="sotsync lab",
        GIT_COMMITTER_EMAIL="lab@sotsync.invalid",
    )
    return run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True).stdout.strip()


def publish_templates() -> bool:
    """Push lab/templates into the bare template repository when they changed. True when pushed."""
    bare = GIT / "templates.git"
    work = GIT / "templates-work"
    if not bare.exists():
        git("init", "-q", "--bare", "-b", "main", str(bare), cwd=GIT)
        (bare / "hooks" / "post-update").write_text("#!/bin/sh\nexec git update-server-info\n")
        (bare / "hooks" / "post-update").chmod(0o755)
    if not work.exists():
        git("clone", "-q", str(bare), str(work), cwd=GIT)
        git("checkout", "-q", "-B", "main", cwd=work)
    target = work / "templates"
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(LAB_SRC / "templates", target)
    git("add", "-A", cwd=work)
    if not git("status", "--porcelain", cwd=work):
        return False
    git("commit", "-q", "-m", "lab templates", cwd=work)
    git("push", "-q", "origin", "main", cwd=work)
    git("update-server-info", cwd=bare)
    return True


def pushable_repo(name: str, readme: str) -> None:
    """A bare repository ``name``.git served by the git daemon, which Golden Config pushes to."""
    bare = GIT / f"{name}.git"
    if bare.exists():
        return
    git("init", "-q", "--bare", "-b", "main", str(bare), cwd=GIT)
    (bare / "git-daemon-export-ok").touch()
    seed = GIT / f"{name}-seed"
    git("init", "-q", "-b", "main", str(seed), cwd=GIT)
    (seed / "README.md").write_text(readme + "\n")
    git("add", "-A", cwd=seed)
    git("commit", "-q", "-m", "initial", cwd=seed)
    git("push", "-q", str(bare), "main", cwd=seed)
    shutil.rmtree(seed)


def git_services_up() -> None:
    GIT.mkdir(exist_ok=True)
    if publish_templates():
        log("published lab/templates to the template repository")
    pushable_repo("intended", "Intended configurations rendered by Nautobot Golden Config.")
    pushable_repo("backup", "Running configurations backed up by Nautobot Golden Config.")
    if not pid_alive("git-http"):
        spawn(
            "git-http",
            [sys.executable, "-m", "http.server", str(GIT_HTTP_PORT), "--bind", "127.0.0.1", "--directory", str(GIT)],
        )
    if not pid_alive("git-daemon"):
        spawn(
            "git-daemon",
            [
                "git",
                "daemon",
                "--reuseaddr",
                "--enable=receive-pack",
                "--export-all",
                "--listen=127.0.0.1",
                f"--port={GIT_DAEMON_PORT}",
                f"--base-path={GIT}",
                str(GIT),
            ],
        )
    wait_for(
        "git HTTP",
        lambda: http_ok(f"http://127.0.0.1:{GIT_HTTP_PORT}/templates.git/info/refs"),
        30,
        0.5,
        LOGS / "git-http.log",
    )
    wait_for(
        "git daemon",
        lambda: (
            run(
                ["git", "ls-remote", f"git://127.0.0.1:{GIT_DAEMON_PORT}/intended.git"],
                check=False,
                capture_output=True,
            ).returncode
            == 0
        ),
        30,
        0.5,
        LOGS / "git-daemon.log",
    )


# --------------------------------------------------------------------------------------------
# Simulated devices and the webhook namespace
# --------------------------------------------------------------------------------------------
def simulator_ready(devices: dict[str, str], control_port: int = SIM_CONTROL_PORT) -> bool:
    """The simulator's control API answers and lists every device (each listens once listed)."""
    import requests

    try:
        r = requests.get(f"http://127.0.0.1:{control_port}/devices", timeout=3)
        names = {d["name"] for d in r.json()} if r.status_code == 200 else set()
    except (requests.RequestException, ValueError, KeyError, TypeError):
        return False
    return set(devices) <= names


def _initial_config(driver: str, name: str) -> str | None:
    if driver == "juniper_junos":
        return f"system {{\n    host-name {name};\n}}\n"
    if driver == "cisco_ios":
        return None  # the simulator's own: a switch prepared for NAPALM (archive, SCP server), named after it
    return f"hostname {name}\n"


def _sim_device(driver: str, name: str, address: str) -> dict:
    """A simulated device as its simulator takes it (no running configuration: the simulator's own)."""
    config = _initial_config(driver, name)
    return {"name": name, "address": address, **({"running_config": config} if config is not None else {})}


def simulator_add_missing(devices: dict[str, str], driver: str, control_port: int) -> list[str]:
    """Add to a running simulator the lab's devices it does not serve; returns their names."""
    import requests

    base = f"http://127.0.0.1:{control_port}"
    served = {d["name"] for d in requests.get(f"{base}/devices", timeout=10).json()}
    added = []
    for name, address in devices.items():
        if name in served:
            continue
        body = {"port": SIM_PORT, **_sim_device(driver, name, address)}
        r = requests.post(f"{base}/devices", json=body, timeout=10)
        if r.status_code not in (201, 409):
            sys.exit(f"ERROR: the simulator on {base} refused to add {name}: {r.status_code} {r.text[:300]}")
        log(f"simulated device {name} was missing: added it at {address}")
        added.append(name)
    return added


def simulators_up(sec: dict, devices: dict[str, str], drivers: dict[str, str]) -> bool:
    """Start each platform's simulator with its devices (``drivers``: device -> network driver; a
    device without a simulated platform is served by the EOS simulator). True when any was (re)started
    (its devices' state is blank)."""
    started = False
    for service, (driver, module, password_var, control_port, extra) in SIMULATORS.items():
        mine = {
            n: a
            for n, a in devices.items()
            if drivers.get(n) == driver or (service == "eos-sim" and drivers.get(n) not in _SIMULATED)
        }
        if not mine:
            continue
        logfile = LOGS / f"{service}.log"
        if pid_alive(service):
            wait_for(service, lambda c=control_port: simulator_ready({}, c), 60, 0.3, logfile)
            # a running simulator that lost a device (a test removed it): bring back what is missing
            if simulator_add_missing(mine, driver, control_port):
                started = True
            wait_for(service, lambda m=mine, c=control_port: simulator_ready(m, c), 60, 0.3, logfile)
            continue
        cfg = LAB / f"{service}.json"
        cfg.write_text(
            json.dumps(
                {
                    "username": sec["device_username"],
                    "port": SIM_PORT,
                    # A device answers on its configured management address, as a real one does.
                    "follow_management_address": True,
                    **extra,
                    "devices": [_sim_device(driver, n, a) for n, a in mine.items()],
                },
                indent=2,
            )
        )
        cfg.chmod(0o600)
        log(f"starting the {service} simulator ({len(mine)} devices, port {SIM_PORT}, control {control_port})")
        spawn(
            service,
            [str(ROOT / ".venv" / "bin" / "python"), "-m", module, "--config", str(cfg)]
            + ["--control-port", str(control_port)],
            env=dict(os.environ, **{password_var: sec[SIM_PASSWORD_KEY[service]]}),
            cwd=ROOT,
        )
        wait_for(service, lambda m=mine, c=control_port: simulator_ready(m, c), 60, 0.3, logfile)
        started = True
    return started


_SIMULATED = {spec[0] for spec in SIMULATORS.values()}


def netns_up(state: dict) -> None:
    if run(["ip", "netns", "pids", NETNS], check=False, capture_output=True).returncode == 0:
        return
    log(f"creating network namespace {NETNS} ({HOST_ADDR} <-> {NS_ADDR})")
    run(["ip", "netns", "add", NETNS])
    run(["ip", "link", "add", VETH_HOST, "type", "veth", "peer", "name", VETH_NS])
    run(["ip", "link", "set", VETH_NS, "netns", NETNS])
    run(["ip", "addr", "add", f"{HOST_ADDR}/30", "dev", VETH_HOST])
    run(["ip", "link", "set", VETH_HOST, "up"])
    ns = ["ip", "netns", "exec", NETNS]
    run(ns + ["ip", "addr", "add", f"{NS_ADDR}/30", "dev", VETH_NS])
    run(ns + ["ip", "link", "set", VETH_NS, "up"])
    run(ns + ["ip", "link", "set", "lo", "up"])
    state["netns"] = NETNS
    save_state(state)


def relay_up() -> None:
    """Nautobot posts to the namespace's address; the relay hands it to the source on host loopback."""
    if pid_alive("webhook-relay"):
        wait_for("webhook relay", lambda: netns_listening(NETNS, SOURCE_PORT), 30, 0.3, LOGS / "webhook-relay.log")
        return
    spawn(
        "webhook-relay",
        [
            sys.executable,
            str(LAB_SRC / "ns_relay.py"),
            "--netns",
            NETNS,
            "--listen",
            f"{NS_ADDR}:{SOURCE_PORT}",
            "--target",
            f"127.0.0.1:{SOURCE_PORT}",
        ],
    )
    wait_for("webhook relay", lambda: netns_listening(NETNS, SOURCE_PORT), 30, 0.3, LOGS / "webhook-relay.log")


def netns_down() -> None:
    if run(["ip", "netns", "pids", NETNS], check=False, capture_output=True).returncode == 0:
        for pid in run(["ip", "netns", "pids", NETNS], capture_output=True, text=True).stdout.split():
            try:
                os.kill(int(pid), signal.SIGTERM)
            except ProcessLookupError:
                pass
        run(["ip", "netns", "del", NETNS], check=False)
        run(["ip", "link", "del", VETH_HOST], check=False, capture_output=True)
        log(f"removed network namespace {NETNS}")


# --------------------------------------------------------------------------------------------
# commands
# --------------------------------------------------------------------------------------------
def sim_controls() -> dict[str, str]:
    """Network driver -> the control URL of the simulator serving that platform."""
    return {spec[0]: f"http://127.0.0.1:{spec[3]}" for spec in SIMULATORS.values()}


def write_env(sec: dict, devices: dict[str, str], drivers: dict[str, str]) -> None:
    values = {
        "NAUTOBOT_URL": f"http://{NAUTOBOT_HOST}:{NAUTOBOT_PORT}",
        "NAUTOBOT_TOKEN": sec["token"],
        "NAPALM_USERNAME": sec["device_username"],
        "NAPALM_PASSWORD": sec["device_password"],
        JUNOS_PASSWORD_VAR: sec["junos_password"],
        "EOS_SIM_CONTROL_URL": f"http://127.0.0.1:{SIM_CONTROL_PORT}",
        "NXOS_SIM_CONTROL_URL": sim_controls()["cisco_nxos"],
        "JUNOS_SIM_CONTROL_URL": sim_controls()["juniper_junos"],
        "IOS_SIM_CONTROL_URL": sim_controls()["cisco_ios"],
        "SOTSYNC_WEBHOOK_SECRET": sec["webhook_secret"],
        "SOTSYNC_LAB_NETNS": NETNS,
        "SOTSYNC_LAB_SOURCE_URL": f"http://{NS_ADDR}:{SOURCE_PORT}/",
        "SOTSYNC_LAB_SOURCE_LISTEN": f"127.0.0.1:{SOURCE_PORT}",
    }
    env_file = LAB / "lab.env"
    env_file.write_text("".join(f"export {k}={v}\n" for k, v in values.items()))
    env_file.chmod(0o600)
    data = {
        "nautobot_url": values["NAUTOBOT_URL"],
        "nautobot_token": sec["token"],
        "nautobot_superuser": sec["superuser"],
        "nautobot_superuser_password": sec["superuser_password"],
        "device_username": sec["device_username"],
        "device_password": sec["device_password"],
        # each platform's password (read through the devices' secrets groups) and where it is kept
        "device_passwords": {
            "arista_eos": sec["device_password"],
            "cisco_nxos": sec["nxos_password"],
            "juniper_junos": sec["junos_password"],
            "cisco_ios": sec["ios_password"],
        },
        "device_logins": {
            "arista_eos": "environment variable NAPALM_PASSWORD",
            "cisco_nxos": f"text file {NXOS_PASSWORD_FILE}",
            "juniper_junos": f"environment variable {JUNOS_PASSWORD_VAR}",
            "cisco_ios": f"text file {IOS_PASSWORD_FILE}",
        },
        "sim_control_url": values["EOS_SIM_CONTROL_URL"],
        # the mixed fleet: each device's platform and the control API of the simulator serving it
        "sim_controls": sim_controls(),
        "device_drivers": drivers,
        "sim_port": SIM_PORT,
        "render_queue": RENDER_QUEUE,
        "webhook_secret": sec["webhook_secret"],
        "netns": NETNS,
        "host_addr": HOST_ADDR,
        "ns_addr": NS_ADDR,
        "source_port": SOURCE_PORT,
        "devices": devices,
        "lab_dir": str(LAB),
        "env": values,
    }
    (LAB / "lab.json").write_text(json.dumps(data, indent=2))
    (LAB / "lab.json").chmod(0o600)


def collection_env() -> dict:
    """The environment for the collection's own tools against this lab (from lab.env)."""
    env = dict(os.environ)
    for line in (LAB / "lab.env").read_text().splitlines():
        key, _, value = line.removeprefix("export ").partition("=")
        env[key] = value
    env["ANSIBLE_COLLECTIONS_PATH"] = str(ROOT / ".build" / "collections")
    env["PATH"] = f"{ROOT / '.venv' / 'bin'}:{env['PATH']}"
    return env


def webhooks_up() -> None:
    """Nautobot's webhooks point at the event source's address in the namespace, made by the
    collection's own playbook (idempotent)."""
    env = collection_env()
    res = run(
        [
            str(ROOT / ".venv" / "bin" / "ansible-playbook"),
            "sotsync.nautobot.nautobot_webhooks",
            "-e",
            f"webhook_payload_url={env['SOTSYNC_LAB_SOURCE_URL']}",
            # the approval gate's lab test: an engineer approving a config plan reaches the daemon
            "-e",
            "webhook_config_plans=true",
        ],
        env=env,
        check=False,
        capture_output=True,
        text=True,
    )
    if res.returncode:
        sys.stdout.write(res.stdout[-3000:])
        sys.exit("ERROR: playbook sotsync.nautobot.nautobot_webhooks failed")
    recap = [ln for ln in res.stdout.splitlines() if "changed=" in ln]
    changed = recap[-1].split(":", 1)[1].split()[1] if recap else "?"
    log(f"Nautobot webhooks -> {env['SOTSYNC_LAB_SOURCE_URL']} ({changed})")


def cmd_up(_args) -> None:
    for d in (LAB, LOGS, PIDS):
        d.mkdir(parents=True, exist_ok=True)
    LAB.chmod(0o700)
    state = load_state()
    sec = load_secrets()
    apt_install({"postgresql": "pg_ctlcluster", "redis-server": "redis-server", "git": "git", "iproute2": "ip"})
    postgres_up(state, sec)
    redis_up(state)
    venv_up()
    nautobot_configured(sec, state)
    prune_history(sec, state)
    git_services_up()
    nautobot_services_up(sec, state)
    netns_up(state)
    relay_up()

    from lab import seed  # noqa: PLC0415  (needs the collection venv's pynautobot)

    api = seed.connect(f"http://{NAUTOBOT_HOST}:{NAUTOBOT_PORT}", sec["token"])
    NXOS_PASSWORD_FILE.parent.mkdir(mode=0o700, exist_ok=True)
    for path, key in ((NXOS_PASSWORD_FILE, "nxos_password"), (IOS_PASSWORD_FILE, "ios_password")):
        path.write_text(sec[key] + "\n")
        path.chmod(0o600)
    logins = {
        seed.PLATFORM_EOS: ("environment-variable", {"variable": "NAPALM_PASSWORD"}),
        seed.PLATFORM_NXOS: ("text-file", {"path": str(NXOS_PASSWORD_FILE)}),
        seed.PLATFORM_JUNOS: ("environment-variable", {"variable": JUNOS_PASSWORD_VAR}),
        seed.PLATFORM_IOS: ("text-file", {"path": str(IOS_PASSWORD_FILE)}),
    }
    devices = seed.seed(api, log=log, logins=logins)
    drivers = {name: seed.network_driver(name) for name in devices}
    seed.golden_config(
        api,
        git_http=f"http://127.0.0.1:{GIT_HTTP_PORT}/templates.git",
        git_intended=f"git://127.0.0.1:{GIT_DAEMON_PORT}/intended.git",
        git_backup=f"git://127.0.0.1:{GIT_DAEMON_PORT}/backup.git",
        render_queue=RENDER_QUEUE,
        log=log,
    )
    write_env(sec, devices, drivers)
    webhooks_up()
    fresh = simulators_up(sec, devices, drivers)
    if fresh or _args.reset:
        seed.sync_devices(api, sim_controls(), log=log)
    log(f"lab is up: Nautobot http://{NAUTOBOT_HOST}:{NAUTOBOT_PORT}  (credentials in {LAB}/lab.env)")


def cmd_prune(args) -> None:
    """Delete the lab's object changes, job results and notes older than ``--hours`` (0: all of them)."""
    prune_history(load_secrets(), load_state(), hours=args.hours, force=True)


def cmd_down(_args) -> None:
    state = load_state()
    services = ("webhook-relay", *SIMULATORS, "celery-render", "celery", "nautobot", "git-daemon", "git-http", "redis")
    for name in services:
        if stop(name):
            log(f"stopped {name}")
    netns_down()
    if state.get("postgres_started"):
        version, cluster = state["postgres_started"]
        run(["pg_ctlcluster", version, cluster, "stop"], check=False)
        log(f"stopped PostgreSQL {version}/{cluster}")
    for key in ("postgres_started", "netns", "started"):
        state.pop(key, None)
    save_state(state)
    log("lab is down (state, venv and database kept; rm -rf the lab folder to start from nothing)")


def cmd_destroy(_args) -> None:
    """down, then remove the lab's database, role and folder: the next up starts from nothing."""
    started_pg = load_state().get("postgres_started")
    cmd_down(_args)
    if not started_pg and not postgres_ready():
        # Down, and not by this lab's state (e.g. another checkout's lab stopped the shared cluster):
        # start it for the drop, and stop it again after, as found.
        clusters = run(["pg_lsclusters", "-h"], capture_output=True, text=True).stdout.split()
        started_pg = clusters[:2] if len(clusters) >= 2 else None
    if started_pg:
        run(["pg_ctlcluster", *started_pg, "start"])
    if postgres_ready() or wait_for("PostgreSQL", postgres_ready, 60, 1):
        psql("DROP DATABASE IF EXISTS nautobot")
        psql("DROP ROLE IF EXISTS nautobot")
        log("dropped database and role nautobot")
    if started_pg:
        run(["pg_ctlcluster", *started_pg, "stop"])
    shutil.rmtree(LAB, ignore_errors=True)
    log(f"removed {LAB}")


def _pss_mb(pids: list[int]) -> float:
    """Proportional set size (shared pages counted once across processes), in MB."""
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def _group(pid: int) -> list[int]:
    out = run(["pgrep", "-g", str(pid)], check=False, capture_output=True, text=True).stdout.split()
    return [int(p) for p in out] or [pid]


def cmd_status(_args) -> None:
    total = 0.0
    services = ("nautobot", "celery", "celery-render", "redis", "git-http", "git-daemon", *SIMULATORS, "webhook-relay")
    for name in services:
        pid = pid_alive(name)
        mem = _pss_mb(_group(pid)) if pid else 0.0
        total += mem
        print(f"{name:14s} {'running pid ' + str(pid) if pid else 'stopped':18s} {mem:7.0f} MB")
    pg = [int(p) for p in run(["pgrep", "-x", "postgres"], check=False, capture_output=True, text=True).stdout.split()]
    pg_mem = _pss_mb(pg)
    total += pg_mem
    print(f"{'postgres':14s} {('answers on ' + str(PG_PORT)) if postgres_ready() else 'down':18s} {pg_mem:7.0f} MB")
    ns = run(["ip", "netns", "pids", NETNS], check=False, capture_output=True).returncode == 0
    print(f"{'netns':14s} {NETNS if ns else 'absent'}")
    print(f"{'total':14s} {'':18s} {total:7.0f} MB (PSS)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    up = sub.add_parser("up", help="start the lab (build it on first run)")
    up.add_argument("--reset", action="store_true", help="also reset the simulated devices' configuration")
    sub.add_parser("down", help="stop what up started")
    sub.add_parser("status", help="show what runs")
    prune = sub.add_parser("prune", help="delete the lab's object changes, job results and notes older than --hours")
    prune.add_argument(
        "--hours", type=float, default=HISTORY_HOURS, help=f"keep what is younger (default {HISTORY_HOURS}; 0: none)"
    )
    sub.add_parser("destroy", help="down, then drop the lab's database and remove its folder")
    args = parser.parse_args()
    {"up": cmd_up, "down": cmd_down, "status": cmd_status, "destroy": cmd_destroy, "prune": cmd_prune}[args.cmd](args)


if __name__ == "__main__":
    main()
