"""Environments chosen and built for real: a conda file pinning a Python patch the machine lacks, and
an MLflow model logged inside its own old environment scored by a no-code deployment.

Real uv builds (PyPI or the machine's mirror), real worker processes, the embedded stack's S3, and
an MLflow registry (the stack's server when this session runs it, else sqlite). The environments are
built once into one ``EnvironmentBuilder`` cache (pytest's cache folder) that every test here shares.
"""

from __future__ import annotations

import dataclasses
import io
import json
import logging
import os
import subprocess
import textwrap
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
import pytest
from mlflow import MlflowClient

from batchpoint.config import Settings
from batchpoint.environments import EnvironmentBuilder
from batchpoint.environments.interpreters import installed_interpreters
from batchpoint.environments.uv_binary import find_uv
from batchpoint.models.mlflow_models import resolve_model
from batchpoint.models.model_registry import EXPERIMENT, ModelRegistry
from batchpoint.models.resolved import ResolvedModel
from batchpoint.outputs.layout import JOB_PROGRESS_LOG, OutputLayout
from batchpoint.outputs.lineage import LINEAGE_COLUMNS
from batchpoint.scoring.environment_log import EnvironmentLog
from batchpoint.scoring.job import JobResult, run_scoring_job
from batchpoint.scoring.runtime import WorkerRuntime
from batchpoint.scoring.runtime_setup import prepare_runtime
from batchpoint.specs.deployment import BatchDeployment
from batchpoint.specs.environment import EnvironmentSpec
from batchpoint.specs.model_asset import ModelSpec, ModelType
from batchpoint.specs.model_ref import parse_model_ref
from batchpoint.storage.datastore import open_datastore
from batchpoint.storage.port import ObjectInfo
from batchpoint.storage.s3 import S3Store

pytestmark = [
    pytest.mark.integration,
    pytest.mark.timeout(900),
    # MLflow's own notices while registering and resolving a model; not ours to fix.
    pytest.mark.filterwarnings("ignore::DeprecationWarning:mlflow.*"),
    pytest.mark.filterwarnings("ignore::FutureWarning:mlflow.*"),
    pytest.mark.filterwarnings("ignore::UserWarning:mlflow.*"),
]

ENDPOINT = "env-scores"
PARTITION = "2026-11"
LOGGER = "test.model_environments"

# Azure's conda files pin Python by patch; 3.10.5 is not on our machines, 3.10.x is.
CONDA_3105 = {
    "name": "py3105",
    "channels": ["conda-forge"],
    "dependencies": ["python=3.10.5", "pip", {"pip": ["pandas==2.2.3", "azureml-defaults==1.60.0"]}],
}
SCRIPT = """
import os
import platform

import pandas as pd


def init():
    print("init in python", platform.python_version(), flush=True)


def run(mini_batch):
    return pd.concat(
        pd.DataFrame({"id": pd.read_csv(p)["id"], "python": platform.python_version(), "file": os.path.basename(p)})
        for p in mini_batch
    )
"""


@pytest.fixture(scope="session")
def env_builder(pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory) -> EnvironmentBuilder:
    """One environment cache: each distinct environment is built once, into pytest's cache folder
    (shared with ``test_foreign_scorer.py``) so later sessions reuse it; a temp folder without it."""
    cache = getattr(pytestconfig, "cache", None)
    root = Path(cache.mkdir("environments")) if cache is not None else tmp_path_factory.mktemp("model-envs")
    return EnvironmentBuilder(root)


@dataclasses.dataclass
class Jobs:
    """A test's settings, store and input bucket, and how to run a job and read what it wrote."""

    settings: Settings
    store: S3Store
    bucket: str

    def put_csv(self, name: str, frame: pd.DataFrame) -> list[ObjectInfo]:
        self.store.put_bytes(self.bucket, f"in/{PARTITION}/{name}", frame.to_csv(index=False).encode())
        return list(self.store.list(self.bucket, f"in/{PARTITION}/"))

    def score(
        self, deployment: BatchDeployment, model: ResolvedModel, runtime: WorkerRuntime, inputs: list[ObjectInfo]
    ) -> JobResult:
        return run_scoring_job(
            store=self.store,
            settings=self.settings,
            layout=OutputLayout(self.settings.output_bucket, ENDPOINT, PARTITION),
            deployment=deployment,
            model=model,
            inputs=inputs,
            job_id=f"job-{deployment.name}",
            runtime=runtime,
            log=logging.getLogger(LOGGER),
        )

    def read(self, uri: str) -> bytes:
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        return self.store.get_bytes(bucket, key)

    def worker_logs(self, result: JobResult) -> str:
        logs = result.manifest.logs
        return "\n".join(self.read(uri).decode() for name, uri in logs.items() if "/stdout/" in name)

    def progress_overview(self, result: JobResult) -> str:
        """``logs/user/job_progress_overview.txt``: what Azure users read (and ``job stream`` prints)."""
        return self.read(result.manifest.logs[JOB_PROGRESS_LOG]).decode()

    def stored_manifest(self, result: JobResult) -> dict[str, Any]:
        layout = OutputLayout(self.settings.output_bucket, ENDPOINT, PARTITION)
        return dict(json.loads(self.store.get_bytes(layout.bucket, layout.manifest_key(result.version_id))))


@pytest.fixture
def jobs(store_and_broker: Settings, unique_name: str, tmp_path: Path) -> Iterator[Jobs]:
    settings = dataclasses.replace(store_and_broker, output_bucket=f"{unique_name}-out", data_dir=tmp_path / "data")
    store = open_datastore(settings)
    store.ensure_bucket(unique_name)
    yield Jobs(settings, store, unique_name)


def custom_model(root: Path) -> ResolvedModel:
    (root / "m" / "1" / "model").mkdir(parents=True)
    (root / "m" / "1" / "model" / "weights.txt").write_text("1\n")
    return ResolvedModel("m", "1", "azureml:m:1", None, None, root / "m" / "1" / "model", kind="custom_model")


def test_a_conda_python_patch_the_machine_lacks_builds_with_the_newest_of_its_minor(
    jobs: Jobs, env_builder: EnvironmentBuilder, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    have = {i.version_text for i in installed_interpreters(find_uv())}
    if "3.10.5" in have or not any(v.startswith("3.10.") for v in have):
        pytest.skip(f"needs a 3.10 other than 3.10.5 (this machine has {sorted(have)})")
    newest_310 = max(
        (i for i in installed_interpreters(find_uv()) if i.version[:2] == (3, 10)), key=lambda i: i.version
    )
    code = tmp_path / "code"
    code.mkdir()
    (code / "score.py").write_text(textwrap.dedent(SCRIPT))
    deployment = BatchDeployment.parse(
        {
            "name": "conda-3105",
            "endpoint_name": ENDPOINT,
            "model": "azureml:m:1",
            "environment": "azureml:py3105:1",
            "code_configuration": {"code": str(code), "scoring_script": "score.py"},
            "settings": {"mini_batch_size": 1},
        }
    )
    environment = EnvironmentSpec.parse({"name": "py3105", "version": "1", "conda_file": CONDA_3105})
    model = custom_model(tmp_path)

    with caplog.at_level(logging.INFO, logger=LOGGER):
        runtime = prepare_runtime(
            deployment,
            model,
            settings=jobs.settings,
            store=jobs.store,
            environment=environment,
            builder=env_builder,
            log=EnvironmentLog(logging.getLogger(LOGGER)),
        )
        inputs = jobs.put_csv("part-0.csv", pd.DataFrame({"id": [1, 2, 3]}))
        result = jobs.score(deployment, model, runtime, inputs)

    assert result.status == "Completed", result.error
    rows = [line.split(" ") for line in jobs.read(result.output_uri).decode().splitlines()]
    assert rows == [[str(i), newest_310.version_text, "part-0.csv"] for i in (1, 2, 3)]
    assert "python 3.10.5 is not on this machine and downloads are off (BATCHPOINT_PYTHON_DOWNLOADS); " in caplog.text
    assert f"using {newest_310.version_text}, its newest 3.10 patch" in caplog.text
    assert "left out Azure-runtime packages azureml-defaults==1.60.0" in caplog.text
    facts = jobs.stored_manifest(result)["runtime"]["environment"]
    assert facts["choice"] == "built"
    assert (facts["python_requested"], facts["python_used"]) == ("3.10.5", newest_310.version_text)
    assert facts["python_warning"].startswith("python 3.10.5 is not on this machine")
    assert facts["dropped_packages"] == ["azureml-defaults==1.60.0"]
    azure = subprocess.run(
        [str(runtime.python), "-c", "import importlib.util; print(importlib.util.find_spec('azureml'))"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert azure.stdout.strip() == "None"
    # The same lines in the job's user log, before its progress: where Azure users look.
    overview = jobs.progress_overview(result)
    key = facts["environment_key"][:16]
    assert "environment: the deployment's environment py3105 asks for python 3.10.5 and " in overview
    assert "left out Azure-runtime packages azureml-defaults==1.60.0" in overview
    assert f"environment {key}: {'built in' if facts['built_now'] else 'reused'}" in overview
    assert f" WARNING environment {key}: python 3.10.5 is not on this machine" in overview
    assert overview.index("environment: ") < overview.index("mini-batches")

    # The same spec again: reused from the cache, the warning still said.
    caplog.clear()
    started = time.monotonic()
    with caplog.at_level(logging.INFO, logger=LOGGER):
        again = prepare_runtime(
            deployment,
            model,
            settings=jobs.settings,
            store=jobs.store,
            environment=environment,
            builder=env_builder,
            log=logging.getLogger(LOGGER),
        )
    assert again.python == runtime.python
    assert "reused (python" in caplog.text and "python 3.10.5 is not on this machine" in caplog.text
    first = f"{'built' if facts['built_now'] else 'reused'} in {facts['build_seconds']} s"
    print(f"conda 3.10.5 env: {first}, then reused in {time.monotonic() - started:.3f} s")


# ---- an MLflow model logged inside its own old environment, scored by a no-code deployment ----------
# scikit-learn 1.5.2 with numpy<2 and pandas 1.x on Python 3.10, where batchpoint has 1.9 / 2.x / 3.x
# on 3.11: a random forest pickled by 1.5.2 warns (InconsistentVersionWarning) when 1.9 unpickles it.
TRAINER = EnvironmentSpec.parse(
    {
        "name": "trainer-sk152",
        "python_version": "3.10",
        "pip_requirements": ["scikit-learn==1.5.2", "numpy<2", "pandas<2", "mlflow==2.22.2"],
    }
)
TRAIN = """
import json
import sys

import mlflow
import numpy as np
import pandas as pd
from mlflow.models import infer_signature
from sklearn.ensemble import RandomForestRegressor

out = sys.argv[1]
rng = np.random.default_rng(7)
x = pd.DataFrame({"price": rng.uniform(1, 100, 300).round(2), "units": rng.integers(0, 50, 300).astype("float64")})
y = 3 * x["price"] - 2 * x["units"] + rng.normal(0, 1, 300)
model = RandomForestRegressor(n_estimators=20, random_state=0).fit(x, y)
mlflow.sklearn.save_model(
    model,
    out + "/model",
    signature=infer_signature(x, model.predict(x)),
    # What models logged on Azure carry: left out of the environment built here.
    extra_pip_requirements=["azureml-defaults", "azureml-inference-server-http"],
)
rows = x.iloc[:40]
rows.iloc[:25].to_csv(out + "/part-0.csv", index=False)
rows.iloc[25:].to_csv(out + "/part-1.csv", index=False)
expected = mlflow.pyfunc.load_model(out + "/model").predict(rows)
json.dump([float(v) for v in expected], open(out + "/expected.json", "w"))
"""


SHOW_VERSIONS = (
    "import sklearn, numpy, pandas, pyarrow; "
    "print(sklearn.__version__, numpy.__version__, pandas.__version__, pyarrow.__version__)"
)


def _server_up(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=1) as resp:
            return bool(resp.status == 200)
    except OSError:
        return False


@pytest.fixture(scope="module")
def mlflow_settings(store_and_broker: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """The stack's settings, with a sqlite MLflow registry (artifacts in a temp folder) when no server runs."""
    chosen = store_and_broker
    if not _server_up(chosen.mlflow_uri):
        folder = tmp_path_factory.mktemp("mlflow")
        chosen = dataclasses.replace(chosen, mlflow_tracking_uri=f"sqlite:///{folder / 'mlflow.db'}")
        MlflowClient(chosen.mlflow_uri).create_experiment(EXPERIMENT, artifact_location=(folder / "art").as_uri())
    with pytest.MonkeyPatch.context() as mp:
        for key, value in chosen.s3_env().items():
            mp.setenv(key, value)
        yield chosen


@pytest.fixture(scope="session")
def old_model(env_builder: EnvironmentBuilder, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding ``model/`` (saved by MLflow 2.22 in the trainer env), its input CSVs and expected.json."""
    trainer = env_builder.ensure(TRAINER)
    out = tmp_path_factory.mktemp("old-model")
    # In its own folder, tracking to it: MLflow would otherwise leave ./mlruns in the working tree.
    env = {**os.environ, "MLFLOW_TRACKING_URI": (out / "mlruns").as_uri()}
    done = subprocess.run(
        [str(trainer.python), "-c", TRAIN, str(out)], capture_output=True, text=True, check=False, cwd=out, env=env
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return out


def test_an_old_mlflow_model_scores_in_its_own_environment(
    jobs: Jobs,
    mlflow_settings: Settings,
    env_builder: EnvironmentBuilder,
    old_model: Path,
    unique_name: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = dataclasses.replace(mlflow_settings, output_bucket=jobs.settings.output_bucket)
    jobs = dataclasses.replace(jobs, settings=settings)
    requirements = (old_model / "model" / "requirements.txt").read_text()
    assert "scikit-learn==1.5.2" in requirements and "azureml-defaults" in requirements
    created = ModelRegistry(settings).create(
        ModelSpec(name=unique_name, type=ModelType.MLFLOW_MODEL, path=str(old_model / "model"))
    )
    model = resolve_model(parse_model_ref(f"models:/{unique_name}/{created.version}"), settings)
    deployment = BatchDeployment.parse(
        {
            "name": "old-sklearn",
            "endpoint_name": ENDPOINT,
            "model": model.uri,
            "resources": {"instance_count": 1},
            "settings": {"mini_batch_size": 1, "max_concurrency_per_instance": 2},
        }
    )
    for name in ("part-0.csv", "part-1.csv"):
        jobs.put_csv(name, pd.read_csv(old_model / name))
    inputs = list(jobs.store.list(jobs.bucket, f"in/{PARTITION}/"))

    with caplog.at_level(logging.INFO, logger=LOGGER):
        runtime = prepare_runtime(
            deployment,
            model,
            settings=settings,
            store=jobs.store,
            environment=None,
            builder=env_builder,
            log=EnvironmentLog(logging.getLogger(LOGGER)),
        )
        result = jobs.score(deployment, model, runtime, inputs)

    assert result.status == "Completed", (result.error, jobs.worker_logs(result)[-3000:])
    facts = jobs.stored_manifest(result)["runtime"]["environment"]
    assert facts["choice"] == "built" and facts["source"] == "the model's python_env.yaml"
    assert facts["python_used"].startswith("3.10.")
    assert sorted(facts["dropped_packages"]) == ["azureml-defaults", "azureml-inference-server-http"]
    assert "left out Azure-runtime packages azureml-defaults, azureml-inference-server-http" in caplog.text
    version = subprocess.run(
        [str(runtime.python), "-c", SHOW_VERSIONS],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    # The scorer's pyarrow was resolved to fit numpy 1.x and pandas 1.x: it imports beside them.
    assert version[0] == "1.5.2" and version[1].startswith("1.") and version[2].startswith("1.")
    print(f"model env: scikit-learn, numpy, pandas, pyarrow = {version}")
    lineage = pq.read_table(io.BytesIO(jobs.read(jobs.stored_manifest(result)["lineage_uri"]))).to_pandas()
    lineage = lineage.sort_values(["file", "row_index"])
    expected = json.loads((old_model / "expected.json").read_text())
    prediction = [c for c in lineage.columns if c not in {*LINEAGE_COLUMNS, "file"}]
    assert lineage[prediction[0]].tolist() == expected  # exactly the trainer env's own pyfunc
    worker_logs = jobs.worker_logs(result)
    assert "InconsistentVersionWarning" not in worker_logs
    assert "Trying to unpickle" not in worker_logs
    # skops.io and the like are not in this environment: not worth a line in the user's logs.
    assert "not preloaded" not in worker_logs
    overview = jobs.progress_overview(result)
    key = facts["environment_key"][:16]
    assert "environment: the model's python_env.yaml asks for python 3.10" in overview
    assert "left out Azure-runtime packages azureml-defaults, azureml-inference-server-http" in overview
    assert "environment: added for the built-in scorer: " in overview and "pyarrow" in overview
    assert f"environment {key}: {'built in' if facts['built_now'] else 'reused'}" in overview
    assert overview.index("environment: ") < overview.index("mini-batches")

    # Measured for the record: a cold build of this model's environment, its reuse, its disk.
    started = time.monotonic()
    again = prepare_runtime(
        deployment, model, settings=settings, store=jobs.store, environment=None, builder=env_builder
    )
    reuse = time.monotonic() - started
    assert again.python == runtime.python and again.environment is not None and not again.environment.built_now
    size = subprocess.run(["du", "-sm", str(runtime.python.parent.parent)], capture_output=True, text=True, check=True)
    first = f"{'built' if facts['built_now'] else 'reused'} in {facts['build_seconds']} s"
    print(f"model env: {first}, then reused in {reuse:.3f} s; disk {size.stdout.split()[0]} MiB")
