"""Masking by platform rules (``masking.mask``), on a corpus of real-shaped configuration lines.

``fixtures/secret_corpus.json``: for each platform, lines with secrets (taken from the vendors'
configuration-guide syntax, each with the secret values that must vanish) and ordinary lines that
must stay byte-identical (among them lines that say key, password, secret or community without a
secret). Every output path is checked: a line alone, a whole configuration, a diff, a note.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from ansible_collections.sotsync.nautobot.plugins.module_utils import masking
from ansible_collections.sotsync.nautobot.plugins.module_utils.provision import note_text

CORPUS = json.loads((Path(__file__).parent / "fixtures" / "secret_corpus.json").read_text())
SECRET = CORPUS["secret"]
ORDINARY = CORPUS["ordinary"]
# each line is checked with its own platform's rules and with every platform's (an unknown platform)
PLATFORM_CHOICES = ("own", None)


def _platform(entry, choice):
    return entry["platform"] if choice == "own" else None


def _id(entry):
    return f"{entry['platform']}:{entry.get('text', entry.get('line'))[:60]}"


def test_the_corpus_is_big_enough_for_every_platform():
    secret = Counter(e["platform"] for e in SECRET)
    ordinary = Counter(e["platform"] for e in ORDINARY)
    assert len(SECRET) >= 100 and len(ORDINARY) >= 40
    for platform in masking.PLATFORMS:
        assert secret[platform] >= 20 and ordinary[platform] >= 20, (platform, secret, ordinary)
    assert all(e["secrets"] for e in SECRET)


@pytest.mark.parametrize("choice", PLATFORM_CHOICES)
@pytest.mark.parametrize("entry", SECRET, ids=_id)
def test_no_secret_survives_a_line(entry, choice):
    shown = masking.mask(entry["text"], _platform(entry, choice))
    for secret in entry["secrets"]:
        assert secret not in shown, shown
    assert masking.MASK in shown
    assert masking.mask(shown, _platform(entry, choice)) == shown  # idempotent


@pytest.mark.parametrize("choice", PLATFORM_CHOICES)
@pytest.mark.parametrize("entry", ORDINARY, ids=_id)
def test_ordinary_lines_stay_byte_identical(entry, choice):
    assert masking.mask(entry["line"], _platform(entry, choice)) == entry["line"]


@pytest.mark.parametrize("platform", masking.PLATFORMS)
def test_a_whole_configuration_keeps_its_ordinary_lines_and_loses_its_secrets(platform):
    secret = [e for e in SECRET if e["platform"] == platform]
    ordinary = [e["line"] for e in ORDINARY if e["platform"] == platform]
    config = "\n".join(ordinary[:10] + [e["text"] for e in secret] + ordinary[10:])
    shown = masking.mask(config, platform)
    assert not [s for e in secret for s in e["secrets"] if s in shown]
    lines = shown.split("\n")
    assert lines[:10] == ordinary[:10] and lines[-len(ordinary[10:]) :] == ordinary[10:]


def _changed(text, secrets):
    """The same text with every secret value altered (the last character changed)."""
    for secret in secrets:
        text = text.replace(secret, secret[:-1] + ("X" if secret[-1] != "X" else "Y"))
    return text


@pytest.mark.parametrize("entry", [e for e in SECRET if "\n" not in e["text"]], ids=_id)
def test_a_diff_that_changes_only_a_secret_says_so(entry):
    new = _changed(entry["text"], entry["secrets"])
    head = "--- system:/running-config\n+++ session:/sotsync\n@@ -1,3 +1,3 @@\n hostname r1\n"
    diff = f"{head}-{entry['text']}\n+{new}"
    shown = masking.mask(diff, entry["platform"])
    for secret in entry["secrets"] + [s[:-1] + ("X" if s[-1] != "X" else "Y") for s in entry["secrets"]]:
        assert secret not in shown
    lines = shown.splitlines()
    assert lines[:4] == diff.splitlines()[:4]
    assert lines[4].startswith(masking.CHANGED_MARK) and lines[4].endswith(masking.CHANGED_NOTE), shown
    assert len(lines) == 5  # the pair became one line: nothing hidden, nothing shown twice


def test_the_issues_lines():
    cases = [
        ("eos", "ntp authentication-key 1 md5 7 075E731F1A", "ntp authentication-key 1 md5 <removed>"),
        ("eos", "ip ospf message-digest-key 1 md5 7 0822455D0A16", "ip ospf message-digest-key 1 md5 <removed>"),
        ("junos", 'pre-shared-key ascii-text "$9$abcXYZ";', "pre-shared-key ascii-text <removed>;"),
        (
            "ios",
            "snmp-server user u1 g1 v3 auth sha 0xABCDEF priv aes 0x123456",
            "snmp-server user u1 g1 v3 auth sha <removed> priv aes <removed>",
        ),
        ("ios", "wpa2 psk 0 s3cret", "wpa2 psk 0 <removed>"),
    ]
    for platform, line, shown in cases:
        assert masking.mask(line, platform) == shown
        assert masking.mask("+" + line, None) != "+" + line


def test_diff_markers_and_other_changes_are_kept():
    diff = "\n".join(
        [
            "-hostname a",
            "+hostname b",
            "-snmp-server community old-c ro",
            "+snmp-server community new-c rw",
            "+snmp-server community added-c ro",
            "[edit system]",
            '-  secret "$9$one"; ## SECRET-DATA',
            '+  secret "$9$two"; ## SECRET-DATA',
        ]
    )
    assert masking.mask(diff, None).splitlines() == [
        "-hostname a",
        "+hostname b",
        # a removed line pairs with the added line it matches once masked; the other added line is shown
        "~snmp-server community <removed> ro  (secret changed)",
        "+snmp-server community <removed> rw",
        "[edit system]",
        "~  secret <removed>; ## SECRET-DATA  (secret changed)",
    ]


def test_certificate_and_key_blocks_keep_their_frame_only():
    ios = "\n".join(
        [
            "crypto pki certificate chain TP-1",
            " certificate ca 01",
            "  30820122 300D0609 2A864886 F70D0101 01050003 82010F00 3082010A 02820101",
            "  00B3F1A2",
            "  \tquit",
            "hostname r1",
        ]
    )
    assert masking.mask(ios, "ios").splitlines() == [
        "crypto pki certificate chain TP-1",
        " certificate ca 01",
        "  <removed>",
        "  <removed>",
        "  \tquit",
        "hostname r1",
    ]
    pem = (
        "+-----BEGIN EC PRIVATE KEY-----\n"
        "+MHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk5rtnuCQ28pTmJoAoGCCqGSM49\n"
        "+-----END EC PRIVATE KEY-----"
    )
    assert masking.mask(pem).splitlines() == [
        "+-----BEGIN EC PRIVATE KEY-----",
        "+<removed>",
        "+-----END EC PRIVATE KEY-----",
    ]
    # a diff that starts in the middle of a block: hex-dump and base64 lines are masked anyway
    assert masking.mask("+  3082022B 30820194 A0030201", "ios") == "+  <removed>"


def test_platform_names_and_rules():
    assert masking.platform_of("arista_eos") == masking.platform_of("eos") == "eos"
    assert masking.platform_of("juniper_junos") == "junos" and masking.platform_of("cisco_nxos") == "nxos"
    assert masking.platform_of("napalm_ios") == "ios" and masking.platform_of("frobnicator") is None
    # netutils' sanitize-filter format: a list of {"regex", "replace"}
    assert all(set(rule) == {"regex", "replace"} for rule in masking.rules("eos"))
    assert len(masking.rules(None)) > len(masking.rules("junos"))


def test_messages_and_line_lists():
    message = "The device 10.0.0.1 rejected the line 'snmp-server community Sup3rC0mm ro'; nothing was applied"
    assert "Sup3rC0mm" not in masking.mask_message(message, "eos")
    assert masking.mask_lines(["router bgp 1 > neighbor 1.1.1.1 password 7 0822455D0A16"], "eos") == [
        "router bgp 1 > neighbor 1.1.1.1 password 7 <removed>"
    ]
    assert masking.mask(None) == "" and masking.mask("") == ""


def test_a_note_shows_the_masked_diff_and_no_configuration():
    diff = "-ntp authentication-key 1 md5 7 075E731F1A\n+ntp authentication-key 1 md5 7 0822455D0A16\n+hostname b"
    note = note_text("r1", "commit", "committed", "manual", "regenerate", diff, platform="eos")
    assert "075E731F1A" not in note and "0822455D0A16" not in note
    assert "~ntp authentication-key 1 md5 <removed>  (secret changed)" in note
    assert "+hostname b" in note and "Running configuration" not in note
