"""A generated, deterministic monthly sales history for the demo's product-sales forecaster.

Each product ``p`` sells, in month ``t`` (months since ``start``; a year of warm-up is simulated
before ``start`` so every lag below is known from the first row on)::

    expected = level_p                                   base units per month, log-normal (~120)
             * exp(trend_p * t)                          trend, -0.5 % .. +3 % per month
             * (1 + amplitude_p * cos(2π (m - 12) / 12)) yearly seasonality peaking in December
             * (1 + elasticity_p * cut)                  promotion uplift (cut = 0 without promotion)
             * noise                                     log-normal, sigma 0.1
    units    ~ Poisson(expected)

A promotion happens in a random 12 % of product-months and cuts the product's list price by 10–30 %.

Every row is one product-month and carries only what is known when that month is scored, so a
file holding the rows of month ``T`` can be scored on its own:

==============================  =========  ==================================================
column                          dtype      meaning
==============================  =========  ==================================================
``month``                       str        ``YYYY-MM``; an identifier, not a model feature
``product_id``                  str        ``P000``, ``P001``, ...
``month_of_year``               int64      1–12
``months_since_start``          int64      0 for ``start``
``price``                       float64    planned price of the month (promotion included)
``promotion``                   int64      1 if the month is promoted, else 0
``units_last_month``            int64      units sold in ``T-1``
``units_same_month_last_year``  int64      units sold in ``T-12`` (the seasonal-naive forecast)
``units_rolling_mean_3``        float64    mean units of ``T-1 .. T-3``
``units``                       int64      the target; absent from ``scoring_rows``
==============================  =========  ==================================================

``generate_history`` builds the frame, ``scoring_rows`` takes one month's features without the
target, and ``split_into_parts`` cuts a frame into the ``part-000.csv ...`` files of a landing.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from batchpoint.errors import SpecError

TARGET = "units"
ID_COLUMNS: tuple[str, ...] = ("month", "product_id")
FEATURE_COLUMNS: tuple[str, ...] = (
    "month",
    "product_id",
    "month_of_year",
    "months_since_start",
    "price",
    "promotion",
    "units_last_month",
    "units_same_month_last_year",
    "units_rolling_mean_3",
)
WARMUP_MONTHS = 12
PROMOTION_PROBABILITY = 0.12


def generate_history(products: int, months: int, start: str = "2024-01", seed: int = 0) -> pd.DataFrame:
    """Monthly sales of ``products`` products over ``months`` months from ``start`` (``YYYY-MM``).

    The same arguments always give the same frame. Rows are ordered by month, then product.
    """
    if products < 1:
        raise SpecError("products", f"got {products}", "an integer >= 1")
    if months < 1:
        raise SpecError("months", f"got {months}", "an integer >= 1")
    first = _parse_month(start, "start")
    rng = np.random.default_rng(seed)
    total = months + WARMUP_MONTHS
    t = np.arange(total) - WARMUP_MONTHS  # months since start; negative during warm-up
    periods = pd.period_range(first - WARMUP_MONTHS, periods=total, freq="M")
    month_of_year = np.asarray(periods.month, dtype=np.int64)

    # Per-product parameters, one row per product (shape (P, 1)) to broadcast over months.
    level = np.exp(rng.normal(np.log(120.0), 0.6, size=(products, 1)))
    trend = rng.uniform(-0.005, 0.03, size=(products, 1))
    amplitude = rng.uniform(0.15, 0.4, size=(products, 1))
    elasticity = rng.uniform(2.0, 4.0, size=(products, 1))
    list_price = np.round(rng.uniform(5.0, 50.0, size=(products, 1)), 2) + 0.99

    promoted = rng.random((products, total)) < PROMOTION_PROBABILITY
    cut = np.where(promoted, rng.uniform(0.1, 0.3, size=(products, total)), 0.0)
    price = np.round(list_price * (1.0 - cut), 2)
    season = 1.0 + amplitude * np.cos(2.0 * np.pi * (month_of_year - 12) / 12.0)
    noise = np.exp(rng.normal(0.0, 0.1, size=(products, total)))
    expected = level * np.exp(trend * t) * season * (1.0 + elasticity * cut) * noise
    units = rng.poisson(expected).astype(np.int64)

    lag1 = units[:, WARMUP_MONTHS - 1 : total - 1]
    lag12 = units[:, : total - WARMUP_MONTHS]
    rolling3 = (units[:, WARMUP_MONTHS - 3 : total - 3] + units[:, WARMUP_MONTHS - 2 : total - 2] + lag1) / 3.0
    kept = slice(WARMUP_MONTHS, total)

    def by_month(values: np.ndarray) -> np.ndarray:
        # (P, M) product-major arrays → one value per row, rows ordered by month then product.
        return values.T.reshape(-1)

    product_ids = np.array([f"P{p:03d}" for p in range(products)])
    frame = pd.DataFrame(
        {
            "month": np.repeat(periods[kept].strftime("%Y-%m").to_numpy(), products),
            "product_id": np.tile(product_ids, months),
            "month_of_year": np.repeat(month_of_year[kept], products),
            "months_since_start": np.repeat(t[kept], products).astype(np.int64),
            "price": by_month(price[:, kept]),
            "promotion": by_month(promoted[:, kept]).astype(np.int64),
            "units_last_month": by_month(lag1),
            "units_same_month_last_year": by_month(lag12),
            "units_rolling_mean_3": np.round(by_month(rolling3), 2),
            TARGET: by_month(units[:, kept]),
        }
    )
    return frame.astype({"month": "str", "product_id": "str"})


def scoring_rows(history: pd.DataFrame, month: str) -> pd.DataFrame:
    """The feature rows of ``month`` (``YYYY-MM``), without the target, ready to land as files."""
    wanted = str(_parse_month(month, "month"))
    rows = history.loc[history["month"] == wanted, list(FEATURE_COLUMNS)]
    if rows.empty:
        months = history["month"]
        span = f"{months.min()} .. {months.max()}" if len(months) else "none: the history is empty"
        raise SpecError("month", f"got {month!r}, which has no rows", f"a month of the history ({span})")
    return rows.reset_index(drop=True)


def split_into_parts(df: pd.DataFrame, parts: int) -> list[pd.DataFrame]:
    """Cut ``df`` into ``parts`` consecutive frames of near-equal size that together hold every row once."""
    if not 1 <= parts <= max(len(df), 1):
        raise SpecError("parts", f"got {parts} for {len(df)} rows", "an integer from 1 to the number of rows")
    bounds = np.linspace(0, len(df), parts + 1).round().astype(int)
    return [df.iloc[lo:hi].reset_index(drop=True) for lo, hi in itertools.pairwise(bounds)]


def part_file_name(index: int) -> str:
    """The file name of part ``index`` of a landing: ``part-000.csv``, ``part-001.csv``, ..."""
    return f"part-{index:03d}.csv"


def _parse_month(value: str, field: str) -> pd.Period:
    try:
        period = pd.Period(value, freq="M")
    except (ValueError, TypeError) as exc:
        raise SpecError(field, f"got {value!r}", "a month as YYYY-MM, e.g. 2024-01") from exc
    if str(period) != value:
        raise SpecError(field, f"got {value!r}", "a month as YYYY-MM, e.g. 2024-01")
    return period
