"""Batch endpoints: create or update, show, list, delete; invoke; list an endpoint's jobs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from batchpoint.api.answers import ValueList, same_key
from batchpoint.api.deps import WorkspaceDep
from batchpoint.specs.endpoint import BatchEndpoint
from batchpoint.specs.job import InvokeRequest, JobInfo

router = APIRouter(prefix="/v1/batch-endpoints", tags=["batch endpoints"])


@router.put("/{name}")
def create_or_update_endpoint(name: str, endpoint: BatchEndpoint, workspace: WorkspaceDep) -> BatchEndpoint:
    """Create the endpoint or replace its spec (``defaults.deployment_name`` must name a deployment)."""
    same_key("name", endpoint.name, name)
    return workspace.batch_endpoints.create_or_update(endpoint)


@router.get("")
def list_endpoints(workspace: WorkspaceDep) -> ValueList[BatchEndpoint]:
    """Every endpoint, by name."""
    return ValueList(value=workspace.batch_endpoints.list())


@router.get("/{name}")
def get_endpoint(name: str, workspace: WorkspaceDep) -> BatchEndpoint:
    """One endpoint."""
    return workspace.batch_endpoints.get(name)


@router.delete("/{name}", status_code=status.HTTP_204_NO_CONTENT)
def delete_endpoint(name: str, workspace: WorkspaceDep) -> Response:
    """Remove the endpoint and its deployments."""
    workspace.batch_endpoints.delete(name)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{name}/invoke", status_code=status.HTTP_202_ACCEPTED)
def invoke_endpoint(name: str, request: InvokeRequest, workspace: WorkspaceDep) -> JobInfo:
    """Start a job on the endpoint (its default deployment unless ``deployment_name``); answers at once."""
    return workspace.jobs.invoke(name, request)


@router.get("/{name}/jobs")
def list_endpoint_jobs(
    name: str,
    workspace: WorkspaceDep,
    deployment_name: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> ValueList[JobInfo]:
    """The endpoint's jobs, newest first, optionally of one deployment."""
    workspace.batch_endpoints.get(name)
    return ValueList(value=workspace.jobs.list(endpoint=name, deployment=deployment_name, limit=limit))
