# -*- coding: utf-8 -*-
# Copyright: sotsync team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bring one device to its intended configuration with NAPALM: merge, diff, discard or commit.

``deploy()`` takes a NAPALM driver object (opened here, closed here) and an intended configuration:

1. ``open()``; ``load_merge_candidate(config=...)`` (merge only: replace is not offered anywhere);
2. ``compare_config()`` -> the unified diff;
3. dry run (or check mode): ``discard_config()``; an empty diff: ``discard_config()``, nothing committed;
4. otherwise commit. With commit-confirm (``commit_confirm_seconds > 0`` and a driver that has it):
   ``commit_config(revert_in=N)``, read the running config back (the device still answers and has
   every intended line), then ``confirm_commit()``; on a failed check ``rollback()`` and raise. If the
   device stops answering, its own commit-confirm timer reverts the change. Without commit-confirm:
   ``commit_config()`` then the same check, ``rollback()`` on failure.
5. ``finally``: discard a candidate that was loaded and not committed, then ``close()``; cleanup
   errors are logged and swallowed so they never mask the real error.

Each step is a method of ``DeploySession``, which holds one call's state (the stage under way, whether
the driver is open, a candidate loaded, a commit-confirm pending); ``deploy()`` calls them in order.

What differs between platforms (commit-confirm or a checkpoint, timer granularity, the session
hand-over of re-addressing, verification of hierarchical configurations, the device's own error
messages) is asked of the platform layer (``platforms.for_driver``), never tested here by name.
Device exceptions become typed errors (``classify_device_error``). No Ansible import here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import socket
import time
import traceback

from ansible_collections.sotsync.nautobot.plugins.module_utils import messages, platforms
from ansible_collections.sotsync.nautobot.plugins.module_utils.errors import (
    CommitFailed,
    CommitVerificationFailed,
    ConfigRejected,
    DeviceAuthenticationFailed,
    DeviceError,
    DeviceLocked,
    DeviceUnreachable,
    MissingDependency,
    ProvisionError,
)


class _Libraries(object):
    """napalm, imported on first use: importing napalm loads every driver (about a second),
    so a caller can start it in the background while it talks to Nautobot (see the action plugin)."""

    loaded = False
    error = None
    get_network_driver = None
    NetworkDriver = None
    exc = None


def libraries():
    """The napalm names the flow uses; ``error`` holds the traceback when napalm is missing."""
    if not _Libraries.loaded:
        try:
            from napalm import get_network_driver
            from napalm.base import NetworkDriver
            from napalm.base import exceptions as napalm_exc

            _Libraries.get_network_driver = staticmethod(get_network_driver)
            _Libraries.NetworkDriver = NetworkDriver
            _Libraries.exc = napalm_exc
        except ImportError:  # pragma: no cover - exercised only without the dependency
            _Libraries.error = traceback.format_exc()
        _Libraries.loaded = True
    return _Libraries


class DeployResult(object):
    """What ``deploy()`` did."""

    def __init__(self):
        self.diff = ""
        self.changed = False
        self.committed = False
        self.dry_run = True
        self.commit_confirm = False
        self.verified = None
        self.msg = ""
        self.warnings = []
        # live commits: the running configuration before the commit and after it (for a rollback point)
        self.before_running = None
        self.after_running = None

    def as_dict(self):
        return {
            "changed": self.changed,
            "config_diff": self.diff,
            "committed": self.committed,
            "dry_run": self.dry_run,
            "commit_confirm": self.commit_confirm,
            "verified": self.verified,
            "msg": self.msg,
        }


# --- helpers ---------------------------------------------------------------------------------------
def make_driver(driver_name, host, username, password, timeout=60, optional_args=None):
    """Instantiate (not open) a NAPALM driver."""
    libs = libraries()
    if libs.get_network_driver is None:
        raise MissingDependency("The Python library napalm is required (pip install napalm)", exception=libs.error)
    try:
        driver_class = libs.get_network_driver(driver_name)
    except Exception as exc:  # noqa: BLE001 - napalm raises ModuleImportError or others
        raise DeviceError(
            "NAPALM has no usable driver {0!r}: {1}".format(driver_name, exc), napalm_driver=driver_name
        ) from exc
    return driver_class(
        hostname=host,
        username=username,
        password=password,
        timeout=timeout,
        optional_args=dict(optional_args or {}),
    )


def missing_lines(intent, running, platform=None):
    """Intended lines absent from the running config, as the platform reads its configuration
    (generic: whitespace-normalised lines, order ignored)."""
    return (platform or platforms.for_driver(None)).missing_lines(intent, running)


def rejected_line(message, intent=None, platform=None):
    """Name the line a device refused, from its error message (None if it cannot): each platform
    knows its device's wording; without one, every known platform's rule is tried."""
    if platform is not None:
        return platform.rejected_line(message, intent)
    for known in platforms.known_platforms().values():
        line = known.rejected_line(message, intent)
        if line:
            return line
    return None


def _device_error_text(exc):
    """A short, secret-free description of a device exception."""
    text = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return " ".join(str(text).split())[:500]


def _looks_like_auth(text):
    lowered = text.lower()
    return "unauthorized" in lowered or "401" in lowered or "authentication" in lowered


def classify_device_error(exc, host=None, stage=None, intent=None, platform=None):
    """Map a NAPALM/driver library/socket exception to a typed ``DeviceError``. The exceptions of a
    driver's own library (pyeapi's, ...) are the platform layer's to map."""
    if isinstance(exc, ProvisionError):
        return exc
    text = _device_error_text(exc)
    where = " ({0})".format(stage) if stage else ""
    details = {"host": host}
    candidates = [platform] if platform is not None else []
    candidates += [p for p in platforms.known_platforms().values() if p is not platform]
    for candidate in candidates:
        typed = candidate.classify(exc, host, where, text)
        if typed is not None:
            return typed
    napalm_exc = libraries().exc
    if napalm_exc is not None:
        if isinstance(exc, napalm_exc.ConnectAuthError):
            return DeviceAuthenticationFailed(
                "The device {0} refused the NAPALM credentials{1}: {2}".format(host, where, text), **details
            )
        if isinstance(exc, napalm_exc.MergeConfigException):
            line = rejected_line(text, intent, platform) or rejected_line(text, intent)
            outcome = (platform or platforms.for_driver(None)).rejection_outcome
            if line:
                msg = "The device {0} rejected the line {1!r}; {2}: {3}".format(host, line, outcome, text)
            else:
                msg = "The device {0} rejected the candidate configuration; {1}: {2}".format(host, outcome, text)
            return ConfigRejected(msg, line=line, **details)
        if isinstance(exc, napalm_exc.SessionLockedException):
            return DeviceLocked(
                "The device {0} has its configuration locked by another session{1}: {2}".format(host, where, text),
                **details,
            )
        if isinstance(exc, napalm_exc.CommitError):
            return CommitFailed("The device {0} refused the commit{1}: {2}".format(host, where, text), **details)
        if isinstance(exc, napalm_exc.ConnectionException):
            if _looks_like_auth(text):
                return DeviceAuthenticationFailed(
                    "The device {0} refused the NAPALM credentials{1}: {2}".format(host, where, text), **details
                )
            return DeviceUnreachable("The device {0} is unreachable{1}: {2}".format(host, where, text), **details)
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return DeviceUnreachable("The device {0} did not answer in time{1}: {2}".format(host, where, text), **details)
    if isinstance(exc, (ConnectionError, OSError)):
        return DeviceUnreachable("The device {0} is unreachable{1}: {2}".format(host, where, text), **details)
    return DeviceError("NAPALM failed on {0}{1}: {2}: {3}".format(host, where, type(exc).__name__, text), **details)


def supports_commit_confirm(driver):
    """True when the driver implements commit-confirm (NAPALM's base class raises NotImplementedError)."""
    for name in ("has_pending_commit", "confirm_commit"):
        method = getattr(type(driver), name, None)
        if method is None:
            return False
        base = libraries().NetworkDriver
        # pylint: disable-next=isinstance-second-argument-not-valid-type
        if base is not None and isinstance(driver, base) and method is getattr(base, name):
            return False
    return True


def _no_log(_msg):
    return None


# --- the flow --------------------------------------------------------------------------------------
def deploy(
    driver,
    intent,
    dry_run=True,
    commit_confirm_seconds=60,
    verify=True,
    host=None,
    log=None,
    moved_to=None,
    reconnect=None,
    platform=None,
    readdress_without_confirm=False,
    keep_running=None,
):
    """Merge ``intent`` into the device behind ``driver``; see the module docstring for the steps.

    ``keep_running(text)``, when given, is handed the device's running configuration once the session has
    compared (and discarded, or committed: then the one verification read), or ``keep_running(exception)``
    when reading it fails (the session goes on): a drift check compares it with the intent.

    ``platform`` (from ``platforms.for_driver``; by default the driver's own) says how a live push is
    made safe. Without commit-confirm (NX-OS) the commit follows the driver's checkpoint, a failed
    verification rolls back to it, and the result says that a device that stops answering cannot be
    rolled back from here; re-addressing such a platform is refused unless ``readdress_without_confirm``
    (the user's explicit opt-in): then the commit is made at the old address after the checkpoint and
    verified at the new one, and a device that does not answer there is reported, not rolled back.

    Management re-addressing: ``driver`` reaches the device at ``host``, the address it has now, and
    ``moved_to`` is its new management address (the intent moves it there). A live push then needs
    commit-confirm; after the commit the session moves to a driver from ``reconnect()`` (not opened)
    at ``moved_to``, which verifies and confirms. A device that does not answer there is not
    confirmed, so its own timer reverts the change and it answers at ``host`` again.
    """
    session = DeploySession(
        driver,
        intent,
        host,
        log or _no_log,
        platform or platforms.for_driver_object(driver),
        moved_to=moved_to,
        reconnect=reconnect,
        readdress_without_confirm=readdress_without_confirm,
    )
    session.result.dry_run = bool(dry_run)
    try:
        if not session.compare() or session.result.dry_run:
            result = session.discard()
            session.hand_running(keep_running)
            return result
        use_confirm = session.plan_commit(commit_confirm_seconds)
        if use_confirm:
            use_confirm = session.commit_with_confirm()  # False: the driver has no commit-confirm after all
        if not use_confirm:
            session.commit_without_confirm()
        session.log(
            "%s: committed%s" % (session.host, " with a %ds revert timer" % session.seconds if session.pending else "")
        )
        if session.moving:
            session.move()
        if verify:
            session.verify()
        if session.moving and not session.pending:
            session.save_after_move()
        if session.pending:
            session.confirm()
        result = session.finish_commit()
        session.hand_running(keep_running)
        return result
    except ProvisionError:
        raise
    except Exception as exc:  # noqa: BLE001 - every device fault becomes a typed error
        raise session.typed_error(exc) from exc
    finally:
        session.cleanup()


class DeploySession(object):
    """One ``deploy()``: its steps as methods, and the state its cleanup and its errors read.

    ``stage``: the step under way (named in errors); ``opened``: ``driver`` is (or may be) open;
    ``candidate``: a candidate is (or may be) loaded and neither committed nor discarded; ``pending``: a
    commit-confirm is pending (the device reverts by itself unless confirmed); ``seconds``: the revert
    timer, as the platform counts it. ``driver`` and ``host`` change when the session follows the device
    to its new management address (``move``).
    """

    def __init__(
        self, driver, intent, host, log, platform, moved_to=None, reconnect=None, readdress_without_confirm=False
    ):
        self.driver = driver
        self.intent = intent
        self.host = host
        self.log = log
        self.platform = platform
        self.moved_to = moved_to
        self.reconnect = reconnect
        self.readdress_without_confirm = readdress_without_confirm
        self.moving = bool(moved_to) and moved_to != host
        self.result = DeployResult()
        self.opened = False
        self.candidate = False
        self.pending = False
        self.stage = "open"
        self.seconds = None

    def compare(self):
        """Open, load the intent as a merge candidate, read the diff: True when the device differs."""
        self.opened = True
        self.driver.open()
        self.stage = "load_merge_candidate"
        self.candidate = True
        self.driver.load_merge_candidate(config=self.platform.merge_candidate(self.intent))
        self.stage = "compare_config"
        self.result.diff = (self.driver.compare_config() or "").strip("\n")
        self.result.changed = bool(self.result.diff.strip())
        return self.result.changed

    def discard(self):
        """A dry run, or nothing to change: the candidate discarded, nothing committed."""
        self.stage = "discard_config"
        self.driver.discard_config()
        self.candidate = False
        self.result.msg = messages.DRY_RUN if self.result.dry_run else messages.NO_CHANGES
        self.log("%s: %s" % (self.host, self.result.msg))
        return self.result

    def plan_commit(self, commit_confirm_seconds):
        """The running configuration before the commit (the rollback point), then whether the commit is
        made with commit-confirm, for ``seconds``. A move without it is refused unless the user opted in."""
        self.stage = "get_config (before the commit)"
        self.result.before_running = (self.driver.get_config(retrieve="running") or {}).get("running", "")
        self.seconds = commit_confirm_seconds
        use_confirm = bool(
            commit_confirm_seconds
            and commit_confirm_seconds > 0
            and self.platform.commit_confirm
            and supports_commit_confirm(self.driver)
        )
        if use_confirm:
            self.seconds, note = self.platform.revert_seconds(commit_confirm_seconds)
            if note:
                self.result.warnings.append(note)
                self.log("%s: %s" % (self.host, note))
        if self.moving and not use_confirm and not self.readdress_without_confirm:
            raise CommitFailed(
                "Refusing to move {0} to its new management address {1} without commit-confirm: a device that "
                "does not answer at its new address could not be brought back (commit_confirm_seconds is {2}); "
                "nothing was applied".format(self.host, self.moved_to, self.seconds),
                host=self.host,
                moved_to=self.moved_to,
                config_diff=self.result.diff,
            )
        return use_confirm

    def commit_with_confirm(self):
        """``commit_config(revert_in=seconds)``: True, a commit-confirm pending; False when the driver turns
        out to have none (nothing committed). Moving, a session that ends with the commit is expected."""
        self.stage = "commit_config(revert_in=%d)" % self.seconds
        try:
            self.driver.commit_config(revert_in=int(self.seconds))
        except NotImplementedError:
            self.result.warnings.append(
                "The NAPALM driver has no commit-confirm; committed without an automatic revert timer"
            )
            return False
        except Exception as exc:  # noqa: BLE001 - a refusal is raised as such; a lost contact is judged
            lost = _contact_lost(exc, self.host, self.stage, self.intent, self.platform)
            if lost is None:
                raise
            self.candidate = False  # a silent device cannot discard; its timer reverts what it applied
            if not self.moving:
                raise lost from exc
            # Moving the management address drops the session at the old one (Junos closes it as the
            # commit takes effect): the commit stands unconfirmed; the new address decides.
            self.log(
                "%s: the session ended with the commit (%s): confirming at %s"
                % (self.host, lost.message, self.moved_to)
            )
        self.candidate = False
        self.pending = True
        self.result.commit_confirm = True
        return True

    def commit_without_confirm(self):
        """``commit_config()`` (after the driver's checkpoint); a move only if the user opted in."""
        if self.moving and not self.readdress_without_confirm:
            raise CommitFailed(
                "Refusing to move {0} to {1}: its NAPALM driver has no commit-confirm; nothing was applied".format(
                    self.host, self.moved_to
                ),
                host=self.host,
                moved_to=self.moved_to,
                config_diff=self.result.diff,
            )
        if self.moving:
            self.result.warnings.append(
                "{0} was moved to {1} without commit-confirm, as readdress_without_confirm asked: a device "
                "that did not answer at its new address could not have been brought back from here".format(
                    self.host, self.moved_to
                )
            )
        self.stage = "commit_config"
        try:
            self.driver.commit_config()
        except Exception as exc:  # noqa: BLE001 - a refusal is raised as such; a lost contact is judged
            lost = _contact_lost(exc, self.host, self.stage, self.intent, self.platform, confirm=False)
            if lost is None:
                raise
            self.candidate = False
            if not self.moving:
                raise lost from exc
            # the new management address took effect during the commit: the new address decides
            self.log(
                "%s: the session ended with the commit (%s): verifying at %s" % (self.host, lost.message, self.moved_to)
            )
        self.candidate = False
        risk = self.platform.no_confirm_risk()
        if risk:
            self.result.warnings.append(risk)

    def move(self):
        """After the commit: the session leaves the old address for a driver at ``moved_to``."""
        self.stage = "reconnect at %s" % self.moved_to
        token = self.platform.detach_pending_commit(self.driver)
        try:
            self.driver.close()
        except Exception as exc:  # noqa: BLE001 - the old address is expected to go away
            self.log("%s: close after the move: %s" % (self.host, _device_error_text(exc)))
        self.opened = False
        seconds = self.seconds if self.pending else REACH_WITHOUT_CONFIRM_SECONDS
        self.driver = _reach(
            self.reconnect, self.host, self.moved_to, seconds, self.result, self.log, pending=self.pending
        )
        self.opened = True
        self.platform.attach_pending_commit(self.driver, token)
        self.result.warnings.append(
            "{0} moved to its new management address {1}; verified{2} there".format(
                self.host, self.moved_to, " and confirmed" if self.pending else ""
            )
        )
        self.host = self.moved_to

    def verify(self):
        """The device answers and has every intended line; rolled back (or left to its timer) otherwise."""
        self.stage = "verify"
        _verify(self.driver, self.intent, self.host, self.pending, self.seconds, self.result, self.platform)

    def save_after_move(self):
        """Moved without commit-confirm: what the platform does at the new address (NX-OS saves there)."""
        self.stage = "after the move"
        try:
            note = self.platform.after_move(self.driver)
        except Exception as exc:  # noqa: BLE001 - committed and verified: say what is left to do
            note = "NOT saved at its new address ({0}): save its configuration by hand".format(_device_error_text(exc))
        if note:
            self.result.warnings.append("{0}: {1}".format(self.host, note))

    def confirm(self):
        """``confirm_commit()``; when it fails, the device's timer reverts the change: said so."""
        self.stage = "confirm_commit"
        try:
            self.driver.confirm_commit()
        except Exception as exc:  # noqa: BLE001 - the device reverts by itself: say so
            raise CommitVerificationFailed(
                "Could not confirm the commit on {0} ({1}); the device's commit-confirm timer reverts "
                "the change within {2}s".format(self.host, _device_error_text(exc), self.seconds),
                host=self.host,
                rolled_back="timer",
                config_diff=self.result.diff,
            ) from exc
        self.pending = False

    def finish_commit(self):
        """Committed: the running configuration after it (unless verification read it), the result."""
        self.result.committed = True
        if self.result.after_running is None:
            try:
                self.result.after_running = (self.driver.get_config(retrieve="running") or {}).get("running", "")
            except Exception as exc:  # noqa: BLE001 - committed; only the rollback point is missing
                self.result.warnings.append(
                    "Could not read the configuration after the commit: %s" % _device_error_text(exc)
                )
        self.result.msg = messages.COMMITTED
        self.log("%s: %s" % (self.host, self.result.msg))
        return self.result

    def hand_running(self, keep):
        """``keep`` (when given) handed the running configuration: after a commit the one read last (by
        verification), else read now; or the exception reading it."""
        if keep is None:
            return
        running = self.result.after_running
        if running is None:
            self.stage = "get_config"
            try:
                running = (self.driver.get_config(retrieve="running") or {}).get("running", "")
            except Exception as exc:  # noqa: BLE001 - handed over: the drift check says it was not read
                running = exc
        keep(running)

    def typed_error(self, exc):
        """A device fault as a typed error, with the stage it happened at and the diff shown so far."""
        error = classify_device_error(exc, host=self.host, stage=self.stage, intent=self.intent, platform=self.platform)
        error.details.setdefault("stage", self.stage.split("(", 1)[0])
        if self.result.diff and "config_diff" not in error.details:
            error.details["config_diff"] = self.result.diff
        return error

    def cleanup(self):
        """Discard a candidate loaded and not committed, then close; errors logged, never raised (they
        must not mask the real outcome)."""
        if self.candidate and self.opened:
            try:
                self.driver.discard_config()
            except Exception as exc:  # noqa: BLE001 - cleanup must not mask the real outcome
                self.log("%s: discard_config during cleanup failed: %s" % (self.host, _device_error_text(exc)))
        if self.opened:
            try:
                self.driver.close()
            except Exception as exc:  # noqa: BLE001 - cleanup must not mask the real outcome
                self.log("%s: close during cleanup failed: %s" % (self.host, _device_error_text(exc)))


def _contact_lost(exc, host, stage, intent, platform, confirm=True, seconds=None):
    """When the device stopped answering during the commit (not a refusal), a ``CommitVerificationFailed``
    that says what became of the change: reverted by the device's commit-confirm timer unless confirmed,
    or (without commit-confirm) possibly applied and not rolled back. None for any other error."""
    typed = classify_device_error(exc, host=host, stage=stage, intent=intent, platform=platform)
    if not isinstance(typed, DeviceUnreachable):
        return None
    text = _device_error_text(exc)
    if confirm:
        return CommitVerificationFailed(
            "The device {0} stopped answering during the commit ({1}); if the commit was applied it is not "
            "confirmed: the device's commit-confirm timer reverts it".format(host, text),
            host=host,
            rolled_back="timer",
        )
    return CommitVerificationFailed(
        "The device {0} stopped answering during the commit ({1}); the change may be applied and was NOT rolled "
        "back: {2}; check the device".format(host, text, platform.no_confirm_risk() or "no commit-confirm"),
        host=host,
        rolled_back=False,
    )


# How long a device moved without commit-confirm (no timer to stay within) is looked for at its new address.
REACH_WITHOUT_CONFIRM_SECONDS = 60


def _reach(reconnect, old_host, new_host, seconds, result, log, clock=None, sleep=None, pending=True):
    """Open a driver at the device's new address, trying until shortly before the revert timer (for
    ``seconds`` when there is none: ``pending`` false, a commit without commit-confirm)."""
    clock = clock or time.monotonic
    sleep = sleep or time.sleep
    deadline = clock() + max(1.0, float(seconds) - min(10.0, float(seconds) / 3.0))
    error = None
    while True:
        candidate = reconnect()
        try:
            candidate.open()
            log("%s: answers at its new management address" % new_host)
            return candidate
        except Exception as exc:  # noqa: BLE001 - any failure: not reachable there (yet)
            error = exc
        if clock() >= deadline:
            break
        sleep(1.0)
    if not pending:
        raise CommitVerificationFailed(
            "{0} committed the change without commit-confirm but does not answer at its new management address "
            "{1} ({2}); the change was NOT rolled back: check the device".format(
                old_host, new_host, _device_error_text(error)
            ),
            host=old_host,
            moved_to=new_host,
            rolled_back=False,
            config_diff=result.diff,
        )
    raise CommitVerificationFailed(
        "{0} applied the change but does not answer at its new management address {1} ({2}); the change is "
        "not confirmed: the device's commit-confirm timer reverts it within {3}s and the device answers at {0} "
        "again".format(old_host, new_host, _device_error_text(error), seconds),
        host=old_host,
        moved_to=new_host,
        rolled_back="timer",
        config_diff=result.diff,
    )


def _verify(driver, intent, host, pending, seconds, result, platform):
    """Check the device answers and has every intended line; roll back and raise otherwise."""
    try:
        running = (driver.get_config(retrieve="running") or {}).get("running", "")
    except Exception as exc:  # noqa: BLE001 - the device stopped answering after the commit
        if pending:
            # Asking a silent device to roll back only adds timeouts: its own timer reverts the change.
            how, rolled_back = (
                "is not confirmed: the device's commit-confirm timer reverts it within %ds" % seconds,
                "timer",
            )
        elif _try_rollback(driver):
            how, rolled_back = "was rolled back to %s" % platform.rollback_point, "rollback"
        else:
            how, rolled_back = (
                "was NOT rolled back (%s has no commit-confirm and the device does not answer): check the device"
                % platform.label,
                False,
            )
        raise CommitVerificationFailed(
            "The device {0} stopped answering after the commit ({1}); the change {2}".format(
                host, _device_error_text(exc), how
            ),
            host=host,
            rolled_back=rolled_back,
            config_diff=result.diff,
        ) from exc
    result.after_running = running
    missing = platform.missing_lines(intent, running)
    present = platform.still_present(intent, running)
    if missing or present:
        if _try_rollback(driver):
            how, rolled_back = "was rolled back to %s" % platform.rollback_point, "rollback"
        elif pending:
            how, rolled_back = "is left to the commit-confirm timer (rollback failed)", "timer"
        else:
            how, rolled_back = "was NOT rolled back (rollback failed): check the device", False
        if missing:
            lacks = "lacks {0} intended line(s), e.g. {1!r}".format(len(missing), missing[0])
        else:
            lacks = 'still has {0} line(s) the config set removes (its "no" lines), e.g. {1!r}'.format(
                len(present), present[0]
            )
        raise CommitVerificationFailed(
            "After the commit the running configuration of {0} {1}; the change {2}".format(host, lacks, how),
            host=host,
            missing_lines=missing[:20],
            still_present_lines=present[:20],
            rolled_back=rolled_back,
            config_diff=result.diff,
        )
    result.verified = True


def _try_rollback(driver):
    try:
        driver.rollback()
    except Exception:  # noqa: BLE001 - the caller reports what happened instead
        return False
    return True
