"""Routes over the registry alone (endpoints, computes, environments, data): a real Workspace on sqlite."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from batchpoint.config import Settings
from tests.integration.test_api_support import api_client


@pytest.fixture
def client(tmp_path: Path) -> Iterator[httpx.Client]:
    with api_client(dataclasses.replace(Settings(), data_dir=tmp_path)) as (test_client, _):
        yield test_client


def _error(response: httpx.Response) -> dict[str, object]:
    body = response.json()
    assert set(body) == {"error"}
    return dict(body["error"])


ENDPOINT = {
    "name": "sales-forecast",
    "description": "monthly sales",
    "data_arrival": {"bucket": "landing", "prefix": "sales/"},
}


def test_endpoint_lifecycle(client: httpx.Client) -> None:
    assert client.get("/v1/batch-endpoints").json() == {"value": []}
    created = client.put("/v1/batch-endpoints/sales-forecast", json=ENDPOINT)
    assert created.status_code == 200, created.text
    assert created.json()["defaults"] == {"deployment_name": None}
    assert created.json()["data_arrival"]["partitioning"] == "monthly"
    assert client.get("/v1/batch-endpoints/sales-forecast").json() == created.json()
    assert [e["name"] for e in client.get("/v1/batch-endpoints").json()["value"]] == ["sales-forecast"]
    assert client.get("/v1/batch-endpoints/sales-forecast/deployments").json() == {"value": []}
    assert client.get("/v1/batch-endpoints/sales-forecast/jobs").json() == {"value": []}
    assert client.delete("/v1/batch-endpoints/sales-forecast").status_code == 204
    assert client.get("/v1/batch-endpoints/sales-forecast").status_code == 404


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("/v1/batch-endpoints/nope", "batch endpoint 'nope'"),
        ("/v1/batch-endpoints/nope/deployments", "batch endpoint 'nope'"),
        ("/v1/batch-endpoints/nope/deployments/blue", "batch endpoint 'nope'"),
        ("/v1/batch-endpoints/nope/jobs", "batch endpoint 'nope'"),
        ("/v1/computes/nope", "compute 'nope'"),
        ("/v1/environments/nope/versions/1", "environment 'nope:1'"),
        ("/v1/data/nope/versions/1", "data asset 'nope:1'"),
        ("/v1/jobs/batchjob-000000000000", "job 'batchjob-000000000000'"),
        ("/v1/jobs/batchjob-000000000000/logs", "job 'batchjob-000000000000'"),
        ("/v1/jobs/batchjob-000000000000/outputs", "job 'batchjob-000000000000'"),
    ],
)
def test_unknown_entities_are_404_naming_them(client: httpx.Client, path: str, kind: str) -> None:
    response = client.get(path)
    assert response.status_code == 404, response.text
    error = _error(response)
    assert error["code"] == "NotFound"
    assert kind in str(error["message"])


def test_deleting_an_unknown_entity_is_404(client: httpx.Client) -> None:
    for path in ("/v1/batch-endpoints/nope", "/v1/computes/nope", "/v1/environments/nope/versions/1"):
        assert client.delete(path).status_code == 404, path


@pytest.mark.parametrize(
    ("path", "body", "field", "expected"),
    [
        ("/v1/batch-endpoints/1bad", {**ENDPOINT, "name": "1bad"}, "name", "starting with a letter"),
        ("/v1/batch-endpoints/sales-forecast", {**ENDPOINT, "colour": "red"}, "colour", "one of: checks, data_arrival"),
        ("/v1/batch-endpoints/other-name", ENDPOINT, "name", "the same value in both"),
        (
            "/v1/batch-endpoints/sales-forecast",
            {**ENDPOINT, "data_arrival": {"prefix": "../batchpoint/"}},
            "data_arrival.prefix",
            "no `.` or `..` segments",
        ),
        (
            "/v1/batch-endpoints/sales-forecast",
            {**ENDPOINT, "description": "x" * 4097},
            "description",
            "at most 4096 characters",
        ),
        ("/v1/computes/cpu", {"name": "cpu", "tags": {"k": "v" * 257}}, "tags.k", "at most 256 characters"),
        ("/v1/computes/cpu", {"name": "cpu", "max_instances": 0}, "max_instances", "a number >= 1"),
        ("/v1/computes/cpu", {"name": "cpu", "min_instances": 3, "max_instances": 2}, "max_instances", "min_instances"),
        ("/v1/data/sales/versions/1", {"name": "sales", "path": "/local/folder"}, "path", "s3://<bucket>"),
        ("/v1/environments/py/versions/!!", {"name": "py"}, "version", "1 to 64 letters, digits"),
    ],
)
def test_invalid_specs_are_422_naming_the_field_and_the_accepted_form(
    client: httpx.Client, path: str, body: dict[str, object], field: str, expected: str
) -> None:
    response = client.put(path, json=body)
    assert response.status_code == 422, response.text
    error = _error(response)
    assert error["code"] == "InvalidSpec"
    assert error["field"] == field
    assert expected in str(error["expected"])
    assert field in str(error["message"])
    # Said once: the valid form is not repeated as the problem ("... should match ... (expected ... should match ...)").
    assert str(error["message"]).count(str(error["expected"])) <= 1
    assert "should" not in str(error["expected"])


def test_a_body_that_is_not_json_is_422(client: httpx.Client) -> None:
    response = client.put("/v1/computes/cpu", content=b"{nope", headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert _error(response)["expected"] == "a JSON document"


def test_defaults_must_name_an_existing_deployment(client: httpx.Client) -> None:
    body = {**ENDPOINT, "defaults": {"deployment_name": "blue"}}
    response = client.put("/v1/batch-endpoints/sales-forecast", json=body)
    assert response.status_code == 422
    assert _error(response)["field"] == "defaults.deployment_name"


def test_compute_lifecycle(client: httpx.Client) -> None:
    body = {"name": "cpu-cluster", "type": "amlcompute", "min_instances": 0, "max_instances": 4}
    created = client.put("/v1/computes/cpu-cluster", json=body)
    assert created.status_code == 200, created.text
    assert created.json()["idle_time_before_scale_down"] == 120
    updated = client.put("/v1/computes/cpu-cluster", json={**body, "max_instances": 8}).json()
    assert updated["max_instances"] == 8
    assert client.get("/v1/computes/cpu-cluster").json() == updated
    assert [c["name"] for c in client.get("/v1/computes").json()["value"]] == ["cpu-cluster"]
    assert client.delete("/v1/computes/cpu-cluster").status_code == 204
    assert client.get("/v1/computes").json() == {"value": []}


@pytest.mark.parametrize(
    ("prefix", "body"),
    [
        ("/v1/environments/sklearn-env", {"name": "sklearn-env", "pip_requirements": ["scikit-learn"]}),
        ("/v1/data/sales-history", {"name": "sales-history", "type": "uri_folder", "path": "s3://landing/sales/"}),
    ],
)
def test_versioned_asset_lifecycle(client: httpx.Client, prefix: str, body: dict[str, object]) -> None:
    first = client.put(f"{prefix}/versions/1", json=body)
    assert first.status_code == 200, first.text
    assert first.json()["version"] == "1"
    second = client.put(f"{prefix}/versions/2", json={**body, "version": "2", "description": "newer"})
    assert second.status_code == 200, second.text
    assert client.get(f"{prefix}/versions/1").json() == first.json()
    assert [v["version"] for v in client.get(f"{prefix}/versions").json()["value"]] == ["2", "1"]
    collection = prefix.rsplit("/", 1)[0]
    assert [(a["name"], a["version"]) for a in client.get(collection).json()["value"]] == [(body["name"], "2")]
    mismatch = client.put(f"{prefix}/versions/3", json={**body, "version": "4"})
    assert (mismatch.status_code, _error(mismatch)["field"]) == (422, "version")
    assert client.delete(f"{prefix}/versions/1").status_code == 204
    assert client.get(f"{prefix}/versions/1").status_code == 404
