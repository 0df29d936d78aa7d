"""Smoke check of the job-slicing benchmark at a small N on the lab (the full benchmark is its own command:
``python -m tests.bench.slicing_lab``, 100 devices a platform, 3 slices). Figures are printed; correctness is
asserted: dry run and live, the unsliced run and the 3 slices at once each provisioned every device of the
inventory exactly once (each slice its own hosts, no device in two slices), none failed, and live committed
every device's change."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.bench import slicing_lab

pytestmark = pytest.mark.lab
LAB_JSON = Path(__file__).resolve().parents[2] / ".lab" / "lab.json"
N = 2  # a platform


def test_slicing_smoke(capsys):
    if not LAB_JSON.exists():
        pytest.skip("the lab is not up: run scripts/lab up")
    with capsys.disabled():
        figures = slicing_lab.run(per_platform=N, count=3, live=True)
    n = 3 * N
    assert [(row["mode"], row["sliced"]) for row in figures["rounds"]] == [
        ("dry run", False),
        ("dry run", True),
        ("live", False),
        ("live", True),
    ]
    for row in figures["rounds"]:
        assert row["devices"] == n and row["distinct"] == n and len(row["names"]) == n, row
        assert row["failures"] == 0, row
        assert all(part["rc"] == 0 for part in row["slices"]), row["slices"]
        assert row["committed"] == (0 if row["mode"] == "dry run" else n), row
        if row["sliced"]:
            assert len(row["slices"]) == 3 and all(part["devices"] == N for part in row["slices"]), row["slices"]
