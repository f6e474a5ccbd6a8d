"""Invoking an endpoint on the real embedded stack: facade → outbox → relay → Kafka → sensor → Dagster → job row.

Checks the issue's contract for invoke: the job goes Preparing → Running → Completed with one
prediction per input row in its own output folder; ``deployment_name`` picks the deployment;
setting overrides reach the run (the manifest shows them); two invocations are two jobs with two
outputs; data-arrival runs are listed as jobs of the endpoint too.
"""

from __future__ import annotations

import io
import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pandas as pd
import pytest

from batchpoint.config import Settings
from batchpoint.demo.forecaster import train_and_register
from batchpoint.demo.sales_history import generate_history, scoring_rows, split_into_parts
from batchpoint.management.workspace import Workspace
from batchpoint.orchestration.dagster_graphql import DagsterClient
from batchpoint.specs.deployment import BatchDeployment
from batchpoint.specs.endpoint import BatchEndpoint
from batchpoint.specs.job import InvokeRequest, JobInfo, JobStatus, JobTrigger
from batchpoint.specs.s3_uri import split_s3_uri
from batchpoint.storage.datastore import open_datastore
from batchpoint.storage.s3 import S3Store
from dagster_project.invocation_sensor import SENSOR_NAME

pytestmark = [
    pytest.mark.integration,
    pytest.mark.timeout(600),
    pytest.mark.filterwarnings("ignore:The ``noload`` loader strategy is deprecated"),
]

MONTH = "2026-06"
FILES = 4


@dataclass
class Invoked:
    settings: Settings
    workspace: Workspace
    store: S3Store
    endpoint: str
    inputs_uri: str
    rows: int
    latencies: list[float] = field(default_factory=list)

    def invoke(self, **request: object) -> JobInfo:
        return self.workspace.jobs.invoke(
            self.endpoint, InvokeRequest.model_validate({"inputs": {"input": {"path": self.inputs_uri}}, **request})
        )

    def wait(self, job: JobInfo, timeout: float = 240) -> tuple[JobInfo, list[JobStatus]]:
        """Poll the job row until it ends; the statuses seen on the way, in order."""
        seen = [job.status]
        deadline = time.monotonic() + timeout
        while not job.status.ended:
            assert time.monotonic() < deadline, f"job {job.name} still {job.status} after {timeout} s"
            time.sleep(0.1)
            job = self.workspace.jobs.get(job.name)
            if job.status != seen[-1]:
                seen.append(job.status)
        self.latencies.append((job.ended_at - job.created_at).total_seconds() if job.ended_at else float("nan"))
        return job, seen

    def manifest(self, job: JobInfo) -> dict[str, object]:
        (key,) = [o.key for o in self.workspace.jobs.outputs(job.name) if o.key.endswith("/manifest.json")]
        bucket, _ = split_s3_uri(job.output_uri or "")
        return json.loads(self.store.get_bytes(bucket, key))

    def predictions(self, job: JobInfo, file_name: str = "predictions.csv") -> pd.DataFrame:
        (key,) = [o.key for o in self.workspace.jobs.outputs(job.name) if o.key.endswith("/" + file_name)]
        bucket, _ = split_s3_uri(job.output_uri or "")
        raw = self.store.get_bytes(bucket, key)
        return pd.read_csv(io.BytesIO(raw), header=None, names=["row", "prediction", "file"])


@pytest.fixture(scope="module")
def invoked(stack: Settings) -> Iterator[Invoked]:
    name = f"inv-{uuid.uuid4().hex[:6]}"
    history = generate_history(products=20, months=30, start="2024-01", seed=5)
    model = train_and_register(history[history["month"] < MONTH], stack.mlflow_uri, f"{name}-model", seed=5)
    workspace = Workspace(stack)
    workspace.batch_endpoints.create_or_update(BatchEndpoint.parse({"name": name}))
    for deployment in ("blue", "green"):
        workspace.batch_deployments.create_or_update(
            BatchDeployment.parse(
                {
                    "name": deployment,
                    "endpoint_name": name,
                    "model": model.uri,
                    "settings": {"max_concurrency_per_instance": 2, "mini_batch_size": 2},
                }
            )
        )
    dagster = DagsterClient(stack.dagster_url)
    dagster.reload_location()
    deadline = time.monotonic() + 120
    while dagster.sensor_status(SENSOR_NAME) != "RUNNING":
        assert time.monotonic() < deadline, "the invocations sensor never started"
        time.sleep(1)
    store = open_datastore(stack)
    # Not under any data-arrival prefix: only an invocation scores these.
    folder = f"adhoc/{name}/"
    rows = scoring_rows(history, MONTH)
    for index, part in enumerate(split_into_parts(rows, FILES)):
        store.put_bytes(stack.landing_bucket, f"{folder}part-{index:03d}.csv", part.to_csv(index=False).encode())
    state = Invoked(stack, workspace, store, name, f"s3://{stack.landing_bucket}/{folder}", len(rows))
    yield state
    print(f"\ninvoke → Completed latencies (s): {[round(s, 2) for s in state.latencies]}")
    workspace.close()


def test_invoked_job_runs_to_completed_with_every_row_scored(invoked: Invoked) -> None:
    job = invoked.invoke()
    assert job.status is JobStatus.PREPARING
    assert job.trigger is JobTrigger.INVOKE
    assert job.deployment_name == "blue"
    job, seen = invoked.wait(job)

    assert job.status is JobStatus.COMPLETED, f"{job.status}: {job.error}"
    assert seen[-1] is JobStatus.COMPLETED
    assert seen == [s for s in (JobStatus.PREPARING, JobStatus.RUNNING, JobStatus.COMPLETED) if s in seen]
    assert job.dagster_run_id
    assert job.started_at is not None
    assert job.output_uri == f"s3://{invoked.settings.output_bucket}/{invoked.endpoint}/jobs/{job.name}/"
    assert (job.progress.files, job.progress.failed_items, job.progress.rows) == (FILES, 0, invoked.rows)
    assert len(invoked.predictions(job)) == invoked.rows
    names = {o.key.rsplit("/", 1)[-1] for o in invoked.workspace.jobs.outputs(job.name)}
    assert {"predictions.csv", "manifest.json", "job_result.txt", "latest.json"} <= names
    assert "Completed" in invoked.workspace.jobs.logs(job.name)


def test_deployment_name_picks_the_deployment(invoked: Invoked) -> None:
    job, _ = invoked.wait(invoked.invoke(deployment_name="green"))
    assert (job.status, job.deployment_name) == (JobStatus.COMPLETED, "green")
    deployment = invoked.manifest(job)["deployment"]
    assert isinstance(deployment, dict)
    assert deployment["name"] == "green"


def test_setting_overrides_reach_the_run(invoked: Invoked) -> None:
    job, _ = invoked.wait(invoked.invoke(mini_batch_size=3, output_file_name="scores.csv", instance_count=2))
    assert job.status is JobStatus.COMPLETED, job.error
    manifest = invoked.manifest(job)
    deployment = manifest["deployment"]
    assert isinstance(deployment, dict)
    assert deployment["instance_count"] == 2
    assert deployment["settings"]["mini_batch_size"] == 3
    assert deployment["settings"]["output_file_name"] == "scores.csv"
    assert job.progress.mini_batches == 2  # 4 files, 3 per mini-batch
    assert len(invoked.predictions(job, "scores.csv")) == invoked.rows


def test_two_invocations_are_two_jobs_with_two_outputs(invoked: Invoked) -> None:
    first, second = invoked.invoke(), invoked.invoke()
    assert first.name != second.name
    first, _ = invoked.wait(first)
    second, _ = invoked.wait(second)
    assert (first.status, second.status) == (JobStatus.COMPLETED, JobStatus.COMPLETED)
    assert first.output_uri != second.output_uri
    assert len(invoked.predictions(first)) == len(invoked.predictions(second)) == invoked.rows
    listed = {j.name for j in invoked.workspace.jobs.list(invoked.endpoint)}
    assert {first.name, second.name} <= listed


def test_explicit_output_path_is_where_the_job_writes(invoked: Invoked) -> None:
    folder = f"s3://{invoked.settings.output_bucket}/elsewhere/{uuid.uuid4().hex[:8]}/"
    job, _ = invoked.wait(invoked.invoke(output_path=folder))
    assert job.status is JobStatus.COMPLETED, job.error
    assert job.output_uri == folder
    assert len(invoked.predictions(job)) == invoked.rows


def test_data_arrival_runs_are_jobs_of_the_endpoint_too(stack: Settings) -> None:
    name = f"arr-{uuid.uuid4().hex[:6]}"
    history = generate_history(products=10, months=30, start="2024-01", seed=3)
    model = train_and_register(history[history["month"] < MONTH], stack.mlflow_uri, f"{name}-model", seed=3)
    with Workspace(stack) as workspace:
        workspace.batch_endpoints.create_or_update(
            BatchEndpoint.parse({"name": name, "data_arrival": {"prefix": f"{name}/", "start_month": "2024-01"}})
        )
        workspace.batch_deployments.create_or_update(
            BatchDeployment.parse({"name": "blue", "endpoint_name": name, "model": model.uri})
        )
        DagsterClient(stack.dagster_url).reload_location()
        month = datetime.now(UTC).strftime("%Y-%m")
        rows = scoring_rows(history, MONTH)
        store = open_datastore(stack)
        store.put_bytes(stack.landing_bucket, f"{name}/{month}/part.csv", rows.to_csv(index=False).encode())
        deadline = time.monotonic() + 240
        while True:
            jobs = [j for j in workspace.jobs.list(name) if j.status.ended]
            if jobs:
                break
            assert time.monotonic() < deadline, "no data-arrival job ended"
            time.sleep(0.5)
        (job,) = jobs
        assert (job.trigger, job.status, job.deployment_name) == (JobTrigger.DATA_ARRIVAL, JobStatus.COMPLETED, "blue")
        assert job.dagster_run_id
        assert job.progress.rows == len(rows)
        assert job.output_uri and job.output_uri.startswith(f"s3://{stack.output_bucket}/{name}/{month}/versions/")
        assert any(o.key.endswith("predictions.csv") for o in workspace.jobs.outputs(job.name))
