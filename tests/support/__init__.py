"""Helpers shared by the test suites (tests/unit, tests/eda, tests/rulebook): imported as a package,
``from tests.support import net, nautobot_webhooks``; pyproject.toml's ``pythonpath`` puts the checkout
on ``sys.path``."""
