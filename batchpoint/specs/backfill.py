"""Backfills: what one asks for (``BackfillRequest``) and what one is (``BackfillInfo``).

A backfill re-scores a range of an endpoint's months as one Dagster asset partition backfill of its
predictions asset; each month is a run, and each run a job of the endpoint (trigger ``backfill``).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import Field

from batchpoint.specs.base import Spec


class BackfillRequest(Spec):
    """``POST /v1/batch-endpoints/{name}/backfills``: months ``from``..``to`` (``YYYY-MM``, both included)."""

    from_month: str = Field(alias="from", description="first month, YYYY-MM")
    to_month: str = Field(alias="to", description="last month, YYYY-MM (included)")
    deployment_name: str | None = Field(default=None, description="default: the endpoint's default deployment")
    failed_only: bool = Field(
        default=False,
        description="only months whose newest version failed or tolerated failed items; re-score their failed files",
    )
    promote: bool | None = Field(
        default=None,
        description="move `latest` to the new versions; default: only with the endpoint's default deployment",
    )
    compare: bool = Field(
        default=False,
        description="diff each month's new version against its latest, row by row (a challenger's report)",
    )


class MonthStatus(StrEnum):
    """Where one month of a backfill is: Azure's job statuses, plus ``NotStarted`` before its run exists."""

    NOT_STARTED = "NotStarted"
    PREPARING = "Preparing"
    RUNNING = "Running"
    COMPLETED = "Completed"
    FAILED = "Failed"
    CANCELED = "Canceled"

    @property
    def ended(self) -> bool:
        """Whether the month's run ended."""
        return self in {MonthStatus.COMPLETED, MonthStatus.FAILED, MonthStatus.CANCELED}


class BackfillStatus(StrEnum):
    """The backfill as a whole: Running until every month ended (or Dagster gave it up)."""

    RUNNING = "Running"
    COMPLETED = "Completed"
    FAILED = "Failed"
    CANCELED = "Canceled"


class BackfillMonth(Spec):
    """One month of a backfill: its run, and the job the run recorded."""

    month: str
    status: MonthStatus
    dagster_run_id: str | None = None
    dagster_status: str | None = None
    job_name: str | None = None
    output_uri: str | None = None
    error: str | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None


class BackfillInfo(Spec):
    """One backfill as every interface shows it."""

    id: str
    endpoint_name: str
    deployment_name: str | None = Field(default=None, description="None: the default deployment at run time")
    promote: bool | None = Field(default=None, description="None: decided per run (default deployment promotes)")
    failed_only: bool = False
    status: BackfillStatus
    dagster_status: str
    months: list[BackfillMonth]
    created_at: datetime | None = None
    ended_at: datetime | None = None
    studio_url: str | None = None

    @property
    def ended(self) -> bool:
        """Whether the backfill will not change any more."""
        return self.status is not BackfillStatus.RUNNING
