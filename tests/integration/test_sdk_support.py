"""Helpers of the SDK and CLI tests (no tests here): the API over the stack, a small MLflow model, inputs.

The API runs in-process (uvicorn on a free port, ``create_app`` over a real ``Workspace`` of the
session stack); clients reach it through ``BATCHPOINT_API_URL`` and a token made by the facade.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from batchpoint.api.app import create_app
from batchpoint.config import Settings
from batchpoint.management.workspace import Workspace
from tests.integration.test_api_support import served

JOB_TIMEOUT_S = 240.0
FEATURES = ("age", "chol", "thalach")


@dataclass(frozen=True)
class Api:
    """Where the API under test listens and a valid token for it."""

    url: str
    token: str


@contextmanager
def api_over(settings: Settings) -> Iterator[Api]:
    """Serve the API over ``settings`` until the block ends, with a fresh token."""
    workspace = Workspace(settings)
    _, secret = workspace.tokens.create("sdk-cli-tests")
    with served(create_app(lambda: workspace)) as url:
        yield Api(url, secret)


def use_api(monkeypatch: pytest.MonkeyPatch, api: Api, home: Path) -> None:
    """Point SDK and CLI at ``api`` through the environment, with no ~/.batchpoint config in the way."""
    monkeypatch.setenv("BATCHPOINT_API_URL", api.url)
    monkeypatch.setenv("BATCHPOINT_API_TOKEN", api.token)
    monkeypatch.setenv("HOME", str(home))


def heart_frame(rows: int, seed: int) -> pd.DataFrame:
    """Heart-like tabular features."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "age": rng.integers(30, 80, rows).astype("float64"),
            "chol": rng.uniform(150, 300, rows).round(1),
            "thalach": rng.uniform(90, 200, rows).round(1),
        }
    )


def write_mlflow_model(folder: Path) -> Path:
    """Save a small sklearn classifier with a signature as an MLflow model folder at ``folder``."""
    with warnings.catch_warnings():
        # mlflow.pyfunc warns about its own agent schemas on import; nothing about our model.
        warnings.filterwarnings("ignore", category=UserWarning)
        warnings.filterwarnings("ignore", category=FutureWarning)
        import mlflow.sklearn
        from mlflow.models import infer_signature

        train = heart_frame(200, seed=1)
        target = (train["chol"] + train["age"] > 280).astype("int64")
        model = LogisticRegression(max_iter=500).fit(train, target)
        signature = infer_signature(train, model.predict(train))
        mlflow.sklearn.save_model(model, str(folder), signature=signature, serialization_format="skops")
    return folder


def write_inputs(folder: Path, files: int = 3, rows: int = 4) -> Path:
    """``files`` CSVs of heart features in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(files):
        heart_frame(rows, seed=10 + i).to_csv(folder / f"heart-unlabeled-{i}.csv", index=False)
    return folder


def write_custom_code(folder: Path) -> Path:
    """A scoring script in Azure's init()/run() shape."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "batch_driver.py").write_text(
        "import glob\nimport os\n\nimport mlflow\nimport pandas as pd\n\n\n"
        "def init():\n    global model\n"
        "    found = glob.glob(os.environ['AZUREML_MODEL_DIR'] + '/**/MLmodel', recursive=True)\n"
        "    model = mlflow.pyfunc.load_model(os.path.dirname(found[0]))\n\n\n"
        "def run(mini_batch):\n"
        "    data = pd.concat(pd.read_csv(f).assign(file=os.path.basename(f)) for f in mini_batch)\n"
        "    return data.assign(prediction=model.predict(data.drop(columns=['file'])))\n"
    )
    return folder


def write_conda_file(path: Path) -> Path:
    """A conda file whose pip section is what batchpoint installs."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "name: batch-mlflow\nchannels: [conda-forge]\n"
        "dependencies:\n  - python=3.11\n  - pip\n  - pip:\n    - mlflow\n    - scikit-learn\n    - pandas\n"
    )
    return path


def wait_until_ended(get_status: object, name: str, timeout: float = JOB_TIMEOUT_S) -> str:
    """Poll ``get_status(name)`` until Completed, Failed or Canceled; the final status."""
    assert callable(get_status)
    deadline = time.monotonic() + timeout
    status = ""
    while time.monotonic() < deadline:
        status = str(get_status(name))
        if status in {"Completed", "Failed", "Canceled"}:
            return status
        time.sleep(1.0)
    raise AssertionError(f"job {name} still {status} after {timeout:.0f} s")
