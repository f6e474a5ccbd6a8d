"""The Workspace on the real embedded stack: MLflow-validated deployments, code in S3, invoke's outbox row."""

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from batchpoint.config import Settings
from batchpoint.errors import SpecError
from batchpoint.management.workspace import Workspace
from batchpoint.outputs.layout import JOB_ERROR_LOG, JOB_PROGRESS_LOG
from batchpoint.registry.store import Registry
from batchpoint.registry.tables import outbox
from batchpoint.specs.compute import ComputeSpec
from batchpoint.specs.data_asset import DataAssetSpec
from batchpoint.specs.deployment import BatchDeployment
from batchpoint.specs.endpoint import BatchEndpoint
from batchpoint.specs.environment import EnvironmentSpec
from batchpoint.specs.job import InvocationMessage, InvokeRequest, JobStatus
from batchpoint.specs.model_asset import ModelSpec, ModelType
from tests.integration.test_model_registry import mlflow_folder

pytestmark = pytest.mark.integration


@pytest.fixture
def ws(stack: Settings, tmp_path: Path) -> Iterator[Workspace]:
    # Its own registry database: the stack's relay and sensor must not act on these test jobs.
    settings = dataclasses.replace(stack, registry_url=f"sqlite:///{tmp_path / 'registry.db'}")
    with Workspace(settings, registry=Registry(settings.registry)) as workspace:
        yield workspace


def test_deployment_pins_references_and_stores_code(ws: Workspace, tmp_path: Path, unique_name: str) -> None:
    model = unique_name
    ws.models.create(ModelSpec(name=model, type=ModelType.MLFLOW_MODEL), mlflow_folder(tmp_path / "m1"))
    ws.models.create(ModelSpec(name=model, type=ModelType.MLFLOW_MODEL), mlflow_folder(tmp_path / "m2"))
    ws.environments.create_or_update(EnvironmentSpec.parse({"name": "sk-env", "pip_requirements": ["pandas"]}))
    ws.compute.create_or_update(ComputeSpec.parse({"name": "cpu-cluster", "max_instances": 2}))
    ws.batch_endpoints.create_or_update(BatchEndpoint.parse({"name": "sales-forecast"}))
    code = tmp_path / "code"
    (code / "__pycache__").mkdir(parents=True)
    (code / "batch_driver.py").write_text("def init():\n    pass\n\ndef run(mini_batch):\n    return mini_batch\n")
    (code / "__pycache__" / "batch_driver.cpython-311.pyc").write_bytes(b"cache")
    spec = {
        "name": "custom",
        "endpoint_name": "sales-forecast",
        "model": f"azureml:{model}@latest",
        "environment": "azureml:sk-env@latest",
        "compute": "azureml:cpu-cluster",
        "code_configuration": {"code": str(code), "scoring_script": "batch_driver.py"},
    }
    stored = ws.batch_deployments.create_or_update(BatchDeployment.parse(spec))
    assert (stored.model.uri, stored.environment, stored.compute) == (
        f"models:/{model}/2",
        "azureml:sk-env:1",
        "azureml:cpu-cluster",
    )
    assert ws.batch_deployments.get("sales-forecast", "custom") == stored
    assert stored.code_configuration is not None
    uri = stored.code_configuration.code
    assert uri.startswith(f"s3://{ws.settings.output_bucket}/code/sales-forecast/custom/") and uri.endswith("/")
    prefix = uri.removeprefix(f"s3://{ws.settings.output_bucket}/")
    assert [o.key.removeprefix(prefix) for o in ws.store.list(ws.settings.output_bucket, prefix)] == ["batch_driver.py"]
    # Same folder, same digest: re-applying uploads to the same place.
    again = ws.batch_deployments.create_or_update(BatchDeployment.parse({**spec, "model": f"models:/{model}/1"}))
    assert again.code_configuration == stored.code_configuration and again.model.version == "1"


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"model": "azureml:no-such-model@latest"}, r"^model: models:/no-such-model@latest is not a registered"),
        ({"environment": "azureml:ghost-env:3"}, r"^environment: azureml:ghost-env:3 refers to no registered"),
        ({"compute": "gpu-cluster"}, r"^compute: gpu-cluster refers to no registered compute"),
        (
            {"code_configuration": {"code": "/no/such/folder", "scoring_script": "score.py"}},
            r"^code_configuration\.code: /no/such/folder is not a folder",
        ),
    ],
)
def test_deployment_with_unknown_reference_names_the_field(
    ws: Workspace, tmp_path: Path, unique_name: str, change: dict[str, object], match: str
) -> None:
    ws.models.create(ModelSpec(name=unique_name, type=ModelType.MLFLOW_MODEL), mlflow_folder(tmp_path / "m"))
    ws.batch_endpoints.create_or_update(BatchEndpoint.parse({"name": "sales-forecast"}))
    spec = {"name": "dpl", "endpoint_name": "sales-forecast", "model": f"models:/{unique_name}/1", **change}
    with pytest.raises(SpecError, match=match):
        ws.batch_deployments.create_or_update(BatchDeployment.parse(spec))
    assert ws.batch_deployments.list("sales-forecast") == []


def test_deployment_may_not_ask_for_more_instances_than_its_compute(
    ws: Workspace, tmp_path: Path, unique_name: str
) -> None:
    ws.models.create(ModelSpec(name=unique_name, type=ModelType.MLFLOW_MODEL), mlflow_folder(tmp_path / "m"))
    ws.compute.create_or_update(ComputeSpec.parse({"name": "small-pool", "max_instances": 2}))
    ws.batch_endpoints.create_or_update(BatchEndpoint.parse({"name": "sales-forecast"}))
    spec = {"name": "dpl", "endpoint_name": "sales-forecast", "model": f"models:/{unique_name}/1"}
    with pytest.raises(SpecError, match=r"^resources\.instance_count: 3 is more than compute 'small-pool' allows"):
        ws.batch_deployments.create_or_update(
            BatchDeployment.parse({**spec, "compute": "small-pool", "resources": {"instance_count": 3}})
        )
    fits = ws.batch_deployments.create_or_update(
        BatchDeployment.parse({**spec, "compute": "small-pool", "resources": {"instance_count": 2}})
    )
    assert fits.resources.instance_count == 2


def test_invoke_on_real_s3_writes_the_outbox_payload(ws: Workspace, tmp_path: Path, unique_name: str) -> None:
    bucket = unique_name
    ws.store.ensure_bucket(bucket)
    ws.store.put_bytes(bucket, "sales/2026-01/part-1.csv", b"a,b\n1,2\n")
    ws.store.put_bytes(bucket, "sales/2026-01/part-2.csv", b"a,b\n3,4\n")
    ws.models.create(ModelSpec(name=unique_name, type=ModelType.MLFLOW_MODEL), mlflow_folder(tmp_path / "m"))
    ws.batch_endpoints.create_or_update(BatchEndpoint.parse({"name": "sales-forecast"}))
    ws.batch_deployments.create_or_update(
        BatchDeployment.parse(
            {"name": "mlflow", "endpoint_name": "sales-forecast", "model": f"azureml:{unique_name}@latest"}
        )
    )
    ws.data.create_or_update(
        DataAssetSpec.parse({"name": "one-file", "type": "uri_file", "path": f"s3://{bucket}/sales/2026-01/part-2.csv"})
    )
    request = InvokeRequest.parse(
        {
            "inputs": {"input": {"path": f"s3://{bucket}/sales/2026-01"}, "extra": {"path": "azureml:one-file:1"}},
            "output_path": f"s3://{bucket}/out/",
            "error_threshold": 0,
        }
    )
    job = ws.jobs.invoke("sales-forecast", request)
    with ws.backends.registry.engine.connect() as conn:
        row = conn.execute(sa.select(outbox).where(outbox.c.key == job.name)).one()
    assert row.topic == ws.settings.invocations_topic
    message = InvocationMessage.model_validate_json(row.payload)
    assert (message.job_name, message.endpoint_name, message.deployment_name) == (job.name, "sales-forecast", "mlflow")
    assert {k: (v.type.value, v.path) for k, v in message.inputs.items()} == {
        "input": ("uri_folder", f"s3://{bucket}/sales/2026-01/"),
        "extra": ("uri_file", f"s3://{bucket}/sales/2026-01/part-2.csv"),
    }
    assert (message.output_path, message.overrides.error_threshold) == (f"s3://{bucket}/out/", 0)

    # What the scoring layer would leave behind: outputs and logs are read from S3.
    version = f"out/versions/20261124T101500.000Z-{job.name[-8:]}/"
    ws.store.put_bytes(bucket, version + "predictions.csv", b"1.5,part-1.csv\n")
    ws.store.put_bytes(bucket, version + JOB_PROGRESS_LOG, b"2 of 2 mini-batches processed\n")
    ws.store.put_bytes(bucket, version + JOB_ERROR_LOG, b"no errors\n")
    ws.jobs.record_finished(job.name, status=JobStatus.COMPLETED, output_uri=f"s3://{bucket}/out/")
    assert sorted(o.key.removeprefix(version) for o in ws.jobs.outputs(job.name)) == [
        JOB_ERROR_LOG,
        JOB_PROGRESS_LOG,
        "predictions.csv",
    ]
    logs = ws.jobs.logs(job.name)
    assert logs.index("2 of 2 mini-batches") < logs.index("no errors")
