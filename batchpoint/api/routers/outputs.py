"""Output versions of an endpoint's monthly partition: list, show, roll ``latest`` back, prune."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from batchpoint.api.answers import ValueList
from batchpoint.api.deps import WorkspaceDep
from batchpoint.management.output_ops import PruneResult
from batchpoint.outputs.version_views import VersionSummary

router = APIRouter(prefix="/v1/batch-endpoints", tags=["outputs"])


class RollbackRequest(BaseModel):
    """``POST .../outputs/{partition}/rollback``: the Completed version ``latest`` should point at."""

    model_config = ConfigDict(extra="forbid")

    version_id: str = Field(min_length=1, examples=["20260501T101500.123Z-6f1c2a9e"])


class PruneRequest(BaseModel):
    """``POST .../outputs/{partition}/prune``: how many of the newest versions to keep."""

    model_config = ConfigDict(extra="forbid")

    keep: int = Field(ge=1, description="newest versions kept; the one latest points at is kept besides")


@router.get("/{name}/outputs/{partition}/versions")
def list_output_versions(name: str, partition: str, workspace: WorkspaceDep) -> ValueList[VersionSummary]:
    """The partition's complete versions, newest first, with which one ``latest`` points at."""
    return ValueList(value=workspace.outputs.versions(name, partition))


@router.get("/{name}/outputs/{partition}/versions/{version_id}")
def get_output_version(name: str, partition: str, version_id: str, workspace: WorkspaceDep) -> dict[str, Any]:
    """One version's manifest plus ``is_latest``; ``latest`` as the id means the one it points at."""
    return workspace.outputs.show(name, partition, version_id)


@router.post("/{name}/outputs/{partition}/rollback")
def rollback_output(name: str, partition: str, request: RollbackRequest, workspace: WorkspaceDep) -> VersionSummary:
    """Point ``latest`` at a Completed version, older or newer (409 for a version that did not complete)."""
    return workspace.outputs.rollback(name, partition, request.version_id)


@router.post("/{name}/outputs/{partition}/prune")
def prune_outputs(name: str, partition: str, request: PruneRequest, workspace: WorkspaceDep) -> PruneResult:
    """Delete all but the newest ``keep`` versions, never the one ``latest`` points at."""
    return workspace.outputs.prune(name, partition, request.keep)
