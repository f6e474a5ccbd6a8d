"""Drift against the previous month's ``latest``: PSI per numeric column, class shares per class column."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from batchpoint.checks.histograms import shared_edges, shares, sparkline
from batchpoint.checks.results import CheckResult, CheckStatus, Figure

NAME = "drift"
BINS = 10
EPSILON = 1e-4
"""Share given to an empty bin, so that PSI stays finite (a common choice)."""
MAX_CLASSES = 20
"""A column of integers, strings or booleans with at most this many values is read as classes."""


def psi(current: np.ndarray, baseline: np.ndarray, bins: int = BINS) -> float:
    """The population-stability index of ``current`` against ``baseline`` over the baseline's quantile bins."""
    if current.size == 0 or baseline.size == 0:
        raise ValueError("PSI needs values on both sides")
    edges = np.unique(np.quantile(baseline, np.linspace(0, 1, bins + 1)))
    if edges.size < 2:  # a constant baseline: one bin, what falls outside it is the change
        inside_base, inside_now = 1.0, float(np.mean(current == edges[0]))
        expected, actual = np.array([inside_base, 0.0]), np.array([inside_now, 1.0 - inside_now])
    else:
        edges[0], edges[-1] = -np.inf, np.inf
        expected = np.histogram(baseline, edges)[0] / baseline.size
        actual = np.histogram(current, edges)[0] / current.size
    expected, actual = np.maximum(expected, EPSILON), np.maximum(actual, EPSILON)
    return float(np.sum((actual - expected) * np.log(actual / expected)))


def class_shares(values: Sequence[object]) -> dict[str, float]:
    """The share of each class among ``values`` (keys as text, for the manifest)."""
    total = len(values)
    counts: dict[str, int] = {}
    for value in values:
        counts[str(value)] = counts.get(str(value), 0) + 1
    return {k: counts[k] / total for k in sorted(counts)} if total else {}


def _is_classes(current: pa.ChunkedArray, baseline: pa.ChunkedArray) -> bool:
    if pa.types.is_floating(current.type):
        return False
    distinct = len(set(pc.unique(current.drop_null()).to_pylist()) | set(pc.unique(baseline.drop_null()).to_pylist()))
    return distinct <= MAX_CLASSES


def numbers(column: pa.ChunkedArray) -> np.ndarray:
    values: np.ndarray = column.drop_null().to_numpy(zero_copy_only=False).astype("float64")
    kept: np.ndarray = values[~np.isnan(values)]
    return kept


def drift(
    current: pa.Table,
    baseline: pa.Table | None,
    columns: Sequence[str],
    *,
    psi_threshold: float = 0.2,
    class_share_threshold: float = 0.1,
    baseline_name: str = "the previous month's latest",
    missing: str | None = None,
    blocking: bool = False,
) -> CheckResult:
    """How far this version's predictions moved from ``baseline``'s; not evaluated without one.

    ``missing`` says why there is no baseline (default: ``baseline_name`` does not exist yet).
    """
    if baseline is None or baseline.num_rows == 0:
        why = missing or f"{baseline_name} does not exist yet"
        return CheckResult(NAME, CheckStatus.NOT_EVALUATED, blocking, f"no baseline: {why}", {})
    per_column: dict[str, dict[str, Figure]] = {}
    moved: list[str] = []
    for name in columns:
        if name not in current.column_names or name not in baseline.column_names:
            continue
        now, before = current.column(name), baseline.column(name)
        if _is_classes(now, before):
            shares_now, shares_before = (
                class_shares(now.drop_null().to_pylist()),
                class_shares(before.drop_null().to_pylist()),
            )
            labels = sorted(set(shares_now) | set(shares_before))
            change = max(abs(shares_now.get(k, 0.0) - shares_before.get(k, 0.0)) for k in labels) if labels else 0.0
            figures: dict[str, Figure] = {"max_class_share_change": round(change, 6)}
            figures.update({f"share[{k}]": round(shares_now.get(k, 0.0), 6) for k in labels})
            figures.update({f"baseline_share[{k}]": round(shares_before.get(k, 0.0), 6) for k in labels})
            per_column[name] = figures
            if change > class_share_threshold:
                moved.append(
                    f"{name!r} class shares moved by up to {change:.1%} (threshold {class_share_threshold:.0%})"
                )
            continue
        a, b = numbers(now), numbers(before)
        if a.size == 0 or b.size == 0:
            continue
        index = psi(a, b)
        edges = shared_edges(a, b)
        now_shares, before_shares = shares(a, edges), shares(b, edges)
        top = float(max(now_shares.max(initial=0.0), before_shares.max(initial=0.0)))
        per_column[name] = {
            "psi": round(index, 6),
            "mean": round(float(a.mean()), 6),
            "baseline_mean": round(float(b.mean()), 6),
            "histogram": sparkline(now_shares, top),
            "baseline_histogram": sparkline(before_shares, top),
        }
        if index > psi_threshold or math.isnan(index):
            moved.append(f"{name!r} PSI {index:.3f} (threshold {psi_threshold})")
    figures_all: dict[str, Figure] = {"columns_compared": len(per_column), "baseline_rows": baseline.num_rows}
    if moved:
        return CheckResult(NAME, CheckStatus.FAILED, blocking, "; ".join(moved), figures_all, per_column)
    summary = f"{len(per_column)} column(s) within thresholds of {baseline_name}"
    return CheckResult(NAME, CheckStatus.PASSED, blocking, summary, figures_all, per_column)
