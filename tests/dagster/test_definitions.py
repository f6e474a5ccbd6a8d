"""The Dagster definitions built from a real (sqlite) registry load and validate."""

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

from batchpoint.config import Settings
from batchpoint.registry.store import Registry
from batchpoint.specs.deployment import BatchDeployment
from batchpoint.specs.endpoint import BatchEndpoint
from dagster_project.definitions import build_definitions
from dagster_project.naming import job_name, predictions_key
from dagster_project.platform_resource import Platform


def _platform(tmp_path: Path, *endpoints: BatchEndpoint) -> Platform:
    settings = dataclasses.replace(Settings(), data_dir=tmp_path)
    registry = Registry(settings.registry)
    for endpoint in endpoints:
        registry.create_or_update_endpoint(endpoint)
        registry.create_or_update_deployment(
            BatchDeployment.parse({"name": "forecast-mlflow", "endpoint_name": endpoint.name, "model": "models:/m/1"})
        )
    registry.close()
    return Platform(settings)


def test_empty_registry_gives_valid_empty_definitions(tmp_path: Path) -> None:
    defs = build_definitions(_platform(tmp_path))
    dg.Definitions.validate_loadable(defs)
    assert list(defs.resolve_all_asset_keys()) == []


def test_each_endpoint_gets_landing_predictions_job_and_the_sensor(tmp_path: Path) -> None:
    sales = BatchEndpoint.parse(
        {"name": "sales-forecast", "data_arrival": {"prefix": "sales/", "start_month": "2024-01"}}
    )
    manual = BatchEndpoint.parse({"name": "manual-only"})
    defs = build_definitions(_platform(tmp_path, sales, manual))
    dg.Definitions.validate_loadable(defs)
    keys = set(defs.resolve_all_asset_keys())
    assert predictions_key("sales-forecast") in keys
    assert dg.AssetKey(["landing", "landing", "sales"]) in keys
    job = defs.resolve_job_def(job_name("sales-forecast"))
    partitions = job.partitions_def
    assert partitions is not None
    keys_list = partitions.get_partition_keys()
    assert keys_list[0] == "2024-01"
    assert keys_list[-1] == datetime.now(UTC).strftime("%Y-%m")  # the month in progress is scoreable
    assert defs.resolve_sensor_def("datastore_events") is not None
    assert defs.resolve_job_def(job_name("manual-only")) is not None
