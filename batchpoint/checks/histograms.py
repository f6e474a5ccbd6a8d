"""Histograms of a prediction column, this month against the baseline: shared bins, a text sparkline, an SVG.

Pure. The bins are equal-width over both months' range, so the two histograms are comparable bar
for bar. The sparkline goes inline into the drift figures (the manifest, ``output show``, Dagster's
metadata table); the SVG is stored beside the version and linked.
"""

from __future__ import annotations

from html import escape

import numpy as np

BINS = 20
_BLOCKS = "▁▂▃▄▅▆▇█"
_WIDTH, _HEIGHT, _PAD = 640, 240, 30


def shared_edges(current: np.ndarray, baseline: np.ndarray, bins: int = BINS) -> np.ndarray:
    """``bins + 1`` equal-width edges over the range of both arrays (one unit wide when constant)."""
    low = float(min(current.min(), baseline.min()))
    high = float(max(current.max(), baseline.max()))
    if high <= low:
        low, high = low - 0.5, high + 0.5
    edges: np.ndarray = np.linspace(low, high, bins + 1)
    return edges


def shares(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """The share of ``values`` in each bin."""
    counts = np.histogram(values, edges)[0]
    result: np.ndarray = counts / max(values.size, 1)
    return result


def sparkline(bin_shares: np.ndarray, top: float | None = None) -> str:
    """One block character per bin, scaled to ``top`` (default: the largest share)."""
    peak = top if top is not None else float(bin_shares.max(initial=0.0))
    if peak <= 0:
        return _BLOCKS[0] * len(bin_shares)
    steps = len(_BLOCKS) - 1
    return "".join(_BLOCKS[min(steps, round(float(s) / peak * steps))] for s in bin_shares)


def histogram_svg(column: str, current: np.ndarray, baseline: np.ndarray, labels: tuple[str, str]) -> str:
    """An SVG of both histograms over shared bins: this month's bars, the baseline's outlined."""
    edges = shared_edges(current, baseline)
    now, before = shares(current, edges), shares(baseline, edges)
    peak = float(max(now.max(initial=0.0), before.max(initial=0.0))) or 1.0
    width = (_WIDTH - 2 * _PAD) / len(now)
    bars: list[str] = []
    for i, (a, b) in enumerate(zip(now, before, strict=True)):
        x = _PAD + i * width
        for value, style in ((a, 'fill="#4f46e5" fill-opacity="0.7"'), (b, 'fill="none" stroke="#111827"')):
            h = float(value) / peak * (_HEIGHT - 2 * _PAD)
            bars.append(
                f'<rect x="{x + 1:.1f}" y="{_HEIGHT - _PAD - h:.1f}" width="{width - 2:.1f}" height="{h:.1f}" {style}/>'
            )
    title = escape(f"{column}: {labels[0]} (filled) against {labels[1]} (outlined)")
    axis = f'<line x1="{_PAD}" y1="{_HEIGHT - _PAD}" x2="{_WIDTH - _PAD}" y2="{_HEIGHT - _PAD}" stroke="#6b7280"/>'
    ticks = (
        f'<text x="{_PAD}" y="{_HEIGHT - 10}" font-size="11">{edges[0]:.4g}</text>'
        f'<text x="{_WIDTH - _PAD}" y="{_HEIGHT - 10}" font-size="11" text-anchor="end">{edges[-1]:.4g}</text>'
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_WIDTH}" height="{_HEIGHT}" font-family="sans-serif">'
        f'<text x="{_PAD}" y="18" font-size="13">{title}</text>{"".join(bars)}{axis}{ticks}</svg>\n'
    )
