"""``create_app``: the HTTPS API of docs/management-plane.md section 4 over an injected workspace."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.openapi.utils import get_openapi

from batchpoint.api.auth import BearerAuthMiddleware, current_token
from batchpoint.api.body_limits import BodyLimitMiddleware
from batchpoint.api.error_responses import ErrorBody, install_error_handlers
from batchpoint.api.routers import (
    backfills,
    computes,
    data_assets,
    deployments,
    endpoints,
    environments,
    health,
    jobs,
    models,
    outputs,
    uploads,
)
from batchpoint.api.workspace_holder import WorkspaceFactory, WorkspaceHolder
from batchpoint.specs.model_ref import VALID_FORMS

_PROTECTED = (endpoints, deployments, models, environments, computes, data_assets, jobs, uploads, outputs, backfills)
_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody, "description": text}
    for code, text in {
        401: "missing or wrong bearer token",
        404: "the entity does not exist",
        409: "contradicts the current state",
        413: "the body (or an archive unpacked) is over a limit; names the limit and its setting",
        422: "invalid input; names the field and the accepted form",
        503: "a backing service (S3, MLflow, the registry) is unavailable",
    }.items()
}


def create_app(workspace_factory: WorkspaceFactory) -> FastAPI:
    """The API; ``workspace_factory`` makes the facade on first use (a real ``Workspace`` in tests too)."""
    workspaces = WorkspaceHolder(workspace_factory)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        workspaces.close()

    app = FastAPI(
        title="batchpoint",
        version="1",
        summary="Batch endpoints for ML models, managed like Azure ML batch endpoints.",
        lifespan=lifespan,
    )
    app.state.workspaces = workspaces
    install_error_handlers(app)
    app.include_router(health.router)
    for module in _PROTECTED:
        app.include_router(module.router, dependencies=[Depends(current_token)], responses=_ERRORS)
    # Added first, so it runs inside auth: a request without a token learns nothing of the limits.
    app.add_middleware(BodyLimitMiddleware, workspaces=workspaces)
    app.add_middleware(BearerAuthMiddleware, workspaces=workspaces)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema is None:
        schema = get_openapi(
            title=app.title, version=app.version, summary=app.summary, routes=app.routes, servers=app.servers
        )
        # A model reference is a string on the wire (pydantic sees the parsed dataclass).
        components = schema.get("components", {}).get("schemas", {})
        for name in list(components):
            if name.startswith("ParsedModelRef"):
                components[name] = {"type": "string", "title": "ModelRef", "description": f"one of {VALID_FORMS}"}
        app.openapi_schema = schema
    return app.openapi_schema
