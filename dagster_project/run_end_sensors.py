"""Run-status sensors: a job row ends when its Dagster run ends FAILURE or CANCELED.

A scoring step records how its job ended, but a run whose worker was killed (or that timed out
starting, or was failed by run monitoring after a crash) never gets that far, and its job row
would say Running forever (and ``job stream`` would wait forever). Dagster records every run's end
in its event log; these sensors read it from their cursor, so an end that happened while the
daemon was down is still seen when it is back. A job that already ended is left as it is.
"""

from __future__ import annotations

import dagster as dg

from dagster_project.platform_resource import Platform

FAILED_SENSOR = "jobs_of_failed_runs"
CANCELED_SENSOR = "jobs_of_canceled_runs"
JOB_TAG = "batchpoint/job"
_WHY_CHARS = 500


def build_run_end_sensors(platform: Platform) -> list[dg.SensorDefinition]:
    """The two sensors (failed runs, canceled runs) over every job of this code location."""
    interval = platform.settings.sensor_interval_seconds

    @dg.run_failure_sensor(
        name=FAILED_SENSOR,
        minimum_interval_seconds=interval,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Marks the job rows of a failed run Failed when its step could not (the run crashed).",
    )
    def jobs_of_failed_runs(context: dg.RunFailureSensorContext) -> None:
        why = context.failure_event.message or ""
        _end_jobs(context, platform, "FAILURE", why)

    @dg.run_status_sensor(
        run_status=dg.DagsterRunStatus.CANCELED,
        name=CANCELED_SENSOR,
        minimum_interval_seconds=interval,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Marks the job rows of a canceled run Canceled when its step could not.",
    )
    def jobs_of_canceled_runs(context: dg.RunStatusSensorContext) -> None:
        _end_jobs(context, platform, "CANCELED", context.dagster_event.message or "")

    return [jobs_of_failed_runs, jobs_of_canceled_runs]


def _end_jobs(context: dg.RunStatusSensorContext, platform: Platform, status: str, why: str) -> None:
    # An error here (registry unreachable) fails the tick, and the sensor reads this run again.
    run = context.dagster_run
    first_line = why.strip().splitlines()[0] if why.strip() else ""
    ended = platform.workspace.jobs.record_run_ended(
        run.run_id, status, job_name=run.tags.get(JOB_TAG), why=first_line[:_WHY_CHARS]
    )
    for job in ended:
        context.log.warning(f"job {job.name} is {job.status.value}: {job.error}")
