# -*- coding: utf-8 -*-
# Copyright: sotsync team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Options shared by the modules that talk to a device through NAPALM (spec: module_utils/arguments.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    DOCUMENTATION = r"""
options:
  username:
    description:
      - Username for the device's NAPALM connection.
      - If not set, the E(NAPALM_USERNAME) environment variable is used.
      - There is no default; a missing username fails before any connection.
    type: str
  password:
    description:
      - Password for the device's NAPALM connection.
      - If not set, the E(NAPALM_PASSWORD) environment variable is used.
      - There is no default; a missing password fails before any connection.
    type: str
  optional_args:
    description:
      - NAPALM C(optional_args) for the driver, for example C(transport) and C(port) for EOS eAPI.
      - Merged over the device's config context key C(napalm.optional_args) read from Nautobot; keys set
        here win.
    type: dict
  timeout:
    description:
      - Seconds NAPALM waits for the device before reporting it unreachable.
    type: int
    default: 60
"""
