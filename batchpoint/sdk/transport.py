"""The SDK's one HTTP client: bearer auth, JSON in and out, API errors as batchpoint exceptions.

The API answers errors as ``{"error": {"code", "message", "field", "expected"}}``; here 422 becomes
``SpecError`` (or ``ModelError`` for ``InvalidModel``), 404 ``NotFoundError``, 409 ``ConflictError``,
401 ``AuthenticationError`` and 5xx or an unreachable server ``StackError``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

import httpx

from batchpoint.errors import (
    AuthenticationError,
    BatchpointError,
    ConflictError,
    ModelError,
    NotFoundError,
    SpecError,
    SpecProblemsError,
    StackError,
)
from batchpoint.sdk.connection import TOKEN_VARIABLE, URL_VARIABLE, Connection, default_config_path
from batchpoint.sdk.progress import counting_reader

DEFAULT_TIMEOUT_S = 60.0
Files = Mapping[str, tuple[str, BinaryIO | bytes, str]]


class ApiTransport:
    """Calls the batchpoint API at ``connection.url`` with ``connection.token``."""

    def __init__(
        self,
        connection: Connection,
        *,
        transport: httpx.BaseTransport | None = None,
        verify: bool | str = True,
        timeout: float = DEFAULT_TIMEOUT_S,
        show_progress: bool = True,
    ) -> None:
        self.connection = connection
        self.show_progress = show_progress
        """Whether uploads and ``job stream`` draw bars on a terminal (``batchpoint.sdk.progress``)."""
        headers = {"Authorization": f"Bearer {connection.token}"} if connection.token else {}
        self._http = httpx.Client(
            base_url=connection.url, headers=headers, transport=transport, verify=verify, timeout=timeout
        )

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __del__(self) -> None:
        # Azure samples never close their MLClient; do not leave its sockets to the garbage collector.
        http = getattr(self, "_http", None)
        if http is not None:
            http.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        files: Files | None = None,
        data: Mapping[str, str] | None = None,
    ) -> Any:
        """Send one request; the decoded JSON answer, ``None`` for 204."""
        clean = {k: v for k, v in (params or {}).items() if v is not None}
        try:
            response = self._http.request(method, path, json=json, params=clean, files=files, data=data)
        except httpx.TransportError as exc:
            raise self._unreachable(exc) from exc
        raise_for_error(response, self.connection)
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    def get(self, path: str, **params: Any) -> Any:
        """GET ``path`` with query ``params`` (``None`` values left out)."""
        return self.request("GET", path, params=params)

    def values(self, path: str, **params: Any) -> list[dict[str, Any]]:
        """The ``value`` list of a list answer."""
        answer = self.get(path, **params)
        return list(answer["value"])

    @contextmanager
    def stream(self, path: str) -> Iterator[httpx.Response]:
        """GET ``path`` as a stream (file downloads)."""
        try:
            with self._http.stream("GET", path) as response:
                if response.is_error:
                    response.read()
                raise_for_error(response, self.connection)
                yield response
        except httpx.TransportError as exc:
            raise self._unreachable(exc) from exc

    def upload_file(self, local: Path, prefix: str, on_sent: Callable[[int], None] | None = None) -> str:
        """Upload one local file under ``prefix``; its ``s3://`` URI. ``on_sent(n)`` as bytes go out."""
        with local.open("rb") as handle:
            body = counting_reader(handle, on_sent) if on_sent is not None else handle
            answer = self.request(
                "POST",
                "/v1/uploads",
                params={"prefix": prefix},
                files={"file": (local.name, body, "application/octet-stream")},
            )
        return str(answer["uri"])

    def _unreachable(self, exc: httpx.TransportError) -> StackError:
        return StackError(
            f"cannot reach the batchpoint API at {self.connection.url} ({exc}); start it with "
            f"`python -m batchpoint.api` or point {URL_VARIABLE} at it"
        )


def raise_for_error(response: httpx.Response, connection: Connection) -> None:
    """Raise the batchpoint exception an error answer stands for; nothing for 2xx."""
    if not response.is_error:
        return
    detail = _error_detail(response)
    message = str(detail.get("message") or response.reason_phrase or "error")
    status = response.status_code
    if status == 401:
        raise AuthenticationError(
            f"the batchpoint API at {connection.url} refused the request ({message}); create a token with "
            f"`batchpoint token create <name>` and set {TOKEN_VARIABLE}=<secret> "
            f'(or "api_token" in {default_config_path()})'
        )
    if status == 404:
        raise _not_found(message, response.request.url.path)
    if status == 409:
        raise ConflictError(message)
    if status == 422 and detail.get("code") == "InvalidModel":
        raise ModelError(message)
    if status in (400, 422):
        raise _spec_errors(detail.get("problems")) or _spec_error(message, detail.get("field"), detail.get("expected"))
    if status >= 500:
        raise StackError(f"the batchpoint API failed ({status}): {message}")
    raise BatchpointError(f"the batchpoint API answered {status}: {message}")


def _error_detail(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {"message": response.text[:500]}
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else {"message": str(body)[:500]}


def _spec_errors(problems: Any) -> SpecProblemsError | None:
    """The API's several problems of one spec as one ``SpecProblemsError``; ``None`` for the one-problem shape."""
    if not isinstance(problems, list) or not problems:
        return None
    found = [
        SpecError(str(p.get("field")), str(p.get("problem")), str(p["expected"]) if p.get("expected") else None)
        for p in problems
        if isinstance(p, dict)
    ]
    return SpecProblemsError(found) if found else None


def _spec_error(message: str, field: Any, expected: Any) -> SpecError:
    name = str(field) if field else "request"
    problem = message.removeprefix(f"{name}: ")
    if expected:
        problem = problem.removesuffix(f" (expected {expected})")
    return SpecError(name, problem, str(expected) if expected else None)


def _not_found(message: str, path: str) -> NotFoundError:
    error = NotFoundError("resource", path)
    # Keep the API's own wording ("batch endpoint 'x' not found"); it names the entity.
    error.args = (message,)
    return error
