"""Shared set-up of the event side's unit tests."""

import pytest

from ansible_collections.sotsync.nautobot.plugins.plugin_utils import delivered


@pytest.fixture(autouse=True)
def fresh_delivered_registry():
    """Each test starts with no change delivered: the process-wide registry (``delivered.REGISTRY``) is
    what both sources share in a rulebook, and tests replay the same changes."""
    delivered.REGISTRY.clear()
    yield
    delivered.REGISTRY.clear()
