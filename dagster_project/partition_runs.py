"""Runs of endpoint months that are still waiting or running, as the sensors see them in the instance.

Both the data-arrival and the reconciliation sensor look here before asking for a run, so a burst
of events never queues more than one run per month at a time.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

import dagster as dg

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

    @property
    def scores_into_latest(self) -> bool:
        """Whether the run scores the whole month with the default deployment and moves ``latest``.

        Not so for a re-score of failed files only or a backfill with another deployment that does
        not promote (tags from docs/backfills-and-versions.md): files they cover may still be
        missing from ``latest`` after them.
        """
        if "batchpoint/rescore" in self.tags:
            return False
        promote = self.tags.get("batchpoint/promote")
        return promote == "true" or (promote is None and "batchpoint/deployment" not in self.tags)


def runs_by_partition(
    instance: dg.DagsterInstance, statuses: Iterable[dg.DagsterRunStatus], job_names: Collection[str]
) -> dict[tuple[str, str], list[PartitionRun]]:
    """Partitioned runs of ``job_names`` with one of ``statuses``, keyed by ``(job name, partition)``.

    One query for all jobs: runs that have not ended are few, wherever they come from.
    """
    found: dict[tuple[str, str], list[PartitionRun]] = {}
    for record in instance.get_run_records(filters=dg.RunsFilter(statuses=list(statuses))):
        run = record.dagster_run
        partition = run.tags.get(PARTITION_TAG)
        if partition is None or run.job_name not in job_names:
            continue
        entry = PartitionRun(run.run_id, run.job_name, partition, run.status, dict(run.tags))
        found.setdefault((run.job_name, partition), []).append(entry)
    return found
