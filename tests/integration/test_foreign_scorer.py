"""The built-in scorer inside a model's own environment: Python 3.10, MLflow 2.x, scikit-learn 1.5.2, pandas 1.x.

batchpoint is not installed there: ``script_driver.py``, the zygote and ``builtin/`` run on that
environment's own packages. The model is logged inside the environment, as a user would have logged
it, and the scorer's predictions must equal that environment's ``mlflow.pyfunc`` on the same rows,
with no version warning in the worker's log. The scorer's reading, casting and predicting also run
on the oldest stack it supports (Python 3.8, pandas 1.3, numpy 1.21, pyarrow 10) and answer exactly
as on the project's. The environments are built by ``EnvironmentBuilder`` into pytest's cache
folder, so later sessions reuse them (the first build of the MLflow one takes about 35 s with an
empty uv cache: 626 MB; reuse is a ``stat``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from batchpoint.environments import BuiltEnvironment, EnvironmentBuilder
from batchpoint.scoring.runtime import BUILTIN_DIR, MLFLOW_SCORER
from batchpoint.scoring.script_process import LEAKY_VARIABLES, ScriptProcess, script_environment
from batchpoint.scoring.worker_config import THREAD_LIMITS
from batchpoint.scoring.zygote_client import Zygote
from batchpoint.specs.environment import EnvironmentSpec

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]

FOREIGN = EnvironmentSpec.parse(
    {
        "name": "mlflow2-sklearn152",
        "python_version": "3.10",
        "pip_requirements": ["mlflow==2.17.*", "scikit-learn==1.5.2", "pandas<2", "numpy<2", "pyarrow"],
    }
)
# The oldest stack the scorer supports, for reading, casting and predicting (no MLflow needed for that).
OLDEST = EnvironmentSpec.parse(
    {
        "name": "scorer-oldest",
        "python_version": "3.8",
        "pip_requirements": ["pandas==1.3.5", "numpy<1.22", "pyarrow==10.0.1"],
    }
)
INIT_TIMEOUT = 180.0
# Run by the foreign Python: fit a pipeline on mixed types, log it with its signature, download it in
# Azure's layout (model_dir/model/MLmodel), write the inputs and that environment's own predictions.
LOG_AND_PREDICT = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path

    import mlflow, numpy as np, pandas as pd, sklearn
    from mlflow.models import infer_signature
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import GradientBoostingRegressor
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    root = Path(sys.argv[1])
    def features(rows, seed):
        rng = np.random.default_rng(seed)
        return pd.DataFrame({
            "price": rng.uniform(1, 100, rows).round(2),
            "units": rng.integers(0, 50, rows).astype("int64"),
            "region": rng.choice(["north", "south", "east"], rows),
        })
    train = features(200, 1)
    target = 3 * train["price"] - 2 * train["units"] + (train["region"] == "north") * 40
    model = Pipeline([
        ("encode", ColumnTransformer([("region", OneHotEncoder(), ["region"])], remainder="passthrough")),
        ("fit", GradientBoostingRegressor(n_estimators=30, random_state=0)),
    ]).fit(train, target)
    mlflow.set_tracking_uri((root / "mlruns").as_uri())
    with mlflow.start_run():
        info = mlflow.sklearn.log_model(model, "model", signature=infer_signature(train, model.predict(train)))
    mlflow.artifacts.download_artifacts(info.model_uri, dst_path=str(root / "model_dir"))

    (root / "inputs").mkdir()
    reference = {}
    for i, rows in enumerate([9, 6]):
        path = root / "inputs" / f"part-{i:03d}.csv"
        features(rows, 100 + i).to_csv(path, index=False)
        loaded = mlflow.pyfunc.load_model(str(root / "model_dir" / "model"))
        rows_read = pd.read_csv(path, float_precision="round_trip")
        reference[path.name] = [float(v) for v in loaded.predict(rows_read)]
    (root / "reference.json").write_text(json.dumps({
        "predictions": reference,
        "versions": {"mlflow": mlflow.__version__, "sklearn": sklearn.__version__,
                     "pandas": pd.__version__, "numpy": np.__version__, "python": sys.version.split()[0]},
    }))
    """
)


@pytest.fixture(scope="session")
def foreign_env(pytestconfig: pytest.Config) -> BuiltEnvironment:
    """The model's environment, built once into pytest's cache and reused by later sessions."""
    built = EnvironmentBuilder(Path(pytestconfig.cache.mkdir("environments"))).ensure(FOREIGN)
    print(f"foreign environment: {'built' if built.built_now else 'reused'} in {built.seconds:.3f} s at {built.root}")
    return built


@pytest.fixture(scope="module")
def logged(foreign_env: BuiltEnvironment, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``model_dir/model``, ``inputs/*.csv`` and ``reference.json``, all written by the foreign environment."""
    root = tmp_path_factory.mktemp("foreign-model")
    done = subprocess.run(
        [str(foreign_env.python), "-c", LOG_AND_PREDICT, str(root)],
        capture_output=True,
        text=True,
        check=False,
        cwd=root,  # not the checkout: `-c` puts the working folder on sys.path
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return root


def test_the_environment_is_foreign(foreign_env: BuiltEnvironment, logged: Path) -> None:
    versions = json.loads((logged / "reference.json").read_text())["versions"]
    assert versions["python"].startswith("3.10.")
    assert versions["mlflow"].startswith("2.")
    assert versions["sklearn"] == "1.5.2"
    assert versions["pandas"].startswith("1.")
    assert versions["numpy"].startswith("1.")
    check = "import importlib.util as u; print(u.find_spec('batchpoint'))"
    found = subprocess.run(
        [str(foreign_env.python), "-c", check], capture_output=True, text=True, check=True, cwd=logged
    )
    assert found.stdout.strip() == "None"


@pytest.fixture(params=["driver", "zygote"])
def worker(
    request: pytest.FixtureRequest, foreign_env: BuiltEnvironment, logged: Path, tmp_path: Path
) -> Iterator[ScriptProcess]:
    """The scorer started by the foreign Python as a job starts it: a driver of its own, or forked by a zygote."""
    env = script_environment(logged / "model_dir", tmp_path / "out", THREAD_LIMITS)
    zygote = None
    if request.param == "zygote":
        inherited = {k: v for k, v in os.environ.items() if k not in LEAKY_VARIABLES}
        zygote = Zygote.start(foreign_env.python, {**inherited, **env}, tmp_path / "logs" / "zygote.txt")
    # A working folder of the test's, as the pool gives the built-in scorer one of the job's.
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    process = ScriptProcess(
        foreign_env.python,
        BUILTIN_DIR,
        MLFLOW_SCORER,
        env,
        "info",
        tmp_path / "logs",
        name="w0",
        zygote=zygote,
        cwd=cwd,
    )
    try:
        process.start(INIT_TIMEOUT)
        yield process
        assert process.close() == 0
    finally:
        process.close(grace=5)
        if zygote is not None:
            zygote.close()


def test_predictions_equal_the_environments_own_pyfunc(worker: ScriptProcess, logged: Path, tmp_path: Path) -> None:
    reference = json.loads((logged / "reference.json").read_text())["predictions"]
    files = sorted((logged / "inputs").glob("*.csv"))
    result = tmp_path / "results" / "mb-000000.arrow"

    answer = worker.run_mini_batch(0, [*files, logged / "notes.txt"], "append_row", result, timeout=120)

    assert answer.ok, answer.traceback
    assert [(Path(o.path).name, o.rows) for o in answer.files] == [
        ("part-000.csv", 9),
        ("part-001.csv", 6),
        ("notes.txt", 0),
    ]
    assert answer.files[2].error is not None and "not a CSV or Parquet file" in answer.files[2].error
    with pa.ipc.open_stream(result) as reader:
        table = reader.read_all()
    assert table.column_names == ["prediction", "file"]
    for name, expected in reference.items():
        got = [row["prediction"] for row in table.to_pylist() if row["file"] == name]
        np.testing.assert_array_equal(got, expected)
    # The worker is the foreign Python, and unpickled with its own scikit-learn: no version warning.
    assert "3.10" in os.path.realpath(f"/proc/{worker.pid}/exe")
    log = worker.log_path.read_text()
    assert "InconsistentVersionWarning" not in log
    assert "Traceback" not in log
    assert not (BUILTIN_DIR / "mlruns").exists(), "MLflow wrote into batchpoint's package"


# Run by both the oldest stack and the project's: score_files on every kind of input with a fake
# model that fails on a whole batch, then print the outcomes and predictions as JSON.
SCORE_FILES = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path

    sys.path.insert(0, sys.argv[1])
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq
    from file_scoring import score_files
    from input_tables import ColumnSpec, InputSignature

    folder = Path(sys.argv[2])
    pq.write_table(pa.table({"x": [5, 6], "y": [7, 8], "b": [True, False], "s": ["p", "q"]}), folder / "p.parquet")
    (folder / "a.csv").write_text("x,y,b,s\\n1,2,true,a\\n3,4.5,0,b\\n")
    (folder / "header.csv").write_text("x,y,b,s\\n")
    (folder / "fraction.csv").write_text("x,y,b,s\\n1.5,2,1,c\\n")
    (folder / "long.csv").write_text("x,y,b,s\\n7,2,1," + "z" * (3 << 19) + "\\n")
    signature = InputSignature(
        (ColumnSpec("x", "long"), ColumnSpec("y", "double"), ColumnSpec("b", "boolean"), ColumnSpec("s", "string"))
    )

    def predict(df):
        if len(df) > 2 and (df["x"] == 3).any():
            raise ValueError("x = 3 in a batch")
        return np.stack([df["x"] * 10 + df["y"], df["b"].astype("float64")], axis=1)

    names = ["a.csv", "header.csv", "fraction.csv", "p.parquet", "long.csv", "notes.txt"]
    result = score_files([str(folder / n) for n in names], predict, signature)
    print(json.dumps({
        "files": [[Path(f.path).name, f.rows, f.error] for f in result.files],
        "predictions": result.predictions.to_pydict(),
    }))
    """
)


def test_reading_casting_and_predicting_match_on_the_oldest_stack(pytestconfig: pytest.Config, tmp_path: Path) -> None:
    oldest = EnvironmentBuilder(Path(pytestconfig.cache.mkdir("environments"))).ensure(OLDEST)
    answers = []
    for python in (oldest.python, Path(sys.executable)):
        folder = tmp_path / python.parent.parent.name
        folder.mkdir()
        done = subprocess.run(
            [str(python), "-c", SCORE_FILES, str(BUILTIN_DIR), str(folder)],
            capture_output=True,
            text=True,
            check=False,
            cwd=folder,
        )
        assert done.returncode == 0, done.stderr[-4000:]
        answers.append(json.loads(done.stdout))

    assert answers[0] == answers[1]
    files = {name: (rows, error) for name, rows, error in answers[0]["files"]}
    assert files["a.csv"] == (2, None) and files["header.csv"] == (0, None)
    assert files["p.parquet"] == (2, None) and files["long.csv"] == (1, None)
    assert "fractional part" in files["fraction.csv"][1]
    assert "not a CSV or Parquet file" in files["notes.txt"][1]
    assert answers[0]["predictions"]["file"] == ["a.csv", "a.csv", "p.parquet", "p.parquet", "long.csv"]
