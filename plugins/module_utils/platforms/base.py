# -*- coding: utf-8 -*-
# Copyright: sotsync team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The generic platform: what holds for any NAPALM driver, and what each platform may override."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


try:
    from netutils.config import parser as _netutils_parser
except ImportError:  # pragma: no cover - netutils comes with napalm
    _netutils_parser = None


def normalise_line(line):
    """Collapse whitespace; ``None`` for lines that say nothing (blank, ``!`` comments, ``end``)."""
    text = " ".join(str(line).split())
    if not text or text.startswith("!") or text == "end":
        return None
    return text


def intended_lines(config):
    """The intent's lines that must show in the running config after a commit (flat, in order).

    ``no ...`` lines are left out: they assert an absence that a search of the running config cannot
    check.
    """
    lines = []
    for line in (config or "").splitlines():
        text = normalise_line(line)
        if text is not None and not text.startswith("no "):
            lines.append(text)
    return lines


class Platform(object):
    """A platform's rules. This base class is the generic platform: flat verification, commit-confirm
    when the NAPALM driver implements it, nothing handed over between sessions."""

    #: NAPALM driver name
    napalm_driver = None
    #: human name, for messages
    label = None
    #: Nautobot ``network_driver`` (netutils' name)
    network_driver = None
    #: netutils parser class for verification (None: flat lines)
    parser = None
    #: the platform offers commit-confirm through its NAPALM driver
    commit_confirm = True
    #: commit-confirm timers count in these units of seconds (Junos: whole minutes)
    confirm_granularity = 1
    #: what a live commit leaves on the device to go back to (for results and notes)
    rollback_point = "the driver's rollback()"
    #: configuration lines the NAPALM driver itself adds for the length of its session (removed when it
    #: closes): a configuration read within the session shows them, one read after it does not
    session_lines = ()
    #: what became of the device when it refused a line (the candidate is refused as a whole)
    rejection_outcome = "nothing was applied"
    #: why a restore point may not hold the configuration before a push (None: no known reason)
    restore_caveat = None

    def __init__(self, napalm_driver=None):
        if napalm_driver is not None:
            self.napalm_driver = napalm_driver
        if self.label is None:
            self.label = self.napalm_driver or "unknown"

    def __repr__(self):
        return "<Platform %s>" % self.napalm_driver

    # --- the candidate ---------------------------------------------------------------------------
    def merge_candidate(self, config):
        """The configuration as the NAPALM driver is given it to merge (generic: as it is)."""
        return config

    # --- commit-confirm -----------------------------------------------------------------------
    def revert_seconds(self, seconds):
        """The commit-confirm timer actually used for a requested ``seconds``, and a note when it
        differs (rounded up to the platform's granularity, never down: a shorter timer could revert
        a change that verification is still checking)."""
        seconds = int(seconds or 0)
        step = int(self.confirm_granularity or 1)
        if seconds <= 0 or step <= 1 or seconds % step == 0:
            return seconds, None
        rounded = ((seconds + step - 1) // step) * step
        return rounded, (
            "{0} counts commit-confirm timers in whole minutes: commit_confirm_seconds {1} was rounded up to "
            "{2} s ({3} min)".format(self.label, seconds, rounded, rounded // 60)
        )

    def no_confirm_risk(self):
        """What a live push without commit-confirm risks, said in its result (None when it has one)."""
        if self.commit_confirm:
            return None
        return (
            "{0} has no commit-confirm: the change was committed after a checkpoint ({1}); a failed "
            "verification rolls back to it, but a device that stops answering after the commit cannot be "
            "rolled back from here".format(self.label, self.rollback_point)
        )

    def detach_pending_commit(self, driver):
        """Take a pending commit-confirm away from ``driver`` so that closing it does not abort it;
        returns what ``attach_pending_commit`` gives the next session (None: nothing to hand over)."""
        return None

    def attach_pending_commit(self, driver, token):
        """Give ``driver`` (a new session to the same device) the pending commit to confirm."""
        return None

    def after_move(self, driver):
        """After a push without commit-confirm moved the device (verified at its new address with
        ``driver``): finish what the commit's session at the old address may not have done. Returns a note
        for the result, or None."""
        return None

    # --- rollback after a push ---------------------------------------------------------------
    def restore_point_after(self, confirmed):
        """What names the configuration before a push once the push is done (for its note);
        ``confirmed``: the push was committed under commit-confirm and confirmed."""
        return self.rollback_point

    def restore(self, driver, is_before):
        """Bring back the configuration from before the last push with the device's own restore point
        (an opened ``driver``); ``is_before(config)`` tells that configuration. Returns what was restored
        (for the result). Generically NAPALM's ``rollback()``; the caller verifies the outcome."""
        driver.rollback()
        return self.rollback_point

    # --- verification -------------------------------------------------------------------------
    def config_paths(self, config):
        """The configuration as a set of paths (parent lines..., line), whitespace-normalised."""
        if self.parser is None or _netutils_parser is None:
            return set((line,) for line in intended_lines(config))
        parsed = getattr(_netutils_parser, self.parser)(config or "")
        paths = set()
        for item in parsed.config_lines:
            line = self.normalise(item.config_line)
            if line is None:
                continue
            parents = tuple(p for p in (self.normalise(x) for x in item.parents) if p is not None)
            paths.add(parents + (line,))
        return paths

    def normalise(self, line):
        """One line as verification compares it (None: a line that says nothing)."""
        return normalise_line(line)

    def missing_lines(self, intent, running):
        """Intended lines absent from the running configuration, each as ``parent > ... > line``
        (order of siblings ignored; a line under the wrong parent counts as missing)."""
        have = self.config_paths(running)
        missing = []
        for path in sorted(self.config_paths(intent), key=self._sort_key(intent)):
            if path[-1].startswith("no ") or path in have:
                continue
            missing.append(" > ".join(path))
        return missing

    def still_present(self, intent, running):
        """The lines an intent's ``no ...`` lines remove that the running configuration still has, each as
        ``parent > ... > line`` (``no ntp server 192.0.2.9`` removes ``ntp server 192.0.2.9``; a negation the
        device shows as such, ``no aaa new-model``, is no line to remove)."""
        if not any((normalise_line(line) or "").startswith("no ") for line in (intent or "").splitlines()):
            return []
        have = self.config_paths(running)
        if self.parser is None or _netutils_parser is None:  # flat: config_paths leaves the "no" lines out
            paths = set((line,) for line in (normalise_line(x) for x in (intent or "").splitlines()) if line)
        else:
            paths = self.config_paths(intent)
        present = []
        for path in sorted(paths, key=self._sort_key(intent)):
            if not path[-1].startswith("no "):
                continue
            removed = path[:-1] + (path[-1][3:].strip(),)
            if removed in have:
                present.append(" > ".join(removed))
        return present

    def _sort_key(self, intent):
        order = {}
        for index, line in enumerate((intent or "").splitlines()):
            order.setdefault(self.normalise(line), index)
        return lambda path: (order.get(path[-1], len(order)), path)

    # --- the device's own error messages ------------------------------------------------------
    def rejected_line(self, message, intent=None):
        """The line the device refused, from its error message (None when it cannot be told):
        generically, the first intended line the message quotes."""
        text = str(message or "")
        for line in intended_lines(intent):
            if len(line) > 3 and ("'{0}'".format(line) in text or '"{0}"'.format(line) in text):
                return line
        return None

    def classify(self, exc, host, where, text):
        """A typed error for an exception of the platform's own libraries (None: not one of them)."""
        return None
