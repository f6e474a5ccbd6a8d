"""Scoring one mini-batch of local files with a fake model: a bad file fails only itself, rows keep their file name."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from batchpoint.scoring.builtin.file_scoring import score_files
from batchpoint.scoring.builtin.input_tables import ColumnSpec, InputSignature

SIG = InputSignature((ColumnSpec("x", "double"), ColumnSpec("y", "double")))
CONTENT = {
    "a.csv": b"x,y\n1,2\n3,4\n",
    "b.csv": b"x,y,extra\n5,6,z\n",
    "c.txt": b"x,y\n1,2\n",
    "d.csv": b"x\n1\n",
    "e.csv": b"",
    "f.csv": b"x,y\n-1,0\n",
    "g.csv": b"x,y\n",
}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """``CONTENT`` as files, under a sub-folder: the file column holds base names only."""
    inputs = tmp_path / "in"
    inputs.mkdir()
    for name, data in CONTENT.items():
        (inputs / name).write_bytes(data)
    return inputs


def paths(folder: Path, names: list[str]) -> list[str]:
    return [str(folder / name) for name in names]


def predict(df: pd.DataFrame) -> np.ndarray:
    if (df["x"] < 0).any():
        raise ValueError("negative x")
    return (df["x"] + 10 * df["y"]).to_numpy()


def test_bad_files_fail_alone(folder: Path) -> None:
    names = ["a.csv", "b.csv", "c.txt", "d.csv", "e.csv", "f.csv", "g.csv", "missing.csv"]
    calls: list[int] = []

    def counting(df: pd.DataFrame) -> np.ndarray:
        calls.append(len(df))
        return predict(df)

    result = score_files(paths(folder, names), counting, SIG)

    assert [f.path for f in result.files] == paths(folder, names)
    outcome = {Path(f.path).name: (f.rows, f.error) for f in result.files}
    assert outcome["a.csv"] == (2, None)
    assert outcome["b.csv"] == (1, None)
    assert outcome["g.csv"] == (0, None)
    problems = {
        "c.txt": "not a CSV or Parquet file",
        "d.csv": "missing column(s) y",
        "e.csv": "the file is empty",
        "f.csv": "prediction failed: ValueError: negative x",
        "missing.csv": "FileNotFoundError",
    }
    for name, problem in problems.items():
        rows, error = outcome[name]
        assert error is not None
        assert problem in error
        assert rows == 0
    # One call for the whole batch, which failed, then one per file that gave rows (not g.csv).
    assert calls == [4, 2, 1, 1]
    assert result.predictions is not None
    assert result.predictions.column_names == ["prediction", "file"]
    assert result.predictions.to_pydict() == {"prediction": [21.0, 43.0, 65.0], "file": ["a.csv", "a.csv", "b.csv"]}
    assert [Path(f.path).name for f in result.failed] == list(problems)


def test_good_files_are_predicted_in_one_call(folder: Path) -> None:
    calls: list[int] = []

    def counting(df: pd.DataFrame) -> np.ndarray:
        calls.append(len(df))
        return predict(df)

    result = score_files(paths(folder, ["a.csv", "g.csv", "b.csv"]), counting, SIG)

    assert calls == [3]
    assert [f.rows for f in result.files] == [2, 0, 1]
    assert result.predictions is not None
    assert result.predictions["file"].to_pylist() == ["a.csv", "a.csv", "b.csv"]


@pytest.mark.parametrize(
    ("output", "columns"),
    [
        (lambda df: df["x"].to_numpy(), ["prediction", "file"]),
        (lambda df: np.stack([df["x"], df["y"]], axis=1), ["prediction_0", "prediction_1", "file"]),
        (lambda df: pd.DataFrame({"p": df["x"], "q": df["y"]}), ["p", "q", "file"]),
        (lambda df: {"p": df["x"].to_numpy(), 7: df["y"].to_numpy()}, ["p", "7", "file"]),
        (lambda df: df["x"], ["prediction", "file"]),
        (lambda df: list(df["x"]), ["prediction", "file"]),
    ],
)
def test_prediction_shapes(folder: Path, output: Callable[[pd.DataFrame], Any], columns: list[str]) -> None:
    result = score_files(paths(folder, ["a.csv"]), output, SIG)
    assert result.predictions is not None
    assert result.predictions.column_names == columns


@pytest.mark.parametrize(
    ("output", "problem"),
    [
        (lambda df: [1.0], "predict returned 1 rows for 2 input rows"),
        (lambda df: np.zeros((2, 1, 1)), "expected 1 or 2 dimensions"),
    ],
)
def test_output_of_the_wrong_shape_is_a_file_error(
    folder: Path, output: Callable[[pd.DataFrame], Any], problem: str
) -> None:
    result = score_files(paths(folder, ["a.csv"]), output, SIG)
    assert result.predictions is None
    assert result.files[0].error is not None
    assert problem in result.files[0].error


def test_without_signature_the_columns_go_to_the_model_as_read(folder: Path) -> None:
    result = score_files(paths(folder, ["b.csv"]), lambda df: [len(df.columns)], None)
    assert result.predictions is not None
    assert result.predictions["prediction"].to_pylist() == [3]


def test_a_binary_file_error_is_a_printable_excerpt(folder: Path) -> None:
    (folder / "corrupt.csv").write_bytes(b"a,b\n" + bytes(range(256)) * 20 + b"\n")
    result = score_files(paths(folder, ["corrupt.csv"]), predict, None)
    error = result.files[0].error
    assert error is not None
    assert error.isprintable()
    assert len(error) <= 500
