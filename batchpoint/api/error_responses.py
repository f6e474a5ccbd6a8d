"""The API's one error shape and the handlers that translate exceptions into it.

``{"error": {"code": ..., "message": ..., "field": ..., "expected": ...}}``:
``SpecError`` and request validation → 422 ``InvalidSpec`` naming the field (several problems:
the first in ``field``/``expected``, each on its own line of ``message`` and in ``problems``); ``NotFoundError`` → 404;
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
    SpecProblemsError,
    StackError,
    StorageError,
    StoreRequestRefusedError,
)
from batchpoint.specs.base import spec_errors_of

log = logging.getLogger(__name__)

_HTTP_CODES = {
    401: "Unauthorized",
    404: "NotFound",
    405: "MethodNotAllowed",
    409: "Conflict",
    413: "ContentTooLarge",
    422: "InvalidSpec",
}


_LOC_PREFIXES = {"body", "query", "path", "header", "cookie", "form", "file"}


class FieldProblem(BaseModel):
    """One invalid field of a request: its name, what was wrong, and what it accepts."""

    field: str
    problem: str
    expected: str | None = None


class ErrorDetail(BaseModel):
    """What went wrong, and for invalid input which field and what it accepts (each one, when several)."""

    code: str
    message: str
    field: str | None = None
    expected: str | None = None
    problems: list[FieldProblem] | None = None


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
    problems: Sequence[SpecError] = (),
) -> JSONResponse:
    """A JSON answer in the API's error shape; ``problems`` only when there are several."""
    listed = [FieldProblem(field=p.field, problem=p.problem, expected=p.valid_form) for p in problems] or None
    detail = ErrorDetail(code=code, message=message, field=field, expected=expected, problems=listed)
    content = ErrorBody(error=detail).model_dump()
    if listed is None:  # the one-problem shape stays as it was
        del content["error"]["problems"]
    return JSONResponse(content, status_code=status, headers=headers)


def unauthorized(message: str = "a valid bearer token is required") -> JSONResponse:
    """401 that says how to authenticate, and nothing about which tokens exist."""
    return error_response(401, "Unauthorized", message, headers={"WWW-Authenticate": "Bearer"})


def validation_field(loc: Sequence[int | str]) -> str:
    """A dotted field name from pydantic's location, without FastAPI's ``body``/``query`` prefix."""
    parts = [str(p) for p in loc]
    if parts and parts[0] in _LOC_PREFIXES:
        parts = parts[1:]
    return ".".join(parts) or "<body>"


def _body_model(request: Request) -> type[BaseModel] | None:
    """The pydantic model of the route's one body parameter, for listing the fields it takes."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    params = getattr(dependant, "body_params", None) or []
    annotation = getattr(getattr(params[0], "field_info", None), "annotation", None) if len(params) == 1 else None
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None


def _body_loc(loc: Sequence[int | str]) -> tuple[int | str, ...]:
    """Pydantic's location without FastAPI's ``body``/``query`` prefix; ``<body>`` for the whole body."""
    parts = tuple(loc)
    if parts and parts[0] in _LOC_PREFIXES:
        parts = parts[1:]
    return parts or ("<body>",)


def _on_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [{**e, "loc": _body_loc(e.get("loc", ()))} for e in exc.errors()]
    found = spec_errors_of(errors or [{"loc": (), "msg": "invalid request", "type": ""}], "", _body_model(request))
    problems = [
        # Without the model's fields to list, the API's schema is where they are.
        SpecError(p.field, p.problem, f"{p.valid_form} (see /openapi.json)")
        if p.valid_form == "one of the documented fields"
        else p
        for p in (found.problems if isinstance(found, SpecProblemsError) else [found])
    ]
    return _invalid(found.field, problems)


def _invalid(field: str, problems: Sequence[SpecError]) -> JSONResponse:
    """422 ``InvalidSpec``: the first problem in ``field``/``expected``, each on a line of the message."""
    first = problems[0]
    if len(problems) == 1:
        message = f"{first.field}: {first.problem}"
        return error_response(422, "InvalidSpec", message, field=field, expected=first.valid_form)
    message = f"{len(problems)} problems:\n" + "\n".join(str(p) for p in problems)
    return error_response(422, "InvalidSpec", message, field=field, expected=first.valid_form, problems=problems)


def _on_spec_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, SpecError)
    if isinstance(exc, SpecProblemsError):
        return _invalid(exc.field, exc.problems)
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
