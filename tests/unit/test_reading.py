"""Reading CSV and Parquet inputs; clear per-file errors for everything else."""

import io

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from batchpoint.scoring.builtin.input_tables import InputFileError, file_format, read_csv, read_table
from batchpoint.scoring.builtin.text_excerpts import EXCERPT_CHARS


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


def test_a_csv_row_longer_than_a_block_is_read() -> None:
    # pyarrow's default block is 1 MiB; this row alone is 1.5 MiB, between ordinary rows.
    long_text = "x" * (3 << 19)
    data = ("id,text\n" + "".join(f"{i},short\n" for i in range(1000)) + f"1000,{long_text}\n1001,end\n").encode()
    df = read_table("long.csv", data)
    assert len(df) == 1002
    assert df["text"].iloc[1000] == long_text
    assert df["text"].iloc[1001] == "end"
    assert df["id"].tolist() == list(range(1002))


def test_the_block_grows_as_often_as_the_row_needs() -> None:
    # Starting from a tiny block, the 100 kB row needs several growths; every row still arrives.
    data = ("a,b\n1,x\n2," + "y" * 100_000 + "\n3,z\n").encode()
    table = read_csv(data, block_bytes=1024)
    assert table.column("b").to_pylist() == ["x", "y" * 100_000, "z"]


def test_a_binary_csv_fails_with_a_printable_bounded_excerpt() -> None:
    row = bytes(b for b in range(256) if b not in b"\n\r,") * 40
    data = b"a,b,c\n" + row + b"\n"
    with pytest.raises(InputFileError, match="cannot be read as CSV") as caught:
        read_table("corrupt.csv", data)
    problem = caught.value.problem
    assert problem.isprintable()
    assert len(problem) <= EXCERPT_CHARS + len("cannot be read as CSV: ")
