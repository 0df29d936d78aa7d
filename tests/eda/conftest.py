"""Shared fixtures of the event-source tests."""

import pytest

from ansible_collections.sotsync.nautobot.plugins.plugin_utils import delivered


@pytest.fixture(autouse=True)
def fresh_delivered_registry():
    """Each test is its own rulebook process: nothing was delivered before it (the registry of the
    changes delivered in this process is shared by the sources, and would carry over between tests)."""
    delivered.REGISTRY.clear()
    yield
    delivered.REGISTRY.clear()
