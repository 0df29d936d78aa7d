"""Smoke check of the batch path at a small N on the lab (the full benchmark is its own command:
``.venv/bin/python tests/bench/scale_lab.py``). Figures are printed; correctness is asserted: every
device's result came, none failed, in fewer runs than devices, for the batch path and the per-event
baseline alike; after live commits, every committed device's Golden Config compliance was brought up to
date."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.bench import scale_lab

pytestmark = pytest.mark.lab
LAB_JSON = Path(__file__).resolve().parents[2] / ".lab" / "lab.json"


def test_batch_path_smoke(capsys, tmp_path):
    if not LAB_JSON.exists():
        pytest.skip("the lab is not up: run scripts/lab up")
    with capsys.disabled():
        figures = scale_lab.run(sizes=(20,), baseline_n=5, renames=2, live=True, manual=False, no_compliance_n=0)
    for row in figures["batches"]:
        assert row["results"] == row["n"] and row["failures"] == 0, row
        assert 1 <= row["runs"] < row["n"], row  # batched: fewer runs than devices
        if row["mode"] == "live":  # every committed device's Golden Config compliance brought up to date
            assert row["committed"] == row["n"] and row["compliance_updated"] == row["n"], row
    baseline = figures["baseline"]
    assert baseline["results"] == baseline["n"], baseline
    for row in figures["one_change"]:
        assert row["failures"] == 0, row
        if row["mode"] == "live":
            assert row["compliance_updated"] == row["n"], row
    # the benchmark's pictures: every batch round's devices done over time
    (drawn,) = scale_lab.draw(figures, tmp_path)
    rounds = [row for row in figures["batches"] if row["label"] == "batch"]
    assert drawn.name == "scale-batch.svg" and drawn.read_text().count("<polyline") == len(rounds)
