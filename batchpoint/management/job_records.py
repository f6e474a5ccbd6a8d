"""Job rows: reading them as ``JobInfo`` and the status/progress updates the Dagster layer records.

A job that ended (Completed, Failed, Canceled) does not change any more: a run that finishes after
its job was canceled cannot mark it Completed. A job whose run ended without its step recording
the end (the run worker was killed, the run never started) is ended by ``end_with_run``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from batchpoint.errors import NotFoundError, SpecError
from batchpoint.registry.tables import jobs
from batchpoint.registry.timestamps import aware, utc_now
from batchpoint.specs.job import JobInfo, JobInput, JobProgress, JobStatus, JobTrigger

ENDED = [s.value for s in JobStatus if s.ended]


def job_info(row: sa.Row[Any], dagster_url: str) -> JobInfo:
    """The ``JobInfo`` of a ``bp_jobs`` row."""
    spec = json.loads(row.spec)
    run_id = row.dagster_run_id
    return JobInfo(
        name=row.name,
        endpoint_name=row.endpoint_name,
        deployment_name=row.deployment_name,
        trigger=JobTrigger(row.trigger),
        status=JobStatus(row.status),
        inputs={k: JobInput.model_validate(v) for k, v in spec.get("inputs", {}).items()},
        output_uri=row.output_uri,
        progress=JobProgress.model_validate(json.loads(row.progress)),
        error=row.error,
        created_at=aware(row.created_at) or utc_now(),
        started_at=aware(row.started_at),
        ended_at=aware(row.ended_at),
        dagster_run_id=run_id,
        studio_url=f"{dagster_url.rstrip('/')}/runs/{run_id}" if run_id else None,
    )


def load(conn: sa.Connection, name: str) -> sa.Row[Any]:
    """The row of job ``name``; ``NotFoundError`` naming it otherwise."""
    row = conn.execute(sa.select(jobs).where(jobs.c.name == name)).first()
    if row is None:
        raise NotFoundError("job", name, "list an endpoint's jobs with `batchpoint batch-deployment list-jobs`")
    return row


def progress_json(progress: JobProgress | Mapping[str, int] | None) -> str | None:
    """Progress as stored; ``None`` when not given."""
    if progress is None:
        return None
    value = progress if isinstance(progress, JobProgress) else JobProgress.parse(dict(progress), where="progress")
    return value.model_dump_json()


def update_unless_ended(conn: sa.Connection, name: str, values: dict[str, Any]) -> bool:
    """Apply ``values`` to job ``name`` unless it ended; whether it was applied."""
    load(conn, name)
    done = conn.execute(jobs.update().where((jobs.c.name == name) & jobs.c.status.not_in(ENDED)).values(**values))
    return bool(done.rowcount)


def finished_values(
    status: JobStatus, output_uri: str | None, error: str | None, progress: JobProgress | Mapping[str, int] | None
) -> dict[str, Any]:
    """The columns ``record_finished`` sets."""
    if not status.ended:
        raise SpecError("status", f"got {status.value!r}", "Completed, Failed, Canceled or Failed-check")
    values: dict[str, Any] = {"status": status.value, "ended_at": utc_now(), "error": error}
    if output_uri is not None:
        values["output_uri"] = output_uri
    stored = progress_json(progress)
    if stored is not None:
        values["progress"] = stored
    return values


def end_with_run(
    conn: sa.Connection, dagster_run_id: str, run_status: str, job_name: str | None, why: str
) -> list[str]:
    """End the jobs of a Dagster run that ended ``run_status`` (FAILURE, CANCELED) but did not end them.

    The step records how its job ended, but a run whose worker was killed, or that never started,
    never gets that far: the run-status sensors call this for every run that ended so. The jobs
    are those recording ``dagster_run_id``, and ``job_name`` (an invoke job still Preparing when
    its run failed to start). A CANCELED run leaves them Canceled, any other end Failed, with a
    reason saying the run ended without finishing the job. Returns their names.
    """
    status = JobStatus.CANCELED if run_status == "CANCELED" else JobStatus.FAILED
    error = f"the Dagster run {dagster_run_id} ended {run_status} without finishing the job"
    match = jobs.c.dagster_run_id == dagster_run_id
    if job_name:
        match = match | (jobs.c.name == job_name)
    open_jobs = match & jobs.c.status.not_in(ENDED)
    names = [row.name for row in conn.execute(sa.select(jobs.c.name).where(open_jobs))]
    if names:
        values = {"status": status.value, "ended_at": utc_now(), "error": error + (f": {why}" if why else "")}
        conn.execute(jobs.update().where(open_jobs).values(**values))
    return sorted(names)
