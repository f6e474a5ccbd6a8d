"""The built-in MLflow scorer run by ``script_driver.py``, as a job's workers run it: per-file outcomes, Arrow results.

A tiny sklearn model saved with its signature in Azure's layout (``model_dir/model/MLmodel``); no
tracking server. One scorer process serves the module's mini-batches, because ``init()`` costs seconds.
"""

from __future__ import annotations

import io
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from mlflow.models import infer_signature
from sklearn.linear_model import LinearRegression

from batchpoint.scoring.builtin import mlflow_scorer
from batchpoint.scoring.script_process import FileOutcome, ScriptInitError, ScriptProcess, script_environment

pytestmark = [
    pytest.mark.integration,
    pytest.mark.timeout(180),
    # MLflow's own deprecation notices while saving a model; not ours to fix.
    pytest.mark.filterwarnings("ignore::DeprecationWarning:mlflow.*"),
    pytest.mark.filterwarnings("ignore::FutureWarning:mlflow.*"),
    pytest.mark.filterwarnings("ignore::UserWarning:mlflow.*"),
]

SCORER = Path(mlflow_scorer.__file__)
INIT_TIMEOUT = 120.0
GOOD = {"part-000.csv": 7, "part-001.parquet": 5, "part-002-header-only.csv": 0}
BAD = {
    "notes.txt": "not a CSV or Parquet file",
    "part-003-missing.csv": "missing column(s) units",
    "part-004-empty.csv": "the file is empty",
}


def features(rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "price": rng.uniform(1, 100, rows).round(2),
            "units": rng.integers(0, 50, rows).astype("int64"),
            "region": rng.choice(["north", "south"], rows),
        }
    )


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``model_dir/model`` (the saved model), ``inputs/landing/`` (good and bad files), ``out/``."""
    root = tmp_path_factory.mktemp("mlflow-scorer")
    train = features(100, seed=1)
    model = LinearRegression().fit(train[["price", "units"]], 3 * train["price"] - 2 * train["units"] + 5)
    signature = infer_signature(train[["price", "units"]], model.predict(train[["price", "units"]]))
    mlflow.sklearn.save_model(model, str(root / "model_dir" / "model"), signature=signature)
    landing = root / "inputs" / "landing"
    landing.mkdir(parents=True)
    for i, (name, rows) in enumerate(GOOD.items()):
        df = features(rows, seed=100 + i)
        if name.endswith(".parquet"):
            # Integers where the model wants doubles: casting to the signature must handle it.
            df["price"] = df["price"].round().astype("int64")
            sink = io.BytesIO()
            pq.write_table(pa.Table.from_pandas(df, preserve_index=False), sink)
            (landing / name).write_bytes(sink.getvalue())
        else:
            (landing / name).write_text(df.to_csv(index=False))
    (landing / "notes.txt").write_text("not data")
    (landing / "part-003-missing.csv").write_text("price,region\n1.0,north\n")
    (landing / "part-004-empty.csv").write_bytes(b"")
    (root / "out").mkdir()
    return root


def start(workdir: Path, code_dir: Path, entry: str, name: str) -> ScriptProcess:
    env = script_environment(workdir / "model_dir", workdir / "out")
    process = ScriptProcess(Path(sys.executable), code_dir, entry, env, "info", workdir / "logs", name=name)
    try:
        process.start(INIT_TIMEOUT)
    except BaseException:
        process.close(grace=5)
        raise
    return process


@pytest.fixture(scope="module")
def scorer(workdir: Path) -> Iterator[ScriptProcess]:
    """The built-in scorer, initialised once for the module."""
    process = start(workdir, SCORER.parent, SCORER.name, "builtin")
    yield process
    assert process.close() == 0


def paths(workdir: Path, names: list[str]) -> list[Path]:
    return [workdir / "inputs" / "landing" / name for name in names]


def expected_predictions(workdir: Path, name: str) -> np.ndarray:
    reference = mlflow.pyfunc.load_model(str(workdir / "model_dir" / "model"))
    path = workdir / "inputs" / "landing" / name
    df = pd.read_parquet(path) if name.endswith(".parquet") else pd.read_csv(path)
    return np.asarray(reference.predict(df[["price", "units"]].astype({"price": "float64"})))


def test_scores_every_good_file_and_names_every_bad_one(workdir: Path, scorer: ScriptProcess) -> None:
    names = ["part-000.csv", "notes.txt", "part-001.parquet", "part-003-missing.csv", "part-004-empty.csv"]
    names.append("part-002-header-only.csv")
    result = workdir / "results" / "mb-000000.arrow"

    answer = scorer.run_mini_batch(0, paths(workdir, names), "append_row", result, timeout=60)

    assert answer.ok, answer.traceback
    assert (answer.format, answer.result_path, answer.items) == ("arrow", str(result), len(GOOD))
    assert [outcome.path for outcome in answer.files] == [str(p) for p in paths(workdir, names)]
    by_name = {Path(outcome.path).name: outcome for outcome in answer.files}
    for name, rows in GOOD.items():
        assert by_name[name] == FileOutcome(str(paths(workdir, [name])[0]), rows, None)
    for name, problem in BAD.items():
        error = by_name[name].error
        assert error is not None and problem in error, error
        assert by_name[name].rows == 0
    assert answer.failed(len(names)) == len(BAD)

    with pa.ipc.open_stream(result) as reader:
        table = reader.read_all()
    assert table.column_names == ["prediction", "file"]
    assert table.num_rows == sum(GOOD.values())
    frame = table.to_pandas()
    assert frame["file"].tolist() == ["part-000.csv"] * 7 + ["part-001.parquet"] * 5
    for name in ("part-000.csv", "part-001.parquet"):
        got = frame.loc[frame["file"] == name, "prediction"].to_numpy()
        np.testing.assert_allclose(got, expected_predictions(workdir, name), rtol=1e-12)


def test_a_mini_batch_without_rows_writes_no_file(workdir: Path, scorer: ScriptProcess) -> None:
    names = ["notes.txt", "part-002-header-only.csv", "missing-from-disk.csv"]
    result = workdir / "results" / "mb-000001.arrow"

    answer = scorer.run_mini_batch(1, paths(workdir, names), "append_row", result, timeout=60)

    assert answer.ok, answer.traceback
    assert (answer.result_path, answer.items) == (None, 1)
    assert not result.exists()
    assert [(Path(o.path).name, o.rows) for o in answer.files] == [(name, 0) for name in names]
    missing = answer.files[2].error
    assert missing is not None and "FileNotFoundError" in missing
    assert answer.failed(len(names)) == 2


def test_summary_only_reports_outcomes_without_writing(workdir: Path, scorer: ScriptProcess) -> None:
    answer = scorer.run_mini_batch(2, paths(workdir, list(GOOD)), "summary_only", None, timeout=60)

    assert answer.ok, answer.traceback
    assert (answer.result_path, answer.items, answer.failed(len(GOOD))) == (None, len(GOOD), 0)
    assert [o.rows for o in answer.files] == list(GOOD.values())


def test_run_makes_it_an_azure_style_script_too(workdir: Path) -> None:
    # A script exposing only init() and run() of the scorer: the driver calls run() and writes Parquet.
    code = workdir / "azure-style"
    code.mkdir()
    (code / "score.py").write_text(
        textwrap.dedent(
            """
            from batchpoint.scoring.builtin.mlflow_scorer import init, run
            """
        )
    )
    names = ["part-000.csv", "notes.txt", "part-001.parquet"]
    result = workdir / "results" / "azure-style.parquet"
    process = start(workdir, code, "score.py", "azure-style")
    try:
        answer = process.run_mini_batch(
            0, paths(workdir, names), "append_row", result, timeout=60, result_format="parquet"
        )
    finally:
        process.close()

    assert answer.ok, answer.traceback
    assert (answer.format, answer.items, answer.files) == ("parquet", 12, ())
    frame = pd.read_parquet(result)
    assert frame.columns.tolist() == ["prediction", "file"]
    assert frame["file"].tolist() == ["part-000.csv"] * 7 + ["part-001.parquet"] * 5
    assert "notes.txt: not a CSV or Parquet file" in process.stderr_tail()


@pytest.mark.parametrize(
    ("layout", "problem"),
    [
        ([], "no subfolder holds an MLmodel file"),
        (["a", "b"], "2 subfolders (a, b) hold an MLmodel file"),
    ],
)
def test_init_needs_exactly_one_model_folder(tmp_path: Path, layout: list[str], problem: str) -> None:
    model_dir = tmp_path / "model_dir"
    (model_dir / "not-a-model").mkdir(parents=True)
    for name in layout:
        (model_dir / name).mkdir()
        (model_dir / name / "MLmodel").write_text("flavors: {}\n")
    env = script_environment(model_dir, tmp_path / "out")
    process = ScriptProcess(Path(sys.executable), SCORER.parent, SCORER.name, env, "info", tmp_path / "logs")
    try:
        with pytest.raises(ScriptInitError) as caught:
            process.start(INIT_TIMEOUT)
    finally:
        process.close(grace=5)
    assert problem in caught.value.error
    assert "AZUREML_MODEL_DIR/<folder>/MLmodel" in caught.value.error
