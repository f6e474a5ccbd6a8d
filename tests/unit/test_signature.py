"""Casting inputs to a model's signature: types as MLflow enforces them, clear errors per file."""

from typing import Any

import numpy as np
import pandas as pd
import pytest

from batchpoint.scoring.builtin.input_tables import ColumnSpec, InputFileError, InputSignature, cast_to_signature

SIG = InputSignature(
    (
        ColumnSpec("price", "double"),
        ColumnSpec("units", "long"),
        ColumnSpec("store", "string"),
    )
)


def test_casts_reorders_and_drops_extra_columns() -> None:
    df = pd.DataFrame({"extra": [1, 2], "store": ["a", "b"], "units": [1.0, 2.0], "price": [3, 4]})
    out = cast_to_signature(df, SIG, "part-1.csv")
    assert list(out.columns) == ["price", "units", "store"]
    assert out["price"].dtype == np.float64
    assert out["units"].dtype == np.int64
    assert out["store"].dtype == object
    assert out["price"].tolist() == [3.0, 4.0]


@pytest.mark.parametrize(
    ("kind", "values", "dtype", "expected"),
    [
        ("double", [1, 2], "float64", [1.0, 2.0]),
        ("double", ["1.5", "2"], "float64", [1.5, 2.0]),
        ("float", [1, 2], "float32", [1.0, 2.0]),
        ("long", [1.0, 2.0], "int64", [1, 2]),
        ("long", ["7", "8"], "int64", [7, 8]),
        ("integer", np.array([1, 2], dtype="int64"), "int32", [1, 2]),
        ("boolean", [0, 1], "bool", [False, True]),
        ("boolean", ["True", "no"], "bool", [True, False]),
        ("string", [1, 2], "object", ["1", "2"]),
        (
            "datetime",
            ["2026-11-01", "2026-11-02"],
            "datetime64[us]",
            list(pd.to_datetime(["2026-11-01", "2026-11-02"])),
        ),
    ],
)
def test_cast_each_type(kind: Any, values: list[Any], dtype: str, expected: list[Any]) -> None:
    out = cast_to_signature(pd.DataFrame({"c": values}), InputSignature((ColumnSpec("c", kind),)), "f.csv")
    assert out["c"].tolist() == expected
    if kind != "datetime":
        assert str(out["c"].dtype) == dtype
    else:
        assert pd.api.types.is_datetime64_any_dtype(out["c"].dtype)


def test_missing_columns_name_file_missing_and_expected() -> None:
    df = pd.DataFrame({"price": [1.0], "colour": ["red"]})
    with pytest.raises(InputFileError) as info:
        cast_to_signature(df, SIG, "part-7.csv")
    assert info.value.file == "part-7.csv"
    message = str(info.value)
    assert "missing column(s) units, store" in message
    assert "expects price, units, store" in message


def test_optional_column_may_be_missing() -> None:
    sig = InputSignature((ColumnSpec("a", "double"), ColumnSpec("b", "double", required=False)))
    out = cast_to_signature(pd.DataFrame({"a": [1]}), sig, "f.csv")
    assert list(out.columns) == ["a"]


@pytest.mark.parametrize(
    ("kind", "values", "problem"),
    [
        ("double", ["1.5", "abc"], "cannot be read as double"),
        ("long", [1.5, 2.0], "fractional part"),
        ("long", [1.0, None], "empty values"),
        ("integer", [2**40], "values outside"),
        ("boolean", ["maybe"], "'maybe' is not true/false"),
        ("boolean", [2], "only 0 and 1"),
        ("string", ["a", None], "empty values"),
    ],
)
def test_values_that_do_not_fit_fail_the_file(kind: Any, values: list[Any], problem: str) -> None:
    sig = InputSignature((ColumnSpec("c", kind),))
    with pytest.raises(InputFileError, match=problem) as info:
        cast_to_signature(pd.DataFrame({"c": values}), sig, "bad.parquet")
    assert info.value.file == "bad.parquet"
    assert "'c'" in info.value.problem


def test_signature_round_trips_as_json() -> None:
    assert InputSignature.from_dict(SIG.to_dict()) == SIG
    with pytest.raises(ValueError, match="not one of double"):
        InputSignature.from_dict([{"name": "x", "type": "tensor"}])
