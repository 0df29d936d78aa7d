# -*- coding: utf-8 -*-
# Copyright: sotsync team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Make ``ansible_collections.sotsync.nautobot`` importable for the EDA plugins beside this file.

ansible-rulebook finds a plugin through ``ansible-galaxy collection list`` and runs it with
``runpy.run_path`` from ``<dir>/ansible_collections/sotsync/nautobot/extensions/eda/plugins/<type>/``,
without putting ``<dir>`` on ``sys.path``, so a plugin cannot import this file as part of the collection
either: each one runs it by path, first thing, then imports its logic from the collection::

    _IMPORT_COLLECTION = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "import_collection.py")
    runpy.run_path(_IMPORT_COLLECTION)["import_collection"](__file__)

Not a plugin: ansible-rulebook only looks for plugins in the ``event_source`` and ``event_filter`` folders.
"""

from __future__ import annotations

import os
import sys


def import_collection(plugin_file):
    """Put ``<dir>`` on ``sys.path`` (first, so the tree ``plugin_file`` was reached through wins, not a
    symbolic link's target) unless the collection is importable already.

    ``plugin_file``: the ``__file__`` of a plugin in ``extensions/eda/plugins/<type>/``. Raises
    ``ImportError`` when it is not inside a ``<dir>/ansible_collections/sotsync/nautobot`` tree.
    """
    try:
        import ansible_collections.sotsync.nautobot.plugins.plugin_utils  # noqa: F401
    except ImportError:
        tree = os.path.abspath(plugin_file).split(os.sep)[:-7]  # .../<dir>/ansible_collections
        if not tree or tree[-1] != "ansible_collections":
            raise ImportError(
                f"{plugin_file} is not inside <dir>/ansible_collections/sotsync/nautobot: install the collection "
                "(ansible-galaxy collection install) and run it from there"
            ) from None
        sys.path.insert(0, os.sep.join(tree[:-1]) or os.sep)
