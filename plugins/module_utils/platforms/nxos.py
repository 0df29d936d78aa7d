# -*- coding: utf-8 -*-
# Copyright: sotsync team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cisco NX-OS (NAPALM ``nxos``: NX-API over HTTP(S)): no commit-confirm, a checkpoint instead."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.sotsync.nautobot.plugins.module_utils.platforms.base import Platform


class Nxos(Platform):
    napalm_driver = "nxos"
    label = "NX-OS"
    network_driver = "cisco_nxos"
    parser = "NXOSConfigParser"
    # NAPALM's nxos driver raises NotImplementedError for revert_in: its commit takes a checkpoint
    # (checkpoint file rollback_config.txt), applies the lines, and rollback() restores the checkpoint.
    commit_confirm = False
    rollback_point = "checkpoint file rollback_config.txt"
    # NX-API applies the lines in order and stops at the refused one; NAPALM then rolls back to the
    # checkpoint it took before the commit.
    rejection_outcome = "the lines before it were applied, then the device was rolled back to the checkpoint"
