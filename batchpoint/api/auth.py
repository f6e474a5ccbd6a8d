"""Bearer-token authentication of every route but ``GET /v1/health`` (and the OpenAPI documents).

A pure ASGI middleware checks the token before routing, body parsing or validation, so a request
without a valid token learns nothing but 401 — not whether the route, the entity or the token
exists. ``workspace.tokens.verify`` compares hashes (secrets are stored hashed, sha256).
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from batchpoint.api.error_responses import error_response, unauthorized
from batchpoint.api.workspace_holder import WorkspaceHolder

log = logging.getLogger(__name__)

PUBLIC_ROUTES = frozenset({("GET", "/v1/health"), ("HEAD", "/v1/health")})
PUBLIC_DOCUMENTS = frozenset({"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"})

bearer_scheme = HTTPBearer(auto_error=False, description="a token from `batchpoint token create --name <name>`")


def bearer_secret(authorization: str) -> str | None:
    """The secret of an ``Authorization: Bearer <secret>`` header, or None."""
    scheme, _, secret = authorization.strip().partition(" ")
    secret = secret.strip()
    return secret if scheme.lower() == "bearer" and secret else None


class BearerAuthMiddleware:
    """Answer 401 unless the request carries a token ``workspace.tokens.verify`` accepts."""

    def __init__(self, app: ASGIApp, workspaces: WorkspaceHolder) -> None:
        self.app = app
        self.workspaces = workspaces

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self._public(scope):
            await self.app(scope, receive, send)
            return
        secret = bearer_secret(Headers(scope=scope).get("authorization", ""))
        token_id: str | None = None
        if secret is not None:
            try:
                workspace = await run_in_threadpool(self.workspaces.get)
                token_id = await run_in_threadpool(workspace.tokens.verify, secret)
            except Exception as exc:  # the registry is down or unreadable: a service failure, not a 500
                log.exception("cannot verify a token")
                response = error_response(503, "ServiceUnavailable", f"cannot verify the token: {exc}")
                await response(scope, receive, send)
                return
        if token_id is None:
            await unauthorized()(scope, receive, send)
            return
        scope.setdefault("state", {})["token_id"] = token_id
        await self.app(scope, receive, send)

    @staticmethod
    def _public(scope: Scope) -> bool:
        path = str(scope.get("path", ""))
        return (str(scope.get("method", "")), path) in PUBLIC_ROUTES or path in PUBLIC_DOCUMENTS


def current_token(
    request: Request,
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> str:
    """The id of the token the middleware accepted; declares the bearer scheme in the OpenAPI."""
    token_id: str = request.state.token_id
    return token_id
