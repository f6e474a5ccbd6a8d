"""``BatchJob``: one invocation as the API reports it (status, progress, where outputs went)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from batchpoint.sdk.entities.entity import Entity, parse_time

TERMINAL_STATUSES = frozenset({"Completed", "Failed", "Canceled"})


@dataclass
class SystemData:
    """Azure: ``job.creation_context`` (``last_modified_at - created_at`` is the job's duration so far)."""

    created_at: datetime | None
    last_modified_at: datetime | None
    created_by: str = "batchpoint"


class BatchJob(Entity):
    """A job of a batch endpoint: ``name``, ``status`` (Preparing/Running/Completed/Failed/Canceled) ..."""

    def __init__(self, data: dict[str, Any]) -> None:
        self._data = dict(data)
        self.name: str = data["name"]
        self.endpoint_name: str | None = data.get("endpoint_name")
        self.deployment_name: str | None = data.get("deployment_name")
        self.trigger: str | None = data.get("trigger")
        self.status: str = data.get("status", "Preparing")
        self.inputs: dict[str, Any] = dict(data.get("inputs") or {})
        self.output_uri: str | None = data.get("output_uri")
        self.progress: dict[str, Any] = dict(data.get("progress") or {})
        self.error: str | None = data.get("error")
        self.created_at = parse_time(data.get("created_at"))
        self.started_at = parse_time(data.get("started_at"))
        self.ended_at = parse_time(data.get("ended_at"))
        self.dagster_run_id: str | None = data.get("dagster_run_id")
        self.studio_url: str | None = data.get("studio_url")

    @property
    def display_name(self) -> str:
        """Azure's display name: the job name."""
        return self.name

    @property
    def experiment_name(self) -> str | None:
        """Azure names a batch job's experiment after its endpoint."""
        return self.endpoint_name

    @property
    def creation_context(self) -> SystemData:
        """Created and last-modified times (the end, start or creation, whichever is latest)."""
        return SystemData(self.created_at, self.ended_at or self.started_at or self.created_at)

    @property
    def done(self) -> bool:
        """Whether the job reached Completed, Failed or Canceled."""
        return self.status in TERMINAL_STATUSES

    def _to_dict(self) -> dict[str, Any]:
        return dict(self._data)


Job = BatchJob
