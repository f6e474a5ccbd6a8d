"""Data assets (``name:version``): create or update, show, list, delete."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from batchpoint.api.answers import ValueList, same_key
from batchpoint.api.deps import WorkspaceDep
from batchpoint.specs.asset_naming import VERSION_PATTERN
from batchpoint.specs.data_asset import DataAssetSpec

router = APIRouter(prefix="/v1/data", tags=["data assets"])


@router.put("/{name}/versions/{version}")
def create_or_update_data_asset(
    name: str, version: Annotated[str, Path(pattern=VERSION_PATTERN)], asset: DataAssetSpec, workspace: WorkspaceDep
) -> DataAssetSpec:
    """Register the data asset version (its version is the URL's when the body gives none)."""
    same_key("name", asset.name, name)
    same_key("version", asset.version, version)
    spec = asset.model_copy(update={"version": version})
    return workspace.data.create_or_update(spec)


@router.get("")
def list_data_assets(workspace: WorkspaceDep) -> ValueList[DataAssetSpec]:
    """The latest version of every data asset."""
    return ValueList(value=workspace.data.list())


@router.get("/{name}/versions")
def list_data_versions(name: str, workspace: WorkspaceDep) -> ValueList[DataAssetSpec]:
    """Every version of one data asset."""
    return ValueList(value=workspace.data.list(name))


@router.get("/{name}/versions/{version}")
def get_data_asset(name: str, version: str, workspace: WorkspaceDep) -> DataAssetSpec:
    """One data asset version."""
    return workspace.data.get(name, version)


@router.delete("/{name}/versions/{version}", status_code=status.HTTP_204_NO_CONTENT)
def delete_data_asset(name: str, version: str, workspace: WorkspaceDep) -> Response:
    """Remove one data asset version."""
    workspace.data.delete(name, version)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
