"""Runs of endpoint months that are still waiting or running, as the sensors see them in the instance.

Both the data-arrival and the reconciliation sensor look here before asking for a run, so a burst
of events never queues more than one run per month at a time. A STARTED run whose worker process
is gone (killed with the code server) is not counted: it will never end by itself, and until run
monitoring fails it, it must not keep its month from being scored.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass

import dagster as dg

from dagster_project.run_workers import check_worker

WAITING = (
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
)
"""Runs whose step has not begun: it will list the landing folder later, whatever lands before then."""
IN_FLIGHT = (*WAITING, dg.DagsterRunStatus.STARTED)
"""Runs that have not ended."""

PARTITION_TAG = "dagster/partition"


@dataclass(frozen=True)
class PartitionRun:
    """A run of one month of an endpoint's job."""

    run_id: str
    job_name: str
    partition: str
    status: dg.DagsterRunStatus
    tags: dict[str, str]
    start_time: float | None = None
    """When the run started (epoch seconds); ``None``: not yet."""

    @property
    def scores_into_latest(self) -> bool:
        """Whether the run scores the whole month with the default deployment and moves ``latest``.

        Not so for a re-score of failed files only or a backfill with another deployment that does
        not promote (tags from docs/backfills-and-versions.md): files they cover may still be
        missing from ``latest`` after them.
        """
        if self.tags.get("batchpoint/rescore") == "failed-files":
            return False
        promote = self.tags.get("batchpoint/promote")
        return promote == "true" or (promote is None and "batchpoint/deployment" not in self.tags)


def runs_by_partition(
    instance: dg.DagsterInstance,
    statuses: Iterable[dg.DagsterRunStatus],
    job_names: Collection[str],
    asset_jobs: Mapping[dg.AssetKey, str] | None = None,
    log: Callable[[str], None] | None = None,
) -> dict[tuple[str, str], list[PartitionRun]]:
    """Partitioned runs of ``job_names`` with one of ``statuses``, keyed by ``(job name, partition)``.

    A backfill's runs belong to Dagster's implicit asset job, not to the endpoint's: ``asset_jobs``
    (predictions asset key → the endpoint's job name) counts a run materialising that asset as a
    run of that job. One query for all jobs: runs that have not ended are few. STARTED runs whose
    worker is gone are left out (and told to ``log``).
    """
    found: dict[tuple[str, str], list[PartitionRun]] = {}
    for record in instance.get_run_records(filters=dg.RunsFilter(statuses=list(statuses))):
        run = record.dagster_run
        partition = run.tags.get(PARTITION_TAG)
        job = run.job_name if run.job_name in job_names else _asset_job(run, asset_jobs or {})
        if partition is None or job is None:
            continue
        if run.status is dg.DagsterRunStatus.STARTED:
            worker = check_worker(instance, run)
            if worker.gone:
                if log is not None:
                    log(f"{job} {partition}: run {run.run_id[:8]} is STARTED but {worker.reason}; not waiting for it")
                continue
        entry = PartitionRun(run.run_id, job, partition, run.status, dict(run.tags), record.start_time)
        found.setdefault((job, partition), []).append(entry)
    return found


def _asset_job(run: dg.DagsterRun, asset_jobs: Mapping[dg.AssetKey, str]) -> str | None:
    """The endpoint job whose predictions asset ``run`` materialises, if any."""
    for key in run.asset_selection or ():
        if key in asset_jobs:
            return asset_jobs[key]
    return None
