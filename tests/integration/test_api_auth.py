"""Bearer auth on every route but health: missing, wrong and revoked tokens get 401 and nothing more."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from batchpoint.config import Settings
from batchpoint.management.workspace import Workspace
from tests.integration.test_api_support import api_client


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[httpx.Client, Workspace]]:
    with api_client(dataclasses.replace(Settings(), data_dir=tmp_path), token=False) as pair:
        yield pair


@pytest.fixture
def client(served: tuple[httpx.Client, Workspace]) -> httpx.Client:
    return served[0]


@pytest.fixture
def workspace(served: tuple[httpx.Client, Workspace]) -> Workspace:
    return served[1]


def _operations(client: httpx.Client) -> list[tuple[str, str]]:
    schema = client.get("/openapi.json").json()
    found = []
    for path, item in schema["paths"].items():
        concrete = re.sub(r"\{[^}]+\}", "some-name", path)
        found.extend((method.upper(), concrete) for method in item if method in {"get", "put", "post", "delete"})
    return found


def _assert_unauthorized(response_status: int, headers: dict[str, str], body: dict[str, object]) -> None:
    assert response_status == 401
    assert headers["www-authenticate"] == "Bearer"
    assert body == {
        "error": {
            "code": "Unauthorized",
            "message": "a valid bearer token is required",
            "field": None,
            "expected": None,
        }
    }


def test_health_needs_no_token(client: httpx.Client) -> None:
    response = client.get("/v1/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_openapi_declares_the_bearer_scheme_on_every_other_operation(client: httpx.Client) -> None:
    schema = client.get("/openapi.json").json()
    assert schema["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if path == "/v1/health":
                assert "security" not in operation
            else:
                assert operation["security"] == [{"HTTPBearer": []}], f"{method} {path}"
    assert client.get("/docs").status_code == 200


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong-secret", "Bearer", "Basic dXNlcjpwYXNz", "bearer  x y", "Token abc"],
)
def test_every_route_refuses_a_missing_or_wrong_token(client: httpx.Client, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization is not None else {}
    operations = _operations(client)
    assert len(operations) >= 30
    for method, path in operations:
        if path == "/v1/health":
            continue
        # A body that would be invalid anyway: 401 must come before validation.
        response = client.request(method, path, headers=headers, content=b"{not json")
        _assert_unauthorized(response.status_code, dict(response.headers), response.json())


def test_unknown_routes_do_not_reveal_themselves_without_a_token(client: httpx.Client) -> None:
    response = client.get("/v1/no-such-thing")
    assert response.status_code == 401


def test_a_valid_token_passes_and_a_revoked_one_stops_at_once(client: httpx.Client, workspace: Workspace) -> None:
    token_id, secret = workspace.tokens.create("ci")
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get("/v1/batch-endpoints", headers=headers).json() == {"value": []}
    workspace.tokens.revoke(token_id)
    response = client.get("/v1/batch-endpoints", headers=headers)
    _assert_unauthorized(response.status_code, dict(response.headers), response.json())


def test_a_token_for_an_unknown_route_gets_the_error_shape(client: httpx.Client, workspace: Workspace) -> None:
    _, secret = workspace.tokens.create("ci")
    response = client.get("/v1/no-such-thing", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NotFound"
