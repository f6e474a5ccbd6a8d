"""The demo reads predictions.csv in Azure's three columns and joins each row back to its input row."""

import pandas as pd

from batchpoint.demo.walkthrough import _readable


def test_each_prediction_joins_its_own_input_row() -> None:
    landed = {
        "a.csv": pd.DataFrame({"month": ["2026-11"] * 2, "product_id": [7, 8], "units_last_month": [1, 2]}),
        "b.csv": pd.DataFrame({"month": ["2026-11"], "product_id": [9], "units_last_month": [3]}),
    }
    raw = b"0,1.5,a.csv\n1,2.5,a.csv\n0,3.5,b.csv\n"
    table = _readable(raw, landed)
    assert table["product_id"].tolist() == [7, 8, 9]
    assert table["predicted_units"].tolist() == [1.5, 2.5, 3.5]
