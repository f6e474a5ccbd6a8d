"""``Backfill``: a re-score of a range of an endpoint's months, as the API reports it."""

from __future__ import annotations

from typing import Any

from batchpoint.sdk.entities.entity import Entity, parse_time

ENDED_MONTH_STATUSES = frozenset({"Completed", "Failed", "Canceled"})


class BackfillMonth(Entity):
    """One month: ``status`` (NotStarted/Preparing/Running/Completed/Failed/Canceled), its run and job."""

    def __init__(self, data: dict[str, Any]) -> None:
        self._data = dict(data)
        self.month: str = data["month"]
        self.status: str = data.get("status", "NotStarted")
        self.dagster_run_id: str | None = data.get("dagster_run_id")
        self.dagster_status: str | None = data.get("dagster_status")
        self.job_name: str | None = data.get("job_name")
        self.output_uri: str | None = data.get("output_uri")
        self.error: str | None = data.get("error")
        self.started_at = parse_time(data.get("started_at"))
        self.ended_at = parse_time(data.get("ended_at"))

    @property
    def done(self) -> bool:
        """Whether the month's run ended."""
        return self.status in ENDED_MONTH_STATUSES

    def _to_dict(self) -> dict[str, Any]:
        return dict(self._data)


class Backfill(Entity):
    """A backfill: ``name`` (its id), ``status`` (Running/Completed/Failed/Canceled) and its ``months``."""

    def __init__(self, data: dict[str, Any]) -> None:
        self._data = dict(data)
        self.name: str = data["id"]
        self.endpoint_name: str = data["endpoint_name"]
        self.deployment_name: str | None = data.get("deployment_name")
        self.promote: bool | None = data.get("promote")
        self.failed_only: bool = bool(data.get("failed_only", False))
        self.status: str = data.get("status", "Running")
        self.dagster_status: str | None = data.get("dagster_status")
        self.months = [BackfillMonth(m) for m in data.get("months") or []]
        self.created_at = parse_time(data.get("created_at"))
        self.ended_at = parse_time(data.get("ended_at"))
        self.studio_url: str | None = data.get("studio_url")

    @property
    def id(self) -> str:
        """The backfill id (Dagster's)."""
        return self.name

    @property
    def done(self) -> bool:
        """Whether every month's run ended (or Dagster gave the backfill up)."""
        return self.status != "Running"

    def count(self, *statuses: str) -> int:
        """How many months have one of ``statuses``."""
        return sum(1 for m in self.months if m.status in statuses)

    def _to_dict(self) -> dict[str, Any]:
        return dict(self._data)
