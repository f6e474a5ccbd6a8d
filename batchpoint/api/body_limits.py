"""Request body limits, enforced while the body streams in (a 20 GiB body is never read to learn its size).

Every route reads at most ``Settings.api_max_body_bytes``; a route declared with ``UPLOAD_ROUTE``
(``POST /v1/uploads``, a model version's archive) reads at most ``Settings.api_max_upload_bytes``.
A ``Content-Length`` over the limit is refused before the first byte is read; a chunked body is
counted as it arrives and refused at the first chunk over. Either way the answer is 413
``ContentTooLarge`` naming the limit and its setting, and the route never runs.

The limit is looked up when the route first reads its body, so routing has picked the route and
a request that reads nothing (``GET``) costs nothing.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from batchpoint.api.workspace_holder import WorkspaceHolder
from batchpoint.config import ENV_PREFIX, Settings
from batchpoint.errors import LimitExceededError

BODY_SETTING = ENV_PREFIX + "API_MAX_BODY_BYTES"
UPLOAD_SETTING = ENV_PREFIX + "API_MAX_UPLOAD_BYTES"
_LIMIT_KEY = "x-body-limit"
UPLOAD_ROUTE: dict[str, Any] = {_LIMIT_KEY: UPLOAD_SETTING}
"""``openapi_extra`` of a route that takes uploads: it gets the upload limit, and its OpenAPI says so."""


class BodyTooLarge(StarletteHTTPException):
    """The request body is over its route's limit; an ``HTTPException`` so FastAPI hands it to the handlers."""

    def __init__(self, error: LimitExceededError) -> None:
        self.error = error
        super().__init__(413, str(error))


def body_limit(route: object, settings: Settings) -> tuple[int, str]:
    """``(bytes, setting)``: the limit of ``route``'s request body."""
    extra = getattr(route, "openapi_extra", None) or {}
    if extra.get(_LIMIT_KEY) == UPLOAD_SETTING:
        return settings.api_max_upload_bytes, UPLOAD_SETTING
    return settings.api_max_body_bytes, BODY_SETTING


def too_large(limit: int, setting: str, size: int | None) -> BodyTooLarge:
    """The 413 of a body of ``size`` bytes (None: counted while chunked) over ``limit``."""
    given = f"{size} bytes (its Content-Length)" if size is not None else f"more than {limit} bytes (counted)"
    return BodyTooLarge(LimitExceededError("<body>", f"the request body is {given}", limit=limit, setting=setting))


class BodyLimitMiddleware:
    """Hand the app a ``receive`` that refuses a body over its route's limit."""

    def __init__(self, app: ASGIApp, workspaces: WorkspaceHolder) -> None:
        self.app = app
        self.workspaces = workspaces

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.app(scope, _CountingReceive(scope, receive, self.workspaces), send)


class _CountingReceive:
    def __init__(self, scope: Scope, receive: Receive, workspaces: WorkspaceHolder) -> None:
        self._scope = scope
        self._receive = receive
        self._workspaces = workspaces
        self._limit: tuple[int, str] | None = None
        self._received = 0

    async def __call__(self) -> Message:
        if self._limit is None:
            workspace = await run_in_threadpool(self._workspaces.get)
            self._limit = body_limit(self._scope.get("route"), workspace.settings)
            declared = _content_length(self._scope)
            if declared is not None and declared > self._limit[0]:
                raise too_large(*self._limit, declared)
        message = await self._receive()
        if message["type"] == "http.request":
            self._received += len(message.get("body", b""))
            if self._received > self._limit[0]:
                raise too_large(*self._limit, None)
        return message


def _content_length(scope: Scope) -> int | None:
    raw = Headers(scope=scope).get("content-length")
    return int(raw) if raw is not None and raw.isdigit() else None
