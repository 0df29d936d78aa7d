# -*- coding: utf-8 -*-
# Copyright: sotsync team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Mask device secrets in configuration text and diffs, by platform rules: ``mask(text, platform)``.

Every configuration line or diff that leaves the collection (notes in Nautobot, module results,
the lines printed per device, config plan notes, rollback output) goes through ``mask``. What is
pushed to a device is never masked: masking is for what people read.

- **Rules.** Per platform (``eos``, ``ios``, ``nxos``, ``junos``; a NAPALM driver name or Nautobot's
  ``network_driver`` is accepted), in netutils' sanitize-filter format (``{"regex", "replace"}``) and
  applied with netutils' ``sanitize_config``: user and enable passwords and secrets, ``key 7``/``md5``
  keys (NTP, OSPF, IS-IS, BGP, TACACS+/RADIUS, key chains, HSRP/VRRP), SNMP communities (also in
  ``snmp-server host``) and SNMPv3 auth/priv keys, Junos ``$9$``/``encrypted-password``/``secret``/
  ``authentication-key``/``pre-shared-key`` values and lines Junos itself marks ``## SECRET-DATA``,
  IKE/IPsec pre-shared keys, wireless PSKs. A platform that is not known gets every platform's rules.
  The masked value is replaced by ``<removed>``; a value whose syntax is open-ended (NTP keys,
  OSPF message-digest keys, PSKs) is masked to the end of the line.
- **Blocks.** Certificate and key blocks (PEM ``-----BEGIN ...-----`` to ``-----END ...-----``, IOS
  ``certificate <serial>`` / ``key-string`` to ``quit``) keep their first and last line; every line of
  their body becomes ``<removed>``. Hex-dump and base64 lines are masked wherever they appear (a diff
  may start in the middle of a block).
- **Free text** (``description``, ``remark``, ``name``, SNMP location/contact) is left as it is:
  ``description secret-lab`` carries no secret. Lines that carry none stay byte-identical.
- **Diffs.** A unified diff (or a Junos ``[edit ...]`` diff) is masked line by line, its ``-``/``+``
  markers kept. A removed and an added line that differ only in masked values would look the same
  once masked: the pair is shown as one line ``~<line with <removed>>  (secret changed)``, so a
  secret's change is never hidden.

``mask`` is idempotent (masking a masked text changes nothing). No Ansible import here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

try:
    from netutils.config.clean import sanitize_config as _netutils_sanitize
except ImportError:  # pragma: no cover - netutils comes with napalm; the same loop without it
    _netutils_sanitize = None

MASK = "<removed>"
CHANGED_NOTE = "  (secret changed)"
CHANGED_MARK = "~"


def _sanitize(text, filters):
    """netutils' ``sanitize_config`` (each filter's regex substituted, multi-line mode)."""
    if _netutils_sanitize is not None:
        return _netutils_sanitize(text, filters)
    for item in filters:  # pragma: no cover - see the import
        text = re.sub(item["regex"], item["replace"], text, flags=re.MULTILINE)
    return text


# A value: a quoted string or one token (Junos: up to the statement's ``;``).
_V = r'(?:"[^"]*"|[^\s;]+(?:;+[^\s;]+)*)'
_JV = r'(?:"[^"]*"|[^\s;]+)'
# Optional encryption-type tokens before a value (``7``, ``0``, ``level 15``, ``sha512``...).
_TYPE = r"(?:\d{1,2}\s+)?"
_NOT_AFTER = r"(?<![\w-])"  # a keyword that is not the tail of a longer word (``key`` in ``hostkey``)


def _f(regex, replace=r"\g<1>" + MASK):
    return {"regex": regex, "replace": replace}


# --- Cisco-like command lines (EOS, IOS, NX-OS share most of their syntax) -----------------------------
_CISCO_COMMON = [
    # NTP: ``ntp authentication-key 1 md5 7 075E731F1A`` (EOS) / ``... md5 1511021F0725 7`` (IOS, NX-OS)
    _f(r"^(\s*(?:no\s+)?ntp\s+authentication-key\s+\d+\s+\S+\s+).+$"),
    # OSPF: ``ip ospf message-digest-key 1 md5 7 0822455D0A16``, ``area 0 virtual-link ... message-digest-key``
    _f(_NOT_AFTER + r"(message-digest-key\s+\d+\s+\S+\s+).+$"),
    # OSPFv3 IPsec authentication / encryption: everything after the SPI
    _f(_NOT_AFTER + r"(ipsec\s+spi\s+\d+\s+).+$"),
    # SNMPv3 users: the auth and priv passwords or localized keys
    _f(r"^(\s*(?:no\s+)?snmp-server\s+user\s.*?" + _NOT_AFTER + r"auth\s+(?:md5|sha\S*)\s+)" + _V),
    _f(
        r"^(\s*(?:no\s+)?snmp-server\s+user\s.*?"
        + _NOT_AFTER
        + r"priv\s+(?:(?:des\S*|3des|aes\S*)\s+)?(?:(?:128|192|256)\s+)?)"
        + _V
    ),
    # SNMP communities, also in the ``no`` form and in notification hosts
    _f(r"^(\s*(?:no\s+)?snmp-server\s+community\s+)" + _V),
    _f(
        r"^(\s*(?:no\s+)?snmp-server\s+host\s+\S+(?:\s+(?:traps|informs|vrf\s+\S+|version\s+(?:1|2c|3)|auth|noauth|priv))*"
        r"\s+)(?!(?:use-vrf|source-interface|filter-vrf|vrf|traps|informs|version)\b)" + _V
    ),
    # IKE: ``crypto isakmp key [6] KEY address ...``; keyrings; IKEv2 profiles; EOS ``shared-key 7 ...``
    _f(r"(\bcrypto\s+isakmp\s+key\s+" + _TYPE + r")" + _V),
    _f(_NOT_AFTER + r"(pre-shared-key\s+(?:address|hostname)\s.*?\bkey\s+" + _TYPE + r")" + _V),
    _f(
        _NOT_AFTER
        + r"(pre-shared-key\s+(?:(?:local|remote)\s+)?"
        + _TYPE
        + r")(?!(?:address|hostname|local|remote)\b)"
        + _V
    ),
    _f(_NOT_AFTER + r"(pre-share\s+key\s+" + _TYPE + r")" + _V),
    _f(_NOT_AFTER + r"(shared-key\s+" + _TYPE + r")" + _V),
    # wireless: ``wpa2 psk 0 s3cret``, ``wpa-psk ascii 0 ...``, ``security wpa psk set-key ascii 0 ...``
    _f(_NOT_AFTER + r"((?:wpa\d?[- ])?psk\s+(?:set-key\s+)?(?:(?:ascii|hex)\s+)?" + _TYPE + r").+$"),
    _f(_NOT_AFTER + r"((?:wpa-)?passphrase\s+" + _TYPE + r").+$"),
    # the master key of IOS type 6 encryption
    _f(r"(\bkey\s+config-key\s+password-encrypt\s+)" + _V),
    # key strings (key chains, HSRP/VRRP/GLBP md5, MACsec), keys after a type digit, server keys
    _f(_NOT_AFTER + r"(key-(?:octet-)?string\s+" + _TYPE + r")" + _V),
    _f(
        _NOT_AFTER + r"(authentication-key\s+)(?!\d+\s+(?:md5|sha\S*|cmac\S*|type)\b)(" + _TYPE + r")" + _V,
        r"\g<1>\g<2>" + MASK,
    ),
    _f(_NOT_AFTER + r"(server-key\s+" + _TYPE + r")" + _V),
    # ``key 7 <value>`` (not NTP's ``server ... key 1 prefer``, which names a key id)
    _f(r"^(?!\s*(?:no\s+)?ntp\s+(?:server|peer)\b)(.*?" + _NOT_AFTER + r"key\s+\d{1,2}\s+)(?![{\[\];])" + _V),
    _f(r"(\b(?:tacacs-server|radius-server|server-private)\b.*?" + _NOT_AFTER + r"key\s+" + _TYPE + r")" + _V),
    # ``key cisco123`` alone on a line (``tacacs server``/``radius server`` blocks, IPsec client groups);
    # not ``key 1`` (a key chain's key id), ``key chain``, or a MACsec ``key <ckn> 7 <cak>``
    _f(r"^(\s*key\s+)(?!(?:chain|config-key|pubkey-chain)\b)(?!\d+\s*[{;]?\s*$)(?![{\[\];])(?!\S+\s+[07]\s+\S)" + _V),
    # ``-password`` keywords: IS-IS ``area-password``/``domain-password``...
    _f(_NOT_AFTER + r"([a-z0-9]+(?:-[a-z0-9]+)*-password\s+" + _TYPE + r")(?![{\[\];])" + _V),
    # HSRP/GLBP/VRRP/NHRP plain-text authentication
    _f(_NOT_AFTER + r"((?:standby|glbp)\s+\d+\s+authentication\s+(?:text\s+)?)(?!(?:md5|text)\b)" + _V),
    _f(_NOT_AFTER + r"(authentication\s+text\s+)" + _V),
    _f(_NOT_AFTER + r"(nhrp\s+authentication\s+)" + _V),
    # PIM hello authentication (NX-OS ``ip pim hello-authentication ah-md5 3 <key>``)
    _f(_NOT_AFTER + r"(hello-authentication\s+\S+\s+" + _TYPE + r")" + _V),
    # passwords and secrets: users, enable, lines, BGP neighbors, IS-IS, PPP, EOS shared-secret profiles
    _f(
        _NOT_AFTER + r"((?:password|secret)\s+"
        r"(?:(?:level\s+\d+|\d{1,2}|sha512|sha256|md5|encrypted|scrypt|pbkdf2|hash|clear)\s+)*)"
        r"(?!(?:strength-check|encryption|encryption-key|policy|minimum|min-length|required|expiry|history|"
        r"lifetime|profile|reuse|prompt|change|lockout|complexity|authentication|recovery|length)\b)(?![{\[\];])" + _V
    ),
]

_EOS = [
    # MACsec ``key <ckn> 7 <cak>``: the CAK
    _f(r"^(\s*key\s+[0-9A-Fa-f]+\s+[07]\s+)" + _V),
    # TerminAttr's key authentication: ``-cvauth=key,<key>``
    _f(r"(-cvauth=key,)[^\s,]+"),
]
_IOS = []
_NXOS = []

# --- Junos (curly-brace and ``set`` format) ---------------------------------------------------------
_JUNOS = [
    # NTP: ``authentication-key 1 type md5 value "$9$..."``
    _f(_NOT_AFTER + r"(authentication-key\s+\d+\s+type\s+\S+\s+value\s+)" + _JV),
    # OSPF md5: ``md5 1 key "$9$..."``
    _f(_NOT_AFTER + r"(md5\s+\d+\s+key\s+)" + _JV),
    # every statement whose value is a secret
    _f(
        _NOT_AFTER + r"((?:encrypted-password|simple-password|authentication-password|privacy-password|pap-password|"
        r"plain-text-password-value|chap-secret|secret|authentication-key|privacy-key|shared-secret|psk|"
        r"passphrase|ascii-text|hexadecimal|community-name)\s+)(?!\d{1,2}\s)(?!(?:set-key|ascii|hex|profile|sha\d*|md5|level)\b)(?![{\[\]])"
        + _JV
    ),
    # SNMP communities (not policy-options' BGP communities, which have members)
    _f(r"^(\s*(?:(?:set|delete)\s+snmp\s+)?community\s+)(?!\S+\s+members\b)(?![{;])" + _JV),
]

# --- every platform -------------------------------------------------------------------------------------
_COMMON = [
    # Junos marks secret statements itself: ``secret "..."; ## SECRET-DATA``
    _f(r'("[^"]*"|[^\s;"]+)(?=;?\s*## SECRET-DATA)', MASK),
    # crypt hashes and Junos ``$9$`` strings wherever they stand
    _f(r'(?<![^\s"\'])\$(?:1|2[aby]?|5|6|7|8|9|14|y|sha1|md5)\$[^\s";]*', MASK),
    # a PEM block written on one line (Junos ``set`` format)
    _f(r"(-{4,}BEGIN [A-Z0-9 ]+-{4,}).*?(?=-{4,}END [A-Z0-9 ]+-{4,})", r"\g<1>" + MASK),
]

_PLATFORM_RULES = {
    "eos": _EOS + _CISCO_COMMON,
    "ios": _IOS + _CISCO_COMMON,
    "nxos": _NXOS + _CISCO_COMMON,
    "junos": _JUNOS,
}
_ALL_RULES = _EOS + _IOS + _NXOS + _CISCO_COMMON + _JUNOS

_ALIASES = {
    "eos": "eos",
    "arista_eos": "eos",
    "ios": "ios",
    "iosxe": "ios",
    "cisco_ios": "ios",
    "cisco_xe": "ios",
    "nxos": "nxos",
    "nxos_ssh": "nxos",
    "cisco_nxos": "nxos",
    "junos": "junos",
    "juniper_junos": "junos",
}

PLATFORMS = ("eos", "ios", "nxos", "junos")

_FREE_TEXT = re.compile(
    r"^\s*(?:(?:set|delete)\s+\S.*?\s)?(?:description|remark|name|alias|"
    r"(?:snmp-server\s+)?(?:location|contact))(?:\s|$)"
)
_PEM_BEGIN = re.compile(r"-{4,}BEGIN [A-Z0-9 ]+-{4,}")
_PEM_END = re.compile(r"-{4,}END [A-Z0-9 ]+-{4,}")
_IOS_BLOCK = re.compile(r"^\s*(?:certificate\s+(?:(?:ca|self-signed|rollover)\s+)?[0-9A-Fa-f]+|key-string)\s*$")
_IOS_BLOCK_END = re.compile(r"^\s*quit\s*$")
_HEX_DUMP = re.compile(r"^\s*(?:[0-9A-Fa-f]{8}\s+)+[0-9A-Fa-f]{2,8}\s*$")
_BASE64 = re.compile(r'^\s*"?[A-Za-z0-9+/]{32,}={0,2}"?;?\s*$')
_INDENT = re.compile(r"^\s*")
_HEADER = re.compile(r"^(?:--- |\+\+\+ |@@ )")


def platform_of(platform):
    """The rules' platform name for a NAPALM driver or Nautobot ``network_driver`` (None: not known)."""
    name = str(platform or "").strip().lower()
    if name.startswith("napalm_"):
        name = name[len("napalm_") :]
    return _ALIASES.get(name)


def rules(platform=None):
    """The sanitize filters (netutils' format) for ``platform``; every platform's for an unknown one."""
    known = platform_of(platform)
    return list((_PLATFORM_RULES[known] if known else _ALL_RULES) + _COMMON)


class _Blocks(object):
    """Which block (PEM, IOS certificate or key-string) the lines being read are in."""

    def __init__(self):
        self.end = None

    def line(self, content):
        """``content`` masked for the block it is in; ``None`` when it is in none (rules apply)."""
        if self.end is not None:
            found = self.end.search(content)
            if found is None:
                return _body(content)
            self.end = None
            if content[: found.start()].strip(' "\t'):  # the end of the body on the marker's line
                return _INDENT.match(content).group(0) + MASK + content[found.start() :]
            return content
        begin = _PEM_BEGIN.search(content)
        if begin and not _PEM_END.search(content, begin.end()):
            self.end = _PEM_END
            rest = content[begin.end() :]
            return content[: begin.end()] + (MASK if rest.strip(' "\t') else rest)
        if _IOS_BLOCK.match(content):
            self.end = _IOS_BLOCK_END
            return content
        if _HEX_DUMP.match(content) or (_BASE64.match(content) and not content.strip().isalpha()):
            return _body(content)
        return None


def _body(content):
    if not content.strip():
        return content
    return _INDENT.match(content).group(0) + MASK


def mask_line(content, platform=None, filters=None):
    """One configuration line (no diff marker) with its secrets masked."""
    filters = rules(platform) if filters is None else filters
    if _FREE_TEXT.match(content):
        return _sanitize(content, _COMMON[:2])
    return _sanitize(content, filters)


def _split(line):
    """``(marker, content)``: the diff marker (``-``, ``+``; empty for other lines) and the rest."""
    if line[:1] in ("-", "+") and not _HEADER.match(line):
        return line[0], line[1:]
    return "", line


def mask(text, platform=None):
    """``text`` (a configuration or a diff) with its secrets masked, for people to read; see the module doc."""
    if not text:
        return "" if text is None else str(text)
    text = str(text)
    filters = rules(platform)
    blocks = _Blocks()
    rows = []
    for line in text.split("\n"):
        if line.startswith(CHANGED_MARK) and line.rstrip("\r").endswith(CHANGED_NOTE):
            rows.append(("", line, line))  # already masked
            continue
        marker, content = _split(line)
        if _HEADER.match(line):
            rows.append(("", line, line))
            continue
        masked = blocks.line(content)
        if masked is None:
            masked = mask_line(content, filters=filters)
        rows.append((marker, content, masked))
    return "\n".join(_pair(rows))


def _pair(rows):
    """Masked lines, a removed and an added line that differ only in masked values said as one change."""
    out = []
    index = 0
    while index < len(rows):
        if rows[index][0] != "-":
            marker, _content, masked = rows[index]
            out.append(marker + masked)
            index += 1
            continue
        removed = []
        while index < len(rows) and rows[index][0] == "-":
            removed.append(rows[index])
            index += 1
        added = []
        while index < len(rows) and rows[index][0] == "+":
            added.append(rows[index])
            index += 1
        used = set()
        for _marker, content, masked in removed:
            partner = None
            for position, (_m, other, other_masked) in enumerate(added):
                if position not in used and other_masked == masked and other != content:
                    partner = position
                    break
            if partner is None:
                out.append("-" + masked)
            else:
                used.add(partner)
                out.append(CHANGED_MARK + masked + CHANGED_NOTE)
        out.extend("+" + masked for position, (_m, _c, masked) in enumerate(added) if position not in used)
    return out


def mask_message(text, platform=None):
    """A message that may quote configuration lines (``'snmp-server community x'``): each quoted part masked."""
    if not text:
        return "" if text is None else str(text)

    def quoted(match):
        return match.group(1) + mask_line(match.group(2), platform) + match.group(1)

    return re.sub(r"(['\"])([^'\"\n]{3,})\1", quoted, str(text))


def mask_lines(lines, platform=None):
    """A list of configuration lines (``parent > child`` paths too), each masked."""
    return [" > ".join(mask_line(part, platform) for part in str(line).split(" > ")) for line in lines or []]
