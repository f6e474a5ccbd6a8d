"""The API's input limits, over the real app: body sizes, free-text fields, model archives, output folders.

Each refusal names the field (and for a size the limit and its setting), and leaves nothing stored.
JSON routes run over a registry of their own; uploads and archives over the embedded stack's S3.
"""

from __future__ import annotations

import dataclasses
import io
import json
import tarfile
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from batchpoint.config import Settings
from batchpoint.management.workspace import Workspace
from tests.integration.test_api_support import api_client, registry_only, store_and_models  # noqa: F401

MiB = 1024 * 1024
ENDPOINT = {"name": "sales-forecast", "data_arrival": {"bucket": "landing", "prefix": "sales/"}}


@pytest.fixture
def client(tmp_path: Path) -> Iterator[httpx.Client]:
    with api_client(dataclasses.replace(Settings(), data_dir=tmp_path)) as (test_client, _):
        yield test_client


@pytest.fixture
def small_limits(store_and_models: Settings, tmp_path: Path) -> Iterator[tuple[httpx.Client, Workspace]]:  # noqa: F811
    settings = dataclasses.replace(
        registry_only(store_and_models, tmp_path),
        api_max_body_bytes=4096,
        api_max_upload_bytes=256 * 1024,
        model_archive_max_unpacked_bytes=MiB,
        model_archive_max_files=50,
    )
    with api_client(settings) as pair:
        yield pair


def _error(response: httpx.Response) -> dict[str, object]:
    body = response.json()
    assert set(body) == {"error"}
    return dict(body["error"])


def _chunked(data: bytes) -> Iterator[bytes]:
    """The body without a Content-Length (httpx sends a generator chunked)."""
    for start in range(0, len(data), 64 * 1024):
        yield data[start : start + 64 * 1024]


def test_a_20_mib_description_is_413_naming_the_limit_and_nothing_is_stored(client: httpx.Client) -> None:
    body = json.dumps({**ENDPOINT, "description": "x" * (20 * MiB)}).encode()
    headers = {"Content-Type": "application/json"}
    for content in (body, _chunked(body)):
        response = client.put("/v1/batch-endpoints/sales-forecast", content=content, headers=headers)
        assert response.status_code == 413, response.text[:300]
        error = _error(response)
        assert (error["code"], error["field"]) == ("ContentTooLarge", "<body>")
        assert "1048576 bytes" in str(error["expected"])
        assert "BATCHPOINT_API_MAX_BODY_BYTES" in str(error["expected"])
    assert client.get("/v1/batch-endpoints/sales-forecast").status_code == 404


def test_a_description_under_the_body_limit_but_over_its_own_is_422(client: httpx.Client) -> None:
    response = client.put("/v1/batch-endpoints/sales-forecast", json={**ENDPOINT, "description": "x" * 100_000})
    assert response.status_code == 422, response.text[:300]
    error = _error(response)
    assert (error["field"], error["expected"]) == ("description", "at most 4096 characters")
    assert len(str(error["message"])) < 500  # the refused text is not echoed back whole
    assert client.get("/v1/batch-endpoints/sales-forecast").status_code == 404


def test_too_many_tags_are_422(client: httpx.Client) -> None:
    tags = {f"t{i}": "v" for i in range(51)}
    response = client.put("/v1/computes/cpu", json={"name": "cpu", "tags": tags})
    assert (response.status_code, _error(response)["field"]) == (422, "tags")
    assert client.get("/v1/computes/cpu").status_code == 404


@pytest.mark.parametrize("prefix", ["../batchpoint/", "./", "sales/../../x/", "/sales/", "a//b/", "sales\\eu/"])
def test_traversal_prefixes_are_422_naming_the_field(client: httpx.Client, prefix: str) -> None:
    response = client.put("/v1/batch-endpoints/sales-forecast", json={**ENDPOINT, "data_arrival": {"prefix": prefix}})
    assert response.status_code == 422, response.text
    error = _error(response)
    assert error["field"] == "data_arrival.prefix"
    assert "`sales/eu/`" in str(error["expected"])
    assert client.get("/v1/batch-endpoints/sales-forecast").status_code == 404


def test_a_prefix_without_its_trailing_slash_is_stored_with_it(client: httpx.Client) -> None:
    response = client.put("/v1/batch-endpoints/sales-forecast", json={**ENDPOINT, "data_arrival": {"prefix": "sales"}})
    assert response.status_code == 200, response.text
    assert response.json()["data_arrival"]["prefix"] == "sales/"


@pytest.mark.parametrize("output_path", ["s3://landing/sales/", "s3://landing/sales/2024-05/results/", "s3://landing/"])
def test_invoke_with_an_output_path_over_a_landing_folder_is_422_naming_output_path(
    client: httpx.Client, output_path: str
) -> None:
    assert client.put("/v1/batch-endpoints/sales-forecast", json=ENDPOINT).status_code == 200
    request = {"inputs": {"input": {"path": "s3://landing/other/"}}, "output_path": output_path}
    response = client.post("/v1/batch-endpoints/sales-forecast/invoke", json=request)
    assert response.status_code == 422, response.text
    error = _error(response)
    assert error["field"] == "output_path"
    assert "s3://landing/sales/" in str(error["message"]) and "sales-forecast" in str(error["message"])
    assert "outside every endpoint's landing folder" in str(error["expected"])
    assert client.get("/v1/batch-endpoints/sales-forecast/jobs").json() == {"value": []}


def test_a_landing_folder_over_the_endpoints_outputs_is_422(client: httpx.Client) -> None:
    body = {**ENDPOINT, "data_arrival": {"bucket": "batchpoint", "prefix": "sales-forecast/"}}
    response = client.put("/v1/batch-endpoints/sales-forecast", json=body)
    assert response.status_code == 422, response.text
    assert _error(response)["field"] == "data_arrival.prefix"
    assert client.get("/v1/batch-endpoints/sales-forecast").status_code == 404


def test_uploads_have_their_own_larger_limit(small_limits: tuple[httpx.Client, Workspace]) -> None:
    client, workspace = small_limits
    bucket = workspace.settings.output_bucket
    fits = client.post("/v1/uploads", params={"prefix": uuid.uuid4().hex}, files={"file": ("a.bin", b"x" * 100_000)})
    assert fits.status_code == 201, fits.text  # 25 times the JSON limit
    prefix = uuid.uuid4().hex
    too_big = client.post("/v1/uploads", params={"prefix": prefix}, files={"file": ("b.bin", b"x" * (512 * 1024))})
    assert too_big.status_code == 413, too_big.text
    assert "BATCHPOINT_API_MAX_UPLOAD_BYTES" in str(_error(too_big)["expected"])
    assert list(workspace.store.list(bucket, f"uploads/{prefix}/")) == []
    json_too_big = client.put("/v1/computes/cpu", json={"name": "cpu", "description": "x" * 4096})
    assert json_too_big.status_code == 413
    assert "BATCHPOINT_API_MAX_BODY_BYTES" in str(_error(json_too_big)["expected"])


def _bomb(unpacked: int) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        info = tarfile.TarInfo("model/weights.bin")
        info.size = unpacked
        tar.addfile(info, io.BytesIO(bytes(unpacked)))
    return buffer.getvalue()


def test_a_model_archive_bomb_is_413_and_leaves_nothing(
    small_limits: tuple[httpx.Client, Workspace], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, workspace = small_limits
    # The app runs in this process: its temporary folders go where this test can look.
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    mlflow_objects = {o.key for o in workspace.store.list(workspace.settings.mlflow_bucket, "")}
    name = f"m-{uuid.uuid4().hex[:8]}"
    archive = _bomb(32 * MiB)
    assert len(archive) < 64 * 1024  # under the upload limit: the unpacked size is what is refused
    spec = json.dumps({"name": name, "type": "custom_model"})
    response = client.post(
        f"/v1/models/{name}/versions",
        data={"spec": spec},
        files={"archive": ("model.tar.gz", archive, "application/gzip")},
    )
    assert response.status_code == 413, response.text
    error = _error(response)
    assert (error["code"], error["field"]) == ("ContentTooLarge", "archive")
    assert "BATCHPOINT_MODEL_ARCHIVE_MAX_UNPACKED_BYTES" in str(error["expected"])
    assert client.get(f"/v1/models/{name}/versions").status_code == 404
    assert list(scratch.iterdir()) == []
    assert {o.key for o in workspace.store.list(workspace.settings.mlflow_bucket, "")} == mlflow_objects


def test_a_model_spec_over_its_field_limits_is_refused_before_unpacking(
    small_limits: tuple[httpx.Client, Workspace],
) -> None:
    client, _ = small_limits
    name = f"m-{uuid.uuid4().hex[:8]}"
    archive = {"archive": ("model.tar.gz", _bomb(10), "application/gzip")}
    for description, status, field in (("x" * 5000, 422, "spec.description"), ("x" * (20 * MiB), 413, "<body>")):
        spec = json.dumps({"name": name, "type": "custom_model", "description": description})
        response = client.post(f"/v1/models/{name}/versions", data={"spec": spec}, files=archive)
        assert (response.status_code, _error(response)["field"]) == (status, field), response.text[:300]
    assert client.get(f"/v1/models/{name}/versions").status_code == 404
