"""The Molecule scenario ``provision`` (``extensions/molecule/provision``) on the live lab.

Runs ``molecule test -s provision`` from the collection root, as a developer does: drift on the simulated
dist1, converge (commit), idempotence, a ``--check`` converge, verify, cleanup (dist1's running config put
back). The scenario touches dist1 only and writes no note. Skips when the lab is not up.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time

import pytest
from tests.integration.provision_helpers import ROOT, sim_device

pytestmark = pytest.mark.lab

TIMEOUT = 240  # seconds; a run takes well under a minute on the lab
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def molecule(env, *args, timeout=TIMEOUT):
    """``molecule <args>`` from the collection root (where molecule finds ``extensions/molecule``)."""
    proc = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "molecule"), *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group: a timeout ends ansible-playbook too
    )
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGTERM)
        out, _ = proc.communicate()
        return None, ANSI.sub("", out)
    return proc.returncode, ANSI.sub("", out)


def step(output, name):
    """What one step of the sequence printed (its first run): from ``Executing`` to ``Executed: <status>``.

    Molecule 26 writes ``[provision > converge] Executing`` without colour, ``provision ➜ converge: Executing``
    with it."""
    head = rf"\[?provision (?:>|➜) {name}\]?:? "
    match = re.search(rf"{head}Executing\n(.*?){head}Executed: (\w+)", output, re.S)
    assert match, f"no {name} step in the output:\n{output[-4000:]}"
    return match.group(1), match.group(2)


@pytest.fixture
def molecule_env(lab_env):
    env = dict(lab_env)
    for key in [k for k in env if k.startswith("MOLECULE_")]:
        del env[key]  # a developer's MOLECULE_GLOB or MOLECULE_EPHEMERAL_DIRECTORY would change the run
    env.pop("ANSIBLE_STDOUT_CALLBACK", None)  # the steps are read from the default callback's output
    env.update({"NO_COLOR": "1", "PY_COLORS": "0", "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0"})
    return env


def test_molecule_test_provision(lab, molecule_env):
    before = sim_device(lab, "dist1")["running_config"]
    started = time.monotonic()
    rc, out = molecule(molecule_env, "test", "-s", "provision")
    seconds = time.monotonic() - started
    if rc is None:
        # Killed mid-run: put dist1 back (cleanup restores the running config prepare saved).
        molecule(molecule_env, "cleanup", "-s", "provision", timeout=60)
        pytest.fail(f"molecule test -s provision did not finish in {TIMEOUT}s:\n{out[-4000:]}")
    assert rc == 0, f"molecule test -s provision exited {rc} after {seconds:.0f}s:\n{out[-6000:]}"

    converge, status = step(out, "converge")
    assert status == "Successful"
    assert "\ndist1: Configuration committed successfully\n" in converge, converge
    assert re.search(r"^localhost\s+:.*\bchanged=1\b.*\bfailed=0\b", converge, re.M), converge

    idempotence, status = step(out, "idempotence")
    assert status == "Successful", idempotence
    assert "\n(no differences)\n" in idempotence, idempotence
    assert re.search(r"^localhost\s+:.*\bchanged=0\b.*\bfailed=0\b", idempotence, re.M), idempotence

    check, status = step(out, "check")
    assert status == "Successful", check
    assert "\ndist1: DRY RUN mode: Discarding configuration changes\n" in check, check  # --check is a dry run
    assert "\n(no differences)\n" in check, check
    assert re.search(r"^localhost\s+:.*\bchanged=0\b.*\bfailed=0\b", check, re.M), check

    for name in ("prepare", "verify", "cleanup"):
        assert step(out, name)[1] == "Successful"

    after = sim_device(lab, "dist1")
    assert after["running_config"] == before, "cleanup did not put dist1's running config back"
    assert after["open_sessions"] == [] and after["pending_commit"] is None
