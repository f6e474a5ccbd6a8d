"""The issue's CLI flow end to end, as an Azure user types it, through the SDK and the real API.

model create → compute create → batch-endpoint create -f → batch-deployment create --set-default →
batch-endpoint update --set → invoke → list-jobs → job show / stream / download.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from batchpoint.cli.main import main
from batchpoint.config import Settings
from tests.integration.test_sdk_support import (
    Api,
    api_over,
    use_api,
    wait_until_ended,
    write_inputs,
    write_mlflow_model,
)

pytestmark = pytest.mark.integration

ENDPOINT_YML = """\
$schema: https://azuremlschemas.azureedge.net/latest/batchEndpoint.schema.json
name: risk-scoring-batch
description: Scores risk features of patient records in batches
auth_mode: aad_token
"""

DEPLOYMENT_YML = """\
$schema: https://azuremlschemas.azureedge.net/latest/modelBatchDeployment.schema.json
endpoint_name: risk-scoring-batch
name: risk-mlflow
description: The MLflow risk model, scored without a script
type: model
model: azureml:heart-classifier-cli@latest
compute: azureml:batch-cluster
resources:
  instance_count: 2
settings:
  max_concurrency_per_instance: 2
  mini_batch_size: 2
  output_action: append_row
  output_file_name: predictions.csv
  retry_settings:
    max_retries: 3
    timeout: 300
  error_threshold: -1
  logging_level: info
"""


@pytest.fixture(scope="module")
def api(stack: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    with api_over(stack, tmp_path_factory.mktemp("api")) as served_api:
        yield served_api


@pytest.fixture
def workdir(api: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    use_api(monkeypatch, api, tmp_path / "home")
    write_mlflow_model(tmp_path / "model")
    write_inputs(tmp_path / "data")
    (tmp_path / "endpoint.yml").write_text(ENDPOINT_YML)
    (tmp_path / "deployment-simple").mkdir()
    (tmp_path / "deployment-simple" / "deployment.yml").write_text(DEPLOYMENT_YML)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def bp(*args: str, code: int = 0) -> Result:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == code, f"{args}: {result.output}\n{result.stderr}"
    return result


@pytest.mark.timeout(600)
def test_az_ml_flow(workdir: Path, unique_name: str, stack: Settings) -> None:
    endpoint = f"heart-{unique_name[2:]}"
    deployment = "risk-mlflow"

    model = json.loads(
        bp(
            "model",
            "create",
            "--name",
            "heart-classifier-cli",
            "--type",
            "mlflow_model",
            "--path",
            "model",
            "-o",
            "json",
        ).stdout
    )
    assert (model["name"], model["type"]) == ("heart-classifier-cli", "mlflow_model")
    bp(
        "compute",
        "create",
        "-n",
        "batch-cluster",
        "--type",
        "amlcompute",
        "--min-instances",
        "0",
        "--max-instances",
        "5",
    )

    created = bp("batch-endpoint", "create", "-n", endpoint, "-f", "endpoint.yml")
    assert endpoint in created.stdout
    assert "auth_mode has no meaning" in created.stderr

    made = bp(
        "batch-deployment", "create", "--file", "deployment-simple/deployment.yml",
        "--endpoint-name", endpoint, "--set-default", "-o", "json",
    )  # fmt: skip
    assert json.loads(made.stdout)["model"] == f"models:/heart-classifier-cli/{model['version']}"

    bp("batch-endpoint", "update", "--name", endpoint, "--set", f"defaults.deployment_name={deployment}")
    shown = bp("batch-endpoint", "show", "--name", endpoint, "--query", "defaults.deployment_name", "-o", "tsv")
    assert shown.stdout.strip() == deployment
    assert deployment in bp("batch-deployment", "show", "--name", deployment, "--endpoint-name", endpoint).stdout

    too_many = bp("batch-endpoint", "invoke", "--name", endpoint, "--input", "data", "--instance-count", "6", code=1)
    assert "instance_count: 6 is more than compute 'batch-cluster' allows" in too_many.stderr
    # Azure's samples: JOB_NAME=$(az ml batch-endpoint invoke ... | jq -r '.name'), with per-job settings.
    invoked = bp(
        "batch-endpoint", "invoke", "--name", endpoint, "--input", "data", "--input-type", "uri_folder",
        "--instance-count", "1", "--mini-batch-size", "1",
        "--set", "output_file_name=scores.csv", "--set", "retry_settings.max_retries=1",
        "--output-path", f"azureml://datastores/workspaceblobstore/paths/{endpoint}/cli-run",
    )  # fmt: skip
    job = json.loads(invoked.stdout)["name"]
    assert job.startswith("batchjob-")
    assert json.loads(invoked.stdout)["output_uri"] == f"s3://{stack.output_bucket}/{endpoint}/cli-run/"

    listed = bp(
        "batch-deployment",
        "list-jobs",
        "--name",
        deployment,
        "--endpoint-name",
        endpoint,
        "--query",
        "[].name",
        "-o",
        "json",
    )
    assert json.loads(listed.stdout) == [job]
    assert job in bp("batch-endpoint", "list-jobs", "--name", endpoint).stdout

    def status(name: str) -> str:
        return bp("job", "show", "-n", name, "--query", "status", "-o", "tsv").stdout.strip()

    assert wait_until_ended(status, job) == "Completed"
    streamed = bp("job", "stream", "-n", job)
    assert "Status: Completed" in streamed.stdout
    # Where Azure users look: the job's result log, printed once at the end of the stream.
    assert streamed.stdout.count("==> logs/user/job_result.txt <==") == 1
    assert streamed.stdout.count("status: Completed") == 1
    # How the no-code workers' environment was chosen is in the user's log too, not only Dagster's.
    assert "environment: the model's python_env.yaml asks for python " in streamed.stdout
    table = bp("job", "show", "-n", job, "-o", "table").stdout
    assert "status" in table and "Completed" in table

    bp("job", "download", "-n", job, "--output-name", "score", "--download-path", "./")
    lines = (workdir / "named-outputs" / "score" / "scores.csv").read_text().splitlines()
    assert len(lines) == 3 * 4
    progress = (workdir / "named-outputs" / "score" / "logs" / "user" / "job_progress_overview.txt").read_text()
    environment = [line for line in progress.splitlines() if " environment" in line]
    assert environment and any(
        ("no build" in line or ": built in " in line or ": reused (" in line) for line in environment
    )
    assert (
        "not preloaded"
        not in (workdir / "named-outputs" / "score" / "logs" / "user" / "stdout" / "zygote.txt").read_text()
    )
    assert not (workdir / "named-outputs" / "score" / "predictions.csv").exists()

    bp("batch-endpoint", "delete", "--name", endpoint, "--yes")


def test_user_errors_are_one_red_line_and_exit_1(workdir: Path) -> None:
    missing = bp("batch-endpoint", "show", "--name", "no-such-endpoint", code=1)
    assert missing.stderr.strip().startswith("error: ")
    assert "no-such-endpoint" in missing.stderr and "not found" in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1
    assert "Traceback" not in missing.output

    (workdir / "bad.yml").write_text(DEPLOYMENT_YML.replace("mini_batch_size: 2", "mini_batch_size: 0"))
    bad = bp("batch-deployment", "create", "--file", "bad.yml", "--endpoint-name", "whatever", code=1)
    assert "settings.mini_batch_size" in bad.stderr

    unknown = bp("batch-endpoint", "update", "--name", "no-such-endpoint", "--set", "nonsense", code=1)
    assert "error:" in unknown.stderr


def test_a_wrong_token_says_how_to_set_one(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BATCHPOINT_API_TOKEN", "wrong")
    refused = bp("batch-endpoint", "list", code=1)
    assert "BATCHPOINT_API_TOKEN" in refused.stderr
    assert "batchpoint token create" in refused.stderr
