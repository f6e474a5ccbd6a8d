"""Computes (Azure ``AmlCompute``): create or update, show, list, delete."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from batchpoint.api.answers import ValueList, same_key
from batchpoint.api.deps import WorkspaceDep
from batchpoint.specs.compute import ComputeSpec

router = APIRouter(prefix="/v1/computes", tags=["computes"])


@router.put("/{name}")
def create_or_update_compute(name: str, compute: ComputeSpec, workspace: WorkspaceDep) -> ComputeSpec:
    """Create the compute or replace its spec."""
    same_key("name", compute.name, name)
    return workspace.compute.create_or_update(compute)


@router.get("")
def list_computes(workspace: WorkspaceDep) -> ValueList[ComputeSpec]:
    """Every compute, by name."""
    return ValueList(value=workspace.compute.list())


@router.get("/{name}")
def get_compute(name: str, workspace: WorkspaceDep) -> ComputeSpec:
    """One compute."""
    return workspace.compute.get(name)


@router.delete("/{name}", status_code=status.HTTP_204_NO_CONTENT)
def delete_compute(name: str, workspace: WorkspaceDep) -> Response:
    """Remove a compute."""
    workspace.compute.delete(name)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
