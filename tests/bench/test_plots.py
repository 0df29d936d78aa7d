"""The benchmarks' SVG pictures: a well-formed SVG whose step lines end at each series' device count and
last result, with a legend entry each (no lab needed)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from tests.bench import plots

SVG = "{http://www.w3.org/2000/svg}"


def test_each_series_is_a_step_line_that_ends_at_its_count_and_its_last_result():
    svg = plots.done_over_time({"batch": [1.0, 2.0, 2.5], "per-event": [3.0, 9.0]}, "devices done <over> time")
    root = ET.fromstring(svg)  # well-formed, the title escaped
    assert root.tag == f"{SVG}svg"
    lines = root.findall(f"{SVG}polyline")
    assert len(lines) == 2
    for line, count, last in zip(lines, (3, 2), (2.5, 9.0), strict=True):
        points = [tuple(map(float, p.split(","))) for p in line.get("points").split()]
        assert len(points) == 1 + 2 * count  # the origin, then along and up for each device
        heights = sorted({p[1] for p in points}, reverse=True)
        assert len(heights) == count + 1  # one step up per device
        assert points[-1][0] == pytest.approx(plots.LEFT + (plots.WIDTH - plots.LEFT - plots.RIGHT) * last / 10)
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "batch (3)" in texts and "per-event (2)" in texts and "devices done <over> time" in texts


def test_ticks_are_round_numbers():
    assert [plots.nice_step(span) for span in (9.45, 100, 520, 0.3)] == [2, 20, 100, 0.05]
    svg = plots.done_over_time({"a": [float(i) for i in range(1, 301)]}, "t")
    x_labels = re.findall(r'text-anchor="middle">(\d+)</text>', svg)
    assert x_labels == ["0", "100", "200", "300", "400"]  # 315 s wide: a step of 100


def test_nothing_to_draw_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="nothing to draw"):
        plots.done_over_time({"a": []}, "t")
    path = plots.write(tmp_path / "sub" / "p.svg", plots.done_over_time({"a": [1.0]}, "t"))
    assert path.read_text().startswith("<svg")
