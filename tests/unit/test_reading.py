"""Reading CSV and Parquet inputs; clear per-file errors for everything else."""

import io

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from batchpoint.errors import InputFileError
from batchpoint.scoring.reading import file_format, read_table


def parquet_bytes(df: pd.DataFrame) -> bytes:
    sink = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), sink)
    return sink.getvalue()


@pytest.mark.parametrize(
    ("name", "kind"),
    [("a.csv", "csv"), ("A.CSV", "csv"), ("a.parquet", "parquet"), ("dir/a.pqt", "parquet")],
)
def test_supported_formats(name: str, kind: str) -> None:
    assert file_format(name) == kind


@pytest.mark.parametrize("name", ["notes.txt", "data.json", "part.csv.gz", "noext"])
def test_other_extensions_are_rejected_with_the_valid_form(name: str) -> None:
    with pytest.raises(InputFileError, match=r"not a CSV or Parquet file: expected \.csv, \.parquet or \.pqt"):
        read_table(name, b"a,b\n1,2\n")


def test_csv_types_are_inferred() -> None:
    df = read_table("x.csv", b"a,b,c\n1,2.5,x\n3,4.5,y\n")
    assert df.to_dict("list") == {"a": [1, 3], "b": [2.5, 4.5], "c": ["x", "y"]}
    assert df["a"].dtype == "int64"


@pytest.mark.parametrize("name", ["x.parquet", "x.pqt"])
def test_parquet(name: str) -> None:
    source = pd.DataFrame({"a": [1.0, 2.0], "s": ["p", "q"]})
    df = read_table(name, parquet_bytes(source))
    assert df.to_dict("list") == source.to_dict("list")


def test_header_only_csv_is_an_empty_table() -> None:
    assert len(read_table("x.csv", b"a,b\n")) == 0


@pytest.mark.parametrize("data", [b"", b"  \n"])
@pytest.mark.parametrize("name", ["x.csv", "x.parquet"])
def test_empty_files_are_errors(name: str, data: bytes) -> None:
    with pytest.raises(InputFileError, match="the file is empty") as info:
        read_table(name, data)
    assert info.value.file == name


@pytest.mark.parametrize(
    ("name", "data", "problem"),
    [
        ("x.parquet", b"this is not parquet at all", "cannot be read as PARQUET"),
        ("x.csv", b"a,b\n1,2\n3,4,5\n", "cannot be read as CSV"),
    ],
)
def test_unreadable_files_name_the_format(name: str, data: bytes, problem: str) -> None:
    with pytest.raises(InputFileError, match=problem):
        read_table(name, data)
