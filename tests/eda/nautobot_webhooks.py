"""Moved to ``tests/support/nautobot_webhooks.py``; this name stays only for tests/bench, which still
imports it from here (delete once tests/bench imports ``tests.support``)."""

from tests.support.nautobot_webhooks import *  # noqa: F403
