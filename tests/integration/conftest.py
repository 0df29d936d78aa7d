"""Fixtures for tests against the live lab (``scripts/lab up``): real Nautobot + Golden Config and
the simulated EOS devices. Tests that use them are marked ``lab`` and skip when the lab is absent."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import requests
from tests.integration.labfacts import Masked
from tests.integration.provision_helpers import delete_notes, marker

ROOT = Path(__file__).resolve().parents[2]
LAB_DIR = Path(os.environ.get("SOTSYNC_LAB_DIR", ROOT / ".lab"))
LAB_JSON = LAB_DIR / "lab.json"


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/integration" in str(item.fspath) and not item.get_closest_marker("lab"):
            item.add_marker(pytest.mark.lab)


@pytest.fixture(scope="session")
def lab() -> dict:
    """The lab's facts (URLs, generated credentials, devices), a pynautobot API and the simulator's
    control URL. Skips the test when the lab is not up."""
    if not LAB_JSON.exists():
        pytest.skip(f"the lab is not up ({LAB_JSON} missing): run scripts/lab up")
    import pynautobot

    data = Masked(json.loads(LAB_JSON.read_text()))
    data["env"] = Masked(data["env"])
    try:
        requests.get(data["nautobot_url"] + "/api/", timeout=5)
    except requests.RequestException as exc:
        pytest.skip(f"the lab's Nautobot does not answer: {exc}")
    data["api"] = pynautobot.api(data["nautobot_url"], token=data["nautobot_token"])
    data["sim_control"] = data["sim_control_url"]
    data["root"] = ROOT
    return data


@pytest.fixture(scope="session")
def lab_env(lab) -> dict:
    """A process environment for ansible-playbook / ansible-rulebook runs against the lab."""
    env = Masked(os.environ)
    env.update(lab["env"])
    env["ANSIBLE_COLLECTIONS_PATH"] = str(ROOT / ".build" / "collections")
    env["PATH"] = f"{ROOT / '.venv' / 'bin'}:{env['PATH']}"
    env.setdefault("ANSIBLE_FORCE_COLOR", "0")
    env.setdefault("ANSIBLE_NOCOLOR", "1")
    return env


@pytest.fixture
def trigger(lab, request):
    """A unique trigger text for the test's runs; the notes it finds with it are deleted afterwards."""
    text = marker(request.node.name)
    yield text
    delete_notes(lab["api"], text)
