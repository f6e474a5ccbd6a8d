"""The Workspace facade over the registry on sqlite and on a real PostgreSQL database.

The object store is the in-memory fake of the ``ObjectStore`` port (the store is not what is tested
here); MLflow, S3 and Kafka-bound paths run against the real stack in ``test_workspace_stack.py``.
"""

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from batchpoint.config import Settings
from batchpoint.errors import ConflictError, NotFoundError, SpecError
from batchpoint.management.workspace import Workspace
from batchpoint.registry import outbox
from batchpoint.registry.store import Registry
from batchpoint.registry.tables import jobs
from batchpoint.specs.compute import ComputeSpec
from batchpoint.specs.data_asset import DataAssetSpec
from batchpoint.specs.deployment import BatchDeployment
from batchpoint.specs.endpoint import BatchEndpoint
from batchpoint.specs.environment import EnvironmentSpec
from batchpoint.specs.job import InvocationMessage, InvokeRequest, JobInput, JobStatus, JobTrigger
from batchpoint.storage.memory import MemoryStore
from tests.postgres import temporary_database

pytestmark = pytest.mark.integration
ENDPOINT = "sales-forecast"


@pytest.fixture(params=["sqlite", "postgres"])
def ws(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Workspace]:
    store = MemoryStore()
    store.ensure_bucket("landing")
    store.put_bytes("landing", "sales/2026-01/part-1.csv", b"a,b\n1,2\n")
    settings = Settings(data_dir=tmp_path)
    if request.param == "sqlite":
        with Workspace(settings, registry=Registry(f"sqlite:///{tmp_path / 'r.db'}"), store=store) as workspace:
            yield workspace
    else:
        with temporary_database() as url, Workspace(settings, registry=Registry(url), store=store) as workspace:
            yield workspace


def _with_deployments(ws: Workspace, *names: str) -> None:
    ws.batch_endpoints.create_or_update(BatchEndpoint.parse({"name": ENDPOINT}))
    for name in names:
        # Stored through the registry: MLflow-backed validation is tested on the real stack.
        ws.backends.registry.create_or_update_deployment(
            BatchDeployment.parse({"name": name, "endpoint_name": ENDPOINT, "model": "models:/sales/1"})
        )


def test_set_default_and_deletes_that_would_strand_an_endpoint(ws: Workspace) -> None:
    _with_deployments(ws, "first", "second")
    assert ws.batch_endpoints.get(ENDPOINT).defaults.deployment_name == "first"
    assert ws.batch_endpoints.set_default(ENDPOINT, "second").defaults.deployment_name == "second"
    with pytest.raises(ConflictError, match=r"defaults\.deployment_name=<other>"):
        ws.batch_deployments.delete(ENDPOINT, "second")
    with pytest.raises(NotFoundError, match="sales-forecast/ghost"):
        ws.batch_endpoints.set_default(ENDPOINT, "ghost")
    ws.batch_deployments.delete(ENDPOINT, "first")
    with pytest.raises(ConflictError, match=r"last of endpoint .*batch-endpoint delete --name sales-forecast"):
        ws.batch_deployments.delete(ENDPOINT, "second")
    ws.batch_endpoints.delete(ENDPOINT)
    assert ws.batch_endpoints.list() == []


def test_versioned_assets_latest_immutability_and_references(ws: Workspace) -> None:
    first = ws.environments.create_or_update(EnvironmentSpec.parse({"name": "sk", "pip_requirements": ["pandas"]}))
    second = ws.environments.create_or_update(EnvironmentSpec.parse({"name": "sk", "pip_requirements": ["numpy"]}))
    assert (first.version, second.version) == ("1", "2")
    assert ws.environments.get("sk").version == "2"
    assert ws.environments.get("sk", label="latest").version == "2"
    assert ws.environments.resolve("azureml:sk:1", "environment") == first
    assert ws.environments.create_or_update(first) == first  # same spec again: fine
    with pytest.raises(ConflictError, match="immutable"):
        ws.environments.create_or_update(first.model_copy(update={"description": "changed"}))
    with pytest.raises(SpecError, match=r"^environment: azureml:sk:9 refers to no registered environment"):
        ws.environments.resolve("azureml:sk:9", "environment")
    assert [e.version for e in ws.environments.list("sk")] == ["2", "1"]
    ws.environments.delete("sk", "2")
    assert [e.version for e in ws.environments.list()] == ["1"]

    data = ws.data.create_or_update(
        DataAssetSpec.parse({"name": "sales", "version": "2026.01", "path": "s3://landing/sales/"})
    )
    assert ws.data.resolve("azureml:sales@latest", "inputs.input.path") == data
    with pytest.raises(NotFoundError, match="data asset 'nope'"):
        ws.data.get("nope")

    ws.compute.create_or_update(ComputeSpec.parse({"name": "cpu-cluster", "max_instances": 4}))
    ws.compute.create_or_update(ComputeSpec.parse({"name": "cpu-cluster", "max_instances": 2}))
    assert ws.compute.resolve("azureml:cpu-cluster", "compute").max_instances == 2
    with pytest.raises(SpecError, match="computes have no versions"):
        ws.compute.resolve("azureml:cpu-cluster:1", "compute")
    ws.compute.delete("cpu-cluster")
    with pytest.raises(NotFoundError):
        ws.compute.delete("cpu-cluster")


def test_invoke_writes_job_and_outbox_message_together(ws: Workspace) -> None:
    _with_deployments(ws, "first", "second")
    ws.data.create_or_update(DataAssetSpec.parse({"name": "sales", "path": "s3://landing/sales/2026-01"}))
    request = InvokeRequest.parse(
        {"inputs": {"input": {"path": "azureml:sales@latest"}}, "deployment_name": "second", "mini_batch_size": 3}
    )
    job = ws.jobs.invoke(ENDPOINT, request)
    assert (job.status, job.trigger, job.deployment_name) == (JobStatus.PREPARING, JobTrigger.INVOKE, "second")
    assert job.inputs["input"].path == "s3://landing/sales/2026-01/"
    [message] = outbox.pending(ws.backends.registry.engine)
    assert (message.topic, message.key) == ("invocations", job.name)
    payload = InvocationMessage.model_validate_json(message.payload)
    assert payload.inputs == job.inputs
    assert payload.output_path == job.output_uri == f"s3://batchpoint/{ENDPOINT}/jobs/{job.name}/"
    assert payload.overrides.mini_batch_size == 3
    assert json.loads(message.payload)["deployment_name"] == "second"
    outbox.mark_sent(ws.backends.registry.engine, [message.id])
    assert outbox.pending(ws.backends.registry.engine) == []


@pytest.mark.parametrize(
    ("inputs", "match"),
    [
        ({"input": {"path": "s3://landing/nothing/"}}, r"inputs\.input\.path: no files under s3://landing/nothing/"),
        ({"data": {"type": "uri_file", "path": "s3://landing/sales/x.csv"}}, r"inputs\.data\.path: .* does not exist"),
        ({"input": {"path": "azureml:ghost:1"}}, r"inputs\.input\.path: azureml:ghost:1 refers to no registered"),
        ({"input": {"type": "mlflow_model", "path": "s3://landing/sales/"}}, r"inputs\.input\.type: .*uri_folder"),
    ],
)
def test_invoke_refuses_bad_inputs_and_writes_nothing(ws: Workspace, inputs: dict[str, object], match: str) -> None:
    _with_deployments(ws, "first")
    with pytest.raises(SpecError, match=match):
        ws.jobs.invoke(ENDPOINT, InvokeRequest.parse({"inputs": inputs}))
    with pytest.raises(NotFoundError, match="sales-forecast/ghost"):
        ws.jobs.invoke(ENDPOINT, InvokeRequest.parse({"inputs": inputs, "deployment_name": "ghost"}))
    assert ws.jobs.list() == []
    assert outbox.pending(ws.backends.registry.engine) == []


def test_job_lifecycle_as_the_dagster_layer_records_it(ws: Workspace) -> None:
    _with_deployments(ws, "first")
    request = InvokeRequest.parse({"inputs": {"input": {"path": "s3://landing/sales/"}}})
    job = ws.jobs.invoke(ENDPOINT, request)
    started = ws.jobs.record_started(job.name, dagster_run_id="run-1")
    assert (started.status, started.studio_url) == (JobStatus.RUNNING, "http://127.0.0.1:13000/runs/run-1")
    ws.jobs.record_progress(job.name, {"mini_batches": 2, "mini_batches_done": 1, "files": 2, "files_done": 1})
    assert ws.jobs.get(job.name).progress.files_done == 1
    done = ws.jobs.record_finished(job.name, status=JobStatus.FAILED, error="2 files failed")
    assert (done.status, done.error) == (JobStatus.FAILED, "2 files failed")
    assert done.ended_at is not None and done.started_at is not None and done.started_at <= done.ended_at
    # Ended jobs do not change again: a late success or a cancel leaves it Failed.
    assert ws.jobs.record_finished(job.name, status=JobStatus.COMPLETED).status is JobStatus.FAILED
    assert ws.jobs.cancel(job.name).status is JobStatus.FAILED

    second = ws.jobs.invoke(ENDPOINT, request)
    canceled = ws.jobs.cancel(second.name)  # no Dagster run yet: nothing to terminate
    assert (canceled.status, canceled.error) == (JobStatus.CANCELED, "canceled by user")
    assert ws.jobs.record_started(second.name, dagster_run_id="late").status is JobStatus.CANCELED

    arrival = ws.jobs.record_data_arrival_job(
        ENDPOINT, "first", partition="2026-01", inputs={"input": JobInput(path="s3://landing/sales/2026-01/")}
    )
    assert (arrival.trigger, arrival.status) == (JobTrigger.DATA_ARRIVAL, JobStatus.RUNNING)
    assert [j.name for j in ws.jobs.list(ENDPOINT)] == [arrival.name, second.name, job.name]
    assert [j.name for j in ws.jobs.list(ENDPOINT, "first", limit=1)] == [arrival.name]
    assert ws.jobs.outputs(job.name) == [] and ws.jobs.logs(job.name) == ""
    with pytest.raises(NotFoundError, match="job 'batchjob-none'"):
        ws.jobs.get("batchjob-none")
    # Deleting the endpoint deletes its deployments; its jobs stay.
    ws.batch_endpoints.delete(ENDPOINT)
    with ws.backends.registry.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(jobs)).scalar() == 3


def test_jobs_end_with_their_run_when_the_run_ended_without_them(ws: Workspace) -> None:
    _with_deployments(ws, "first")
    inputs = {"input": JobInput(path="s3://landing/sales/2026-01/")}
    killed = ws.jobs.record_data_arrival_job(ENDPOINT, "first", partition="2026-01", inputs=inputs, dagster_run_id="r1")
    done = ws.jobs.record_data_arrival_job(ENDPOINT, "first", partition="2026-01", inputs=inputs, dagster_run_id="r2")
    ws.jobs.record_finished(done.name, status=JobStatus.FAILED, error="3 files failed")
    request = InvokeRequest.parse({"inputs": {"input": {"path": "s3://landing/sales/"}}})
    never_started = ws.jobs.invoke(ENDPOINT, request)  # Preparing, no run id recorded yet

    (ended,) = ws.jobs.record_run_ended("r1", "FAILURE", why="Run execution process exited with code -9")
    assert (ended.name, ended.status) == (killed.name, JobStatus.FAILED)
    assert ended.error == (
        "the Dagster run r1 ended FAILURE without finishing the job: Run execution process exited with code -9"
    )
    assert ended.ended_at is not None
    # A job its step already ended keeps how it ended; a second report changes nothing.
    assert ws.jobs.record_run_ended("r2", "FAILURE") == []
    assert ws.jobs.get(done.name).error == "3 files failed"
    assert ws.jobs.record_run_ended("r1", "CANCELED") == []
    # An invoke job whose run was canceled before its step began is found by its name.
    (canceled,) = ws.jobs.record_run_ended("r3", "CANCELED", job_name=never_started.name)
    assert (canceled.status, canceled.error) == (
        JobStatus.CANCELED,
        "the Dagster run r3 ended CANCELED without finishing the job",
    )


def test_tokens_are_hashed_verified_and_revoked(ws: Workspace) -> None:
    token_id, secret = ws.tokens.create("ci")
    other_id, other = ws.tokens.create("laptop")
    assert ws.tokens.verify(secret) == token_id and ws.tokens.verify(other) == other_id
    assert ws.tokens.verify(secret + "x") is None
    with ws.backends.registry.engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT secret_hash FROM bp_api_tokens")).scalars().all()
    assert secret not in stored and all(len(h) == 64 for h in stored)
    ws.tokens.revoke(token_id)
    assert ws.tokens.verify(secret) is None and ws.tokens.verify(other) == other_id
    assert [(t.id, t.revoked_at is not None) for t in ws.tokens.list()] == [(token_id, True), (other_id, False)]
    with pytest.raises(NotFoundError, match="tok_missing"):
        ws.tokens.revoke("tok_missing")


def test_an_environment_or_compute_in_use_is_not_deleted(ws: Workspace) -> None:
    ws.environments.create_or_update(EnvironmentSpec.parse({"name": "sk", "pip_requirements": ["pandas"]}))
    ws.environments.create_or_update(EnvironmentSpec.parse({"name": "sk", "pip_requirements": ["numpy"]}))
    ws.compute.create_or_update(ComputeSpec.parse({"name": "cpu-cluster", "max_instances": 2}))
    ws.batch_endpoints.create_or_update(BatchEndpoint.parse({"name": ENDPOINT}))
    ws.backends.registry.create_or_update_deployment(
        BatchDeployment.parse(
            {
                "name": "scripted",
                "endpoint_name": ENDPOINT,
                "model": "models:/sales/1",
                "code_configuration": {"code": "s3://batchpoint/code/x/", "scoring_script": "score.py"},
                "environment": "azureml:sk:1",
                "compute": "azureml:cpu-cluster",
            }
        )
    )
    with pytest.raises(ConflictError, match=rf"environment sk:1 is used by deployment\(s\) {ENDPOINT}/scripted"):
        ws.environments.delete("sk", "1")
    with pytest.raises(ConflictError, match="environment sk is used"):
        ws.environments.delete("sk")
    ws.environments.delete("sk", "2")  # nobody runs in version 2
    with pytest.raises(ConflictError, match=rf"compute cpu-cluster is used by deployment\(s\) {ENDPOINT}/scripted"):
        ws.compute.delete("cpu-cluster")
    assert [e.version for e in ws.environments.list("sk")] == ["1"]
