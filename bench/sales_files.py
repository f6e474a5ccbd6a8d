"""The benches' data and model: the demo forecaster's history, and landing files of the current month.

Every contender of a sitting scores the same files with the same registered model.
"""

from __future__ import annotations

import contextlib
import sys
import time
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from batchpoint.demo.forecaster import train_and_register
from batchpoint.demo.sales_history import generate_history, part_file_name, scoring_rows, split_into_parts

MONTH = datetime.now(UTC).strftime("%Y-%m")
START = "2024-01"
TRAIN_PRODUCTS = 1000
SEED = 7


def say(message: str) -> None:
    """Progress, on stderr (stdout is for results)."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def history(seed: int = SEED) -> pd.DataFrame:
    """The demo's sales history of ``TRAIN_PRODUCTS`` products from ``START`` to ``MONTH``."""
    months = int((pd.Period(MONTH, freq="M") - pd.Period(START, freq="M")).n) + 1
    return generate_history(TRAIN_PRODUCTS, months, START, seed)


def register_forecaster(sales: pd.DataFrame, mlflow_uri: str, name: str) -> str:
    """Train the demo forecaster on the months before ``MONTH``, register it as ``name``; its model URI."""
    with contextlib.redirect_stdout(sys.stderr):  # MLflow prints run links; stdout is for results
        forecaster = train_and_register(sales[sales["month"] < MONTH], mlflow_uri, name, seed=SEED)
    return forecaster.uri


def landing_files(sales: pd.DataFrame, files: int, rows_per_file: int, first_id: int = 0) -> dict[str, bytes]:
    """``files`` CSVs of ``MONTH``: its rows repeated under distinct product ids from ``first_id`` on."""
    month_rows = scoring_rows(sales, MONTH)
    total = files * rows_per_file
    rows = month_rows.iloc[np.arange(total) % len(month_rows)].reset_index(drop=True)
    rows["product_id"] = [f"P{i:07d}" for i in range(first_id, first_id + total)]
    parts = split_into_parts(rows, files)
    return {part_file_name(i): p.to_csv(index=False).encode() for i, p in enumerate(parts)}
