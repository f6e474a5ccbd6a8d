"""A fake of the Dagster GraphQL calls a backfill makes, and a workspace over it (no stack needed)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from batchpoint.config import Settings
from batchpoint.management.workspace import Workspace
from batchpoint.specs.deployment import BatchDeployment
from batchpoint.specs.endpoint import BatchEndpoint
from batchpoint.storage.memory import MemoryStore

ENDPOINT = "sales-forecast"


class FakeDagster:
    """Answers launch and read; each read of the backfill takes the next of ``reads`` (then keeps the last)."""

    def __init__(self) -> None:
        self.assets: set[tuple[str, ...]] = {("sales_forecast", "predictions")}
        self.launched: list[dict[str, Any]] = []
        self.reloads = 0
        self.reads: list[dict[str, Any]] = []

    @property
    def backfill(self) -> dict[str, Any] | None:
        return self.reads[0] if self.reads else None

    @backfill.setter
    def backfill(self, value: dict[str, Any]) -> None:
        self.reads = [value]

    def asset_defined(self, path: list[str]) -> bool:
        return tuple(path) in self.assets

    def reload_location(self) -> None:
        self.reloads += 1

    def location_error(self) -> str | None:
        return None

    def execute(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        if "launchPartitionBackfill" in query:
            self.launched.append(variables["params"])
            return {"launchPartitionBackfill": {"__typename": "LaunchBackfillSuccess", "backfillId": "qwertyui"}}
        assert "partitionBackfillOrError" in query
        if not self.reads or variables["id"] != "qwertyui":
            return {"partitionBackfillOrError": {"__typename": "BackfillNotFoundError", "message": "no"}}
        found = self.reads.pop(0) if len(self.reads) > 1 else self.reads[0]
        return {"partitionBackfillOrError": {"__typename": "PartitionBackfill", **found}}


def run(run_id: str, month: str, status: str, start: float | None = 100.0) -> dict[str, Any]:
    """A run of backfill ``qwertyui`` as Dagster lists it."""
    tags = [{"key": "dagster/partition", "value": month}, {"key": "dagster/backfill", "value": "qwertyui"}]
    return {"runId": run_id, "status": status, "startTime": start, "endTime": None, "tags": tags}


def backfill(
    status: str, runs: list[dict[str, Any]], tags: dict[str, str] | None = None, months: list[str] | None = None
) -> dict[str, Any]:
    """Backfill ``qwertyui`` of ``ENDPOINT`` as Dagster reports it."""
    tags = tags if tags is not None else {"batchpoint/endpoint": ENDPOINT, "batchpoint/deployment": "green"}
    return {
        "id": "qwertyui",
        "status": status,
        "partitionNames": months or ["2026-03", "2026-01", "2026-02"],
        "title": None,
        "timestamp": 1_700_000_000.0,
        "endTimestamp": None,
        "tags": [{"key": k, "value": v} for k, v in tags.items()],
        "assetSelection": [{"path": ["sales_forecast", "predictions"]}],
        "runs": runs,
    }


def fake_workspace(tmp_path: Path, dagster: FakeDagster) -> Workspace:
    """A workspace on a sqlite registry and an in-memory store, with endpoint ``ENDPOINT`` (blue default, green)."""
    ws = Workspace(dataclasses.replace(Settings(), data_dir=tmp_path), store=MemoryStore())
    ws.backends.dagster = dagster  # type: ignore[assignment]
    registry = ws.backends.registry
    registry.create_or_update_endpoint(
        BatchEndpoint.parse({"name": ENDPOINT, "data_arrival": {"prefix": "sales/", "start_month": "2026-01"}})
    )
    for name in ("blue", "green"):
        registry.create_or_update_deployment(
            BatchDeployment.parse({"name": name, "endpoint_name": ENDPOINT, "model": "models:/m/1"})
        )
    return ws
