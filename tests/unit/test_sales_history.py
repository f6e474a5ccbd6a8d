"""The demo's sales history: deterministic, with trend, seasonality and promotions visible in the data."""

from pathlib import Path

import pandas as pd
import pytest

from batchpoint.demo.sales_history import (
    FEATURE_COLUMNS,
    TARGET,
    generate_history,
    part_file_name,
    scoring_rows,
    split_into_parts,
)
from batchpoint.errors import SpecError

SEEDS = [0, 1, 7]


@pytest.fixture(scope="module", params=SEEDS)
def history(request: pytest.FixtureRequest) -> pd.DataFrame:
    return generate_history(products=30, months=36, start="2024-01", seed=request.param)


def test_same_seed_same_frame_other_seed_other_frame() -> None:
    a = generate_history(5, 24, seed=3)
    pd.testing.assert_frame_equal(a, generate_history(5, 24, seed=3))
    assert not a[TARGET].equals(generate_history(5, 24, seed=4)[TARGET])


def test_one_row_per_product_month_with_typed_columns() -> None:
    h = generate_history(products=4, months=15, start="2025-11", seed=0)
    assert list(h.columns) == [*FEATURE_COLUMNS, TARGET]
    assert len(h) == 4 * 15
    assert not h.duplicated(["month", "product_id"]).any()
    assert h["month"].iloc[0] == "2025-11"
    assert h["month"].iloc[-1] == "2027-01"
    assert sorted(h["product_id"].unique()) == ["P000", "P001", "P002", "P003"]
    assert {c: str(t) for c, t in h.dtypes.items()} == {
        "month": "str",
        "product_id": "str",
        "month_of_year": "int64",
        "months_since_start": "int64",
        "price": "float64",
        "promotion": "int64",
        "units_last_month": "int64",
        "units_same_month_last_year": "int64",
        "units_rolling_mean_3": "float64",
        "units": "int64",
    }
    assert h["months_since_start"].min() == 0
    assert h["months_since_start"].max() == 14
    assert set(h["month_of_year"]) == set(range(1, 13))
    assert not h.isna().any().any()


def test_lag_features_are_the_units_of_earlier_months(history: pd.DataFrame) -> None:
    units = history.pivot(index="months_since_start", columns="product_id", values=TARGET)

    def feature(name: str) -> pd.DataFrame:
        return history.pivot(index="months_since_start", columns="product_id", values=name)

    pd.testing.assert_frame_equal(feature("units_last_month").iloc[1:], units.shift(1).iloc[1:].astype("int64"))
    pd.testing.assert_frame_equal(
        feature("units_same_month_last_year").iloc[12:], units.shift(12).iloc[12:].astype("int64")
    )
    rolling = units.shift(1).rolling(3).mean().round(2)
    pd.testing.assert_frame_equal(feature("units_rolling_mean_3").iloc[3:], rolling.iloc[3:])


def test_trend_raises_sales_year_over_year(history: pd.DataFrame) -> None:
    per_year = history.groupby(history["months_since_start"] // 12)[TARGET].sum()
    assert per_year[1] > 1.05 * per_year[0]
    assert per_year[2] > 1.05 * per_year[1]


def test_seasonality_peaks_in_winter(history: pd.DataFrame) -> None:
    by_month = history.groupby("month_of_year")[TARGET].mean()
    winter, summer = by_month[[11, 12, 1]].mean(), by_month[[5, 6, 7]].mean()
    assert winter > 1.3 * summer


def test_promotions_cut_the_price_and_lift_sales(history: pd.DataFrame) -> None:
    share = history["promotion"].mean()
    assert 0.07 < share < 0.17
    regular_price = history.groupby("product_id")["price"].transform("max")
    promoted = history["promotion"] == 1
    assert (history.loc[promoted, "price"] < 0.91 * regular_price[promoted]).all()
    assert (history.loc[~promoted, "price"] == regular_price[~promoted]).all()
    # Relative to the product's recent sales, promoted months sell clearly more.
    lift = history[TARGET] / history["units_rolling_mean_3"]
    assert lift[promoted].median() > 1.3 * lift[~promoted].median()


def test_scoring_rows_are_one_month_of_features_without_target() -> None:
    h = generate_history(products=6, months=24, seed=2)
    rows = scoring_rows(h, "2025-12")
    assert list(rows.columns) == list(FEATURE_COLUMNS)
    assert TARGET not in rows.columns
    assert len(rows) == 6
    assert set(rows["month"]) == {"2025-12"}
    assert list(rows.index) == list(range(6))
    expected = h.loc[h["month"] == "2025-12", list(FEATURE_COLUMNS)].reset_index(drop=True)
    pd.testing.assert_frame_equal(rows, expected)


@pytest.mark.parametrize(
    ("month", "message"),
    [
        ("2027-01", r"has no rows \(expected a month of the history \(2024-01 .. 2025-12\)\)"),
        ("2025-1", "a month as YYYY-MM"),
        ("December", "a month as YYYY-MM"),
    ],
)
def test_scoring_rows_rejects_months_outside_the_history(month: str, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        scoring_rows(generate_history(products=2, months=24, seed=0), month)


@pytest.mark.parametrize("parts", [1, 2, 3, 7, 30])
def test_parts_partition_the_rows_exactly(parts: int) -> None:
    rows = scoring_rows(generate_history(products=30, months=13, seed=5), "2025-01")
    pieces = split_into_parts(rows, parts)
    assert len(pieces) == parts
    sizes = [len(p) for p in pieces]
    assert sum(sizes) == len(rows)
    assert max(sizes) - min(sizes) <= 1
    assert min(sizes) >= 1
    pd.testing.assert_frame_equal(pd.concat(pieces, ignore_index=True), rows)
    assert all(list(p.index) == list(range(len(p))) for p in pieces)


@pytest.mark.parametrize("parts", [0, -1, 31])
def test_split_rejects_impossible_part_counts(parts: int) -> None:
    rows = scoring_rows(generate_history(products=30, months=13, seed=5), "2025-01")
    with pytest.raises(SpecError, match="parts: got"):
        split_into_parts(rows, parts)


def test_part_file_names_sort_in_order() -> None:
    names = [part_file_name(i) for i in (0, 1, 10, 999)]
    assert names == ["part-000.csv", "part-001.csv", "part-010.csv", "part-999.csv"]
    assert names == sorted(names)


def test_parts_round_trip_through_csv_with_the_same_types(tmp_path: Path) -> None:
    rows = scoring_rows(generate_history(products=8, months=14, seed=9), "2025-02")
    for i, part in enumerate(split_into_parts(rows, 2)):
        part.to_csv(tmp_path / part_file_name(i), index=False)
    back = pd.concat(
        [pd.read_csv(tmp_path / part_file_name(i)) for i in range(2)],
        ignore_index=True,
    )
    pd.testing.assert_frame_equal(back, rows)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"products": 0, "months": 12}, "products"),
        ({"products": 2, "months": 0}, "months"),
        ({"products": 2, "months": 12, "start": "2024/01"}, "start"),
    ],
)
def test_generate_rejects_invalid_arguments(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(SpecError, match=f"^{field}: "):
        generate_history(**kwargs)  # type: ignore[arg-type]
