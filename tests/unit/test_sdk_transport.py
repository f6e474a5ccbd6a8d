"""The SDK's HTTP edge against a fake API (httpx.MockTransport): auth header, errors, uploads."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path
from typing import Any

import httpx
import pytest

from batchpoint.errors import (
    AuthenticationError,
    ConflictError,
    NotFoundError,
    SpecError,
    SpecProblemsError,
    StackError,
)
from batchpoint.sdk import AssetTypes, Input, MLClient, Model
from batchpoint.sdk.connection import Connection


def _client(handler: Any, token: str = "s3cret") -> MLClient:
    return MLClient(endpoint="http://api.test", token=token, transport=httpx.MockTransport(handler))


def _error(status: int, code: str, message: str, **extra: Any) -> httpx.Response:
    return httpx.Response(status, json={"error": {"code": code, "message": message, **extra}})


def test_bearer_token_is_sent_and_positional_azure_arguments_are_ignored() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["authorization"])
        return httpx.Response(200, json={"value": []})

    client = MLClient(
        None, "sub", "rg", "ws", endpoint="http://api.test", token="s3cret", transport=httpx.MockTransport(handler)
    )
    assert client.batch_endpoints.list() == []
    assert seen == ["Bearer s3cret"]


@pytest.mark.parametrize(
    ("response", "error", "text"),
    [
        (_error(401, "Unauthorized", "a valid bearer token is required"), AuthenticationError, "BATCHPOINT_API_TOKEN"),
        (_error(404, "NotFound", "batch endpoint 'nope' not found"), NotFoundError, "batch endpoint 'nope' not found"),
        (_error(409, "Conflict", "deployment 'a' is the default"), ConflictError, "is the default"),
        (_error(503, "ServiceUnavailable", "S3 is down"), StackError, "S3 is down"),
    ],
)
def test_api_errors_become_typed_exceptions(response: httpx.Response, error: type[Exception], text: str) -> None:
    client = _client(lambda request: response)
    with pytest.raises(error, match=text):
        client.batch_endpoints.get("nope")


def test_422_names_the_field_and_the_expected_form() -> None:
    expected = "an integer >= 1"
    response = _error(
        422,
        "InvalidSpec",
        f"settings.mini_batch_size: got 0 (expected {expected})",
        field="settings.mini_batch_size",
        expected=expected,
    )
    with pytest.raises(SpecError) as caught:
        _client(lambda request: response).batch_endpoints.get("e")
    assert (caught.value.field, caught.value.problem, caught.value.valid_form) == (
        "settings.mini_batch_size",
        "got 0",
        expected,
    )


def test_422_with_several_problems_raises_each_once() -> None:
    problems = [
        {"field": "name", "problem": "got 'x'", "expected": "3 to 32 letters"},
        {"field": "colour", "problem": "unknown field", "expected": "one of: name, tags"},
    ]
    message = (
        "2 problems:\nname: got 'x' (expected 3 to 32 letters)\ncolour: unknown field (expected one of: name, tags)"
    )
    response = _error(422, "InvalidSpec", message, field="name", expected="3 to 32 letters", problems=problems)
    with pytest.raises(SpecProblemsError) as caught:
        _client(lambda request: response).batch_endpoints.get("e")
    assert str(caught.value) == message
    assert [p.field for p in caught.value.problems] == ["name", "colour"]


def test_unreachable_api_says_where_it_looked() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(StackError, match=r"http://api\.test.*BATCHPOINT_API_URL"):
        _client(handler).compute.list()


def test_invoke_uploads_a_local_folder_keeping_its_layout(tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "sub").mkdir(parents=True)
    (data / "a.csv").write_text("x\n1\n")
    (data / "sub" / "b.csv").write_text("x\n2\n")
    uploads: list[str] = []
    invoked: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/uploads":
            prefix = request.url.params["prefix"]
            name = "a.csv" if b'filename="a.csv"' in request.content else "b.csv"
            uploads.append(f"{prefix}/{name}")
            return httpx.Response(201, json={"uri": f"s3://batchpoint/uploads/{prefix}/{name}"})
        invoked.append(json.loads(request.content))
        job = {"name": "batchjob-1", "endpoint_name": "e", "status": "Preparing", "created_at": "2026-11-24T04:00:00Z"}
        return httpx.Response(202, json=job)

    job = _client(handler).batch_endpoints.invoke(endpoint_name="e", input=Input(type=AssetTypes.URI_FOLDER, path=data))
    assert job.name == "batchjob-1"
    upload_id = uploads[0].split("/")[0]
    assert uploads == [f"{upload_id}/data/a.csv", f"{upload_id}/data/sub/b.csv"]
    assert invoked[0]["inputs"]["input"] == {
        "type": "uri_folder",
        "path": f"s3://batchpoint/uploads/{upload_id}/data/",
    }


def test_model_registration_sends_spec_and_archive(tmp_path: Path) -> None:
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "MLmodel").write_text("flavors: {}\n")
    captured: dict[str, Any] = {}

    def handler(request: httpx.Request) -> httpx.Response:
        captured["path"] = request.url.path
        captured["body"] = request.content
        info = {"name": "heart", "version": "1", "type": "mlflow_model", "uri": "models:/heart/1"}
        return httpx.Response(201, json=info)

    model = _client(handler).models.create_or_update(Model(name="heart", path=folder, type=AssetTypes.MLFLOW_MODEL))
    assert (model.version, model.id) == ("1", "azureml:heart:1")
    assert captured["path"] == "/v1/models/heart/versions"
    body: bytes = captured["body"]
    assert b'"type": "mlflow_model"' in body
    gz = body[body.index(b"\x1f\x8b") :]
    with tarfile.open(fileobj=io.BytesIO(gz), mode="r:gz") as tar:
        assert tar.getnames() == ["MLmodel"]


def test_connection_order_argument_env_file(tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"api_url": "https://file:1", "api_token": "from-file"}))
    env = {"BATCHPOINT_API_TOKEN": "from-env"}
    found = Connection.resolve(environ=env, config_path=config)
    assert (found.url, found.token) == ("https://file:1", "from-env")
    found = Connection.resolve(endpoint="http://arg:2/", environ={}, config_path=tmp_path / "missing.json")
    assert (found.url, found.token) == ("http://arg:2", "")
