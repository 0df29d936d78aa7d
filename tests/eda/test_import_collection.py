"""How every EDA plugin file makes the collection importable: ``extensions/eda/plugins/import_collection.py``,
run by path from each plugin, in a fresh Python without the collection on ``sys.path``, as ansible-rulebook
runs them (``runpy.run_path`` on the file inside the ``ansible_collections/sotsync/nautobot`` tree)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
COLLECTIONS = ROOT / ".build" / "collections"
LINKED = COLLECTIONS / "ansible_collections/sotsync/nautobot"
PLUGINS = ["event_source/webhook.py", "event_source/changelog.py", "event_filter/device_event.py"]
LOAD = (
    "import runpy, sys; runpy.run_path(sys.argv[1]); "
    "from ansible_collections.sotsync.nautobot.plugins.plugin_utils import request; print(request.__file__)"
)


def _python(path):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "ANSIBLE_COLLECTIONS_PATH")}
    return subprocess.run(
        [sys.executable, "-c", LOAD, str(path)], capture_output=True, text=True, env=env, timeout=60, cwd="/"
    )


@pytest.mark.parametrize("plugin", PLUGINS)
def test_loader_imports_the_collection_the_file_was_reached_through(plugin):
    result = _python(LINKED / "extensions/eda/plugins" / plugin)
    assert result.returncode == 0, result.stderr
    # the tree the file was reached through (what ansible-rulebook runs), not the link's target
    assert result.stdout.strip() == str(LINKED / "plugins/plugin_utils/request.py")


@pytest.mark.parametrize("plugin", PLUGINS)
def test_loader_explains_a_file_outside_a_collection_tree(plugin):
    checkout_file = ROOT / "extensions/eda/plugins" / plugin
    result = _python(checkout_file)
    assert result.returncode != 0
    assert f"{checkout_file} is not inside <dir>/ansible_collections/sotsync/nautobot" in result.stderr
    assert "Traceback" in result.stderr  # an ImportError: ansible-rulebook reports it as the source's failure


def test_every_plugin_file_runs_the_one_loader():
    """The loader lives in one file: no plugin carries a copy of its own."""
    plugins = sorted((ROOT / "extensions/eda/plugins").glob("*/*.py"))
    assert sorted(str(p.relative_to(ROOT / "extensions/eda/plugins")) for p in plugins) == sorted(PLUGINS)
    for path in plugins:
        text = path.read_text()
        assert 'runpy.run_path(_IMPORT_COLLECTION)["import_collection"](__file__)' in text, path
        assert "sys.path.insert" not in text and "def _import_collection" not in text, path
