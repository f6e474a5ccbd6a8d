"""The invocation path in the Dagster definitions: per endpoint an asset + job, one sensor, a run config that fits."""

import dataclasses
from pathlib import Path

import dagster as dg
import pytest

from batchpoint.config import Settings
from batchpoint.errors import ScoringError
from batchpoint.registry.store import Registry
from batchpoint.specs.deployment import BatchDeployment
from batchpoint.specs.endpoint import BatchEndpoint
from batchpoint.specs.job import InvocationMessage
from batchpoint.storage.memory import MemoryStore
from dagster_project.definitions import build_definitions
from dagster_project.invocation_assets import (
    NEW_ENDPOINT_JOB,
    InvocationConfig,
    NewEndpointInvocationConfig,
    build_invocation_definitions,
    invocation_job_name,
    invocation_key,
    invocation_partitions_name,
    new_endpoint_run_config,
)
from dagster_project.invocation_sensor import SENSOR_NAME
from dagster_project.invocation_step import list_invocation_inputs
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


def _message(**changes: object) -> InvocationMessage:
    return InvocationMessage.model_validate(
        {
            "job_name": "batchjob-0123456789ab",
            "endpoint_name": "sales-forecast",
            "deployment_name": "forecast-mlflow",
            "inputs": {
                "input": {"type": "uri_folder", "path": "s3://landing/adhoc/"},
                "extra": {"type": "uri_file", "path": "s3://landing/one.csv"},
            },
            "output_path": "s3://results/mine/",
            "overrides": {"mini_batch_size": 3, "max_retries": 0, "output_file_name": "out.csv"},
            **changes,
        }
    )


def test_every_endpoint_gets_an_invocation_asset_and_job_and_one_sensor_serves_all(tmp_path: Path) -> None:
    sales = BatchEndpoint.parse({"name": "sales-forecast", "data_arrival": {"prefix": "sales/"}})
    manual = BatchEndpoint.parse({"name": "manual-only"})
    defs = build_definitions(_platform(tmp_path, sales, manual))
    dg.Definitions.validate_loadable(defs)
    keys = set(defs.resolve_all_asset_keys())
    for name in ("sales-forecast", "manual-only"):
        assert invocation_key(name) in keys
        job = defs.resolve_job_def(invocation_job_name(name))
        assert isinstance(job.partitions_def, dg.DynamicPartitionsDefinition)
        assert job.partitions_def.name == invocation_partitions_name(name)
    sensor = defs.resolve_sensor_def(SENSOR_NAME)
    assert {j.name for j in sensor.jobs} == {
        invocation_job_name("sales-forecast"),
        invocation_job_name("manual-only"),
        NEW_ENDPOINT_JOB,
    }
    assert sensor.default_status is dg.DefaultSensorStatus.RUNNING


def test_the_invocation_sensor_exists_with_no_endpoint_to_ask_for_the_first_reload(tmp_path: Path) -> None:
    defs = build_definitions(_platform(tmp_path))
    dg.Definitions.validate_loadable(defs)
    assert defs.resolve_sensor_def(SENSOR_NAME) is not None


def test_the_sensors_run_config_is_valid_for_the_job_and_gives_the_message_back(tmp_path: Path) -> None:
    sales = BatchEndpoint.parse({"name": "sales-forecast"})
    platform = _platform(tmp_path, sales)
    defs = build_definitions(platform)
    built = build_invocation_definitions(sales, platform)
    message = _message()
    run_config = built.run_config(message)
    job = defs.resolve_job_def(invocation_job_name("sales-forecast"))
    assert dg.validate_run_config(job, run_config)
    (op_config,) = run_config["ops"].values()
    assert InvocationConfig(**op_config["config"]).to_message("sales-forecast") == message


def test_an_endpoint_created_since_the_load_has_a_job_to_run_it_at_once(tmp_path: Path) -> None:
    # The definitions were loaded before "sales-forecast" existed: only the new-endpoint job can run it.
    defs = build_definitions(_platform(tmp_path))
    job = defs.resolve_job_def(NEW_ENDPOINT_JOB)
    assert job.partitions_def is None
    message = _message()
    run_config = new_endpoint_run_config(message)
    assert dg.validate_run_config(job, run_config)
    (op_config,) = run_config["ops"].values()
    config = NewEndpointInvocationConfig(**op_config["config"])
    assert config.to_message(config.endpoint_name) == message


def test_inputs_are_listed_per_type_in_order_and_once() -> None:
    store = MemoryStore()
    store.ensure_bucket("landing")
    for key in ("adhoc/b.csv", "adhoc/a.csv", "adhoc/", "one.csv", "elsewhere/c.csv"):
        store.put_bytes("landing", key, b"x")
    files = list_invocation_inputs(store, _message())
    assert [f.key for f in files] == ["adhoc/a.csv", "adhoc/b.csv", "one.csv"]
    twice = _message(
        inputs={"a": {"path": "s3://landing/adhoc"}, "b": {"type": "uri_file", "path": "s3://landing/adhoc/a.csv"}}
    )
    assert [f.key for f in list_invocation_inputs(store, twice)] == ["adhoc/a.csv", "adhoc/b.csv"]


@pytest.mark.parametrize(
    ("inputs", "reason"),
    [
        (
            {"input": {"path": "s3://landing/nothing-here/"}},
            r"input 'input': no files under s3://landing/nothing-here/",
        ),
        (
            {"one": {"type": "uri_file", "path": "s3://landing/gone.csv"}},
            r"input 'one': s3://landing/gone.csv does not exist",
        ),
        ({"m": {"type": "mlflow_model", "path": "s3://landing/m/"}}, r"input 'm' has type mlflow_model"),
    ],
)
def test_an_input_with_nothing_to_score_is_named(inputs: dict[str, object], reason: str) -> None:
    store = MemoryStore()
    store.ensure_bucket("landing")
    with pytest.raises(ScoringError, match=reason):
        list_invocation_inputs(store, _message(inputs=inputs))
