"""Pictures of the benchmarks' own figures, as plain SVG (no plotting library): devices done over time.

``done_over_time({"batch, N = 500": [latencies...], ...}, title)`` draws, for each series, how many devices
had their result by each second after Nautobot's answer to the edit: a step line per series, axes with
ticks, a legend. ``write(path, svg)`` saves it. The benchmarks call these from their command line
(``--plots DIR``); docs/performance.md shows the files they wrote.
"""

from __future__ import annotations

import math
from html import escape
from pathlib import Path

WIDTH, HEIGHT = 760, 420
LEFT, RIGHT, TOP, BOTTOM = 70, 200, 40, 50
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#17becf")


def nice_step(span: float, ticks: int = 6) -> float:
    """A round tick step (1, 2 or 5 times a power of ten) giving about ``ticks`` ticks over ``span``."""
    raw = max(span, 1e-9) / ticks
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if raw <= factor * power:
            return factor * power
    return 10 * power


def _fmt(value: float) -> str:
    return f"{value:g}"


def done_over_time(
    series: dict[str, list[float]],
    title: str,
    xlabel: str = "seconds after Nautobot's answer to the edit",
    ylabel: str = "devices with their result",
) -> str:
    """The SVG text: for each series (label -> seconds at which each device's result came), a step line of
    the count of devices done against time."""
    if not series or not any(series.values()):
        raise ValueError("nothing to draw: no series has a value")
    x_max = max(max(values) for values in series.values() if values) * 1.05
    y_max = max(len(values) for values in series.values())
    x_step, y_step = nice_step(x_max), nice_step(y_max)
    x_top = math.ceil(x_max / x_step) * x_step
    y_top = math.ceil(y_max / y_step) * y_step
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(value: float) -> float:
        return LEFT + plot_w * value / x_top

    def y(value: float) -> float:
        return TOP + plot_h * (1 - value / y_top)

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">',
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
        f'<text x="{WIDTH / 2:.0f}" y="22" text-anchor="middle" font-size="15">{escape(title)}</text>',
    ]
    tick = 0.0
    while tick <= x_top + 1e-9:
        out.append(f'<line x1="{x(tick):.1f}" y1="{TOP}" x2="{x(tick):.1f}" y2="{TOP + plot_h}" stroke="#eee"/>')
        out.append(f'<text x="{x(tick):.1f}" y="{TOP + plot_h + 16}" text-anchor="middle">{_fmt(tick)}</text>')
        tick += x_step
    tick = 0.0
    while tick <= y_top + 1e-9:
        out.append(f'<line x1="{LEFT}" y1="{y(tick):.1f}" x2="{LEFT + plot_w}" y2="{y(tick):.1f}" stroke="#eee"/>')
        out.append(f'<text x="{LEFT - 6}" y="{y(tick) + 4:.1f}" text-anchor="end">{_fmt(tick)}</text>')
        tick += y_step
    out.append(f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#333"/>')
    out.append(f'<text x="{LEFT + plot_w / 2:.0f}" y="{HEIGHT - 10}" text-anchor="middle">{escape(xlabel)}</text>')
    out.append(
        f'<text transform="translate(16 {TOP + plot_h / 2:.0f}) rotate(-90)" text-anchor="middle">'
        f"{escape(ylabel)}</text>"
    )
    for index, (label, values) in enumerate(series.items()):
        colour = COLOURS[index % len(COLOURS)]
        points = [(x(0), y(0))]
        for done, when in enumerate(sorted(values), start=1):
            points.append((x(when), points[-1][1]))  # flat until this result, then one step up
            points.append((x(when), y(done)))
        path = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
        out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        legend_y = TOP + 14 + 20 * index
        out.append(
            f'<line x1="{LEFT + plot_w + 12}" y1="{legend_y - 4}" x2="{LEFT + plot_w + 32}" y2="{legend_y - 4}" '
            f'stroke="{colour}" stroke-width="3"/>'
        )
        out.append(f'<text x="{LEFT + plot_w + 38}" y="{legend_y}">{escape(label)} ({len(values)})</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def write(path: str | Path, svg: str) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(svg)
    return path
