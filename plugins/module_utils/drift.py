# -*- coding: utf-8 -*-
# Copyright: sotsync team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Drift a merge cannot see: the lines a device has that its intent does not.

A merge dry run shows what the intent would add to a device. A line added on the device out of band
(``ip host drift-probe 192.0.2.77``) is not in it. A drift check (``compliance_drift``, the reconcile
playbook) reports those lines from two sources:

- **extra**: Golden Config's compliance, feature by feature, after a backup and a compliance run of its
  own jobs (or stored, when fresh enough: ``compliance.for_drift``): each compliance feature's ``extra``
  lines (what the device has that its intent does not), with its ``missing`` lines and, when its rule
  has one, Golden Config's ``remediation`` (kept for remediation plans);
- **not covered**: the lines Golden Config cannot see, in no compliance feature. From the running
  configuration the batch's NAPALM session read: its lines that are not in the intent (``extra_paths``,
  read hierarchically by the platform's ``config_paths``) and fall under none of the ``match_config``
  sections of the compliance rules Golden Config checks the device with (those of the platforms with its
  platform's network driver; ``covering``, as Golden Config cuts a configuration into features: a
  top-level line that begins with a section, with its children). They are never reported as compliant;
  a count, and the first ``SHOWN`` lines.

A device Golden Config could not back up or check is reported with why, never as one without extra lines.
Extra lines are reported, never removed: a merge only adds lines, and removing them needs an approval
(``remediation.file_plans``: Golden Config remediation config plans). Every configuration line here goes
through ``masking.mask``.
Plain logic on decoded data; no Ansible import.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible_collections.sotsync.nautobot.plugins.module_utils import masking

# Lines shown per feature and of the lines in no feature, in summaries, notes and printed lines.
SHOWN = 20
NOT_REMOVED = (
    "extra lines are reported, never removed by a merge: removing them needs an approval (reconcile -e "
    "remediation_plans=true files Golden Config remediation config plans)"
)
NOT_COVERED = "not covered by any Golden Config compliance feature"


# --- Golden Config's compliance records -----------------------------------------------------------------
def config_lines(value):
    """A compliance record's ``missing``, ``extra`` or ``remediation`` as lines: text for a CLI rule (its
    indentation kept), a list (or a dict) of paths for a JSON or XML rule. Blank lines dropped."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        lines = value.splitlines()
    elif isinstance(value, (list, tuple)):
        lines = []
        for item in value:
            lines.extend((item if isinstance(item, str) else json.dumps(item, sort_keys=True)).splitlines())
    else:
        lines = json.dumps(value, sort_keys=True, indent=1).splitlines()
    return [line.rstrip() for line in lines if line.strip()]


def masked_lines(value, platform=None):
    """``config_lines`` with the device's secrets masked by ``platform``'s rules (blocks included)."""
    lines = config_lines(value)
    return masking.mask("\n".join(lines), platform).split("\n") if lines else []


def feature_findings(rows, platform=None):
    """Golden Config's compliance of one device, ``{feature: finding}`` from its records ``{feature: record}``:
    ``compliant``, ``ordered``; for a feature that is not compliant its ``extra`` and ``missing`` lines and,
    when its rule has one, the ``remediation`` text (all masked)."""
    features = {}
    for name in sorted(rows or {}):
        row = rows[name] or {}
        finding = {"compliant": bool(row.get("compliance")), "ordered": bool(row.get("ordered"))}
        if not finding["compliant"]:
            finding["extra"] = masked_lines(row.get("extra"), platform)
            finding["missing"] = masked_lines(row.get("missing"), platform)
            remediation = masked_lines(row.get("remediation"), platform)
            if remediation:
                finding["remediation"] = "\n".join(remediation)
        features[name] = finding
    return features


# --- lines in no compliance feature ---------------------------------------------------------------------
def _feature_name(feature):
    if isinstance(feature, dict):
        return str(feature.get("name") or feature.get("display") or feature.get("id"))
    return str(feature)


def rule_sections(rules):
    """``[(feature, section)]``: each line of the ``match_config`` of each CLI compliance rule (Golden Config
    splits it into lines, as is). JSON and XML rules match keys or XPath, not configuration lines."""
    sections = []
    for rule in rules or []:
        if str(rule.get("config_type") or "cli").lower() != "cli":
            continue
        for line in str(rule.get("match_config") or "").splitlines():
            sections.append((_feature_name(rule.get("feature")), line))
    return sections


def covering(path, sections):
    """The feature a configuration line (``path``: parents..., line) falls in, or None.

    As Golden Config (netutils' ``section_config``) cuts a configuration: a top-level line that begins with
    a section, and every line under it. A section in Junos set form (``set system``) is matched against the
    line's set form (``set system host-name r1``)."""
    as_set = "set " + " ".join(path)
    for feature, section in sections:
        if (as_set if section.startswith("set ") else path[0]).startswith(section):
            return feature
    return None


def _is_set_form(paths, verbs=("set ", "delete ")):
    return bool(paths) and all(len(p) == 1 and p[0].startswith(verbs) for p in paths)


def extra_paths(platform, intent, running):
    """The running configuration's lines that are not in the intent, as paths (parents..., line), in the
    running configuration's order; read by ``platform`` (a ``platforms.Platform``), as verification reads
    them. A set-form intent (Junos) is compared with the set form of a running configuration in braces."""
    wanted = platform.config_paths(intent or "")
    # a line the NAPALM driver adds for the length of its session (IOS: "file prompt quiet") is not the device's
    session = set(platform.normalise(line) for line in platform.session_lines)
    have = set(p for p in platform.config_paths(running or "") if not (len(p) == 1 and p[0] in session))
    if _is_set_form(wanted) and not _is_set_form(have, ("set ",)):
        # a statement that holds others (``system``) is there when a set line is under it
        present = set()
        for words in (p[0].split() for p in wanted):
            present.update(" ".join(words[:end]) for end in range(2, len(words) + 1))
        extra = [p for p in have if "set " + " ".join(p) not in present]
    else:
        extra = [p for p in have if p not in wanted]
    order = {}
    for index, line in enumerate((running or "").splitlines()):
        text = platform.normalise(line)
        if text is not None:
            order.setdefault(text, index)
    return sorted(extra, key=lambda p: (tuple(order.get(x, len(order)) for x in p), p))


def mask_path(path, platform=None):
    """A path as ``parent > line``, each part masked (a certificate or key line too)."""
    return " > ".join(masking.mask(part, platform) for part in path)


def not_covered(platform, intent, running, rules, masked_as=None, shown=SHOWN):
    """The running configuration's lines not in the intent and in no compliance feature of ``rules``:
    ``{"count", "lines" (the first ``shown``, masked), "more"}``."""
    sections = rule_sections(rules)
    found = [p for p in extra_paths(platform, intent, running) if covering(p, sections) is None]
    return {
        "count": len(found),
        "lines": [mask_path(p, masked_as) for p in found[:shown]],
        "more": max(0, len(found) - shown),
    }


def _not_covered_report(platform, intent, running, rules, masked_as, shown):
    if isinstance(running, Exception):
        return {"error": "its running configuration could not be read: {0}".format(masking.mask_message(str(running)))}
    if running is None:
        return {"error": "its running configuration was not read"}
    if intent is None:
        return {"error": "its intent is not known"}
    if isinstance(rules, Exception):
        return {
            "error": "Golden Config's compliance rules could not be read: {0}".format(
                getattr(rules, "message", None) or rules
            )
        }
    return not_covered(platform, intent, running, rules, masked_as, shown)


# --- one device's report ----------------------------------------------------------------------------
def device_drift(state, platform, intent=None, running=None, rules=None, masked_as=None, shown=SHOWN):
    """One compared device's drift beyond the merge, for its result (every line masked).

    ``state``: Golden Config's compliance of the device (``compliance.for_drift``); ``platform``: its
    ``Platform``; ``intent``: the intended configuration its session loaded; ``running``: the running
    configuration the session read (None or an exception: not read); ``rules``: the compliance rules Golden
    Config checks it with (a list, or the error reading them); ``masked_as``: the platform name of the masking
    rules.
    """
    report = {}
    if "error" in state:
        report.update(golden_config="not checked", error=state["error"])
    else:
        report["golden_config"] = state["golden_config"]
        for key in ("checked_at", "backed_up_at", "age_seconds", "why_stored"):
            if state.get(key) is not None:
                report[key] = state[key]
        features = feature_findings(state.get("rows"), masked_as)
        report["features"] = features
        report["compliant"] = all(f["compliant"] for f in features.values())
        report["noncompliant_features"] = sorted(n for n, f in features.items() if not f["compliant"])
        report["extra"] = dict((n, f["extra"]) for n, f in features.items() if f.get("extra"))
    if state.get("job_results"):
        report["job_results"] = list(state["job_results"])
    report["not_covered"] = _not_covered_report(platform, intent, running, rules, masked_as, shown)
    report["msg"] = drift_line(report)
    return report


def _count(lines):
    return "{0} line(s)".format(len(lines))


def source_words(report):
    """How fresh Golden Config's compliance is: ``fresh`` (its jobs ran now) or ``stored, N s old``."""
    if report.get("golden_config") == "stored":
        return "stored, {0} s old ({1})".format(report.get("age_seconds"), report.get("why_stored"))
    return "fresh"


def drift_line(report):
    """One line on a device's drift beyond the merge, for its result and the printed output."""
    if report.get("golden_config") == "not checked":
        words = "Golden Config could NOT check it: {0}".format(report.get("error"))
    else:
        extra = report.get("extra") or {}
        words = "Golden Config compliance ({0}): ".format(source_words(report))
        if extra:
            words += "extra lines in {0}".format(
                ", ".join("{0} ({1})".format(name, _count(lines)) for name, lines in sorted(extra.items()))
            )
        else:
            words += "no extra lines in its {0} feature(s)".format(len(report.get("features") or {}))
            if report.get("noncompliant_features"):
                words += " (not compliant in {0}, without extra lines)".format(
                    ", ".join(report["noncompliant_features"])
                )
    outside = report.get("not_covered") or {}
    if "error" in outside:
        words += "; lines in no compliance feature not known: {0}".format(outside["error"])
    elif outside.get("count"):
        words += "; {0} line(s) {1}".format(outside["count"], NOT_COVERED)
    else:
        words += "; no line outside the compliance features"
    return words


def findings(report):
    """Whether a device's drift report has something to look at: extra lines, or lines in no feature."""
    return bool(report.get("extra")) or bool((report.get("not_covered") or {}).get("count"))


def capped(lines, shown=SHOWN):
    """The first ``shown`` lines, then ``... N more line(s)`` when there are more."""
    lines = list(lines or [])
    if len(lines) <= shown:
        return lines
    return lines[:shown] + ["... {0} more line(s)".format(len(lines) - shown)]


def printed_lines(name, report, shown=SHOWN):
    """The lines printed for a device after its drift check: its line, then its extra lines by feature and
    its lines in no feature (each prefixed with the device's name, as the other per-device lines)."""
    lines = ["{0}: {1}".format(name, report["msg"])]
    for feature, extra in sorted((report.get("extra") or {}).items()):
        lines.extend("{0}:   extra [{1}] {2}".format(name, feature, line) for line in capped(extra, shown))
    outside = report.get("not_covered") or {}
    lines.extend("{0}:   not covered: {1}".format(name, line) for line in outside.get("lines") or [])
    if outside.get("more"):
        lines.append("{0}:   not covered: ... {1} more line(s)".format(name, outside["more"]))
    return lines


def note_section(report, shown=SHOWN):
    """The part of a device's note on its drift beyond the merge (markdown, lines masked)."""
    lines = [
        "**Beyond the merge**: the lines the device has that its intent does not. {0}{1}.".format(
            NOT_REMOVED[0].upper(), NOT_REMOVED[1:]
        ),
        "",
    ]
    if report.get("golden_config") == "not checked":
        lines.append("- Golden Config could NOT check it: {0}".format(report.get("error")))
    else:
        lines.append("- Golden Config compliance: {0}".format(source_words(report)))
        extra = report.get("extra") or {}
        if not extra:
            lines.append("- no extra lines in its {0} compliance feature(s)".format(len(report.get("features") or {})))
        for feature, found in sorted(extra.items()):
            lines += ["- extra lines in `{0}` ({1}):".format(feature, _count(found)), ""]
            lines += ["```text"] + capped(found, shown) + ["```", ""]
    outside = report.get("not_covered") or {}
    if "error" in outside:
        lines.append("- lines in no compliance feature not known: {0}".format(outside["error"]))
    elif outside.get("count"):
        lines += ["- {0} ({1} line(s)):".format(NOT_COVERED, outside["count"]), "", "```text"]
        lines += list(outside.get("lines") or [])
        if outside.get("more"):
            lines.append("... {0} more line(s)".format(outside["more"]))
        lines.append("```")
    else:
        lines.append("- no line outside the compliance features")
    return "\n".join(lines).rstrip("\n")


# --- the run's summary -------------------------------------------------------------------------------
def summary(results, shown=SHOWN):
    """The drift check's figures, for the run's summary (``summary.compliance``).

    ``updated``: devices whose compliance Golden Config's jobs brought up to date in this run;
    ``not_updated``, ``noncompliant``: names; ``stored``: ``{name: age in seconds}`` of the devices whose
    stored compliance was reused; ``extra``: ``{name: {feature: [lines]}}`` (each feature's first ``shown``
    lines, then ``... N more line(s)``); ``not_covered``: ``{name: {"count", "lines", "more"}}``;
    ``not_checked``: ``{name: why}`` (Golden Config could not check it, or its lines in no feature are not
    known); ``msg``: the line that says it.
    """
    reports = [(str(r.get("device") or r.get("device_id")), r["drift"]) for r in results if r.get("drift")]
    out = {
        "updated": 0,
        "not_updated": [],
        "noncompliant": [],
        "stored": {},
        "extra": {},
        "not_covered": {},
        "not_checked": {},
    }
    for name, report in sorted(reports, key=lambda pair: pair[0]):
        why = []
        if report.get("golden_config") == "fresh":
            out["updated"] += 1
        elif report.get("golden_config") == "stored":
            out["stored"][name] = report.get("age_seconds")
        else:
            why.append(report.get("error"))
            if report.get("job_results"):
                out["not_updated"].append(name)
        if report.get("compliant") is False:
            out["noncompliant"].append(name)
        if report.get("extra"):
            out["extra"][name] = dict((f, capped(lines, shown)) for f, lines in sorted(report["extra"].items()))
        outside = report.get("not_covered") or {}
        if "error" in outside:
            why.append("lines in no compliance feature not known: {0}".format(outside["error"]))
        elif outside.get("count"):
            out["not_covered"][name] = outside
        if why:
            out["not_checked"][name] = "; ".join(str(w) for w in why)
    out["msg"] = (
        "Drift beyond the merge, {0} device(s) ({1} checked by Golden Config now, {2} from its stored compliance): "
        "{3} with extra lines, {4} with lines in no compliance feature, {5} not checked; {6}".format(
            len(reports),
            out["updated"],
            len(out["stored"]),
            len(out["extra"]),
            len(out["not_covered"]),
            len(out["not_checked"]),
            NOT_REMOVED,
        )
    )
    return out
