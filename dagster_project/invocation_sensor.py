"""The invocation sensor: ``invocations`` on Kafka -> one run of the endpoint's invocation job per job.

Offsets and the job names already requested live in the cursor (``invocation_cursor``); the run
key is the job name too, so a message the relay delivered twice gives one run. An endpoint created
since the definitions were loaded is run by the new-endpoint job at once, and a reload is asked
for so that its later invocations get the endpoint's own job.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Mapping

import dagster as dg

from batchpoint.errors import BatchpointError, NotFoundError
from batchpoint.orchestration.dagster_graphql import reload_in_background
from batchpoint.specs.job import InvocationMessage, JobStatus
from batchpoint.triggers.invocation_cursor import EndpointState, InvocationCursor, Received
from dagster_project.broker_restart import offsets_for_this_broker
from dagster_project.invocation_assets import (
    InvocationDefinitions,
    invocation_partitions_name,
    new_endpoint_run_config,
)
from dagster_project.platform_resource import Platform
from kafka_edge.intake import accept, invocation_messages, take

log = logging.getLogger(__name__)

SENSOR_NAME = "invocations"
# An invocation for an endpoint created since the last load asks for a reload this often at most.
RELOAD_ASK_SECONDS = 15.0


def build_invocation_sensor(
    built: Mapping[str, InvocationDefinitions], new_endpoint_job: dg.JobDefinition, platform: Platform
) -> dg.SensorDefinition:
    """A sensor reading ``Settings.invocations_topic`` from the offsets in its cursor, for every endpoint."""
    settings = platform.settings
    asked_reload_at = [float("-inf")]

    def endpoint_state(endpoint: str) -> EndpointState:
        if endpoint in built:
            return EndpointState.LOADED
        try:
            platform.registry.get_endpoint(endpoint)
        except NotFoundError:
            return EndpointState.GONE
        return EndpointState.PENDING

    def ask_reload() -> None:
        if time.monotonic() - asked_reload_at[0] < RELOAD_ASK_SECONDS:
            return
        asked_reload_at[0] = time.monotonic()
        # In a thread: the reload replaces this very process's definitions; the tick must not wait on it.
        reload_in_background(settings.dagster_url, timeout=10.0)

    @dg.sensor(
        name=SENSOR_NAME,
        jobs=[*(b.job for b in built.values()), new_endpoint_job],
        minimum_interval_seconds=settings.sensor_interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=f"Runs each job invoked on an endpoint (topic {settings.invocations_topic}).",
    )
    def invocations(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        cursor = InvocationCursor.from_cursor(context.cursor)
        cursor.offsets, cursor.epoch = offsets_for_this_broker(
            context, settings, settings.invocations_topic, cursor.offsets, cursor.epoch
        )
        intake = take(
            settings.bootstrap,
            settings.invocations_topic,
            settings.dead_letter_topic,
            cursor.offsets or None,
            invocation_messages,
            accept,
            timeout_s=0.5,
        )
        for letter, reason in intake.dead_lettered:
            context.log.warning(
                f"dead-lettered {settings.invocations_topic}[{letter.partition}]@{letter.offset}: {reason}"
            )
        received = [Received(raw.partition, raw.offset, message) for message, _, raw in intake.routed]
        plan = cursor.plan(received, intake.next_offsets, endpoint_state)
        if plan.duplicates:
            context.log.info(f"skipped {len(plan.duplicates)} invocation(s) already requested")
        for message in plan.gone:
            _fail_job(platform, message, f"endpoint {message.endpoint_name!r} no longer exists", context)
        if plan.pending:
            waiting = sorted({m.endpoint_name for m in plan.requests if m.job_name in plan.pending})
            context.log.info(
                f"endpoint(s) {waiting} not loaded yet; running their invocations with {new_endpoint_job.name}"
            )
            ask_reload()
        partitions: dict[str, list[str]] = defaultdict(list)
        run_requests = []
        for message in plan.requests:
            partitions[invocation_partitions_name(message.endpoint_name)].append(message.job_name)
            if message.job_name in plan.pending:
                # No partition key: the job is not partitioned; its op records the endpoint's partition.
                job_name, partition_key, run_config = new_endpoint_job.name, None, new_endpoint_run_config(message)
            else:
                target = built[message.endpoint_name]
                job_name, partition_key, run_config = target.job.name, message.job_name, target.run_config(message)
            run_requests.append(
                dg.RunRequest(
                    run_key=message.job_name,
                    job_name=job_name,
                    partition_key=partition_key,
                    run_config=run_config,
                    tags={
                        "batchpoint/job": message.job_name,
                        "batchpoint/trigger": "invoke",
                        "batchpoint/endpoint": message.endpoint_name,
                        "batchpoint/deployment": message.deployment_name,
                    },
                )
            )
        cursor.advance(plan)
        return dg.SensorResult(
            run_requests=run_requests,
            # By name: a new endpoint's partitions exist before its definitions do.
            dynamic_partitions_requests=[
                dg.AddDynamicPartitionsRequest(partitions_def_name=p, partition_keys=names)
                for p, names in partitions.items()
            ],
            cursor=cursor.to_cursor(),
        )

    return invocations


def _fail_job(platform: Platform, message: InvocationMessage, error: str, context: dg.SensorEvaluationContext) -> None:
    context.log.warning(f"job {message.job_name} cannot run: {error}")
    try:
        platform.workspace.jobs.record_finished(message.job_name, status=JobStatus.FAILED, error=error)
    except BatchpointError as exc:
        context.log.warning(f"could not record job {message.job_name} as failed: {exc}")
