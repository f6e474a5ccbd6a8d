"""The run-status sensors over a real Dagster instance and registry: a job whose run ended without
its step recording the end (the worker was killed) ends with the run."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.events import DagsterEventType

from batchpoint.config import Settings
from batchpoint.registry.store import Registry
from batchpoint.specs.deployment import BatchDeployment
from batchpoint.specs.endpoint import BatchEndpoint
from batchpoint.specs.job import JobInput, JobStatus
from dagster_project.definitions import build_definitions
from dagster_project.platform_resource import Platform
from dagster_project.run_end_sensors import CANCELED_SENSOR, FAILED_SENSOR


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[Platform]:
    settings = dataclasses.replace(Settings(), data_dir=tmp_path)
    registry = Registry(settings.registry)
    registry.create_or_update_endpoint(BatchEndpoint.parse({"name": "sales"}))
    registry.create_or_update_deployment(
        BatchDeployment.parse({"name": "forecast", "endpoint_name": "sales", "model": "models:/m/1"})
    )
    registry.close()
    yield Platform(settings)


def _ended_run(instance: dg.DagsterInstance, status: dg.DagsterRunStatus) -> tuple[dg.DagsterRun, dg.DagsterEvent]:
    run = instance.add_run(dg.DagsterRun(job_name="score_sales", status=dg.DagsterRunStatus.STARTED))
    if status is dg.DagsterRunStatus.FAILURE:
        instance.report_run_failed(run, "Run execution process for it was terminated by signal 9 (SIGKILL).")
        kind = DagsterEventType.RUN_FAILURE
    else:
        instance.report_run_canceled(run, "Run canceled from the Dagster UI.")
        kind = DagsterEventType.RUN_CANCELED
    (entry,) = instance.all_logs(run.run_id, of_type=kind)
    assert entry.dagster_event is not None
    return run, entry.dagster_event


@pytest.mark.parametrize(
    ("sensor", "status", "job_status"),
    [
        (FAILED_SENSOR, dg.DagsterRunStatus.FAILURE, JobStatus.FAILED),
        (CANCELED_SENSOR, dg.DagsterRunStatus.CANCELED, JobStatus.CANCELED),
    ],
)
def test_a_running_job_ends_with_its_run(
    platform: Platform, sensor: str, status: dg.DagsterRunStatus, job_status: JobStatus
) -> None:
    defs = build_definitions(platform)
    with dg.instance_for_test() as instance:
        run, event = _ended_run(instance, status)
        job = platform.workspace.jobs.record_data_arrival_job(
            "sales",
            "forecast",
            partition="2026-11",
            inputs={"input": JobInput(path="s3://landing/sales/2026-11/")},
            dagster_run_id=run.run_id,
        )
        context = dg.build_run_status_sensor_context(
            sensor_name=sensor, dagster_event=event, dagster_instance=instance, dagster_run=run
        )
        definition = defs.resolve_sensor_def(sensor)
        definition(context.for_run_failure() if status is dg.DagsterRunStatus.FAILURE else context)  # type: ignore[operator]
    ended = platform.workspace.jobs.get(job.name)
    assert ended.status is job_status
    assert ended.error is not None and ended.error.startswith(
        f"the Dagster run {run.run_id} ended {status.value} without finishing the job: Run "
    )
