# -*- coding: utf-8 -*-
# Copyright: sotsync team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Options shared by the modules that talk to Nautobot (spec: module_utils/arguments.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    DOCUMENTATION = r"""
options:
  nautobot_url:
    description:
      - Base URL of Nautobot, without C(/api), for example V(https://nautobot.example.com).
      - If not set, the E(NAUTOBOT_URL) environment variable is used.
    type: str
    required: true
  nautobot_token:
    description:
      - Nautobot API token. Its user needs read access to what the module reads (devices, Golden Config)
        and C(extras.add_note) for modules that write notes on devices.
      - If not set, the E(NAUTOBOT_TOKEN) environment variable is used.
    type: str
    required: true
  validate_certs:
    description:
      - Verify Nautobot's TLS certificate. Set V(false) only for a lab with a self-signed certificate.
    type: bool
    default: true
  nautobot_timeout:
    description:
      - Seconds to wait for each Nautobot request before reporting Nautobot unreachable.
    type: int
    default: 30
"""
