"""Asset partition backfills over Dagster's GraphQL API: launch one, read it with its runs.

A backfill of a predictions asset is what Dagster's UI launches from the asset page too; its runs
carry the backfill's tags (``batchpoint.orchestration.run_tags``) and Dagster's ``dagster/backfill``
and ``dagster/partition``. Dagster's backfill daemon submits the runs on its next tick (every 30 s).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from batchpoint.errors import NotFoundError, StackError
from batchpoint.orchestration.dagster_graphql import DagsterClient
from batchpoint.orchestration.run_tags import PARTITION_TAG

_LAUNCH = """
mutation($params: LaunchBackfillParams!) { launchPartitionBackfill(backfillParams: $params) { __typename
  ... on LaunchBackfillSuccess { backfillId }
  ... on PartitionKeysNotFoundError { partitionKeys }
  ... on Error { message } } }
"""
_BACKFILL = """
query($id: String!) { partitionBackfillOrError(backfillId: $id) { __typename
  ... on PartitionBackfill { id status partitionNames title timestamp endTimestamp
    tags { key value } assetSelection { path }
    runs { runId status startTime endTime tags { key value } } }
  ... on Error { message } } }
"""
# Dagster's BulkActionStatus values after which a backfill submits no more runs.
ENDED_BACKFILL_STATUSES = frozenset({"COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"})


@dataclass(frozen=True)
class BackfillRun:
    """One run of a backfill (Dagster's run status: QUEUED, STARTED, SUCCESS, FAILURE, CANCELED, ...)."""

    run_id: str
    partition: str | None
    status: str
    start_time: float | None
    end_time: float | None


@dataclass(frozen=True)
class DagsterBackfill:
    """A backfill as Dagster reports it."""

    backfill_id: str
    status: str
    partitions: list[str]
    asset_paths: list[list[str]]
    tags: dict[str, str]
    title: str | None
    created: float | None
    ended: float | None
    runs: list[BackfillRun]

    @property
    def submitting_ended(self) -> bool:
        """Whether Dagster finished with this backfill (it submits no more runs)."""
        return self.status in ENDED_BACKFILL_STATUSES

    def newest_runs(self) -> dict[str, BackfillRun]:
        """The newest run of each partition (a retried partition has several)."""
        newest: dict[str, BackfillRun] = {}
        for run in sorted(self.runs, key=lambda r: r.start_time or float("inf")):
            if run.partition is not None:
                newest[run.partition] = run
        return newest


def launch_asset_backfill(
    client: DagsterClient,
    asset_path: Sequence[str],
    partitions: Sequence[str],
    *,
    tags: Mapping[str, str],
    title: str,
) -> str:
    """Launch a backfill of ``partitions`` of the asset at ``asset_path``; the backfill id.

    Raises ``StackError`` when Dagster refuses it (the message is Dagster's) or cannot be reached.
    """
    params = {
        "assetSelection": [{"path": list(asset_path)}],
        "partitionNames": list(partitions),
        "tags": [{"key": k, "value": v} for k, v in tags.items()],
        "title": title[:100],  # Dagster refuses longer titles
    }
    result = client.execute(_LAUNCH, {"params": params})["launchPartitionBackfill"]
    if result["__typename"] == "LaunchBackfillSuccess":
        return str(result["backfillId"])
    detail = result.get("message") or result["__typename"]
    if result.get("partitionKeys"):
        detail += f" (partitions {', '.join(result['partitionKeys'])})"
    raise StackError(f"Dagster refused the backfill of {'/'.join(asset_path)}: {detail}")


def read_backfill(client: DagsterClient, backfill_id: str) -> DagsterBackfill:
    """The backfill with its runs; ``NotFoundError`` when Dagster has no backfill of that id."""
    found = client.execute(_BACKFILL, {"id": backfill_id})["partitionBackfillOrError"]
    kind = found["__typename"]
    if kind == "BackfillNotFoundError":
        raise NotFoundError("backfill", backfill_id, "start one with `batchpoint batch-endpoint backfill`")
    if kind != "PartitionBackfill":
        raise StackError(f"Dagster could not read backfill {backfill_id}: {found.get('message') or kind}")
    return DagsterBackfill(
        backfill_id=str(found["id"]),
        status=str(found["status"]),
        partitions=[str(p) for p in found.get("partitionNames") or []],
        asset_paths=[list(a["path"]) for a in found.get("assetSelection") or []],
        tags=_tags(found.get("tags")),
        title=found.get("title"),
        created=found.get("timestamp"),
        ended=found.get("endTimestamp"),
        runs=[_run(r) for r in found.get("runs") or []],
    )


def _tags(raw: Sequence[dict[str, Any]] | None) -> dict[str, str]:
    return {str(t["key"]): str(t["value"]) for t in raw or []}


def _run(raw: dict[str, Any]) -> BackfillRun:
    tags = _tags(raw.get("tags"))
    return BackfillRun(
        run_id=str(raw["runId"]),
        partition=tags.get(PARTITION_TAG),
        status=str(raw["status"]),
        start_time=raw.get("startTime"),
        end_time=raw.get("endTime"),
    )
