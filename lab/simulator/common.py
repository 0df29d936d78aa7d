"""What the device simulators share: device registry, listeners, control API, faults, timers, CLI.

Each simulator (``eos_sim``, ``nxos_sim``, ``junos_sim``) keeps its protocol and its platform: the
parser, the commands, the answers and the refusals. This module holds the rest, the same for all:

- ``SimDevice``: a device's address, port, lock, request counter and faults (``unresponsive``,
  ``fail_after_commit``, ``delay`` where the platform has it), the silence that follows a
  ``fail_after_commit`` commit, the revert timers of unconfirmed commits, and the summary the control
  API lists;
- ``Simulator``: many devices in one process around one asyncio loop (in a background thread with
  ``start``/``stop``, or the caller's with ``astart``/``astop``): the registry (``add_device``,
  ``remove_device``), one listener per device (a subclass says how it listens: ``_listen``/``_unlisten``),
  a device following the management address of its configuration, the control API, and the command
  line (``main``);
- ``HttpSimulator``: the listeners of the HTTP platforms (EOS eAPI, NX-API): one aiohttp application,
  one socket per device, HTTP Basic authentication, the ``unresponsive`` and ``delay`` faults.
- ``SshSimulator``: the listeners of the SSH platforms (Junos NETCONF, IOS CLI): one socket per device
  accepted in the loop, a thread per connection (paramiko's server side), connections held without an
  SSH banner while the device is ``unresponsive``, the process's SSH host key (``host_key``).

Control API (no authentication: keep it on loopback; JSON replies)::

    GET    /devices                       [summary, ...]
    GET    /devices/<name>                summary with detail
    POST   /devices                       {"name", "address", "port", "running_config", <DEVICE_OPTIONS>}
    DELETE /devices/<name>                {"removed": name}
    POST   /devices/<name>/faults         {"unresponsive": bool, "fail_after_commit": bool[, "delay": s]}
    PUT    /devices/<name>/running-config text body: reset the device to it
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import contextlib
import hmac
import json
import logging
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from typing import Any, ClassVar

import paramiko
from aiohttp import web

LOG = logging.getLogger("sim")
MOVE_TIMEOUT = 10.0  # seconds a session thread waits for its device to move to a new address


# ---------------------------------------------------------------------------------------------
# Device: address, faults, timers, summary
# ---------------------------------------------------------------------------------------------
class SimDevice:
    """The state every simulated device has besides its configuration. Read and changed under
    ``self.lock`` (tests may poll it from any thread). Subclasses set ``log``, ``FAULTS`` and
    ``hostname``, and implement ``management_address``."""

    log: ClassVar[logging.Logger] = LOG
    FAULTS: ClassVar[tuple[str, ...]] = ("unresponsive", "fail_after_commit", "delay")

    def __init__(self, name: str, address: str, port: int):
        self.name = name
        self.address = address
        self.port = port
        self.lock = threading.RLock()
        self.request_count = 0
        self.unresponsive = False
        self.fail_after_commit = False
        self.delay = 0.0
        self._loop: asyncio.AbstractEventLoop | None = None  # the simulator's, once the device listens
        self._timer_generation = 0
        self._silence_after_reply = False
        self._silenced_by_commit = False
        # Called (from any thread) after the running configuration changed by a commit, a revert, a
        # rollback or a reset; the simulator sets it to follow the management address.
        self.on_running_changed: Callable[[], None] | None = None

    @property
    def hostname(self) -> str:
        raise NotImplementedError

    def management_address(self) -> str | None:
        """The management address of the running configuration (None: the device stays where it is)."""
        return None

    def _running_changed(self) -> None:
        if self.on_running_changed is not None:
            self.on_running_changed()

    # -- faults ----------------------------------------------------------------------------
    def _clear_faults(self) -> None:
        """No faults, no pending silence, no timer (part of a reset)."""
        with self.lock:
            self._timer_generation += 1
            self.unresponsive = False
            self.fail_after_commit = False
            self.delay = 0.0
            self._silence_after_reply = False
            self._silenced_by_commit = False

    def set_faults(
        self, unresponsive: bool | None = None, fail_after_commit: bool | None = None, delay: float | None = None
    ) -> None:
        if delay is not None and "delay" not in self.FAULTS:
            raise TypeError(f"{type(self).__name__} has no delay fault")
        with self.lock:
            if unresponsive is not None:
                self.unresponsive = bool(unresponsive)
                self._silenced_by_commit = False
            if fail_after_commit is not None:
                self.fail_after_commit = bool(fail_after_commit)
            if delay is not None:
                self.delay = float(delay)
        self.log.info("%s: faults %s", self.name, " ".join(f"{k}={getattr(self, k)}" for k in self.FAULTS))

    def _committed(self) -> None:
        """After a commit (under the lock): a ``fail_after_commit`` fault makes this reply the last one."""
        if self.fail_after_commit:
            self.fail_after_commit = False
            self._silence_after_reply = True
            self.log.info("%s: fault: stops answering after this reply", self.name)

    def take_silence(self) -> bool:
        """After a reply went out: go silent if a ``fail_after_commit`` commit asked for it."""
        with self.lock:
            if self._silence_after_reply:
                self._silence_after_reply = False
                self.unresponsive = True
                self._silenced_by_commit = True
                return True
            return False

    # -- revert timers ---------------------------------------------------------------------
    def cancel_timers(self) -> None:
        """Pending timers do nothing when they fire."""
        with self.lock:
            self._timer_generation += 1

    def start_timer(self, seconds: float, expired: Callable[[int], None]) -> int:
        """Call ``expired(generation)`` in ``seconds`` (on the simulator's loop once the device listens,
        else on a timer thread); it must do nothing unless ``timer_current(generation)``. A newer timer,
        ``cancel_timers`` or a reset makes older ones stale."""
        with self.lock:
            self._timer_generation += 1
            generation = self._timer_generation
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(loop.call_later, seconds, expired, generation)
        else:
            timer = threading.Timer(seconds, expired, (generation,))
            timer.daemon = True
            timer.start()
        return generation

    def timer_current(self, generation: int) -> bool:
        return generation == self._timer_generation

    def _reverted(self) -> None:
        """After an automatic revert (under the lock): a device silenced by its commit answers again."""
        if self._silenced_by_commit:
            self.unresponsive = False
            self._silenced_by_commit = False

    # -- control API -----------------------------------------------------------------------
    def _summary_identity(self) -> dict[str, Any]:
        return {}

    def _summary_state(self) -> dict[str, Any]:
        return {}

    def _summary_detail(self) -> dict[str, Any]:
        return {}

    def summary(self, detail: bool = False) -> dict[str, Any]:
        """What the control API lists: name, address, port, hostname, the platform's identity, the
        faults, the platform's state, requests; ``detail`` adds the platform's configurations."""
        with self.lock:
            data: dict[str, Any] = {"name": self.name, "address": self.address, "port": self.port}
            data["hostname"] = self.hostname
            data.update(self._summary_identity())
            data.update({k: getattr(self, k) for k in self.FAULTS})
            data.update(self._summary_state())
            data["requests"] = self.request_count
            if detail:
                data.update(self._summary_detail())
            return data


def bind_listener(dev: SimDevice) -> socket.socket:
    """A TCP socket bound to the device's address and port (port 0: any free one; ``dev.port`` is set)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((dev.address, dev.port))
    except OSError as exc:
        sock.close()
        msg = f"device {dev.name}: cannot listen on {dev.address}:{dev.port}: {exc.strerror}"
        raise OSError(exc.errno, msg) from exc
    dev.port = sock.getsockname()[1]
    return sock


def check_credentials(user: str, password: str, want_user: str, want_password: str) -> bool:
    """Constant-time comparison of both (so neither leaks through timing)."""
    ok_user = hmac.compare_digest(user.encode(), want_user.encode())
    ok_password = hmac.compare_digest(password.encode(), want_password.encode())
    return ok_user and ok_password


# ---------------------------------------------------------------------------------------------
# Simulator: registry, lifecycle, management address, control API, CLI
# ---------------------------------------------------------------------------------------------
class Simulator:
    """Many devices in one process around one asyncio loop.

    Synchronous API (tests): ``add_device``, ``remove_device``, ``device``, ``devices``, ``start``,
    ``stop``, ``start_control`` (``start`` runs the loop in a background thread). Async API (inside a
    loop): ``async_add_device``, ``async_remove_device``, ``astart``, ``astop``, ``astart_control``.
    Command line: ``main``.

    A subclass sets the class attributes below and implements ``_new_device`` and, for its
    transport, ``_listen``/``_unlisten`` (and ``_setup``/``_teardown`` for what its listeners share).
    """

    NAME: ClassVar[str] = "sim"  # "eos-sim": the CLI's messages and the loop thread's name
    DESCRIPTION: ClassVar[str] = "device simulator (many devices, one process)"
    CREDENTIAL_ENV: ClassVar[str] = "SIM_PASSWORD"  # the variable the password may come from
    DEFAULT_PORT: ClassVar[int] = 0
    DEFAULT_CONTROL_PORT: ClassVar[int] = 0
    DEVICE_OPTIONS: ClassVar[tuple[str, ...]] = ()  # per-device keys beyond name/address/port/running_config
    CONFIG_ERRORS: ClassVar[tuple[type[Exception], ...]] = (ValueError,)  # a refused configuration raises
    CONFIG_KEYS: ClassVar[str] = "username, password, port, follow_management_address"
    MOVE_DELAY: ClassVar[float] = 0.05  # a device moves this long after the change (its reply goes first)
    log: ClassVar[logging.Logger] = LOG

    def __init__(
        self,
        username: str = "admin",
        password: str = "admin",
        default_port: int | None = None,
        follow_management_address: bool = False,
    ):
        self.username = username
        self._password = password
        self.default_port = self.DEFAULT_PORT if default_port is None else default_port
        self.follow_management_address = follow_management_address
        self._devices: dict[str, SimDevice] = {}
        self._control_runner: web.AppRunner | None = None
        self.control_port: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._loop_thread: threading.Thread | None = None
        self._running = False
        self._stopping = False

    def __repr__(self) -> str:  # never show the password
        return f"{type(self).__name__}(username={self.username!r}, devices={len(self._devices)})"

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def stopping(self) -> bool:
        return self._stopping

    def authorized(self, user: str, password: str) -> bool:
        return check_credentials(user, password, self.username, self._password)

    # -- devices ---------------------------------------------------------------------------
    @property
    def devices(self) -> dict[str, Any]:
        return dict(self._devices)

    def device(self, name: str) -> Any:
        return self._devices[name]

    def _new_device(self, name: str, address: str, port: int, running_config: str | None, **options: Any):
        """The platform's device (a configuration it would refuse raises ValueError)."""
        raise NotImplementedError

    def _make_device(self, name, address, port, running_config, options: dict[str, Any]) -> SimDevice:
        if not name or name in self._devices:
            raise ValueError(f"device name {name!r} is empty or already used")
        port = self.default_port if port is None else int(port)
        return self._new_device(name, address, port, running_config, **options)

    def _register(self, dev: SimDevice) -> None:
        self._devices[dev.name] = dev
        if self.follow_management_address:
            dev.on_running_changed = lambda: self.follow_management(dev)

    def _in_thread(self) -> bool:
        """The loop runs (or is starting) and this is another thread: hand work to the loop."""
        return self._loop is not None and threading.current_thread() is not self._loop_thread

    def add_device(
        self,
        name: str,
        address: str = "127.0.0.1",
        port: int | None = None,
        running_config: str | None = None,
        **options: Any,
    ):
        """Add a device (before or after ``start``). ``port`` None -> the default port, 0 -> a free
        port (read it back from ``.port``). ``options``: the platform's ``DEVICE_OPTIONS``. A
        configuration the platform would refuse raises ValueError."""
        if self._in_thread():
            coro = self.async_add_device(name, address, port, running_config, **options)
            return asyncio.run_coroutine_threadsafe(coro, self._loop).result(30)
        dev = self._make_device(name, address, port, running_config, options)
        self._register(dev)
        return dev

    async def async_add_device(
        self,
        name: str,
        address: str = "127.0.0.1",
        port: int | None = None,
        running_config: str | None = None,
        **options: Any,
    ):
        dev = self._make_device(name, address, port, running_config, options)
        if self._running:
            await self._listen(dev)
        self._register(dev)
        return dev

    def remove_device(self, name: str) -> None:
        if self._in_thread():
            asyncio.run_coroutine_threadsafe(self.async_remove_device(name), self._loop).result(30)
        else:
            dev = self._devices.pop(name)
            dev.cancel_timers()

    async def async_remove_device(self, name: str) -> None:
        dev = self._devices.pop(name)
        dev.cancel_timers()
        await self._unlisten(dev)

    # -- listeners (per transport) ---------------------------------------------------------
    async def _setup(self) -> None:
        """Before the first device listens (in the loop)."""

    async def _teardown(self) -> None:
        """After the control API stopped: stop every listener and connection."""

    async def _listen(self, dev: SimDevice) -> None:
        """Listen on ``dev.address``:``dev.port`` (port 0: set ``dev.port``) and set ``dev._loop``."""
        raise NotImplementedError

    async def _unlisten(self, dev: SimDevice) -> None:
        raise NotImplementedError

    # -- management address ----------------------------------------------------------------
    def follow_management(self, dev: SimDevice, wait: bool = False) -> None:
        """Move ``dev`` to the management address of its running configuration (same port), if it
        names another one. Thread-safe. By default the move is scheduled (``MOVE_DELAY`` later, so a
        reply being sent goes out first); ``wait`` (from another thread than the loop's) returns once
        the device moved."""
        loop = self._loop if self._loop is not None else dev._loop
        if loop is None or loop.is_closed() or self._stopping:
            return
        wanted = dev.management_address()
        if wanted is None or wanted == dev.address:
            return
        if wait and self._in_thread():
            with contextlib.suppress(Exception):  # a failed move is logged by _move
                asyncio.run_coroutine_threadsafe(self._move(dev), loop).result(MOVE_TIMEOUT)
            return
        loop.call_soon_threadsafe(loop.call_later, self.MOVE_DELAY, lambda: asyncio.ensure_future(self._move(dev)))

    async def _move(self, dev: SimDevice) -> None:
        wanted = dev.management_address()
        if self._stopping or self._devices.get(dev.name) is not dev or wanted is None or wanted == dev.address:
            return
        old = dev.address
        await self._unlisten(dev)
        dev.address = wanted
        try:
            await self._listen(dev)
        except OSError as exc:
            self.log.error(
                "%s: management address %s -> %s, but %s: the device is unreachable", dev.name, old, wanted, exc
            )
            return
        self.log.info("%s: management address %s -> %s (running-config), port %d", dev.name, old, wanted, dev.port)

    # -- lifecycle -------------------------------------------------------------------------
    async def astart(self) -> None:
        """Listen for every device (in the running loop)."""
        self._stopping = False
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.current_thread()
        await self._setup()
        self._running = True
        for dev in list(self._devices.values()):
            await self._listen(dev)

    async def astop(self) -> None:
        self._stopping = True
        self._running = False
        for dev in self._devices.values():
            dev.cancel_timers()
        if self._control_runner is not None:
            await self._control_runner.cleanup()
            self._control_runner = None
        await self._teardown()
        if self._thread is None:
            self._loop = self._loop_thread = None

    def start(self, control_port: int | None = None, control_host: str = "127.0.0.1"):
        """Start in a background thread; returns when every device listens. ``control_port`` (0 =
        free port) also serves the control API."""
        if self._thread is not None:
            raise RuntimeError("simulator already started")
        loop = asyncio.new_event_loop()
        ready = threading.Event()
        failure: list[BaseException] = []

        async def boot() -> None:
            await self.astart()
            if control_port is not None:
                await self.astart_control(control_port, control_host)

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(boot())
            except BaseException as exc:  # noqa: BLE001 - reported to the caller of start()
                failure.append(exc)
                with contextlib.suppress(Exception):
                    loop.run_until_complete(self.astop())
                ready.set()
                return
            ready.set()
            loop.run_forever()

        self._loop = loop
        self._thread = threading.Thread(target=run, name=self.NAME, daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            self._thread.join()
            self._thread, self._loop, self._loop_thread = None, None, None
            loop.close()
            raise failure[0]
        return self

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        try:
            asyncio.run_coroutine_threadsafe(self.astop(), loop).result(30)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(30)
            loop.close()
            self._loop, self._thread, self._loop_thread = None, None, None

    # -- control API -----------------------------------------------------------------------
    async def astart_control(self, port: int | None = None, host: str = "127.0.0.1") -> int:
        """Serve the control API (no authentication: keep it on loopback). Returns the bound port."""
        app = web.Application(middlewares=[_json_errors])
        r = app.router
        r.add_get("/devices", self._c_list)
        r.add_post("/devices", self._c_add)
        r.add_get("/devices/{name}", self._c_get)
        r.add_delete("/devices/{name}", self._c_delete)
        r.add_post("/devices/{name}/faults", self._c_faults)
        r.add_put("/devices/{name}/running-config", self._c_reset)
        self._control_runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await self._control_runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, self.DEFAULT_CONTROL_PORT if port is None else port))
        except OSError:
            sock.close()
            raise
        self.control_port = sock.getsockname()[1]
        await web.SockSite(self._control_runner, sock).start()
        return self.control_port

    def start_control(self, port: int | None = None, host: str = "127.0.0.1") -> int:
        """``astart_control`` for a simulator started with ``start``."""
        if self._loop is None or self._thread is None:
            raise RuntimeError("start the simulator with start() first")
        return asyncio.run_coroutine_threadsafe(self.astart_control(port, host), self._loop).result(30)

    def _c_device(self, request: web.Request) -> SimDevice:
        name = request.match_info["name"]
        if name not in self._devices:
            raise web.HTTPNotFound(text=json.dumps({"error": f"no device {name}"}), content_type="application/json")
        return self._devices[name]

    @staticmethod
    def _c_bad(message: str, status: int = 400) -> web.Response:
        return web.json_response({"error": message}, status=status)

    async def _c_list(self, request: web.Request) -> web.Response:
        return web.json_response([d.summary() for d in self._devices.values()])

    async def _c_get(self, request: web.Request) -> web.Response:
        return web.json_response(self._c_device(request).summary(detail=True))

    async def _c_add(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            return self._c_bad("body must be JSON")
        if not isinstance(body, dict) or not isinstance(body.get("name"), str):
            keys = ", ".join(f'"{k}": ...' for k in ("name", "address", "port", "running_config", *self.DEVICE_OPTIONS))
            return self._c_bad(f"body must be {{{keys}}}")
        if body["name"] in self._devices:
            return self._c_bad(f"device {body['name']} exists", 409)
        options = {k: body.get(k) for k in self.DEVICE_OPTIONS}
        try:
            dev = await self.async_add_device(
                body["name"], body.get("address", "127.0.0.1"), body.get("port"), body.get("running_config"), **options
            )
        except (OSError, ValueError, TypeError) as exc:
            return self._c_bad(str(exc))
        self.log.info("%s: added on %s:%d", dev.name, dev.address, dev.port)
        return web.json_response(dev.summary(detail=True), status=201)

    async def _c_delete(self, request: web.Request) -> web.Response:
        dev = self._c_device(request)
        await self.async_remove_device(dev.name)
        self.log.info("%s: removed", dev.name)
        return web.json_response({"removed": dev.name})

    async def _c_faults(self, request: web.Request) -> web.Response:
        dev = self._c_device(request)
        faults = dev.FAULTS
        try:
            body = await request.json()
        except ValueError:
            return self._c_bad("body must be JSON")
        usage = ", ".join(f'"{k}": {"seconds" if k == "delay" else "bool"}' for k in faults)
        if not isinstance(body, dict) or set(body) - set(faults):
            return self._c_bad(f"body must be {{{usage}}} (any of the keys)")
        if any(not isinstance(v, bool) for k, v in body.items() if k != "delay"):
            return self._c_bad(" and ".join(k for k in faults if k != "delay") + " must be booleans")
        delay = body.get("delay")
        if delay is not None and (isinstance(delay, bool) or not isinstance(delay, int | float) or delay < 0):
            return self._c_bad("delay must be a number of seconds >= 0")
        dev.set_faults(**body)
        return web.json_response(dev.summary())

    async def _c_reset(self, request: web.Request) -> web.Response:
        dev = self._c_device(request)
        try:
            dev.reset(await request.text())
        except self.CONFIG_ERRORS as exc:
            return self._c_bad(self._config_error(exc))
        return web.json_response(dev.summary())

    @staticmethod
    def _config_error(exc: Exception) -> str:
        """The control API's message for a configuration the platform refuses."""
        return str(exc)

    # -- command line ----------------------------------------------------------------------
    @classmethod
    def _from_config(cls, cfg: dict, password: str) -> Simulator:
        """The simulator a CLI configuration file describes (a subclass adds its own settings)."""
        return cls(
            cfg.get("username", "admin"),
            password,
            int(cfg.get("port", cls.DEFAULT_PORT)),
            follow_management_address=bool(cfg.get("follow_management_address", False)),
        )

    @classmethod
    def _serve(cls, args: argparse.Namespace) -> int:
        name = cls.NAME
        try:
            cfg = load_config(args.config)
        except (OSError, ValueError) as exc:
            print(f"{name}: cannot read {args.config}: {exc}", file=sys.stderr)
            return 2
        password = cfg.get("password") or os.environ.get(cls.CREDENTIAL_ENV)
        if not password:
            print(f"{name}: no password: set it in the config file or in {cls.CREDENTIAL_ENV}", file=sys.stderr)
            return 2
        try:
            sim = cls._from_config(cfg, password)
        except (ValueError, TypeError) as exc:
            print(f"{name}: cannot start: {exc}", file=sys.stderr)
            return 1
        try:
            for entry in cfg.get("devices", []):
                options = {k: entry.get(k) for k in cls.DEVICE_OPTIONS}
                address, port = entry.get("address", "127.0.0.1"), entry.get("port")
                sim.add_device(entry["name"], address, port, entry.get("running_config"), **options)
            sim.start(args.control_port, args.control_host)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            print(f"{name}: cannot start: {exc}", file=sys.stderr)
            sim.stop()
            return 1
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        for dev in sim.devices.values():
            cls.log.info("%s: listening on %s:%d", dev.name, dev.address, dev.port)
        print(
            f"{name} ready: {len(sim.devices)} devices (control http://{args.control_host}:{sim.control_port})",
            flush=True,
        )
        while not stop.wait(0.5):
            pass
        cls.log.info("stopping")
        sim.stop()
        print(f"{name} stopped", flush=True)
        return 0

    @classmethod
    def main(cls, argv: list[str] | None = None) -> int:
        """``python -m lab.simulator.<platform>_sim --config FILE [--control-port N] [--log-level L]``."""
        parser = argparse.ArgumentParser(description=cls.DESCRIPTION)
        parser.add_argument("--config", required=True, help=f"JSON: {{{cls.CONFIG_KEYS}, devices: [...]}}")
        parser.add_argument(
            "--control-port", type=int, default=cls.DEFAULT_CONTROL_PORT, help="control API port (0 = free)"
        )
        parser.add_argument("--control-host", default="127.0.0.1", help=argparse.SUPPRESS)
        parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
        args = parser.parse_args(argv)
        logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        logging.getLogger("paramiko").setLevel(logging.WARNING)
        raise_fd_limit()
        return cls._serve(args)


@web.middleware
async def _json_errors(request: web.Request, handler) -> web.StreamResponse:
    """Unknown routes and methods get a JSON error too (with their usual status)."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status in (404, 405) and exc.content_type != "application/json":
            return web.json_response({"error": exc.reason.lower()}, status=exc.status, headers=_allow(exc))
        raise


def _allow(exc: web.HTTPException) -> dict[str, str]:
    allow = exc.headers.get("Allow")
    return {"Allow": allow} if allow else {}


def raise_fd_limit() -> None:
    """One socket per device and per connection: raise the soft limit of open files to the hard one."""
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        want = hard if hard != resource.RLIM_INFINITY else 65536
        if soft < want:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    except (ImportError, ValueError, OSError):
        pass


def load_config(path: str) -> dict:
    with open(path, encoding="utf-8") as fh:
        cfg = json.load(fh)
    if not isinstance(cfg, dict) or not isinstance(cfg.get("devices", []), list):
        raise ValueError('config must be {"username", "password", "port", "devices": [...]}')
    return cfg


# ---------------------------------------------------------------------------------------------
# HTTP platforms: one aiohttp application, one socket per device
# ---------------------------------------------------------------------------------------------
class HttpSimulator(Simulator):
    """Devices answering HTTP (eAPI, NX-API): a subclass adds its routes in ``_routes`` and starts
    each handler with ``await self._gate(request)``."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._by_socket: dict[tuple[str, int], SimDevice] = {}
        self._sites: dict[str, web.BaseSite] = {}
        self._runner: web.AppRunner | None = None

    def _routes(self, app: web.Application) -> None:
        raise NotImplementedError

    async def _setup(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        self._routes(app)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await self._runner.setup()

    async def _teardown(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        self._runner = None
        self._sites.clear()
        self._by_socket.clear()

    async def _listen(self, dev: SimDevice) -> None:
        sock = bind_listener(dev)
        site = web.SockSite(self._runner, sock, backlog=256)
        await site.start()
        dev._loop = asyncio.get_running_loop()
        self._sites[dev.name] = site
        self._by_socket[(dev.address, dev.port)] = dev
        self.log.debug("%s: listening on %s:%d", dev.name, dev.address, dev.port)

    async def _unlisten(self, dev: SimDevice) -> None:
        self._by_socket.pop((dev.address, dev.port), None)
        site = self._sites.pop(dev.name, None)
        if site is not None:
            await site.stop()

    # -- requests --------------------------------------------------------------------------
    def _basic_auth(self, header: str) -> bool:
        if not header.startswith("Basic "):
            return False
        try:
            user, sep, password = base64.b64decode(header[6:].strip(), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return self.authorized(user, password) and bool(sep)

    def _not_here(self, request: web.Request) -> web.StreamResponse:
        """A request on an address no device listens on (any more)."""
        raise web.HTTPNotFound()

    def _auth_failed(self) -> web.StreamResponse:
        raise NotImplementedError

    async def _gate(self, request: web.Request) -> tuple[Any, web.StreamResponse | None]:
        """The device a request is for, and what to answer instead of serving it: nothing (None) for a
        device that answers; an unresponsive one holds the request, then drops the connection;
        ``delay`` waits first; bad credentials get the platform's 401."""
        sockname = request.transport.get_extra_info("sockname") if request.transport else None
        dev = self._by_socket.get((sockname[0], sockname[1])) if sockname else None
        if dev is None:
            return None, self._not_here(request)
        if dev.unresponsive:
            self.log.debug("%s: unresponsive: holding a request from %s", dev.name, request.remote)
            while dev.unresponsive and not self._stopping:
                await asyncio.sleep(0.05)
            if request.transport is not None:  # never answer it: drop the connection
                request.transport.abort()
            raise web.HTTPServiceUnavailable()
        if dev.delay > 0:
            await asyncio.sleep(dev.delay)
        if not self._basic_auth(request.headers.get("Authorization", "")):
            self.log.debug("%s: %s: 401 (bad or missing credentials)", dev.name, request.remote)
            return dev, self._auth_failed()
        return dev, None


# ---------------------------------------------------------------------------------------------
# SSH platforms: one listening socket per device, a thread per connection
# ---------------------------------------------------------------------------------------------
_HOST_KEY: list[Any] = []
_HOST_KEY_LOCK = threading.Lock()


def host_key():
    """The simulators' SSH host key: ECDSA P-256, made in memory once per process (never written)."""
    with _HOST_KEY_LOCK:
        if not _HOST_KEY:
            _HOST_KEY.append(paramiko.ECDSAKey.generate(bits=256))
        return _HOST_KEY[0]


class SessionDropped(Exception):
    """A session thread must end without an answer (the connection dropped)."""


class SessionFaults:
    """The faults as a session thread of an SSH platform meets them before it answers. A subclass has
    ``sim``, ``dev`` and, when the session is bound to the address it was opened on, ``local_address``."""

    local_address: str | None = None  # None: the session does not end when the device moves

    def _hold(self) -> None:
        """``unresponsive``: never answer (when the fault is lifted, drop the connection). A session on an
        address the device left gets no answer either."""
        dev = self.dev
        if dev.unresponsive:
            while dev.unresponsive and not self.sim.stopping:
                time.sleep(0.05)
            raise SessionDropped
        if self.local_address is not None and self.local_address != dev.address:
            raise SessionDropped

    def _pause(self) -> None:
        """Before an answer: ``unresponsive`` (hold) and ``delay`` (slow answers)."""
        self._hold()
        if self.dev.delay > 0:
            time.sleep(self.dev.delay)


class SshLogin(paramiko.ServerInterface):
    """The server side of an SSH platform's connection: password login against the simulator's one
    account (a failure is logged, never the password), session channels only. A platform's subclass says
    which channel requests it takes (a subsystem, a shell, an exec) and what they start."""

    def __init__(self, sim: Simulator, dev: SimDevice):
        self.sim = sim
        self.dev = dev
        self.user: str | None = None

    def get_allowed_auths(self, username: str) -> str:
        return "password"

    def check_auth_password(self, username: str, password: str) -> int:
        if self.sim.authorized(username, password):
            self.user = username
            return paramiko.AUTH_SUCCESSFUL
        self.dev.log.info("%s: SSH authentication failed for user %s", self.dev.name, username[:32])
        return paramiko.AUTH_FAILED

    def check_channel_request(self, kind: str, chanid: int) -> int:
        if kind == "session":
            return paramiko.OPEN_SUCCEEDED
        return paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED


class SshSimulator(Simulator):
    """Devices answering SSH (Junos NETCONF, IOS CLI): one listening socket per device, accepted in the
    simulator's loop; each connection is served by a thread of its own (plus paramiko's transport thread)
    that ends with the connection. A connection for an ``unresponsive`` device is accepted by the kernel
    and held without an SSH banner (a hung box) until the fault is lifted, then dropped.

    A subclass implements ``_serve_transport`` (its server interface, its channels, its sessions) and
    may set ``SSH_VERSION`` (the server's identification string) and ``THREAD_PREFIX``."""

    SSH_VERSION: ClassVar[str] = "SSH-2.0-OpenSSH_8.6"
    THREAD_PREFIX: ClassVar[str] = "ssh"

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._listeners: dict[str, socket.socket] = {}
        self._connections: dict[socket.socket, threading.Thread] = {}  # served connection -> its thread
        self._connections_lock = threading.Lock()
        self._parked: list[tuple[SimDevice, socket.socket]] = []  # accepted for an unresponsive device
        self._release_pending = False
        self._host_key: Any = None

    async def async_remove_device(self, name: str) -> None:
        dev = self._devices[name]
        await super().async_remove_device(name)
        dev.address = "0.0.0.0-removed"  # its sessions (threads of their own) notice and drop

    @property
    def open_connections(self) -> int:
        """SSH connections being served (not counting those held for an unresponsive device)."""
        with self._connections_lock:
            return len(self._connections)

    def _serve_transport(self, dev: SimDevice, transport: Any, local_address: str, peer: tuple) -> None:
        """Serve one SSH connection (in its own thread): ``transport`` is a paramiko server-side
        Transport with the host key and version set; start it, accept channels, run the session.
        Return (or raise paramiko.SSHException/EOFError/OSError) when the connection is done."""
        raise NotImplementedError

    # -- listeners -------------------------------------------------------------------------
    async def _setup(self) -> None:
        self._host_key = host_key()

    async def _listen(self, dev: SimDevice) -> None:
        sock = bind_listener(dev)
        try:
            sock.listen(64)
        except OSError:
            sock.close()
            raise
        sock.setblocking(False)
        loop = asyncio.get_running_loop()
        dev._loop = loop
        self._listeners[dev.name] = sock
        loop.add_reader(sock.fileno(), self._accept, dev, sock)
        self.log.debug("%s: listening on %s:%d", dev.name, dev.address, dev.port)

    async def _unlisten(self, dev: SimDevice) -> None:
        sock = self._listeners.pop(dev.name, None)
        if sock is not None:
            asyncio.get_running_loop().remove_reader(sock.fileno())
            sock.close()

    async def _teardown(self) -> None:
        for dev in list(self._devices.values()):
            await self._unlisten(dev)
        for _, conn in self._parked:
            conn.close()
        self._parked.clear()
        with self._connections_lock:
            served = list(self._connections.items())
        for conn, _ in served:  # wakes the transports reading them: their sessions end
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        deadline = time.monotonic() + 5
        for _, thread in served:
            await asyncio.get_running_loop().run_in_executor(None, thread.join, max(deadline - time.monotonic(), 0))

    def _accept(self, dev: SimDevice, listener: socket.socket) -> None:
        """A connection for ``dev`` (in the loop): served by a thread of its own."""
        try:
            conn, peer = listener.accept()
        except OSError:  # nothing after all (another accept took it), or the listener closed
            return
        conn.setblocking(True)
        if dev.unresponsive:  # a hung box: TCP accepted by the kernel, no SSH banner ever
            self._parked.append((dev, conn))
            self.log.debug("%s: unresponsive: holding a connection from %s", dev.name, peer[0])
            self._release_parked_later()
            return
        thread = threading.Thread(
            target=self._serve_connection,
            args=(dev, conn, peer),
            name=f"{self.THREAD_PREFIX}-{dev.name}",
            daemon=True,
        )
        with self._connections_lock:
            self._connections[conn] = thread
        thread.start()

    def _release_parked_later(self) -> None:
        if not self._release_pending and self._loop is not None:
            self._release_pending = True
            self._loop.call_later(0.1, self._release_parked)

    def _release_parked(self) -> None:
        """Connections held for an unresponsive device are dropped once the fault is lifted."""
        self._release_pending = False
        keep = []
        for dev, conn in self._parked:
            if dev.unresponsive and not self._stopping:
                keep.append((dev, conn))
            else:
                conn.close()
        self._parked = keep
        if keep:
            self._release_parked_later()

    def _serve_connection(self, dev: SimDevice, conn: socket.socket, peer: tuple) -> None:
        import paramiko  # only the SSH platforms need it

        local_address = conn.getsockname()[0]
        transport = paramiko.Transport(conn)
        try:
            transport.local_version = self.SSH_VERSION
            transport.add_server_key(self._host_key)
            self._serve_transport(dev, transport, local_address, peer)
        except (paramiko.SSHException, EOFError, OSError) as exc:
            self.log.debug("%s: connection from %s ended: %s", dev.name, peer[0], exc)
        finally:
            transport.close()
            conn.close()
            with self._connections_lock:
                self._connections.pop(conn, None)
