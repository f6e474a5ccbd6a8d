"""Per endpoint: its landing folder (external asset), its monthly predictions asset and the job."""
# No `from __future__ import annotations`: Dagster reads the asset parameters' types at runtime.

import hashlib
from dataclasses import dataclass

import dagster as dg
from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition

from batchpoint.specs.endpoint import BatchEndpoint
from dagster_project.naming import job_name, landing_key, predictions_key
from dagster_project.platform_resource import Platform
from dagster_project.scoring_step import score_partition


class ScoringConfig(dg.Config):
    """Run configuration of one scoring run (all optional: data arrival uses the defaults)."""

    deployment_name: str = ""
    """Deployment to score with; empty means the endpoint's default deployment."""


@dataclass(frozen=True)
class EndpointDefinitions:
    """What one endpoint contributes to the Dagster definitions."""

    landing: dg.AssetSpec
    predictions: dg.AssetsDefinition
    job: UnresolvedAssetJobDefinition
    partitions: dg.MonthlyPartitionsDefinition


def monthly_partitions(endpoint: BatchEndpoint) -> dg.MonthlyPartitionsDefinition:
    """Months from the trigger's start month up to and including the current one."""
    start = endpoint.data_arrival.start_month if endpoint.data_arrival else "2020-01"
    # end_offset=1 includes the month in progress: data for it lands while it runs.
    return dg.MonthlyPartitionsDefinition(start_date=start, fmt="%Y-%m", end_offset=1)


def build_endpoint_definitions(endpoint: BatchEndpoint, platform: Platform) -> EndpointDefinitions:
    """Build the landing spec, the predictions asset and its job for ``endpoint``."""
    partitions = monthly_partitions(endpoint)
    landing = dg.AssetSpec(
        key=landing_key(endpoint),
        description=f"Files landing under {_landing_uri(endpoint)}<YYYY-MM>/ (CSV or Parquet).",
        partitions_def=partitions,
        group_name="landing",
        kinds={"s3"},
    )
    default_deployment = endpoint.defaults.deployment_name or ""
    code_version = _code_version(endpoint, platform)
    name = endpoint.name

    @dg.asset(
        key=predictions_key(name),
        deps=[landing],
        partitions_def=partitions,
        group_name="batch_endpoints",
        code_version=code_version,
        description=(
            f"Predictions of batch endpoint {name!r} (default deployment {default_deployment!r}) for the files "
            f"of one month under {_landing_uri(endpoint)}."
        ),
        kinds={"mlflow", "s3"},
        tags={"batchpoint/endpoint": name},
    )
    def predictions(context: dg.AssetExecutionContext, config: ScoringConfig) -> dg.MaterializeResult[None]:
        return score_partition(context, platform, name, config.deployment_name or None)

    job = dg.define_asset_job(
        job_name(name),
        selection=[predictions.key],
        # One step per run: the worker pool inside it does the fan-out (see docs/ARCHITECTURE.md).
        executor_def=dg.in_process_executor,
        tags={"batchpoint/endpoint": name},
    )
    return EndpointDefinitions(landing, predictions, job, partitions)


def _landing_uri(endpoint: BatchEndpoint) -> str:
    trigger = endpoint.data_arrival
    return f"s3://{trigger.bucket}/{trigger.prefix}" if trigger else "(no data-arrival trigger)"


def _code_version(endpoint: BatchEndpoint, platform: Platform) -> str | None:
    """The default deployment's spec hash: changing model or settings marks partitions stale."""
    if not endpoint.defaults.deployment_name:
        return None
    deployment = platform.registry.get_deployment(endpoint.name, endpoint.defaults.deployment_name)
    return hashlib.sha256(deployment.model_dump_json().encode()).hexdigest()[:12]
