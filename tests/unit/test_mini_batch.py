"""Scoring one mini-batch with a fake model: a bad file fails only itself, rows keep their file name."""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest

from batchpoint.errors import StorageError
from batchpoint.scoring.mini_batch import score_mini_batch
from batchpoint.scoring.planning import MiniBatch
from batchpoint.scoring.signature import ColumnSpec, InputSignature
from batchpoint.storage.port import ObjectInfo

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


def info(name: str) -> ObjectInfo:
    return ObjectInfo("landing", f"in/{name}", f"etag-{name}", len(CONTENT.get(name, b"")))


def predict(df: pd.DataFrame) -> np.ndarray:
    if (df["x"] < 0).any():
        raise ValueError("negative x")
    return (df["x"] + 10 * df["y"]).to_numpy()


@pytest.mark.parametrize("threads", [0, 3])
def test_bad_files_fail_alone(threads: int) -> None:
    fetched: list[str] = []

    def fetch(obj: ObjectInfo) -> bytes:
        fetched.append(obj.name)
        if obj.name == "missing.csv":
            raise StorageError("reading s3://landing/in/missing.csv failed: timeout")
        return CONTENT[obj.name]

    names = ["a.csv", "b.csv", "c.txt", "d.csv", "e.csv", "f.csv", "g.csv", "missing.csv"]
    batch = MiniBatch(3, tuple(info(n) for n in names))
    executor = ThreadPoolExecutor(threads) if threads else None
    result = score_mini_batch(batch, fetch=fetch, predict=predict, signature=SIG, executor=executor)
    if executor:
        executor.shutdown()

    assert result.index == 3
    assert [f.name for f in result.files] == names
    outcome = {f.name: (f.rows, f.error) for f in result.files}
    assert outcome["a.csv"] == (2, None)
    assert outcome["b.csv"] == (1, None)
    assert outcome["g.csv"] == (0, None)
    problems = {
        "c.txt": "not a CSV or Parquet file",
        "d.csv": "missing column(s) y",
        "e.csv": "the file is empty",
        "f.csv": "prediction failed: ValueError: negative x",
        "missing.csv": "timeout",
    }
    for name, problem in problems.items():
        error = outcome[name][1]
        assert error is not None
        assert problem in error
    assert "c.txt" not in fetched, "a file rejected by its name is never downloaded"
    assert result.predictions is not None
    assert result.predictions.column_names == ["prediction", "file"]
    assert result.predictions.to_pydict() == {"prediction": [21.0, 43.0, 65.0], "file": ["a.csv", "a.csv", "b.csv"]}
    assert [f.name for f in result.failed] == list(problems)


@pytest.mark.parametrize(
    ("output", "columns"),
    [
        (lambda df: df["x"].to_numpy(), ["prediction", "file"]),
        (lambda df: np.stack([df["x"], df["y"]], axis=1), ["prediction_0", "prediction_1", "file"]),
        (lambda df: pd.DataFrame({"p": df["x"], "q": df["y"]}), ["p", "q", "file"]),
        (lambda df: list(df["x"]), ["prediction", "file"]),
    ],
)
def test_prediction_shapes(output: object, columns: list[str]) -> None:
    batch = MiniBatch(0, (info("a.csv"),))
    result = score_mini_batch(
        batch,
        fetch=lambda o: CONTENT[o.name],
        predict=output,  # type: ignore[arg-type]
        signature=SIG,
    )
    assert result.predictions is not None
    assert result.predictions.column_names == columns


def test_wrong_row_count_is_a_file_error() -> None:
    result = score_mini_batch(
        MiniBatch(0, (info("a.csv"),)), fetch=lambda o: CONTENT[o.name], predict=lambda df: [1.0], signature=SIG
    )
    assert result.predictions is None
    assert result.files[0].error is not None
    assert "predict returned 1 rows for 2 input rows" in result.files[0].error


def test_without_signature_the_columns_go_to_the_model_as_read() -> None:
    result = score_mini_batch(
        MiniBatch(0, (info("b.csv"),)),
        fetch=lambda o: CONTENT[o.name],
        predict=lambda df: [len(df.columns)],
        signature=None,
    )
    assert result.predictions is not None
    assert result.predictions["prediction"].to_pylist() == [3]
