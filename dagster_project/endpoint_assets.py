"""Per endpoint: its landing folder (observed source asset), its monthly predictions asset and the job."""
# No `from __future__ import annotations`: Dagster reads the asset parameters' types at runtime.

import hashlib
import json
from dataclasses import dataclass

import dagster as dg
from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition

from batchpoint.specs.endpoint import BatchEndpoint
from dagster_project.asset_checks import check_specs
from dagster_project.landing_observation import build_landing_asset, landing_spec
from dagster_project.naming import job_name, predictions_key
from dagster_project.platform_resource import Platform
from dagster_project.scoring_step import score_partition

# What the default deployment computes with; its code version hashes these fields.
_SCORING_FIELDS = {"name", "model", "code_configuration", "environment", "settings"}


class ScoringConfig(dg.Config):
    """Run configuration of one scoring run (all optional: data arrival uses the defaults)."""

    deployment_name: str = ""
    """Deployment to score with; empty means the endpoint's default deployment."""


@dataclass(frozen=True)
class EndpointDefinitions:
    """What one endpoint contributes to the Dagster definitions."""

    landing: dg.AssetsDefinition | dg.AssetSpec
    """Observable (a data version per month) when the endpoint has a data-arrival trigger."""
    predictions: dg.AssetsDefinition
    job: UnresolvedAssetJobDefinition
    partitions: dg.MonthlyPartitionsDefinition


def monthly_partitions(endpoint: BatchEndpoint) -> dg.MonthlyPartitionsDefinition:
    """Months from the trigger's start month up to and including the current one."""
    start = endpoint.data_arrival.start_month if endpoint.data_arrival else "2020-01"
    # end_offset=1 includes the month in progress: data for it lands while it runs.
    return dg.MonthlyPartitionsDefinition(start_date=start, fmt="%Y-%m", end_offset=1)


def build_endpoint_definitions(endpoint: BatchEndpoint, platform: Platform) -> EndpointDefinitions:
    """Build the landing asset, the predictions asset and its job for ``endpoint``."""
    partitions = monthly_partitions(endpoint)
    landing: dg.AssetsDefinition | dg.AssetSpec = (
        build_landing_asset(endpoint, partitions, platform)
        if endpoint.data_arrival
        else landing_spec(endpoint, partitions)
    )
    default_deployment = endpoint.defaults.deployment_name or ""
    code_version = _code_version(endpoint, platform)
    name = endpoint.name

    @dg.asset(
        key=predictions_key(name),
        deps=[landing.key],
        partitions_def=partitions,
        group_name="batch_endpoints",
        code_version=code_version,
        description=(
            f"Predictions of batch endpoint {name!r} (default deployment {default_deployment!r}) for the files "
            f"of one month under {_landing_uri(endpoint)}."
        ),
        kinds={"mlflow", "s3"},
        tags={"batchpoint/endpoint": name},
        check_specs=check_specs(endpoint, predictions_key(name), partitions),
    )
    # The bare MaterializeResult: Dagster reads the annotation at run time, and for an asset with
    # check specs (several outputs) only that form tells it the result is not a tuple of outputs.
    def predictions(context: dg.AssetExecutionContext, config: ScoringConfig) -> dg.MaterializeResult:  # type: ignore[type-arg]
        return score_partition(context, platform, name, config.deployment_name or None)

    # A data-arrival run observes its month first: the predictions step then records the listing
    # it scored, and the partition shows stale only when files change after that.
    observed = [landing.key] if isinstance(landing, dg.AssetsDefinition) else []
    job = dg.define_asset_job(
        job_name(name),
        selection=[*observed, predictions.key],
        # One scoring step per run (after the observation, one S3 listing): the worker pool inside
        # it does the fan-out (see docs/ARCHITECTURE.md).
        executor_def=dg.in_process_executor,
        tags={"batchpoint/endpoint": name},
    )
    return EndpointDefinitions(landing, predictions, job, partitions)


def _landing_uri(endpoint: BatchEndpoint) -> str:
    trigger = endpoint.data_arrival
    return f"s3://{trigger.bucket}/{trigger.prefix}" if trigger else "(no data-arrival trigger)"


def _code_version(endpoint: BatchEndpoint, platform: Platform) -> str | None:
    """A hash of what the default deployment computes with: its name, model reference, code,
    environment and settings. Changing any of them shows every scored partition as stale; its
    description, tags, compute and instance count change no prediction, so they are left out.
    """
    if not endpoint.defaults.deployment_name:
        return None
    deployment = platform.registry.get_deployment(endpoint.name, endpoint.defaults.deployment_name)
    scoring = deployment.model_dump(mode="json", include=_SCORING_FIELDS)
    return hashlib.sha256(json.dumps(scoring, sort_keys=True).encode()).hexdigest()[:12]
