"""Helpers shared by the test suites (tests/unit, tests/eda, tests/rulebook): imported as a package,
``from tests.support import net, nautobot_webhooks``; pyproject.toml's ``pythonpath`` puts the checkout
on ``sys.path``. ``rulebook`` and ``source_process`` serve only the suites that do not ship (galaxy.yml's
build_ignore keeps them out of the tarball); ``net`` and ``nautobot_webhooks`` ship with tests/unit."""
