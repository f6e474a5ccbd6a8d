"""The API's one error shape and the handlers that translate exceptions into it.

``{"error": {"code": ..., "message": ..., "field": ..., "expected": ...}}``:
``SpecError`` and request validation → 422 ``InvalidSpec`` naming the field; ``NotFoundError`` → 404;
``ConflictError`` → 409; ``StorageError`` / ``StackError`` → 503 with the message; a missing or
wrong token → 401 with ``WWW-Authenticate: Bearer``; a body or archive over a limit
(``LimitExceededError``, ``BodyTooLarge``) → 413 ``ContentTooLarge`` naming the limit and its setting.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from batchpoint.api.body_limits import BodyTooLarge
from batchpoint.errors import (
    BatchpointError,
    ConflictError,
    LimitExceededError,
    ModelError,
    NotFoundError,
    SpecError,
    StackError,
    StorageError,
    StoreRequestRefusedError,
)
from batchpoint.specs.validation_messages import problem_and_form

log = logging.getLogger(__name__)

_HTTP_CODES = {
    401: "Unauthorized",
    404: "NotFound",
    405: "MethodNotAllowed",
    409: "Conflict",
    413: "ContentTooLarge",
    422: "InvalidSpec",
}


class ErrorDetail(BaseModel):
    """What went wrong, and for invalid input which field and what it accepts."""

    code: str
    message: str
    field: str | None = None
    expected: str | None = None


class ErrorBody(BaseModel):
    """Every error answer of the API."""

    error: ErrorDetail


def error_response(
    status: int,
    code: str,
    message: str,
    *,
    field: str | None = None,
    expected: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """A JSON answer in the API's error shape."""
    body = ErrorBody(error=ErrorDetail(code=code, message=message, field=field, expected=expected))
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)


def unauthorized(message: str = "a valid bearer token is required") -> JSONResponse:
    """401 that says how to authenticate, and nothing about which tokens exist."""
    return error_response(401, "Unauthorized", message, headers={"WWW-Authenticate": "Bearer"})


def validation_field(loc: Sequence[int | str]) -> str:
    """A dotted field name from pydantic's location, without FastAPI's ``body``/``query`` prefix."""
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "header", "cookie", "form", "file"}:
        parts = parts[1:]
    return ".".join(parts) or "<body>"


def _on_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    first = errors[0] if errors else {"loc": (), "msg": "invalid request", "type": ""}
    field = validation_field(first.get("loc", ()))
    ctx = first.get("ctx")
    raised = ctx.get("error") if isinstance(ctx, dict) else None
    if isinstance(raised, SpecError):  # a validator that knows the valid form said so
        problem, expected = raised.problem, raised.valid_form
    else:
        # The problem and the valid form are each said once: "name: got 'x'" + expected "3 to 32 ...".
        problem, expected = problem_and_form(first)
        if first.get("type") == "extra_forbidden":
            expected = f"{expected} (see /openapi.json)"
    message = f"{field}: {problem}"
    if len(errors) > 1:
        message += f" (and {len(errors) - 1} more problem(s))"
    return error_response(422, "InvalidSpec", message, field=field, expected=expected)


def _on_spec_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, SpecError)
    return error_response(422, "InvalidSpec", str(exc), field=exc.field, expected=exc.valid_form)


def _on_limit_exceeded(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, LimitExceededError)
    return error_response(413, "ContentTooLarge", str(exc), field=exc.field, expected=exc.valid_form)


def _on_not_found(request: Request, exc: Exception) -> JSONResponse:
    return error_response(404, "NotFound", str(exc))


def _on_conflict(request: Request, exc: Exception) -> JSONResponse:
    return error_response(409, "Conflict", str(exc))


def _on_model_error(request: Request, exc: Exception) -> JSONResponse:
    return error_response(422, "InvalidModel", str(exc))


def _on_unavailable(request: Request, exc: Exception) -> JSONResponse:
    log.warning("%s %s: %s", request.method, request.url.path, exc)
    return error_response(503, "ServiceUnavailable", str(exc), headers={"Retry-After": "5"})


def _on_store_refused(request: Request, exc: Exception) -> JSONResponse:
    log.warning("%s %s: %s", request.method, request.url.path, exc)
    return error_response(502, "BadGateway", str(exc))


def _on_other_batchpoint_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, BatchpointError)
    if exc.retriable:
        return _on_unavailable(request, exc)
    return error_response(400, "BadRequest", str(exc))


def _on_http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 401:
        return unauthorized(str(exc.detail))
    if isinstance(exc, BodyTooLarge):
        return _on_limit_exceeded(request, exc.error)
    code = _HTTP_CODES.get(exc.status_code, "HttpError")
    return error_response(exc.status_code, code, str(exc.detail), headers=exc.headers)


def install_error_handlers(app: FastAPI) -> None:
    """Register the translations above on ``app`` (most specific class first)."""
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(LimitExceededError, _on_limit_exceeded)
    app.add_exception_handler(SpecError, _on_spec_error)
    app.add_exception_handler(NotFoundError, _on_not_found)
    app.add_exception_handler(ConflictError, _on_conflict)
    app.add_exception_handler(ModelError, _on_model_error)
    app.add_exception_handler(StoreRequestRefusedError, _on_store_refused)
    app.add_exception_handler(StorageError, _on_unavailable)
    app.add_exception_handler(StackError, _on_unavailable)
    app.add_exception_handler(BatchpointError, _on_other_batchpoint_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
