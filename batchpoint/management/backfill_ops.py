"""``Workspace.backfills``: re-score a range of an endpoint's months, and follow how far that got.

One mechanism (``docs/backfills-and-versions.md``): a Dagster asset partition backfill of the
endpoint's predictions asset, tagged with the deployment, whether to promote and what to re-score.
Nothing is stored in the registry: the backfill is Dagster's, each of its runs records its own job
(trigger ``backfill``), and ``get`` joins the two through the run id.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime

import sqlalchemy as sa

from batchpoint.errors import NotFoundError, SpecError, StackError
from batchpoint.management.backends import Backends
from batchpoint.management.backfill_months import months_in_range, months_with_failures
from batchpoint.management.job_records import job_info
from batchpoint.orchestration.backfill_graphql import BackfillRun, DagsterBackfill, launch_asset_backfill, read_backfill
from batchpoint.orchestration.run_tags import (
    DEPLOYMENT_TAG,
    ENDPOINT_TAG,
    PROMOTE_TAG,
    RESCORE_FAILED_FILES,
    RESCORE_TAG,
    dagster_name,
    parse_promote,
    predictions_asset_path,
    scoring_tags,
)
from batchpoint.registry.tables import jobs
from batchpoint.specs.backfill import BackfillInfo, BackfillMonth, BackfillStatus, MonthStatus
from batchpoint.specs.endpoint import BatchEndpoint
from batchpoint.specs.job import JobInfo

# Dagster's backfill ids (dagster._core.utils.make_new_backfill_id): another id is answered as not
# found without a call, so a mistyped id needs no orchestrator to be told so.
_BACKFILL_ID = re.compile(r"^[a-z]{8}$")
# Dagster run statuses as a month's status (CANCELING: the run is still there, ending).
_RUN_STATUS = {
    "QUEUED": MonthStatus.PREPARING,
    "NOT_STARTED": MonthStatus.PREPARING,
    "MANAGED": MonthStatus.PREPARING,
    "STARTING": MonthStatus.PREPARING,
    "STARTED": MonthStatus.RUNNING,
    "CANCELING": MonthStatus.RUNNING,
    "SUCCESS": MonthStatus.COMPLETED,
    "FAILURE": MonthStatus.FAILED,
    "CANCELED": MonthStatus.CANCELED,
}


class BackfillOperations:
    """Backfills of endpoints' monthly predictions (batchpoint's own; Azure has none)."""

    def __init__(self, backends: Backends) -> None:
        self._b = backends

    def start(
        self,
        endpoint: str,
        from_month: str,
        to_month: str,
        deployment_name: str | None = None,
        failed_only: bool = False,
        promote: bool | None = None,
        compare: bool = False,
    ) -> BackfillInfo:
        """Launch a backfill of ``from_month``..``to_month`` (``YYYY-MM``, both included); it runs in Dagster.

        ``deployment_name`` defaults to the endpoint's default deployment; ``promote`` (move
        ``latest``) defaults to true for the default deployment and false for another one.
        ``failed_only`` keeps the months whose newest version failed or tolerated failed items and
        re-scores only their failed files. Raises ``NotFoundError`` for an unknown endpoint,
        ``SpecError`` naming ``from``/``to``/``deployment_name``, ``ConflictError`` when there is
        nothing to re-score, ``StackError`` when Dagster is down or refuses. ``compare`` diffs each
        month's new version against its ``latest`` (``batch-endpoint compare``).
        """
        spec = self._b.registry.get_endpoint(endpoint)
        months = months_in_range(spec, from_month, to_month)
        deployment = self._deployment(spec, deployment_name)
        if failed_only:
            months = months_with_failures(self._b.store, self._b.settings.output_bucket, endpoint, months)
        if promote is None:
            promote = deployment == spec.defaults.deployment_name
        path = predictions_asset_path(endpoint)
        self._ensure_asset(path, endpoint)
        tags = scoring_tags(
            endpoint=endpoint, deployment=deployment, promote=promote, failed_only=failed_only, compare=compare
        )
        span = months[0] if len(months) == 1 else f"{months[0]}..{months[-1]}"
        kind = " (failed files)" if failed_only else " (compared with latest)" if compare else ""
        title = f"{endpoint} {span} with {deployment}{kind}"
        backfill_id = launch_asset_backfill(self._b.dagster, path, months, tags=tags, title=title)
        return BackfillInfo(
            id=backfill_id,
            endpoint_name=endpoint,
            deployment_name=deployment,
            promote=promote,
            failed_only=failed_only,
            status=BackfillStatus.RUNNING,
            dagster_status="REQUESTED",
            months=[BackfillMonth(month=m, status=MonthStatus.NOT_STARTED) for m in months],
            created_at=datetime.now(UTC),
            studio_url=self._studio_url(backfill_id),
        )

    def get(self, backfill_id: str) -> BackfillInfo:
        """The backfill with each month's run status and job; ``NotFoundError`` for an unknown id."""
        if not _BACKFILL_ID.match(backfill_id):
            raise NotFoundError("backfill", backfill_id, "backfill ids are 8 lowercase letters, as Dagster makes them")
        found = read_backfill(self._b.dagster, backfill_id)
        endpoint = found.tags.get(ENDPOINT_TAG) or self._endpoint_of(found)
        newest = found.newest_runs()
        recorded = self._jobs_of(newest.values())
        months = [_month(m, newest.get(m), recorded) for m in sorted(found.partitions)]
        return BackfillInfo(
            id=found.backfill_id,
            endpoint_name=endpoint,
            deployment_name=found.tags.get(DEPLOYMENT_TAG),
            promote=parse_promote(found.tags.get(PROMOTE_TAG)),
            failed_only=found.tags.get(RESCORE_TAG) == RESCORE_FAILED_FILES,
            status=_overall(found, months),
            dagster_status=found.status,
            months=months,
            created_at=_time(found.created),
            ended_at=_time(found.ended),
            studio_url=self._studio_url(found.backfill_id),
        )

    def _deployment(self, endpoint: BatchEndpoint, name: str | None) -> str:
        names = [d.name for d in self._b.registry.list_deployments(endpoint.name)]
        choices = f"one of the endpoint's deployments: {', '.join(names)}" if names else "a deployment (it has none)"
        if name is None:
            if endpoint.defaults.deployment_name is None:
                raise SpecError("deployment_name", f"endpoint {endpoint.name!r} has no default deployment", choices)
            return endpoint.defaults.deployment_name
        if name not in names:
            raise SpecError("deployment_name", f"{name!r} is not a deployment of endpoint {endpoint.name!r}", choices)
        return name

    def _ensure_asset(self, path: list[str], endpoint: str) -> None:
        """Reload Dagster's definitions when they do not hold the endpoint's asset yet (it was just created)."""
        client = self._b.dagster
        if client.asset_defined(path):
            return
        client.reload_location()
        if not client.asset_defined(path):
            error = client.location_error()
            raise StackError(
                f"Dagster has no predictions asset {'/'.join(path)} for endpoint {endpoint!r} after a reload"
                + (f": the definitions failed to load: {error}" if error else "")
            )

    def _endpoint_of(self, found: DagsterBackfill) -> str:
        """The endpoint of a backfill started in Dagster's UI (no batchpoint tags): by its asset key."""
        keys = {path[0] for path in found.asset_paths if len(path) == 2 and path[1] == "predictions"}
        for endpoint in self._b.registry.list_endpoints():
            if dagster_name(endpoint.name) in keys:
                return endpoint.name
        raise NotFoundError("backfill of a batch endpoint", found.backfill_id, "it targets no endpoint's predictions")

    def _jobs_of(self, runs: Iterable[BackfillRun]) -> dict[str, JobInfo]:
        """The job each run recorded, by run id (a run that has not started its step has none yet)."""
        run_ids = [r.run_id for r in runs]
        if not run_ids:
            return {}
        query = sa.select(jobs).where(jobs.c.dagster_run_id.in_(run_ids))
        with self._b.registry.engine.connect() as conn:
            infos = [job_info(row, self._b.settings.dagster_url) for row in conn.execute(query).all()]
        return {i.dagster_run_id: i for i in infos if i.dagster_run_id}

    def _studio_url(self, backfill_id: str) -> str:
        return f"{self._b.settings.dagster_url.rstrip('/')}/runs/b/{backfill_id}"


def _time(timestamp: float | None) -> datetime | None:
    return datetime.fromtimestamp(timestamp, UTC) if timestamp else None


def _month(month: str, run: BackfillRun | None, recorded: dict[str, JobInfo]) -> BackfillMonth:
    if run is None:
        return BackfillMonth(month=month, status=MonthStatus.NOT_STARTED)
    job = recorded.get(run.run_id)
    return BackfillMonth(
        month=month,
        status=_RUN_STATUS.get(run.status, MonthStatus.RUNNING),
        dagster_run_id=run.run_id,
        dagster_status=run.status,
        job_name=job.name if job else None,
        output_uri=job.output_uri if job else None,
        error=job.error if job else None,
        started_at=_time(run.start_time),
        ended_at=_time(run.end_time),
    )


def _overall(found: DagsterBackfill, months: list[BackfillMonth]) -> BackfillStatus:
    """Running until every month's run ended, or Dagster gave up submitting with none still running."""
    in_flight = any(m.status in {MonthStatus.PREPARING, MonthStatus.RUNNING} for m in months)
    all_ended = all(m.status.ended for m in months)
    if in_flight or not (all_ended or found.submitting_ended):
        return BackfillStatus.RUNNING
    if any(m.status is MonthStatus.FAILED for m in months) or "FAIL" in found.status:
        return BackfillStatus.FAILED
    if found.status == "CANCELED" or any(m.status is not MonthStatus.COMPLETED for m in months):
        return BackfillStatus.CANCELED
    return BackfillStatus.COMPLETED
