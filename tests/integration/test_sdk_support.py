"""Helpers of the SDK and CLI tests (no tests here): the API over the stack, a small MLflow model, inputs.

The API runs as its own process (uvicorn over ``create_app`` on a free port, with the session
stack's settings); clients reach it through ``BATCHPOINT_API_URL`` and a token made by the facade.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from batchpoint.config import Settings
from batchpoint.management.workspace import Workspace
from tests.integration.test_api_support import free_port

JOB_TIMEOUT_S = 240.0
API_START_TIMEOUT_S = 60.0
FEATURES = ("age", "chol", "thalach")


@dataclass(frozen=True)
class Api:
    """Where the API under test listens and a valid token for it."""

    url: str
    token: str


@contextmanager
def api_over(settings: Settings, log_dir: Path) -> Iterator[Api]:
    """Serve the API over ``settings`` on a free port until the block ends, with a fresh token.

    A process of its own (``python -m batchpoint.api``: uvicorn over ``create_app``), so what the
    server and MLflow print never mixes with the CLI output a test reads.
    """
    served_settings = dataclasses.replace(settings, ports=dataclasses.replace(settings.ports, api=free_port()))
    _, secret = Workspace(settings).tokens.create("sdk-cli-tests")
    env = {**os.environ, **served_settings.to_env(), **served_settings.s3_env()}
    log = (log_dir / "api.log").open("wb")
    process = subprocess.Popen([sys.executable, "-m", "batchpoint.api"], env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://{served_settings.host}:{served_settings.ports.api}"
    try:
        _wait_healthy(url, process, log_dir / "api.log")
        yield Api(url, secret)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + API_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the API exited ({process.returncode}):\n{log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{url}/v1/health", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the API is not healthy after {API_START_TIMEOUT_S:.0f} s:\n{log.read_text()[-2000:]}")


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
