# -*- coding: utf-8 -*-
# Copyright: sotsync team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A run's lifeline: when to stop starting devices, and how a run of the daemon ends when the daemon is gone.

A provisioning run stops *starting* devices when it is asked to stop (SIGTERM, SIGINT or SIGHUP reach the
module: Ctrl-C in a terminal, ``systemctl stop`` with ``KillMode=control-group``), or, for a run the
``ansible-rulebook`` daemon started, when that daemon is gone (stopped, or killed). Devices already in
their NAPALM session finish what they started (a commit is verified and confirmed, or left to revert by
its commit-confirm timer), so no device is left half-configured; the devices not started are reported as
``run_stopped``.

ansible-runner starts each playbook of the daemon in a session of its own with SIGHUP ignored, so nothing
ends those processes when the daemon goes: the event sources put ``SOTSYNC_DAEMON=<pid>:<start time>`` in
the daemon's environment, every run inherits it, and a run that finds that process gone ends its own
``ansible-playbook`` session once its devices are done (``end_orphaned_session``). The watcher thread does
it once the run is idle (no device in its session, its notes written), because the run's own thread may
be stuck: ansible-playbook's worker blocks writing a line for a parent that no longer reads.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import signal
import threading

ENV = "SOTSYNC_DAEMON"
POLL_SECONDS = 0.5
# Once the daemon is gone, how long the watcher waits for the devices in their sessions (each bounded by
# its NAPALM timeout and commit-confirm window) and the notes before it ends the run's session anyway.
DRAIN_SECONDS = 600
SIGNALS = ("SIGTERM", "SIGINT", "SIGHUP")


def _stat(pid, proc):
    """``/proc/<pid>/stat``'s fields after the command name, or None when there is no such process."""
    try:
        with open(os.path.join(proc, str(pid), "stat")) as handle:
            stat = handle.read()
    except (OSError, IOError):
        return None
    # the command name (field 2) is in parentheses and may hold spaces: count from the last ")"
    return stat.rsplit(")", 1)[-1].split()


def start_time(pid, proc="/proc"):
    """The start time of process ``pid`` (clock ticks since boot, ``/proc/<pid>/stat`` field 22), or None
    when it does not exist: with the pid it names one process, even after the pid is reused. A process
    that has exited but not been reaped yet (a zombie) does not exist any more."""
    fields = _stat(pid, proc)
    if not fields or fields[0] in ("Z", "X"):
        return None
    try:
        return int(fields[19])  # field 22 of the whole line
    except (IndexError, ValueError):
        return None


def daemon_token(pid=None, proc="/proc"):
    """``"<pid>:<start time>"`` of this process (or ``pid``): what the event sources export as ``ENV``."""
    pid = os.getpid() if pid is None else pid
    return "{0}:{1}".format(pid, start_time(pid, proc) or 0)


def export_daemon(environ=None, proc="/proc"):
    """Called by the event sources in the daemon: every run it starts inherits ``ENV`` naming it."""
    environ = os.environ if environ is None else environ
    environ[ENV] = daemon_token(proc=proc)
    return environ[ENV]


def parse_token(value):
    """``"123:456"`` -> ``(123, 456)``; None for anything else (an empty or foreign value is ignored)."""
    try:
        pid, started = (int(part) for part in str(value).split(":", 1))
    except (TypeError, ValueError):
        return None
    return (pid, started) if pid > 1 else None


def alive(token, proc="/proc"):
    """True while the process ``token`` names (pid and start time) runs."""
    pid, started = token
    now = start_time(pid, proc)
    return now is not None and (not started or now == started)


class Lifeline(object):
    """Tells a batch when to stop starting devices; see the module's docstring.

    ``daemon`` is the parsed ``ENV`` token of the daemon that started this run, or None (a manual run, a job
    template). ``stop(reason)`` may be called from any thread or a signal handler.
    """

    def __init__(
        self,
        daemon=None,
        proc="/proc",
        poll=POLL_SECONDS,
        drain=DRAIN_SECONDS,
        getpgrp=os.getpgrp,
        getsid=os.getsid,
        killpg=os.killpg,
    ):
        self.daemon = daemon
        self._getpgrp, self._getsid, self._killpg = getpgrp, getsid, killpg
        self.proc = proc
        self.poll = poll
        self.drain = drain
        self.reason = None
        self.daemon_gone = False
        self.waits = []  # callables, True when that part of the run is idle (e.g. its notes are written)
        self._lock = threading.Lock()
        self._in_session = 0
        self._stopped = threading.Event()
        self._done = threading.Event()
        self._watcher = None

    @classmethod
    def from_environment(cls, environ=None, **kwargs):
        environ = os.environ if environ is None else environ
        return cls(daemon=parse_token(environ.get(ENV)), **kwargs)

    # -- asking to stop ---------------------------------------------------------------------------------
    @property
    def stopping(self):
        return self._stopped.is_set()

    def stop(self, reason):
        with self._lock:
            if not self._stopped.is_set():
                self.reason = reason
                self._stopped.set()

    # -- devices in their session --------------------------------------------------------------------
    def begin(self):
        """A device is about to open its session: False once stopping (it must not), else counted until
        ``end``. Checked and counted under one lock, so no session begins after ``stop``."""
        with self._lock:
            if self._stopped.is_set():
                return False
            self._in_session += 1
            return True

    def end(self):
        with self._lock:
            self._in_session -= 1

    def idle(self):
        """No device in its session and every part in ``waits`` idle."""
        with self._lock:
            busy = self._in_session
        return busy == 0 and all(wait() for wait in self.waits)

    def handle_signals(self, signals=SIGNALS, install=signal.signal):
        """Turn the signals into ``stop`` until ``restore(<what this returns>)``: ``{signal: previous
        handler}``. Only the main thread may install handlers: from another one this installs none."""
        if threading.current_thread() is not threading.main_thread():
            return {}

        def handler(signum, _frame):
            self.stop("the run was stopped ({0})".format(signal.Signals(signum).name))

        return dict((getattr(signal, name), install(getattr(signal, name), handler)) for name in signals)

    @staticmethod
    def restore(previous, install=signal.signal):
        for signum, handler in previous.items():
            install(signum, handler if handler is not None else signal.SIG_DFL)

    def check_daemon(self):
        """One look at the daemon; True while it runs (or when there is none to watch)."""
        if self.daemon is None or alive(self.daemon, self.proc):
            return True
        self.daemon_gone = True
        self.stop("the ansible-rulebook daemon that started this run (pid {0}) is gone".format(self.daemon[0]))
        return False

    def watch(self):
        """Look at the daemon every ``poll`` seconds from a background thread until ``close``; once it is
        gone, wait (at most ``drain`` seconds) for the run to be idle, then end the run's session, unless
        the run closed the lifeline first (its own thread then ends the session)."""
        if self.daemon is None or self._watcher is not None:
            return

        def loop():
            while not self._done.wait(self.poll):
                if not self.check_daemon():
                    break
            else:
                return
            waited = 0.0
            while not self.idle() and waited < self.drain:
                if self._done.wait(0.2):
                    return
                waited += 0.2
            if not self._done.is_set():
                self.end_orphaned_session()

        self._watcher = threading.Thread(target=loop, name="sotsync-lifeline", daemon=True)
        self._watcher.start()

    def close(self):
        self._done.set()

    # -- after the devices -------------------------------------------------------------------------------
    def end_orphaned_session(self):
        """When the daemon that started this run is gone, end this run's ``ansible-playbook`` session: nobody
        reads its output any more, and ansible-playbook would wait on its workers forever. Only a session
        ansible-runner made (this process group leads its own session); never a terminal's. Returns True
        when it signalled the session (this process ends with it)."""
        if not (self.daemon_gone or (self.daemon is not None and not self.check_daemon())):
            return False
        group = self._getpgrp()
        if group != self._getsid(0):
            return False  # not the session ansible-runner made for the run
        self._killpg(group, signal.SIGKILL)
        return True
