"""Per endpoint: the invocation predictions asset (one dynamic partition per job) and its job; and one
job for the invocations of endpoints created since the definitions were loaded.

An endpoint's own asset and job only exist once Dagster has reloaded the code location, which takes
the code server tens of seconds. The new-endpoint job needs nothing per endpoint: its op scores the
invocation the same way and records the materialisation against the endpoint's asset key, so the
first jobs of a just-created endpoint start at once and still show on its asset after the reload.
"""
# No `from __future__ import annotations`: Dagster reads the asset parameters' types at runtime.

from dataclasses import dataclass
from typing import Any, Optional

import dagster as dg
from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition

from batchpoint.specs.endpoint import BatchEndpoint
from batchpoint.specs.job import InvocationMessage
from dagster_project.invocation_step import score_invocation
from dagster_project.naming import snake
from dagster_project.platform_resource import Platform


class InvocationInput(dg.Config):
    """One input of an invoked job (resolved to ``s3://`` by ``jobs.invoke``)."""

    name: str
    type: str
    path: str


class InvocationConfig(dg.Config):
    """Run configuration of one invoked job: what the ``invocations`` message asked for."""

    job_name: str
    deployment_name: str
    inputs: list[InvocationInput]
    output_path: str
    instance_count: Optional[int] = None  # noqa: UP045 -- Dagster's config types need Optional
    mini_batch_size: Optional[int] = None  # noqa: UP045
    error_threshold: Optional[int] = None  # noqa: UP045
    max_retries: Optional[int] = None  # noqa: UP045
    timeout: Optional[int] = None  # noqa: UP045
    output_file_name: Optional[str] = None  # noqa: UP045
    logging_level: Optional[str] = None  # noqa: UP045

    @classmethod
    def values_of(cls, message: InvocationMessage) -> dict[str, Any]:
        """The config values of ``message`` (what the sensor puts in the run config)."""
        return {
            "job_name": message.job_name,
            "deployment_name": message.deployment_name,
            "inputs": [{"name": n, "type": i.type.value, "path": i.path} for n, i in message.inputs.items()],
            "output_path": message.output_path,
            **message.overrides.model_dump(exclude_none=True),
        }

    def to_message(self, endpoint_name: str) -> InvocationMessage:
        """The invocation again, validated like the message it came from."""
        overrides = {
            k: getattr(self, k)
            for k in (
                "instance_count",
                "mini_batch_size",
                "error_threshold",
                "max_retries",
                "timeout",
                "output_file_name",
                "logging_level",
            )
            if getattr(self, k) is not None
        }
        return InvocationMessage.model_validate(
            {
                "job_name": self.job_name,
                "endpoint_name": endpoint_name,
                "deployment_name": self.deployment_name,
                "inputs": {i.name: {"type": i.type, "path": i.path} for i in self.inputs},
                "output_path": self.output_path,
                "overrides": overrides,
            }
        )


class NewEndpointInvocationConfig(InvocationConfig):
    """Run configuration of the new-endpoint job: an invocation and the endpoint it belongs to."""

    endpoint_name: str


NEW_ENDPOINT_JOB = "invoke_new_endpoint"
_NEW_ENDPOINT_OP = "score_new_endpoint_invocation"


def new_endpoint_run_config(message: InvocationMessage) -> dict[str, Any]:
    """The run config that scores ``message`` with the new-endpoint job."""
    values = {**InvocationConfig.values_of(message), "endpoint_name": message.endpoint_name}
    return {"ops": {_NEW_ENDPOINT_OP: {"config": values}}}


def build_new_endpoint_job(platform: Platform) -> dg.JobDefinition:
    """The job that runs an invocation of any endpoint, loaded or not (the sensor uses it for the not-yet-loaded)."""

    @dg.op(
        name=_NEW_ENDPOINT_OP,
        description="Scores one invoked job of an endpoint created since the definitions were loaded.",
        tags={"batchpoint/trigger": "invoke"},
    )
    def score_new_endpoint_invocation(context: dg.OpExecutionContext, config: NewEndpointInvocationConfig) -> None:
        endpoint = config.endpoint_name
        result = score_invocation(context, platform, config.to_message(endpoint))
        # The endpoint's asset is not in these definitions yet; its partition is (the sensor added it).
        context.log_event(
            dg.AssetMaterialization(
                asset_key=invocation_key(endpoint), partition=config.job_name, metadata=result.metadata
            )
        )

    @dg.job(
        name=NEW_ENDPOINT_JOB,
        # One step per run, as for the endpoints' own jobs: the worker pool inside it does the fan-out.
        executor_def=dg.in_process_executor,
        tags={"batchpoint/trigger": "invoke"},
        description="Runs invocations of endpoints created since the code location last loaded.",
    )
    def invoke_new_endpoint() -> None:
        score_new_endpoint_invocation()

    return invoke_new_endpoint


@dataclass(frozen=True)
class InvocationDefinitions:
    """What one endpoint contributes to the invocation path."""

    asset: dg.AssetsDefinition
    job: UnresolvedAssetJobDefinition
    partitions: dg.DynamicPartitionsDefinition

    def run_config(self, message: InvocationMessage) -> dict[str, Any]:
        """The run config that scores ``message`` with this endpoint's invocation job."""
        return {"ops": {self.asset.op.name: {"config": InvocationConfig.values_of(message)}}}


def invocation_key(endpoint_name: str) -> dg.AssetKey:
    """Asset key of an endpoint's invoked jobs: ``<endpoint>/invocation_predictions``."""
    return dg.AssetKey([snake(endpoint_name), "invocation_predictions"])


def invocation_job_name(endpoint_name: str) -> str:
    """Name of the job that runs an endpoint's invocations."""
    return f"invoke_{snake(endpoint_name)}"


def invocation_partitions_name(endpoint_name: str) -> str:
    """Name of the dynamic partitions (one per job name) of an endpoint's invocations."""
    return f"{snake(endpoint_name)}_jobs"


def build_invocation_definitions(endpoint: BatchEndpoint, platform: Platform) -> InvocationDefinitions:
    """The invocation asset and job of ``endpoint``."""
    name = endpoint.name
    partitions = dg.DynamicPartitionsDefinition(name=invocation_partitions_name(name))

    @dg.asset(
        key=invocation_key(name),
        partitions_def=partitions,
        group_name="batch_endpoints",
        description=(
            f"Predictions of the jobs invoked on batch endpoint {name!r}: one partition per job, written "
            f"to the job's output folder (s3://<output bucket>/{name}/jobs/<job>/ unless the request named one)."
        ),
        kinds={"mlflow", "s3"},
        tags={"batchpoint/endpoint": name},
    )
    def invocation_predictions(
        context: dg.AssetExecutionContext, config: InvocationConfig
    ) -> dg.MaterializeResult[None]:
        return score_invocation(context, platform, config.to_message(name))

    job = dg.define_asset_job(
        invocation_job_name(name),
        selection=[invocation_predictions.key],
        # One step per run, as for data arrival: the worker pool inside it does the fan-out.
        executor_def=dg.in_process_executor,
        tags={"batchpoint/endpoint": name, "batchpoint/trigger": "invoke"},
    )
    return InvocationDefinitions(invocation_predictions, job, partitions)
