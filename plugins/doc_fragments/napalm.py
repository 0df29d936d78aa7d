# -*- coding: utf-8 -*-
# Copyright: sotsync team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Options shared by the modules that talk to a device through NAPALM (spec: module_utils/arguments.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    DOCUMENTATION = r"""
options:
  device_credentials:
    description:
      - "The NAPALM login of devices from the Ansible inventory, by device name (or UUID), for example
        C({access1: {username: netops, password: ...}}). Each value is a dict with C(username)
        and C(password)."
      - The role C(sotsync.nautobot.provision) and the playbooks fill it from the inventory variables of the
        hosts named like the devices (C(napalm_username) / C(napalm_password), else C(ansible_user) /
        C(ansible_password); Ansible Vault works as usual).
      - "Each device's login is resolved once per run, in this order, the first source that gives both a username
        and a password winning: 1. this option (the inventory); 2. the device's Nautobot B(secrets group): the
        access type the device's config context names for Golden Config's nornir
        (C(nautobot_plugin_nornir.secret_access_type)), else the platform's (C(NETCONF) for Junos, HTTP(S) for
        EOS eAPI and NX-API, C(SSH) for the SSH drivers), else C(Generic); its C(username) and C(password) secrets,
        read on the controller as Nautobot reads them when their provider is C(environment-variable) (parameter
        C(variable)) or C(text-file) (parameter C(path), content stripped); any other provider (HashiCorp Vault...)
        cannot be read from here and the group is passed over; 3. O(username) and O(password)."
      - A device none of them gives a login is skipped (not failed) with every source tried and why; when no
        device has one, the task fails with C(missing_credentials). Each device's result names the source of its
        login (C(credentials_source), C(credentials_from)), never its values; the values are scrubbed from every
        message, result and note.
      - Reading secrets groups needs the token to have C(extras.view_secretsgroup),
        C(extras.view_secretsgroupassociation) and C(extras.view_secret); without them the devices have no
        secrets group here.
    type: dict
  username:
    description:
      - Username for the devices' NAPALM connections, for the devices whose login comes neither from
        O(device_credentials) nor from their Nautobot secrets group.
      - If not set, the E(NAPALM_USERNAME) environment variable is used.
      - There is no default.
    type: str
  password:
    description:
      - Password for the devices' NAPALM connections, with O(username).
      - If not set, the E(NAPALM_PASSWORD) environment variable is used.
      - There is no default.
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
