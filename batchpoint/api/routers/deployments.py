"""Batch deployments of an endpoint: create or update (optionally as its default), show, list, delete."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from batchpoint.api.answers import ValueList, same_key
from batchpoint.api.deps import WorkspaceDep
from batchpoint.errors import SpecError
from batchpoint.specs.deployment import BatchDeployment

router = APIRouter(prefix="/v1/batch-endpoints/{endpoint}/deployments", tags=["batch deployments"])


@router.put("/{name}")
def create_or_update_deployment(
    endpoint: str, name: str, deployment: BatchDeployment, workspace: WorkspaceDep, set_default: bool = False
) -> BatchDeployment:
    """Create the deployment or replace its spec; the endpoint's first deployment becomes its default."""
    same_key("endpoint_name", deployment.endpoint_name, endpoint)
    same_key("name", deployment.name, name)
    code = deployment.code_configuration
    if code is not None and not code.code.startswith("s3://"):
        # A local path here would name a folder on the server, not on the client.
        raise SpecError(
            "code_configuration.code",
            f"{code.code!r} is not in the datastore",
            "`s3://<bucket>/<prefix>/` (the SDK and CLI upload a local folder through POST /v1/uploads first)",
        )
    return workspace.batch_deployments.create_or_update(deployment, set_default=set_default)


@router.get("")
def list_deployments(endpoint: str, workspace: WorkspaceDep) -> ValueList[BatchDeployment]:
    """The endpoint's deployments, by name."""
    return ValueList(value=workspace.batch_deployments.list(endpoint))


@router.get("/{name}")
def get_deployment(endpoint: str, name: str, workspace: WorkspaceDep) -> BatchDeployment:
    """One deployment."""
    return workspace.batch_deployments.get(endpoint, name)


@router.delete("/{name}", status_code=status.HTTP_204_NO_CONTENT)
def delete_deployment(endpoint: str, name: str, workspace: WorkspaceDep) -> Response:
    """Remove a deployment (409 for the endpoint's default)."""
    workspace.batch_deployments.delete(endpoint, name)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
