"""Smoke check of the mixed-fleet benchmark at a small N on the lab (the full benchmark is its own command:
``python -m tests.bench.mixed_fleet_lab``, 100 devices a platform). Figures are printed; correctness is
asserted: for each platform (EOS, NX-OS, Junos) every device's result came through the daemon and none
failed, dry run and live; every real NAPALM session ended; Golden Config's own path (the peer baseline)
ran its jobs over the same devices and filed a plan for each."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.bench import mixed_fleet_lab

pytestmark = pytest.mark.lab
LAB_JSON = Path(__file__).resolve().parents[2] / ".lab" / "lab.json"
N = 5


def test_mixed_fleet_smoke(capsys, tmp_path):
    if not LAB_JSON.exists():
        pytest.skip("the lab is not up: run scripts/lab up")
    with capsys.disabled():
        figures = mixed_fleet_lab.run(per_platform=N, live=True, native=True, sessions=3)
    assert set(figures["sessions"]) == {"arista_eos", "cisco_nxos", "juniper_junos"}
    assert all(row["sessions"] == 3 for row in figures["sessions"].values()), figures["sessions"]
    assert [row["mode"] for row in figures["hook"]] == ["dry run", "live"]
    for row in figures["hook"]:
        assert row["results"] == 3 * N and row["failures"] == 0, row
        for driver, platform in row["platforms"].items():
            assert platform["results"] == N and platform["failures"] == 0, (row["mode"], driver, platform)
        if row["mode"] == "live":
            assert row["committed"] == 3 * N, row
    gc = figures["golden_config"]
    assert [job["job"] for job in gc["jobs"]][-1] == "Deploy Config Plans"
    assert all(job["status"] in ("SUCCESS", "-") for job in gc["jobs"][:-1]), gc["jobs"]
    for driver, platform in gc["per_platform"].items():
        assert platform["plans"] == N, (driver, platform)  # one intended plan a device
        assert platform["completed"] + platform["failed"] == N, (driver, platform)  # each deployed or refused
    # the benchmark's pictures: one a round, a line a platform
    drawn = mixed_fleet_lab.draw(figures, tmp_path)
    assert [p.name for p in drawn] == ["mixed-fleet-dry-run.svg", "mixed-fleet-live.svg"]
    assert all(p.read_text().count("<polyline") == 3 for p in drawn)
