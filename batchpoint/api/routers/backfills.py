"""Backfills: re-score a range of an endpoint's months (one Dagster asset partition backfill), follow it."""

from __future__ import annotations

from fastapi import APIRouter, status

from batchpoint.api.deps import WorkspaceDep
from batchpoint.specs.backfill import BackfillInfo, BackfillRequest

router = APIRouter(tags=["backfills"])


@router.post("/v1/batch-endpoints/{name}/backfills", status_code=status.HTTP_202_ACCEPTED)
def start_backfill(name: str, request: BackfillRequest, workspace: WorkspaceDep) -> BackfillInfo:
    """Launch a backfill of months ``from``..``to``; answers at once with its id and months.

    ``promote`` defaults to true with the endpoint's default deployment and false with another one;
    ``failed_only`` keeps the months whose newest version failed or tolerated failed items (409 when
    there is none) and re-scores only their failed files; ``compare`` diffs each new version
    against its month's ``latest`` (``compare/report.txt`` in the version).
    """
    return workspace.backfills.start(
        name,
        request.from_month,
        request.to_month,
        deployment_name=request.deployment_name,
        failed_only=request.failed_only,
        promote=request.promote,
        compare=request.compare,
    )


@router.get("/v1/backfills/{backfill_id}")
def get_backfill(backfill_id: str, workspace: WorkspaceDep) -> BackfillInfo:
    """The backfill's status (Running until every month's run ended) and each month's run status and job."""
    return workspace.backfills.get(backfill_id)
