"""An endpoint's landing folder as an observable source asset, one data version per month.

A month's data version is a hash of its files' (key, ETag) pairs, so landing, overwriting or
deleting a file gives a new version and Dagster shows the month's predictions as stale. Each
scoring run observes its month in a step before the predictions step, so the materialisation
records the listing it scored (Dagster reads its inputs' versions when a step starts); the
``landing_observations`` sensor (``landing_sensor.py``) observes between runs.
"""

# No `from __future__ import annotations`: Dagster reads the observe function's types at runtime.

import warnings
from collections.abc import Callable, Iterable, Mapping

import dagster as dg

from batchpoint.outputs.mlflow_job_runs import files_digest
from batchpoint.specs.endpoint import BatchEndpoint
from batchpoint.storage.port import ObjectInfo, ObjectStore
from batchpoint.triggers.routing import partition_prefix
from dagster_project.naming import landing_key, snake
from dagster_project.platform_resource import Platform


def landed_files(objects: Iterable[ObjectInfo]) -> list[ObjectInfo]:
    """The files among ``objects``: folder markers (keys ending in ``/``) are not data."""
    return [o for o in objects if not o.key.endswith("/")]


def listing_version(files: Iterable[ObjectInfo]) -> str:
    """The data version of one month's files: a digest of their (key, ETag) pairs, the same digest
    a job's MLflow run records for its input dataset."""
    return files_digest(files)


def month_listings(store: ObjectStore, endpoint: BatchEndpoint) -> dict[str, list[ObjectInfo]]:
    """The endpoint's landed files by month folder, from one listing of its whole prefix.

    Objects outside a ``<YYYY-MM>/`` folder are left out: the arrival sensor dead-letters them.
    """
    trigger = endpoint.data_arrival
    if trigger is None:
        return {}
    months: dict[str, list[ObjectInfo]] = {}
    for obj in landed_files(store.list(trigger.bucket, trigger.prefix)):
        month, sep, _ = obj.key[len(trigger.prefix) :].partition("/")
        if sep:
            months.setdefault(month, []).append(obj)
    return months


def observation_metadata(endpoint: BatchEndpoint, month: str, files: list[ObjectInfo]) -> dict[str, dg.MetadataValue]:
    """What an observation of one month shows in Dagster's UI."""
    bucket, prefix = partition_prefix(endpoint, month)
    return {
        "files": dg.MetadataValue.int(len(files)),
        "bytes": dg.MetadataValue.int(sum(f.size for f in files)),
        "uri": dg.MetadataValue.text(f"s3://{bucket}/{prefix}"),
    }


def landing_spec(endpoint: BatchEndpoint, partitions: dg.PartitionsDefinition | None) -> dg.AssetSpec:
    """The landing folder's spec (also used as is, unobserved, for an endpoint without a trigger)."""
    trigger = endpoint.data_arrival
    where = f"s3://{trigger.bucket}/{trigger.prefix}" if trigger else "(no data-arrival trigger)"
    return dg.AssetSpec(
        key=landing_key(endpoint),
        description=(
            f"Files landing under {where}<YYYY-MM>/ (CSV or Parquet). Data version per month: "
            "a hash of the month's (key, ETag) pairs."
        ),
        partitions_def=partitions,
        group_name="landing",
        kinds={"s3"},
    )


def build_landing_asset(
    endpoint: BatchEndpoint, partitions: dg.PartitionsDefinition, platform: Platform
) -> dg.AssetsDefinition:
    """The observable landing folder of an endpoint with a data-arrival trigger.

    ``multi_observable_source_asset`` rather than ``observable_source_asset``: the latter is a
    ``SourceAsset``, whose conversion inside Dagster 1.13 warns (``OpDefinition.version``) each time
    the asset graph is built.
    """
    spec = landing_spec(endpoint, partitions)
    with warnings.catch_warnings():
        # Beta in Dagster 1.13: it warns when called, which fails tests run with warnings as errors.
        warnings.simplefilter("ignore", category=dg.BetaWarning)
        observable: Callable[[Callable[[dg.AssetExecutionContext], dg.ObserveResult]], dg.AssetsDefinition]
        observable = dg.multi_observable_source_asset(
            specs=[spec], partitions_def=partitions, name=f"observe_{snake(endpoint.name)}_landing"
        )

    @observable
    def observe_landing(context: dg.AssetExecutionContext) -> dg.ObserveResult:
        if len(context.partition_keys) != 1:
            raise dg.Failure(
                description=f"observe the landing folder of {endpoint.name!r} one month at a time, "
                f"got {len(context.partition_keys)} months"
            )
        month = context.partition_key
        bucket, prefix = partition_prefix(endpoint, month)
        files = landed_files(platform.store.list(bucket, prefix))
        return dg.ObserveResult(
            data_version=dg.DataVersion(listing_version(files)),
            metadata=observation_metadata(endpoint, month, files),
        )

    return observe_landing


def versions_by_month(listings: Mapping[str, list[ObjectInfo]]) -> dict[str, str]:
    """``listing_version`` of each month."""
    return {month: listing_version(files) for month, files in listings.items()}
