"""Staleness in Dagster: the landing folder's observed data versions and the predictions' code version.

A sqlite registry, an in-memory store for the landing folder, an ephemeral Dagster instance; the
scoring itself is replaced by a stand-in (this is about lineage, not scoring).
"""

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
from dagster._utils.test.data_versions import get_stale_status_resolver

import dagster_project.endpoint_assets as endpoint_assets
from batchpoint.config import Settings
from batchpoint.registry.store import Registry
from batchpoint.specs.deployment import BatchDeployment
from batchpoint.specs.endpoint import BatchEndpoint
from batchpoint.storage.memory import MemoryStore
from batchpoint.storage.port import ObjectInfo
from dagster_project.asset_checks import CHECKS
from dagster_project.endpoint_assets import EndpointDefinitions, build_endpoint_definitions
from dagster_project.landing_observation import listing_version
from dagster_project.landing_sensor import build_landing_sensor
from dagster_project.naming import job_name
from dagster_project.platform_resource import Platform

UNDEFAULTED = {"name": "sales", "data_arrival": {"prefix": "sales/", "start_month": "2025-01"}}
ENDPOINT = BatchEndpoint.parse({**UNDEFAULTED, "defaults": {"deployment_name": "main"}})
MONTH, OTHER = "2025-03", "2025-04"


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[Platform]:
    settings = dataclasses.replace(Settings(), data_dir=tmp_path)
    registry = Registry(settings.registry)
    registry.create_or_update_endpoint(BatchEndpoint.parse(UNDEFAULTED))
    registry.create_or_update_deployment(deployment())
    registry.create_or_update_endpoint(ENDPOINT)
    registry.close()
    platform = Platform(settings)
    store = MemoryStore()
    store.ensure_bucket("landing")
    platform.__dict__["store"] = store  # the cached property, replaced by the in-memory store
    yield platform
    platform.registry.close()


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.DagsterInstance.ephemeral() as instance:
        yield instance


@pytest.fixture(autouse=True)
def stand_in_scoring(monkeypatch: pytest.MonkeyPatch) -> None:
    def score(context: dg.AssetExecutionContext, *_: object) -> dg.MaterializeResult[None]:
        checked = [dg.AssetCheckResult(check_name=name, passed=True) for name in CHECKS]
        return dg.MaterializeResult(
            data_version=dg.DataVersion(f"scored-{context.run.run_id[:8]}"), check_results=checked
        )

    monkeypatch.setattr(endpoint_assets, "score_partition", score)


def deployment(**changes: object) -> BatchDeployment:
    spec = {"name": "main", "endpoint_name": "sales", "model": "models:/m/1", **changes}
    return BatchDeployment.parse(spec)


def land(platform: Platform, month: str, name: str, data: bytes) -> None:
    platform.store.put_bytes("landing", f"sales/{month}/{name}", data)


def score(built: EndpointDefinitions, instance: dg.DagsterInstance, month: str) -> dg.ExecuteInProcessResult:
    job = dg.Definitions(assets=[built.landing, built.predictions], jobs=[built.job]).resolve_job_def(job_name("sales"))
    return job.execute_in_process(partition_key=month, instance=instance)


def status(built: EndpointDefinitions, instance: dg.DagsterInstance, month: str) -> tuple[str, list[str]]:
    resolver = get_stale_status_resolver(instance, [built.landing, built.predictions])  # type: ignore[list-item]
    key = built.predictions.key
    return resolver.get_status(key, month).value, [c.reason for c in resolver.get_stale_causes(key, month)]


def tick(platform: Platform, instance: dg.DagsterInstance, cursor: str | None) -> tuple[list[dg.AssetObservation], str]:
    """One tick of the landing sensor, its observations reported as the daemon does."""
    sensor = build_landing_sensor([ENDPOINT], platform)
    result = sensor(dg.build_sensor_context(instance=instance, cursor=cursor))
    assert isinstance(result, dg.SensorResult)
    events = [e for e in result.asset_events or [] if isinstance(e, dg.AssetObservation)]
    for event in events:
        instance.report_runless_asset_event(event)
    assert result.cursor is not None
    return events, result.cursor


def test_listing_version_is_the_set_of_keys_and_etags() -> None:
    a, b = ObjectInfo("l", "p/2025-03/a.csv", "e1", 1), ObjectInfo("l", "p/2025-03/b.csv", "e2", 1)
    folder = ObjectInfo("l", "p/2025-03/", "", 0)
    assert listing_version([a, b]) == listing_version([b, folder, a])
    assert listing_version([a, b]) != listing_version([a, dataclasses.replace(b, etag="e3")])
    assert listing_version([a]) != listing_version([a, b])
    assert listing_version([]) == listing_version([folder])


def test_a_scoring_run_observes_its_month_first_so_the_partition_is_fresh(
    platform: Platform, instance: dg.DagsterInstance
) -> None:
    land(platform, MONTH, "a.csv", b"x\n1\n")
    built = build_endpoint_definitions(ENDPOINT, platform)
    result = score(built, instance, MONTH)

    (observation,) = result.asset_observations_for_node("observe_sales_landing")
    assert observation.partition == MONTH
    assert observation.tags["dagster/data_version"] == listing_version(platform.store.list("landing", "sales/"))
    assert observation.metadata["files"] == dg.IntMetadataValue(1)
    assert status(built, instance, MONTH) == ("FRESH", [])


def test_a_new_file_shows_stale_until_scored_and_the_sensor_reports_changes_only(
    platform: Platform, instance: dg.DagsterInstance
) -> None:
    land(platform, MONTH, "a.csv", b"x\n1\n")
    land(platform, OTHER, "a.csv", b"x\n2\n")
    built = build_endpoint_definitions(ENDPOINT, platform)
    score(built, instance, MONTH)
    score(built, instance, OTHER)
    first, cursor = tick(platform, instance, None)
    assert sorted(e.partition or "" for e in first) == [MONTH, OTHER], "the first tick reports every month"
    assert status(built, instance, MONTH) == ("FRESH", [])

    land(platform, MONTH, "b.csv", b"x\n3\n")
    changed, cursor = tick(platform, instance, cursor)
    assert [e.partition for e in changed] == [MONTH]
    assert status(built, instance, MONTH) == ("STALE", ["has a new dependency data version"])
    assert status(built, instance, OTHER) == ("FRESH", [])
    assert tick(platform, instance, cursor)[0] == [], "an unchanged folder reports nothing"

    score(built, instance, MONTH)
    assert status(built, instance, MONTH) == ("FRESH", [])


def test_an_emptied_month_is_reported_once_with_the_empty_version(
    platform: Platform, instance: dg.DagsterInstance
) -> None:
    land(platform, MONTH, "a.csv", b"x\n1\n")
    _, cursor = tick(platform, instance, None)
    platform.store.delete("landing", f"sales/{MONTH}/a.csv")
    (emptied,), cursor = tick(platform, instance, cursor)
    assert (emptied.partition, emptied.tags["dagster/data_version"]) == (MONTH, listing_version([]))
    assert tick(platform, instance, cursor)[0] == []


def test_changing_what_the_default_deployment_computes_shows_stale(
    platform: Platform, instance: dg.DagsterInstance
) -> None:
    land(platform, MONTH, "a.csv", b"x\n1\n")
    score(build_endpoint_definitions(ENDPOINT, platform), instance, MONTH)

    platform.registry.create_or_update_deployment(deployment(description="only words", tags={"team": "a"}))
    assert status(build_endpoint_definitions(ENDPOINT, platform), instance, MONTH) == ("FRESH", [])
    for change in (
        {"model": "models:/m/2"},
        {"settings": {"mini_batch_size": 3}},
        {"settings": {"output_file_name": "out.csv"}},
    ):
        platform.registry.create_or_update_deployment(deployment(**change))
        assert status(build_endpoint_definitions(ENDPOINT, platform), instance, MONTH) == (
            "STALE",
            ["has a new code version"],
        ), change


def test_definitions_with_the_sensor_load(platform: Platform) -> None:
    built = build_endpoint_definitions(ENDPOINT, platform)
    manual = build_endpoint_definitions(BatchEndpoint.parse({"name": "manual"}), platform)
    defs = dg.Definitions(
        assets=[built.landing, built.predictions, manual.landing, manual.predictions],
        jobs=[built.job, manual.job],
        sensors=[build_landing_sensor([ENDPOINT, BatchEndpoint.parse({"name": "manual"})], platform)],
    )
    dg.Definitions.validate_loadable(defs)
    assert isinstance(manual.landing, dg.AssetSpec), "no trigger: nothing to observe"
