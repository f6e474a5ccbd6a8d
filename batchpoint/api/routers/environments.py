"""Environments (``name:version``): create or update, show, list, delete."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from batchpoint.api.answers import ValueList, same_key
from batchpoint.api.deps import WorkspaceDep
from batchpoint.specs.asset_naming import VERSION_PATTERN
from batchpoint.specs.environment import EnvironmentSpec

router = APIRouter(prefix="/v1/environments", tags=["environments"])


@router.put("/{name}/versions/{version}")
def create_or_update_environment(
    name: str,
    version: Annotated[str, Path(pattern=VERSION_PATTERN)],
    environment: EnvironmentSpec,
    workspace: WorkspaceDep,
) -> EnvironmentSpec:
    """Register the environment version (its version is the URL's when the body gives none)."""
    same_key("name", environment.name, name)
    same_key("version", environment.version, version)
    spec = environment.model_copy(update={"version": version})
    return workspace.environments.create_or_update(spec)


@router.get("")
def list_environments(workspace: WorkspaceDep) -> ValueList[EnvironmentSpec]:
    """The latest version of every environment."""
    return ValueList(value=workspace.environments.list())


@router.get("/{name}/versions")
def list_environment_versions(name: str, workspace: WorkspaceDep) -> ValueList[EnvironmentSpec]:
    """Every version of one environment."""
    return ValueList(value=workspace.environments.list(name))


@router.get("/{name}/versions/{version}")
def get_environment(name: str, version: str, workspace: WorkspaceDep) -> EnvironmentSpec:
    """One environment version."""
    return workspace.environments.get(name, version)


@router.delete("/{name}/versions/{version}", status_code=status.HTTP_204_NO_CONTENT)
def delete_environment(name: str, version: str, workspace: WorkspaceDep) -> Response:
    """Remove one environment version."""
    workspace.environments.delete(name, version)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
