"""The registry on sqlite and on a real PostgreSQL database."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from batchpoint.errors import ConflictError, NotFoundError, SpecError
from batchpoint.registry.store import Registry
from batchpoint.specs.deployment import BatchDeployment
from batchpoint.specs.endpoint import BatchEndpoint
from tests.postgres import temporary_database

pytestmark = pytest.mark.integration


@pytest.fixture(params=["sqlite", "postgres"])
def registry(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Registry]:
    if request.param == "sqlite":
        reg = Registry(f"sqlite:///{tmp_path / 'registry.db'}")
        yield reg
        reg.close()
    else:
        with temporary_database() as url:
            reg = Registry(url)
            yield reg
            reg.close()


def _deployment(name: str, model: str = "models:/sales/1") -> BatchDeployment:
    return BatchDeployment.parse({"name": name, "endpoint_name": "sales-forecast", "model": model})


def test_endpoint_round_trip_and_first_deployment_becomes_default(registry: Registry) -> None:
    endpoint = BatchEndpoint.parse({"name": "sales-forecast", "data_arrival": {"prefix": "sales/"}})
    registry.create_or_update_endpoint(endpoint)
    assert registry.get_endpoint("sales-forecast") == endpoint
    registry.create_or_update_deployment(_deployment("forecast-mlflow"))
    assert registry.default_deployment("sales-forecast").name == "forecast-mlflow"
    registry.create_or_update_deployment(_deployment("candidate", "models:/sales/2"))
    assert registry.default_deployment("sales-forecast").name == "forecast-mlflow"
    registry.create_or_update_deployment(_deployment("candidate", "models:/sales/3"), set_default=True)
    assert registry.default_deployment("sales-forecast").model.version == "3"
    assert [d.name for d in registry.list_deployments("sales-forecast")] == ["candidate", "forecast-mlflow"]


def test_default_cannot_be_deleted_and_unknowns_are_named(registry: Registry) -> None:
    registry.create_or_update_endpoint(BatchEndpoint.parse({"name": "sales-forecast"}))
    registry.create_or_update_deployment(_deployment("forecast-mlflow"))
    with pytest.raises(ConflictError, match="default"):
        registry.delete_deployment("sales-forecast", "forecast-mlflow")
    with pytest.raises(NotFoundError, match="'nope'"):
        registry.get_endpoint("nope")
    with pytest.raises(NotFoundError, match="sales-forecast/nope"):
        registry.get_deployment("sales-forecast", "nope")
    with pytest.raises(SpecError, match=r"defaults\.deployment_name"):
        registry.create_or_update_endpoint(
            BatchEndpoint.parse({"name": "sales-forecast", "defaults": {"deployment_name": "ghost"}})
        )
    registry.delete_endpoint("sales-forecast")
    assert registry.list_endpoints() == []
