"""Routes that reach MLflow and S3: model upload, deployments, uploads, invoke and the job's outputs.

A real Workspace over the embedded stack's S3 and MLflow, with a registry of its own per test.
"""

from __future__ import annotations

import io
import json
import tarfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from batchpoint.config import Settings
from batchpoint.management.workspace import Workspace
from batchpoint.specs.s3_uri import split_s3_uri
from tests.integration.test_api_support import api_client, registry_only, store_and_models  # noqa: F401


@pytest.fixture
def served(store_and_models: Settings, tmp_path: Path) -> Iterator[tuple[httpx.Client, Workspace]]:  # noqa: F811
    with api_client(registry_only(store_and_models, tmp_path)) as pair:
        yield pair


@pytest.fixture
def client(served: tuple[httpx.Client, Workspace]) -> httpx.Client:
    return served[0]


def _archive(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _register(client: httpx.Client, name: str, members: dict[str, bytes] | None = None) -> httpx.Response:
    spec = json.dumps({"name": name, "type": "custom_model", "description": "test model"})
    archive = _archive(members or {"model/weights.bin": b"\x00\x01", "model/README": b"hi"})
    return client.post(
        f"/v1/models/{name}/versions",
        data={"spec": spec},
        files={"archive": ("model.tar.gz", archive, "application/gzip")},
    )


def test_model_versions_labels_and_aliases(client: httpx.Client) -> None:
    name = f"m-{uuid.uuid4().hex[:8]}"
    first = _register(client, name)
    assert first.status_code == 201, first.text
    assert (first.json()["version"], first.json()["uri"], first.json()["type"]) == (
        "1",
        f"models:/{name}/1",
        "custom_model",
    )
    assert _register(client, name).json()["version"] == "2"
    assert [v["version"] for v in client.get(f"/v1/models/{name}/versions").json()["value"]] == ["2", "1"]
    assert client.get(f"/v1/models/{name}/labels/latest").json()["version"] == "2"
    assert client.get(f"/v1/models/{name}/versions/1").json()["description"] == "test model"
    assert any(m["name"] == name for m in client.get("/v1/models").json()["value"])
    aliased = client.put(f"/v1/models/{name}/aliases/champion", json={"version": "1"})
    assert aliased.status_code == 200, aliased.text
    assert aliased.json()["aliases"] == ["champion"]
    assert client.get(f"/v1/models/{name}/labels/champion").json()["version"] == "1"
    assert client.delete(f"/v1/models/{name}/aliases/champion").status_code == 204
    assert client.get(f"/v1/models/{name}/labels/champion").status_code == 404
    missing = client.get(f"/v1/models/{name}/versions/9")
    assert missing.status_code == 404 and name in missing.json()["error"]["message"]


@pytest.mark.parametrize(
    ("spec", "files", "field", "expected"),
    [
        ('{"name": "x"', None, "spec", "a ModelSpec as JSON"),
        ('{"name": "NAME", "type": "onnx"}', None, "spec.type", ""),
        ('{"name": "NAME"}', None, "archive", "tar.gz of the model folder"),
        ('{"name": "NAME"}', {"../../etc/cron.d/x": b"x"}, "archive", "relative paths"),
        ('{"name": "NAME"}', {"/abs/file": b"x"}, "archive", "relative paths"),
        ('{"name": "other"}', {"f": b"x"}, "name", "the same value in both"),
    ],
)
def test_bad_model_uploads_are_422_naming_the_field(
    client: httpx.Client, spec: str, files: dict[str, bytes] | None, field: str, expected: str
) -> None:
    name = f"m-{uuid.uuid4().hex[:8]}"
    upload = {"archive": ("m.tar.gz", _archive(files), "application/gzip")} if files else None
    response = client.post(f"/v1/models/{name}/versions", data={"spec": spec.replace("NAME", name)}, files=upload)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["field"] == field
    assert expected in (error["expected"] or "")


def test_uploads_land_under_the_output_bucket(served: tuple[httpx.Client, Workspace]) -> None:
    client, workspace = served
    answer = client.post("/v1/uploads", files={"file": ("a.csv", b"x,y\n1,2\n", "text/csv")})
    assert answer.status_code == 201, answer.text
    bucket, key = split_s3_uri(answer.json()["uri"])
    assert bucket == workspace.settings.output_bucket
    assert key.startswith("uploads/") and key.endswith("/a.csv")
    assert workspace.store.get_bytes(bucket, key) == b"x,y\n1,2\n"
    nested = client.post("/v1/uploads", params={"prefix": "abc123/sub"}, files={"file": ("b.csv", b"1", "text/csv")})
    assert nested.json()["uri"] == f"s3://{bucket}/uploads/abc123/sub/b.csv"
    for bad in ("../escape", "a/../../b", "a/./b"):
        refused = client.post("/v1/uploads", params={"prefix": bad}, files={"file": ("c.csv", b"1", "text/csv")})
        assert (refused.status_code, refused.json()["error"]["field"]) == (422, "prefix"), bad


def test_invoke_then_follow_the_job(served: tuple[httpx.Client, Workspace]) -> None:
    client, workspace = served
    model = f"m-{uuid.uuid4().hex[:8]}"
    assert _register(client, model).status_code == 201
    endpoint = f"ep-{uuid.uuid4().hex[:8]}"
    assert client.put(f"/v1/batch-endpoints/{endpoint}", json={"name": endpoint}).status_code == 200
    deployment = {"name": "blue", "endpoint_name": endpoint, "model": f"azureml:{model}@latest"}
    created = client.put(f"/v1/batch-endpoints/{endpoint}/deployments/blue", json=deployment)
    assert created.status_code == 200, created.text
    assert created.json()["model"] == f"models:/{model}/1"
    assert client.get(f"/v1/batch-endpoints/{endpoint}").json()["defaults"]["deployment_name"] == "blue"
    local_code = {**deployment, "name": "green", "code_configuration": {"code": "/etc", "scoring_script": "passwd"}}
    refused = client.put(f"/v1/batch-endpoints/{endpoint}/deployments/green", json=local_code)
    assert (refused.status_code, refused.json()["error"]["field"]) == (422, "code_configuration.code")
    conflict = client.delete(f"/v1/batch-endpoints/{endpoint}/deployments/blue")
    assert conflict.status_code == 409 and conflict.json()["error"]["code"] == "Conflict"

    uploaded = client.post("/v1/uploads", params={"prefix": uuid.uuid4().hex}, files={"file": ("m.csv", b"1\n")})
    folder = uploaded.json()["uri"].rsplit("/", 1)[0] + "/"
    invoked = client.post(f"/v1/batch-endpoints/{endpoint}/invoke", json={"inputs": {"input": {"path": folder}}})
    assert invoked.status_code == 202, invoked.text
    job = invoked.json()
    assert (job["status"], job["deployment_name"], job["trigger"]) == ("Preparing", "blue", "invoke")
    name = job["name"]
    assert client.get(f"/v1/jobs/{name}").json()["name"] == name
    assert [j["name"] for j in client.get(f"/v1/batch-endpoints/{endpoint}/jobs").json()["value"]] == [name]
    assert client.get(f"/v1/batch-endpoints/{endpoint}/jobs", params={"deployment_name": "red"}).json() == {"value": []}
    assert client.get(f"/v1/jobs/{name}/logs").json() == {"text": "", "next_offset": 0, "done": False}
    assert client.get(f"/v1/jobs/{name}/outputs").json() == {"value": []}

    # What a scoring run leaves in the job's folder.
    bucket, prefix = split_s3_uri(job["output_uri"])
    store = workspace.store
    store.put_bytes(bucket, prefix + "predictions.csv", b"m.csv,42\n")
    store.put_bytes(bucket, prefix + "v1/logs/user/job_progress_overview.txt", b"1 of 1 mini-batches\n")
    outputs = {o["path"]: o["size"] for o in client.get(f"/v1/jobs/{name}/outputs").json()["value"]}
    assert outputs["predictions.csv"] == len(b"m.csv,42\n")
    download = client.get(f"/v1/jobs/{name}/outputs/predictions.csv")
    assert (download.status_code, download.content) == (200, b"m.csv,42\n")
    assert client.get(f"/v1/jobs/{name}/outputs/nope.csv").status_code == 404

    canceled = client.post(f"/v1/jobs/{name}/cancel")
    assert canceled.json()["status"] == "Canceled"
    logs = client.get(f"/v1/jobs/{name}/logs").json()
    assert logs["done"] is True
    assert "1 of 1 mini-batches" in logs["text"]
    rest = client.get(f"/v1/jobs/{name}/logs", params={"offset": logs["next_offset"]}).json()
    assert rest == {"text": "", "next_offset": logs["next_offset"], "done": True}
