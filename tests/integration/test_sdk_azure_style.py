"""Code written against ``azure.ai.ml`` runs on batchpoint with only its import lines changed.

The scenario is ours (a clinic's risk model scored in batches), written the way Azure ML SDK v2
users write batch-endpoint code: register an MLflow model folder, create an endpoint and a compute
cluster, deploy the model with ``ModelBatchDeployment`` settings, add a scripted deployment in the
older flat form with an environment from a conda file, make a deployment the default through
``endpoint.defaults``, invoke with an ``Input`` folder, follow the job and download its outputs.
The only batchpoint-specific lines are the imports:

    from azure.ai.ml import MLClient, Input            -> from batchpoint.sdk import MLClient, Input
    from azure.ai.ml.entities import ...               -> from batchpoint.sdk.entities import ...
    from azure.ai.ml.constants import ...              -> from batchpoint.sdk.constants import ...
    from azure.identity import DefaultAzureCredential  -> from batchpoint.sdk import DefaultAzureCredential
"""

from __future__ import annotations

import dataclasses
import io
import uuid
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from batchpoint.config import Settings
from tests.integration.http_folder import served_folder
from tests.integration.test_sdk_support import (
    Api,
    api_over,
    use_api,
    write_conda_file,
    write_custom_code,
    write_inputs,
    write_mlflow_model,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]


@pytest.fixture(scope="module")
def api(stack: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    # 127.0.0.1 is where the tests' "public" https inputs are served from.
    settings = dataclasses.replace(stack, input_url_private_hosts="127.0.0.1")
    with api_over(settings, tmp_path_factory.mktemp("api")) as served:
        yield served


@pytest.fixture
def project(api: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A user's project folder: model/, scoring/, env/conda.yml, incoming/ — and the API configured."""
    use_api(monkeypatch, api, tmp_path / "home")
    write_mlflow_model(tmp_path / "model")
    write_custom_code(tmp_path / "scoring")
    write_conda_file(tmp_path / "env" / "conda.yml")
    write_inputs(tmp_path / "incoming", files=4, rows=5)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_azure_shaped_code_runs_with_only_imports_changed(project: Path) -> None:
    from batchpoint.sdk import DefaultAzureCredential, Input, MLClient
    from batchpoint.sdk.constants import AssetTypes, BatchDeploymentOutputAction
    from batchpoint.sdk.entities import (
        AmlCompute,
        BatchDeployment,
        BatchEndpoint,
        BatchRetrySettings,
        CodeConfiguration,
        Environment,
        Model,
        ModelBatchDeployment,
        ModelBatchDeploymentSettings,
    )

    ml_client = MLClient(DefaultAzureCredential(), "my-subscription", "my-resource-group", "my-workspace")
    suffix = uuid.uuid4().hex[:6]

    risk_model = ml_client.models.create_or_update(
        Model(
            name=f"clinic-risk-{suffix}", path="model", type=AssetTypes.MLFLOW_MODEL, description="Risk of readmission"
        )
    )
    assert risk_model.version == "1"

    endpoint = BatchEndpoint(name=f"clinic-risk-{suffix}", description="Nightly readmission risk for new records")
    ml_client.batch_endpoints.begin_create_or_update(endpoint).result()

    if not any(c.name == "night-pool" for c in ml_client.compute.list()):
        ml_client.compute.begin_create_or_update(
            AmlCompute(name="night-pool", min_instances=0, max_instances=4)
        ).result()

    no_code = ModelBatchDeployment(
        name="risk-mlflow",
        endpoint_name=endpoint.name,
        model=risk_model,
        compute="night-pool",
        settings=ModelBatchDeploymentSettings(
            instance_count=2,
            max_concurrency_per_instance=1,
            mini_batch_size=2,
            output_action=BatchDeploymentOutputAction.APPEND_ROW,
            output_file_name="predictions.csv",
            retry_settings=BatchRetrySettings(max_retries=2, timeout=120),
            logging_level="info",
        ),
    )
    ml_client.batch_deployments.begin_create_or_update(no_code).result()

    scripted = BatchDeployment(
        name="risk-scripted",
        endpoint_name=endpoint.name,
        model=f"azureml:{risk_model.name}@latest",
        code_configuration=CodeConfiguration(code="scoring", scoring_script="batch_driver.py"),
        environment=Environment(name=f"risk-env-{suffix}", conda_file="env/conda.yml"),
        compute="night-pool",
        instance_count=1,
        max_concurrency_per_instance=2,
        mini_batch_size=3,
        output_action=BatchDeploymentOutputAction.APPEND_ROW,
        output_file_name="scored.csv",
        retry_settings=BatchRetrySettings(max_retries=1, timeout=60),
    )
    ml_client.batch_deployments.begin_create_or_update(scripted).result()
    stored = ml_client.batch_deployments.get(name="risk-scripted", endpoint_name=endpoint.name)
    assert stored.code_configuration.scoring_script == "batch_driver.py"
    assert str(stored.code_configuration.code).startswith("s3://")

    endpoint = ml_client.batch_endpoints.get(endpoint.name)
    endpoint.defaults.deployment_name = no_code.name
    ml_client.batch_endpoints.begin_create_or_update(endpoint).result()
    assert ml_client.batch_endpoints.get(endpoint.name).defaults.deployment_name == "risk-mlflow"

    job = ml_client.batch_endpoints.invoke(
        endpoint_name=endpoint.name, input=Input(type=AssetTypes.URI_FOLDER, path="incoming")
    )
    ml_client.jobs.stream(job.name)
    finished = ml_client.jobs.get(job.name)
    assert finished.status == "Completed"
    assert job.name in [j.name for j in ml_client.batch_endpoints.list_jobs(endpoint_name=endpoint.name)]

    ml_client.jobs.download(name=job.name, download_path=".", output_name="score")
    predictions = pd.read_csv(
        io.StringIO((project / "named-outputs" / "score" / "predictions.csv").read_text()),
        header=None,
        names=["row", "prediction", "file"],
    )
    assert len(predictions) == 4 * 5
    assert predictions["file"].nunique() == 4

    # The scripted deployment, named on the call: its conda environment is built (once), its script
    # runs in it, and its rows come back in Azure's custom-script form (space-separated, no header).
    scripted_job = ml_client.batch_endpoints.invoke(
        endpoint_name=endpoint.name,
        deployment_name="risk-scripted",
        input=Input(type=AssetTypes.URI_FOLDER, path="incoming"),
    )
    ml_client.jobs.stream(scripted_job.name)
    assert ml_client.jobs.get(scripted_job.name).status == "Completed"
    ml_client.jobs.download(name=scripted_job.name, download_path="scripted", output_name="score")
    scored = project / "scripted" / "named-outputs" / "score"
    rows = (scored / "scored.csv").read_text().splitlines()
    assert len(rows) == 4 * 5
    # age chol thalach file prediction
    assert {len(row.split(" ")) for row in rows} == {5}
    assert {row.split(" ")[3] for row in rows} == {f"heart-unlabeled-{i}.csv" for i in range(4)}
    assert "no errors" in (scored / "logs" / "user" / "job_error.txt").read_text()
    assert "status: Completed" in (scored / "logs" / "user" / "job_result.txt").read_text()


def test_azure_notebook_forms_run_too(project: Path) -> None:
    """What Azure notebooks also do: pick a credential by trying get_token, set ``endpoint.defaults``
    as a dict, invoke a just-created endpoint on a public URL (folder and file) and on a local file."""
    from batchpoint.sdk import DefaultAzureCredential, Input, InteractiveBrowserCredential, MLClient
    from batchpoint.sdk.constants import AssetTypes
    from batchpoint.sdk.entities import BatchEndpoint, Model, ModelBatchDeployment, ModelBatchDeploymentSettings

    try:
        credential = DefaultAzureCredential()
        credential.get_token("https://management.azure.com/.default")
    except Exception:
        credential = InteractiveBrowserCredential()
    ml_client = MLClient(credential, "my-subscription", "my-resource-group", "my-workspace")
    suffix = uuid.uuid4().hex[:6]
    model = ml_client.models.create_or_update(Model(name=f"nb-risk-{suffix}", path="model", type="mlflow_model"))
    endpoint = BatchEndpoint(name=f"nb-risk-{suffix}")
    ml_client.batch_endpoints.begin_create_or_update(endpoint).result()
    deployment = ModelBatchDeployment(
        name="nb-mlflow",
        endpoint_name=endpoint.name,
        model=model,
        settings=ModelBatchDeploymentSettings(mini_batch_size=2, retry_settings={"max_retries": 1, "timeout": 120}),
    )
    ml_client.batch_deployments.begin_create_or_update(deployment).result()

    endpoint = ml_client.batch_endpoints.get(endpoint.name)
    endpoint.defaults = {}
    endpoint.defaults["deployment_name"] = deployment.name
    ml_client.batch_endpoints.begin_create_or_update(endpoint).result()
    assert ml_client.batch_endpoints.get(endpoint.name).defaults.deployment_name == "nb-mlflow"

    with served_folder(project) as base:
        inputs = {
            "folder": Input(type=AssetTypes.URI_FOLDER, path=f"{base}/incoming/"),
            "file": Input(type=AssetTypes.URI_FILE, path=f"{base}/incoming/heart-unlabeled-0.csv"),
            "local": Input(type=AssetTypes.URI_FILE, path="incoming/heart-unlabeled-1.csv"),
        }
        jobs = {k: ml_client.batch_endpoints.invoke(endpoint_name=endpoint.name, input=i) for k, i in inputs.items()}
    # The server is gone: the inputs were copied in at invoke, the jobs score the copies.
    for kind, job in jobs.items():
        ml_client.jobs.stream(job.name)
        assert ml_client.jobs.get(job.name).status == "Completed", kind
        ml_client.jobs.download(name=job.name, download_path=kind, output_name="score")
        lines = (project / kind / "named-outputs" / "score" / "predictions.csv").read_text().splitlines()
        assert len(lines) == (4 * 5 if kind == "folder" else 5), kind
