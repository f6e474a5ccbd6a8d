"""The comparison bench's arithmetic (bench/figures.py): what its printed ratios and percentiles mean."""

from __future__ import annotations

import pytest

from bench.figures import medians, per_file_overhead_ms, percentile, ratio


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [
        ([3.0], 95, 3.0),
        ([1.0, 2.0, 3.0, 4.0], 50, 2.5),
        ([10.0, 1.0, 5.0], 50, 5.0),  # unsorted input
        (list(map(float, range(1, 11))), 95, 9.55),  # ten landings: between the 9th and the 10th
        (list(map(float, range(1, 11))), 100, 10.0),
        (list(map(float, range(1, 11))), 0, 1.0),
    ],
)
def test_percentile_interpolates_between_ranks(values: list[float], q: float, expected: float) -> None:
    assert percentile(values, q) == pytest.approx(expected)


@pytest.mark.parametrize(("values", "q"), [([], 50), ([1.0], 101), ([1.0], -1)])
def test_percentile_refuses_what_has_none(values: list[float], q: float) -> None:
    with pytest.raises(ValueError):
        percentile(values, q)


def test_ratio_is_none_when_a_contender_did_not_run() -> None:
    assert ratio(6.0, 3.0) == 2.0
    assert ratio(None, 3.0) is None
    assert ratio(6.0, None) is None
    assert ratio(6.0, 0.0) is None


def test_per_file_overhead_is_beyond_the_loops_share_per_worker() -> None:
    # 2,000 files warm in 20 s on 2 workers; the loop took 2 s for them in one process:
    # 10 ms a file against 0.5 ms of the loop's per worker.
    assert per_file_overhead_ms(20.0, 2000, 2.0, 2000, 2) == pytest.approx(9.5)
    # the overhead is per file scored: a landing scored twice over costs as much per scored file
    assert per_file_overhead_ms(40.0, 4000, 2.0, 2000, 2) == pytest.approx(9.5)


def test_medians_per_breakdown_line() -> None:
    rows = [{"sensor": 1.0, "launch": 3.0}, {"sensor": 5.0, "launch": 1.0}, {"sensor": 2.0, "launch": 2.0}]
    assert medians(rows) == {"sensor": 2.0, "launch": 2.0}
    assert medians([]) == {}
