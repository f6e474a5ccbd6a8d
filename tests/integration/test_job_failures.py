"""Failures look like Azure's and nothing is silent, on the real stack through the API, SDK and CLI.

- ``job download`` of a job that has not ended is refused (exit 1, ``JobNotFinishedError``), and
  works once the job has ended;
- a job that fails before scoring (here: its environment cannot be built) leaves
  ``logs/user/job_error.txt`` and ``job_result.txt`` that ``job download`` brings;
- ``job stream`` prints ``job_result.txt`` once, and each distinct ``init()`` traceback once with
  the workers and attempts it hit.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from batchpoint.cli.main import main
from batchpoint.config import Settings
from batchpoint.errors import JobNotFinishedError
from batchpoint.sdk import DefaultAzureCredential, Input, MLClient
from batchpoint.sdk.constants import AssetTypes
from batchpoint.sdk.entities import (
    BatchDeployment,
    BatchEndpoint,
    BatchRetrySettings,
    CodeConfiguration,
    Environment,
    Model,
)
from tests.integration.test_sdk_support import (
    Api,
    api_over,
    use_api,
    wait_until_ended,
    write_inputs,
    write_mlflow_model,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

# run() holds the job Running until the test creates the flag file (polling with a deadline).
WAITING_SCRIPT = """\
import os
import time


def init():
    pass


def run(mini_batch):
    deadline = time.monotonic() + 240
    while not os.path.exists(os.environ["RELEASE_FLAG"]):
        if time.monotonic() > deadline:
            raise TimeoutError("the test never released the job")
        time.sleep(0.1)
    return [os.path.basename(p) for p in mini_batch]
"""

FAILING_INIT_SCRIPT = """\
def init():
    raise ModuleNotFoundError("No module named 'xgboost'")


def run(mini_batch):
    return mini_batch
"""

# No machine has Python 3.5 (we have 3.6-3.13): the environment cannot be built, before any worker starts.
UNBUILDABLE_CONDA = "name: old\ndependencies:\n  - python=3.5\n  - pip\n  - pip:\n    - pandas\n"


@pytest.fixture(scope="module")
def api(stack: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    with api_over(stack, tmp_path_factory.mktemp("api")) as served:
        yield served


@pytest.fixture
def project(api: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    use_api(monkeypatch, api, tmp_path / "home")
    write_mlflow_model(tmp_path / "model")
    write_inputs(tmp_path / "incoming", files=2, rows=3)
    for name, script in (("waiting", WAITING_SCRIPT), ("failing", FAILING_INIT_SCRIPT)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "driver.py").write_text(script)
    (tmp_path / "env").mkdir()
    (tmp_path / "env" / "conda.yml").write_text(UNBUILDABLE_CONDA)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def bp(*args: str, code: int = 0) -> Result:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == code, f"{args}: {result.output}\n{result.stderr}"
    return result


def _endpoint_with(deployment_name: str, folder: str, **extra: Any) -> tuple[MLClient, str]:
    """An MLClient and a new endpoint whose default deployment runs ``<folder>/driver.py``."""
    ml_client = MLClient(DefaultAzureCredential())
    suffix = uuid.uuid4().hex[:6]
    model = ml_client.models.create_or_update(Model(name=f"fail-{suffix}", path="model", type=AssetTypes.MLFLOW_MODEL))
    endpoint = f"failures-{suffix}"
    ml_client.batch_endpoints.begin_create_or_update(BatchEndpoint(name=endpoint)).result()
    deployment = BatchDeployment(
        name=deployment_name,
        endpoint_name=endpoint,
        model=model,
        code_configuration=CodeConfiguration(code=folder, scoring_script="driver.py"),
        instance_count=2,
        max_concurrency_per_instance=1,
        mini_batch_size=1,
        retry_settings=BatchRetrySettings(max_retries=2, timeout=300),
        error_threshold=-1,
        **extra,
    )
    ml_client.batch_deployments.begin_create_or_update(deployment).result()
    endpoint_entity = ml_client.batch_endpoints.get(endpoint)
    endpoint_entity.defaults.deployment_name = deployment_name
    ml_client.batch_endpoints.begin_create_or_update(endpoint_entity).result()
    return ml_client, endpoint


def _invoke(ml_client: MLClient, endpoint: str) -> str:
    job = ml_client.batch_endpoints.invoke(
        endpoint_name=endpoint, input=Input(type=AssetTypes.URI_FOLDER, path="incoming")
    )
    return str(job.name)


def test_a_job_that_has_not_ended_cannot_be_downloaded(project: Path) -> None:
    flag = project / "release"
    ml_client, endpoint = _endpoint_with("waiting", "waiting", environment_variables={"RELEASE_FLAG": str(flag)})
    name = _invoke(ml_client, endpoint)

    # The job cannot end before the flag exists, so it is Preparing or Running here.
    refused = bp("job", "download", "-n", name, "--download-path", "early", code=1)
    assert "not finished" in refused.stderr and f"job stream -n {name}" in refused.stderr
    assert "downloaded" not in refused.stdout
    assert not (project / "early" / "named-outputs").exists()
    with pytest.raises(JobNotFinishedError) as caught:
        ml_client.jobs.download(name=name, download_path="early", output_name="score")
    assert caught.value.status in {"Preparing", "Running"}

    flag.touch()
    assert wait_until_ended(lambda n: ml_client.jobs.get(n).status, name) == "Completed"
    bp("job", "download", "-n", name, "--download-path", "late")
    scored = (project / "late" / "named-outputs" / "score" / "predictions.csv").read_text().split()
    assert sorted(scored) == ["heart-unlabeled-0.csv", "heart-unlabeled-1.csv"]


def test_a_job_that_fails_before_scoring_leaves_logs_to_download(project: Path) -> None:
    env = Environment(name=f"old-python-{uuid.uuid4().hex[:6]}", conda_file="env/conda.yml")
    ml_client, endpoint = _endpoint_with("unbuildable", "waiting", environment=env)
    name = _invoke(ml_client, endpoint)
    assert wait_until_ended(lambda n: ml_client.jobs.get(n).status, name) == "Failed"

    bp("job", "download", "-n", name, "--download-path", "out")
    logs = project / "out" / "named-outputs" / "score" / "logs" / "user"
    job_error = (logs / "job_error.txt").read_text()
    job_result = (logs / "job_result.txt").read_text()
    assert "failed before scoring" in job_error and "3.5" in job_error
    assert job_result.startswith("status: Failed\n") and "3.5" in job_result
    # What building the environment said is in the user's logs too, not only the Dagster run's.
    progress = (logs / "job_progress_overview.txt").read_text()
    assert f"environment: the deployment's environment {env.name} asks for python 3.5 and 1 requirements" in progress
    assert " ERROR environment " in progress and ": build failed: " in progress and "python 3.5" in progress
    assert progress.endswith("0 mini-batches processed: the job failed before scoring\n")
    streamed = bp("job", "stream", "-n", name, code=1).stdout
    assert "build failed: " in streamed
    assert not (project / "out" / "named-outputs" / "score" / "predictions.csv").exists()


def test_job_stream_prints_the_result_and_each_init_traceback_once(project: Path) -> None:
    ml_client, endpoint = _endpoint_with("failing", "failing")
    name = _invoke(ml_client, endpoint)
    assert wait_until_ended(lambda n: ml_client.jobs.get(n).status, name) == "Failed"

    streamed = bp("job", "stream", "-n", name, code=1).stdout
    assert streamed.count("==> logs/user/job_result.txt <==") == 1
    assert streamed.count("status: Failed") == 1
    # 2 workers, each starting 1 + max_retries (2) times: one report of 6 attempts.
    assert streamed.count('raise ModuleNotFoundError("No module named') == 1, streamed
    assert "init() failed in 2 workers, 6 attempts:" in streamed
    assert len(streamed.splitlines()) < 80, streamed
