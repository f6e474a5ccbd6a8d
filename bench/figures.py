"""The comparison's arithmetic: percentiles, ratios and batchpoint's per-file overhead (pure)."""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0–100) by linear interpolation between ranks (numpy's default)."""
    if not values:
        raise ValueError("a percentile of no values")
    if not 0 <= q <= 100:
        raise ValueError(f"q must be between 0 and 100, got {q}")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    """``numerator ÷ denominator``, ``None`` when either is missing or the denominator is 0."""
    if numerator is None or not denominator:
        return None
    return numerator / denominator


def per_file_overhead_ms(
    warm_seconds: float, files_scored: int, loop_seconds: float, loop_files: int, workers: int
) -> float:
    """What batchpoint's warm scoring spends per file beyond the loop's share on ``workers`` processes:
    ``(warm seconds ÷ files scored − loop seconds ÷ files ÷ workers) × 1000``."""
    return (warm_seconds / files_scored - loop_seconds / loop_files / workers) * 1000


def medians(rows: Sequence[Mapping[str, float]]) -> dict[str, float]:
    """Per key, the median over ``rows`` (each having the first row's keys)."""
    return {key: statistics.median(row[key] for row in rows) for key in rows[0]} if rows else {}
