"""``ml_client.outputs`` against a fake API (httpx.MockTransport): paths, bodies, answers."""

from __future__ import annotations

import json

import httpx
import pytest

from batchpoint.errors import ConflictError
from batchpoint.sdk import MLClient
from batchpoint.sdk.entities import OutputVersion

V1 = "20260501T101500.000Z-job1"
SUMMARY = {
    "version_id": V1,
    "status": "Completed",
    "started_at": "2026-05-01T10:15:00+00:00",
    "rows": 12,
    "failed_items": 0,
    "files": 3,
    "model_name": "heart",
    "model_version": "2",
    "deployment_name": "mlflow",
    "promoted": True,
    "is_latest": True,
    "output_uri": "s3://batchpoint/e/2026-05/versions/x/predictions.csv",
}


@pytest.fixture
def calls() -> list[tuple[str, str, object]]:
    return []


@pytest.fixture
def client(calls: list[tuple[str, str, object]]) -> MLClient:
    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        calls.append((request.method, request.url.raw_path.decode(), body))
        if request.url.path.endswith("/rollback") and body == {"version_id": "failed"}:
            return httpx.Response(409, json={"error": {"code": "Conflict", "message": "version 'failed' is Failed"}})
        if request.url.path.endswith("/prune"):
            return httpx.Response(200, json={"deleted": ["a"], "kept": ["c", "b"]})
        if request.url.path.endswith("/versions"):
            return httpx.Response(200, json={"value": [SUMMARY]})
        if request.url.path.endswith("/rollback"):
            return httpx.Response(200, json=SUMMARY)
        return httpx.Response(200, json={"version_id": V1, "is_latest": True})

    return MLClient(endpoint="http://api.test", token="t", transport=httpx.MockTransport(handler))


def test_list_get_rollback_prune(client: MLClient, calls: list[tuple[str, str, object]]) -> None:
    listed = client.outputs.list_versions("sales", "2026-05")
    assert [(v.version_id, v.is_latest, v.rows, v.started_at.year) for v in listed] == [(V1, True, 12, 2026)]  # type: ignore[union-attr]
    assert isinstance(listed[0], OutputVersion) and listed[0]._to_dict() == SUMMARY
    assert client.outputs.get_version("sales", "2026-05") == {"version_id": V1, "is_latest": True}
    client.outputs.get_version("sales", "2026-05", V1)
    assert client.outputs.rollback("sales", "2026-05", V1).version_id == V1
    assert client.outputs.prune("sales", "2026-05", keep=2) == {"deleted": ["a"], "kept": ["c", "b"]}
    base = "/v1/batch-endpoints/sales/outputs/2026-05"
    assert calls == [
        ("GET", f"{base}/versions", None),
        ("GET", f"{base}/versions/latest", None),
        ("GET", f"{base}/versions/{V1}", None),
        ("POST", f"{base}/rollback", {"version_id": V1}),
        ("POST", f"{base}/prune", {"keep": 2}),
    ]


def test_path_segments_are_quoted(client: MLClient, calls: list[tuple[str, str, object]]) -> None:
    client.outputs.get_version("sales", "2026/05", "../x")
    assert calls[0][1] == "/v1/batch-endpoints/sales/outputs/2026%2F05/versions/..%2Fx"


def test_a_refused_rollback_is_a_conflict(client: MLClient) -> None:
    with pytest.raises(ConflictError, match="is Failed"):
        client.outputs.rollback("sales", "2026-05", "failed")
