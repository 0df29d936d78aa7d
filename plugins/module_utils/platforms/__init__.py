# -*- coding: utf-8 -*-
# Copyright: sotsync team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The platform layer: what differs between network operating systems, in one place.

The deploy flow, the batch and the modules ask a ``Platform`` (by NAPALM driver name) instead of
testing driver names themselves:

- how a live push is made safe: commit-confirm (and its timer's granularity), or a checkpoint only;
- whether management re-addressing may go ahead without commit-confirm;
- how the device's configuration is read for verification (hierarchical, through netutils' parsers);
- which line the device refused, from its own error message, and how its driver's exceptions map to
  the flow's typed errors;
- how a pending commit-confirm is handed from one session to the next (re-addressing).

``for_driver("eos")`` returns the EOS platform; an unknown driver gets the generic platform, which
verifies by flat lines and trusts NAPALM's own commit-confirm support.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.sotsync.nautobot.plugins.module_utils.platforms.base import Platform
from ansible_collections.sotsync.nautobot.plugins.module_utils.platforms.eos import Eos
from ansible_collections.sotsync.nautobot.plugins.module_utils.platforms.ios import Ios
from ansible_collections.sotsync.nautobot.plugins.module_utils.platforms.junos import Junos
from ansible_collections.sotsync.nautobot.plugins.module_utils.platforms.nxos import Nxos

_KNOWN = dict((p.napalm_driver, p) for p in (Eos(), Ios(), Junos(), Nxos()))


def for_driver(napalm_driver):
    """The platform of a NAPALM driver name (``eos``, ``ios``, ``junos``, ``nxos``...); generic when unknown."""
    name = str(napalm_driver or "").strip().lower()
    if name.startswith("napalm_"):  # napalm's community drivers use the prefix; ours never do
        name = name[len("napalm_") :]
    known = _KNOWN.get(name)
    return known if known is not None else Platform(name or "unknown")


def for_driver_object(driver):
    """The platform of an instantiated NAPALM driver, from the module napalm loaded it from
    (``napalm.eos.eos`` -> eos); generic for anything else (test doubles included)."""
    module = type(driver).__module__ or ""
    parts = module.split(".")
    if len(parts) >= 2 and parts[0] == "napalm":
        return for_driver(parts[1])
    return for_driver(getattr(driver, "platform", None))


def known_platforms():
    """The platforms with their own rules, by NAPALM driver name."""
    return dict(_KNOWN)
