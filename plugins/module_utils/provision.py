# -*- coding: utf-8 -*-
# Copyright: sotsync team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One device's provisioning, in plain Python: ``provision_one``, which ``batch.run_batch`` runs for each
device it read from Nautobot (the module's action plugin runs the batch), and the helpers it and the
rollback module share.

device (already read) -> readiness (live data) -> intended config -> NAPALM
merge/diff/discard-or-commit (``deploy``) -> note on the device -> result dict.
Every failure is a typed ``ProvisionError``; once the device is known, failures are recorded in a note too.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.sotsync.nautobot.plugins.module_utils import masking, messages, platforms, rollback
from ansible_collections.sotsync.nautobot.plugins.module_utils.credentials import Scrubber
from ansible_collections.sotsync.nautobot.plugins.module_utils.deploy import deploy, make_driver
from ansible_collections.sotsync.nautobot.plugins.module_utils.errors import (
    DeviceAuthenticationFailed,
    DeviceNotReady,
    DeviceUnreachable,
    InvalidParameter,
    NautobotAuthenticationFailed,
    NautobotUnreachable,
    ProvisionError,
)
from ansible_collections.sotsync.nautobot.plugins.module_utils.nautobot import NautobotClient
from ansible_collections.sotsync.nautobot.plugins.module_utils.readiness import check_readiness

MODULE_NAME = "sotsync.nautobot.golden_config_deploy"
NOTE_DIFF_LIMIT = 20000
MASK = "********"


def scrub(text, secrets):
    """Replace every secret value in ``text`` (defence in depth: messages never embed them)."""
    text = "" if text is None else str(text)
    for secret in secrets:
        if secret and len(str(secret)) >= 3:
            text = text.replace(str(secret), MASK)
    return text


def redact_config_secrets(text, platform=None):
    """A configuration or diff with its device secrets masked by the platform's rules (``masking.mask``).

    Notes are readable by every Nautobot user and results by every job viewer: no device secret goes there.
    """
    return masking.mask(text, platform)


def mask_error(error, platform=None):
    """Mask the configuration an error carries (its diff, the refused or missing lines, quoted lines)."""
    details = error.details
    if details.get("config_diff"):
        details["config_diff"] = masking.mask(details["config_diff"], platform)
    raw = []
    if details.get("line"):
        raw.append(str(details["line"]))
        details["line"] = masking.mask_line(str(details["line"]), platform)
    if details.get("missing_lines"):
        raw.extend(str(line) for line in details["missing_lines"])
        details["missing_lines"] = masking.mask_lines(details["missing_lines"], platform)
    message = str(error.message or "")
    for line in raw:
        for part in line.split(" > "):
            shown = masking.mask_line(part, platform)
            if shown != part:
                message = message.replace(part, shown)
    error.message = masking.mask_message(message, platform)
    return error


def device_platform(device, napalm_driver=None):
    """What names the device's platform for the masking rules: its NAPALM driver, else its network driver."""
    if napalm_driver:
        return napalm_driver
    platform = device.get("platform") if isinstance(device, dict) else None
    return (platform or {}).get("network_driver") if isinstance(platform, dict) else None


def merged_optional_args(device, optional_args):
    """The device's config context ``napalm.optional_args`` with the task's ``optional_args`` on top."""
    context = device.get("config_context") or {}
    napalm_context = context.get("napalm") if isinstance(context, dict) else None
    merged = {}
    if isinstance(napalm_context, dict) and isinstance(napalm_context.get("optional_args"), dict):
        merged.update(napalm_context["optional_args"])
    merged.update(optional_args or {})
    return merged


def check_parameters(params):
    """Everything that can be refused before any connection, with a message saying how to fix it.

    The NAPALM login is not checked here: each device's comes from the inventory, its Nautobot secrets
    group or the global options (``credentials``), known once the devices are read.
    """
    if not str(params.get("device") or "").strip():
        raise InvalidParameter("device must name a Nautobot device (its name or UUID)")
    if not 0 <= (params.get("commit_confirm_seconds") or 0) < 86400:
        raise InvalidParameter("commit_confirm_seconds must be 0 (no commit-confirm) to 86399")
    if params.get("timeout") is not None and params["timeout"] <= 0:
        raise InvalidParameter("timeout must be more than 0 seconds")


def note_kind(outcome=None, error=None):
    """info: dry run / nothing to do; success: committed; warning: failed, device unchanged; danger: uncertain."""
    if error is None:
        return "success" if outcome and outcome.get("committed") else "info"
    if error.details.get("rolled_back") == "rollback" or error.code in (
        "device_not_ready",
        "render_failed",
        "intent_unavailable",
        "config_rejected",
        "device_unreachable",
        "device_authentication",
        "device_locked",
        "missing_credentials",
    ):
        return "warning"
    return "danger"


def note_text(device_name, mode, msg, trigger, intent_source, diff, extra=None, appendix=None, platform=None):
    """Markdown for the note (no secrets: the diff is masked by ``platform``'s rules, the caller scrubs the
    credentials); ``appendix`` goes last. No configuration is ever appended: a note shows the diff only."""
    lines = [
        "**{0}** on {1}: {2}".format(MODULE_NAME, device_name, mode),
        "",
        msg,
        "",
        "- trigger: {0}".format(trigger or "manual"),
        "- mode: {0}".format(mode),
        "- intent source: {0}".format(intent_source),
    ]
    for key, value in (extra or {}).items():
        if value is not None:
            lines.append("- {0}: {1}".format(key, value))
    if diff:
        diff = masking.mask(diff, platform)
        shown = diff if len(diff) <= NOTE_DIFF_LIMIT else diff[:NOTE_DIFF_LIMIT] + "\n... (truncated)"
        lines += ["", "```diff", shown, "```"]
    else:
        lines += ["", "No differences."]
    if appendix:
        lines += ["", appendix]
    return "\n".join(lines)


def make_client(params):
    """The Nautobot client the parameters describe."""
    return NautobotClient(
        params["nautobot_url"],
        params["nautobot_token"],
        validate_certs=params.get("validate_certs", True),
        timeout=params.get("nautobot_timeout") or 30,
    )


def _deploy_at_previous(device, host, unreachable, previous_hosts, deploy_at, log):
    """The device does not answer at its primary IPv4: try the addresses it had before, newest first."""
    try:
        candidates = previous_hosts(device, host)
    except ProvisionError as exc:
        unreachable.details["previous_hosts_error"] = exc.message
        raise unreachable from exc
    tried = []
    for previous in candidates:
        log("%s: not reachable; trying its previous management address %s" % (host, previous))
        try:
            outcome = deploy_at(previous, moved_to=host)
        except DeviceUnreachable as exc:
            if exc.details.get("stage") != "open":
                raise
            tried.append(previous)
            continue
        outcome.warnings.insert(
            0,
            "Reached at its previous management address {0} (Nautobot's primary IPv4 is now {1})".format(
                previous, host
            ),
        )
        return outcome
    if tried:
        unreachable.message += "; not reachable at its previous management address(es) {0} either".format(
            ", ".join(tried)
        )
        unreachable.details["previous_hosts"] = tried
    raise unreachable


def provision_one(
    device,
    params,
    check_mode,
    intent_for,
    note_writer,
    driver_factory=make_driver,
    log=None,
    previous_hosts=None,
    login=None,
    scrubber=None,
    keep_running=None,
):
    """Bring one device, already read from Nautobot, to its intent; return its result or raise.

    ``intent_for(device_id, name)`` returns an ``Intent`` (or raises); ``note_writer(device_id, kind,
    comments)`` records the note and returns its id (or ``None`` when it is written later).
    The single-device module and the batch share this: readiness (live data), intent, NAPALM deploy,
    note, result dict. ``previous_hosts(device, host)`` lists the management addresses the
    device had before ``host`` (``readdress.previous_hosts_from``): a device that does not answer at its
    primary IPv4 is looked for there, and moved to its new address under commit-confirm.
    ``login`` is the device's ``credentials.Login`` (its source is in the result, never its values); without
    it, the ``username`` and ``password`` parameters. ``scrubber`` (a ``credentials.Scrubber``) masks the
    run's login values in messages and notes; by default the device's own and the token.
    ``keep_running``: ``deploy.deploy``'s (the running configuration the session read, for a drift check).
    """
    run = DeviceProvision(
        device,
        params,
        check_mode,
        intent_for,
        note_writer,
        driver_factory,
        log,
        previous_hosts,
        login,
        scrubber,
        keep_running,
    )
    try:
        outcome = run.deploy_intent()
    except ProvisionError as error:
        run.report_failure(error)
        raise
    return run.report(outcome)


class DeviceProvision(object):
    """One ``provision_one``: its steps as methods (``deploy_intent``, then ``report`` or ``report_failure``), and
    what a step leaves for the next ones as attributes: ``readiness``, ``platform``, ``intent``,
    ``intent_source``, ``base`` (the keys every result and error of the device carries), ``warnings``."""

    def __init__(
        self,
        device,
        params,
        check_mode,
        intent_for,
        note_writer,
        driver_factory=make_driver,
        log=None,
        previous_hosts=None,
        login=None,
        scrubber=None,
        keep_running=None,
    ):
        self.device = device
        self.params = params
        self.check_mode = check_mode
        self.intent_for = intent_for
        self.note_writer = note_writer
        self.driver_factory = driver_factory
        self.log = log or (lambda _msg: None)
        self.previous_hosts = previous_hosts
        self.login = login
        self.username = login.username if login is not None else params.get("username")
        self.password = login.password if login is not None else params.get("password")
        self.scrubber = scrubber or Scrubber([self.password, params.get("nautobot_token")], [self.username])
        self.dry_run = bool(params.get("dry_run", True)) or bool(check_mode)
        self.mode = "check mode" if check_mode else ("dry run" if self.dry_run else "commit")
        self.trigger = params.get("trigger") or "manual"
        self.keep_running = keep_running  # deploy.deploy's keep_running
        self.intent_source = params.get("intent_source") or "regenerate"
        self.warnings = []
        self.device_id = str(device.get("id"))
        self.name = str(device.get("name") or self.device_id)
        self.base = {
            "device": self.name,
            "device_id": self.device_id,
            "intent_source": self.intent_source,
            "dry_run": self.dry_run,
        }
        if login is not None:
            self.base.update(credentials_source=login.source, credentials_from=login.detail)
        self.write_notes = bool(params.get("notes", True)) and not check_mode
        self.readiness = None
        self.intent = None
        self.optional_args = None
        self.platform = device_platform(device)

    def write_note(self, kind, comments):
        """The note's id (``None`` when notes are off or written later); a failure is a warning."""
        if not self.write_notes:
            return None
        try:
            return self.note_writer(self.device_id, kind, self.scrubber.text(comments, usernames=False))
        except ProvisionError as exc:
            self.warnings.append("Could not write the note: {0}".format(self.scrubber.text(exc.message)))
        return None

    def deploy_intent(self):
        """Readiness (live data), the intent, then NAPALM at the device's primary IPv4, or where it was
        before (``previous_hosts``) when it does not answer there. ``deploy.DeployResult``, or raises."""
        params = self.params
        readiness = check_readiness(self.device, params.get("ready_statuses") or messages.DEFAULT_READY_STATUSES)
        if not readiness.ready:
            raise DeviceNotReady(readiness.message, reasons=readiness.reasons, status=readiness.status)
        self.readiness = readiness
        self.log(readiness.message)
        self.platform = device_platform(self.device, readiness.napalm_driver)
        self.intent = self.intent_for(self.device_id, self.name)
        self.intent_source = self.intent.source
        self.base["intent_source"] = self.intent_source
        self.optional_args = merged_optional_args(self.device, params.get("optional_args"))
        try:
            return self.deploy_at(readiness.host)
        except DeviceUnreachable as unreachable:
            if self.previous_hosts is None or unreachable.details.get("stage") != "open":
                raise
            return _deploy_at_previous(
                self.device, readiness.host, unreachable, self.previous_hosts, self.deploy_at, self.log
            )

    def driver_at(self, host):
        """A NAPALM driver (not opened) for the device at ``host``, with its login."""
        return self.driver_factory(
            self.readiness.napalm_driver,
            host,
            self.username,
            self.password,
            self.params.get("timeout") or 60,
            self.optional_args,
        )

    def deploy_at(self, host, moved_to=None):
        """``deploy.deploy`` of the intent at ``host`` (moving the device to ``moved_to`` if given)."""
        params = self.params
        return deploy(
            self.driver_at(host),
            self.intent.config,
            dry_run=self.dry_run,
            commit_confirm_seconds=params.get("commit_confirm_seconds", 60),
            verify=params.get("verify", True),
            host=host,
            log=self.log,
            moved_to=moved_to,
            reconnect=lambda: self.driver_at(moved_to),
            readdress_without_confirm=bool(params.get("readdress_without_confirm")),
            keep_running=self.keep_running,
        )

    def report_failure(self, error):
        """``error`` made fit to show (login values and device secrets masked, the device's keys added)
        and noted on the device, unless Nautobot itself failed (a note would fail the same way)."""
        if isinstance(error, DeviceAuthenticationFailed) and self.login is not None:
            error.message = "{0} (the login came from {1})".format(error.message, self.login.detail)
        error.message = self.scrubber.text(error.message)
        mask_error(error, self.platform)
        for key, value in self.base.items():
            error.details.setdefault(key, value)
        if isinstance(error, (NautobotUnreachable, NautobotAuthenticationFailed)):
            return
        entry = self.write_note(
            note_kind(error=error),
            note_text(
                self.name,
                self.mode,
                "FAILED ({0}): {1}".format(error.code, error.message),
                self.trigger,
                self.intent_source,
                error.details.get("config_diff"),
                platform=self.platform,
            ),
        )
        error.details["note_id"] = entry
        if self.warnings:
            error.details["warnings"] = list(self.warnings)

    def report(self, outcome):
        """The device's result, from ``deploy_intent``'s outcome, with its note (unless a drift check asked for
        notes on the devices with differences only and this one has none)."""
        readiness, intent = self.readiness, self.intent
        result = dict(self.base)
        result.update(outcome.as_dict())
        result["config_diff"] = masking.mask(outcome.diff, self.platform)  # what people read; the device got the intent
        self.warnings.extend(outcome.warnings)
        result.update(
            {
                "host": readiness.host,
                "napalm_driver": readiness.napalm_driver,
                "trigger": self.trigger,
                "check_mode": bool(self.check_mode),
                "intent_age_seconds": intent.age_seconds,
                "intent_last_success": intent.last_success,
                "render_seconds": intent.render_seconds,
            }
        )
        if not outcome.changed and not self.params.get("notes_unchanged", True):
            # A scheduled drift check notes only the devices with differences: nothing to say here.
            result["note_id"] = None
            result["warnings"] = self.warnings
            return result
        result["note_id"] = self.write_note(
            note_kind(outcome=result),
            note_text(
                self.name,
                self.mode,
                outcome.msg,
                self.trigger,
                self.intent_source,
                outcome.diff,
                extra=self.note_facts(outcome),
                platform=self.platform,
            ),
        )
        result["warnings"] = self.warnings
        return result

    def note_facts(self, outcome):
        """The facts a success note lists: driver, lines changed, the intent's age, the rollback point..."""
        readiness, intent = self.readiness, self.intent
        summary = "{0} line(s) differ".format(
            sum(
                1
                for line in outcome.diff.splitlines()
                if line.startswith(("+", "-")) and not line.startswith(("+++", "---"))
            )
        )
        point = restore = None
        if outcome.committed and outcome.before_running is not None and outcome.after_running is not None:
            point = rollback.point_line(outcome.before_running, outcome.after_running)
            restore = platforms.for_driver(readiness.napalm_driver).restore_point_after(outcome.commit_confirm)
        return {
            "driver": "{0} at {1}".format(readiness.napalm_driver, readiness.host),
            "result": summary,
            "intent age": "{0}s".format(intent.age_seconds) if intent.age_seconds is not None else None,
            "render time": "{0}s".format(intent.render_seconds) if intent.render_seconds is not None else None,
            "commit-confirm": "confirmed" if outcome.commit_confirm and outcome.committed else None,
            "rollback point": point[len(rollback.MARK) :] if point else None,
            "device restore point": restore,
        }
