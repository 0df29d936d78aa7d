"""Helpers of the packaging tests: the collection as a user gets it, built and installed offline.

Every test here works on that installed copy, with ANSIBLE_COLLECTIONS_PATH pointing only at it, so a
file that ``build_ignore`` drops, or a path that only resolves in the checkout, fails here. The tools
(ansible-galaxy, ansible-builder, ansible-rulebook...) are the ones beside this pytest's Python: the
checkout's ``.venv``.
"""

import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
# Variables of the caller's shell that would let a tool find the checkout or a real service instead.
SCRUBBED_PREFIXES = ("ANSIBLE_", "NAUTOBOT_", "NAPALM_", "SOTSYNC_", "EDA_")
SCRUBBED = {"PYTHONPATH", "ANSIBLE_CONFIG"}


def tool(name):
    path = BIN / name
    if not path.exists():
        pytest.fail(f"{name} is not installed beside {sys.executable}: run scripts/setup (requirements.txt pins it)")
    return str(path)


def clean_env(collections_path, **extra):
    """The environment of a user whose only collection is the installed sotsync.nautobot."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(SCRUBBED_PREFIXES) and k not in SCRUBBED}
    env.update(
        PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        ANSIBLE_COLLECTIONS_PATH=str(collections_path),
        ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false",
        ANSIBLE_NOCOLOR="1",
        PYTHONUNBUFFERED="1",
    )
    env.update({k: str(v) for k, v in extra.items()})
    return env


def run(args, env, cwd, timeout=120):
    """Run a command; fail the test with its output when it exits non-zero."""
    proc = subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)
    if proc.returncode != 0:
        pytest.fail(f"{' '.join(map(str, args))} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
    return proc


class Installed:
    """The built tarball and the collection installed from it."""

    def __init__(self, tarball, collections_path, workdir):
        self.tarball = tarball
        self.collections_path = collections_path
        self.path = collections_path / "ansible_collections" / "sotsync" / "nautobot"
        self.workdir = workdir
        with tarfile.open(tarball) as archive:
            self.members = sorted(archive.getnames())
        self.manifest = json.loads((self.path / "MANIFEST.json").read_text())

    def env(self, **extra):
        return clean_env(self.collections_path, **extra)

    def run(self, args, timeout=120, cwd=None, **extra_env):
        return run(args, self.env(**extra_env), cwd or self.workdir, timeout)

    def yaml(self, relative):
        return yaml.safe_load((self.path / relative).read_text())


def requirements(path):
    """``{name: Requirement}`` of a pip requirements file (comments and blank lines skipped)."""
    found = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            requirement = Requirement(line)
            found[canonicalize_name(requirement.name)] = requirement
    return found
