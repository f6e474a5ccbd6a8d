"""The data-arrival sensor: ``datastore-events`` on Kafka -> one run request per settled month."""

from __future__ import annotations

import time
from collections.abc import Mapping

import dagster as dg

from batchpoint.arrival_batching import Arrival, ArrivalState, PartitionRequest
from batchpoint.errors import EventError
from batchpoint.object_versions import event_order
from batchpoint.routing import Route, Router
from batchpoint.specs.endpoint import BatchEndpoint
from consumers.events import ObjectCreated
from consumers.intake import take
from dagster_project.broker_restart import offsets_for_this_broker
from dagster_project.endpoint_assets import EndpointDefinitions
from dagster_project.partition_runs import WAITING, runs_by_partition
from dagster_project.platform_resource import Platform

SENSOR_NAME = "datastore_events"


def build_arrival_sensor(
    endpoints: list[BatchEndpoint], built: Mapping[str, EndpointDefinitions], platform: Platform
) -> dg.SensorDefinition:
    """A sensor reading ``datastore-events`` from the offsets in its cursor.

    Offsets, months waiting to settle and the newest version of each file requested all live in
    the cursor, so offsets only advance together with the run requests they produced.
    """
    settings = platform.settings
    router = Router(endpoints)

    def route(event: ObjectCreated) -> Route | None:
        found = router.route(event.bucket, event.key)
        if found is not None and not built[found.endpoint].partitions.has_partition_key(found.partition):
            first = built[found.endpoint].partitions.get_first_partition_key()
            raise EventError(
                f"s3://{event.bucket}/{event.key}: month {found.partition} is outside endpoint "
                f"{found.endpoint!r}'s partitions (from {first} to the current month)"
            )
        return found

    @dg.sensor(
        name=SENSOR_NAME,
        jobs=[b.job for b in built.values()],
        minimum_interval_seconds=settings.sensor_interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=f"Scores a month of an endpoint when files land in {', '.join(router.watched)}.",
    )
    def datastore_events(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        state = ArrivalState.from_cursor(context.cursor, remember=settings.arrival_remembered_objects)
        state.offsets, state.epoch = offsets_for_this_broker(
            context, settings, settings.events_topic, state.offsets, state.epoch
        )
        intake = take(
            settings.bootstrap,
            settings.events_topic,
            settings.dead_letter_topic,
            state.offsets or None,
            route,
        )
        now = time.time()
        for message, reason in intake.dead_lettered:
            context.log.warning(
                f"dead-lettered {settings.events_topic}[{message.partition}]@{message.offset}: {reason}"
            )
        arrivals = [
            Arrival(
                found.endpoint,
                found.partition,
                event.bucket,
                event.key,
                event.etag,
                at=message.timestamp_ms / 1000,
                order=event_order(event.sequencer, event.event_time),
            )
            for found, event, message in intake.routed
        ]
        new = state.add(arrivals, now)
        if len(arrivals) > new:
            context.log.info(
                f"skipped {len(arrivals) - new} events announcing no newer version than one requested "
                "(redelivered, replayed, or older than an event already read)"
            )
        state.offsets = dict(intake.next_offsets)
        requests = state.take_due(now, settings.arrival_settle_seconds, settings.arrival_max_wait_seconds)
        requests = join_waiting_runs(context, requests, built)
        run_requests = [
            dg.RunRequest(
                run_key=request.run_key,
                job_name=built[request.endpoint].job.name,
                partition_key=request.partition,
                tags={
                    "batchpoint/trigger": "data-arrival",
                    "batchpoint/endpoint": request.endpoint,
                    "batchpoint/arrived_files": str(len(request.files)),
                },
            )
            for request in requests
        ]
        return dg.SensorResult(run_requests=run_requests, cursor=state.to_cursor())

    return datastore_events


def join_waiting_runs(
    context: dg.SensorEvaluationContext, requests: list[PartitionRequest], built: Mapping[str, EndpointDefinitions]
) -> list[PartitionRequest]:
    """The requests whose month has no run waiting to start; the others join that run.

    A run whose step has not begun lists the month's folder when it does, so it will score files
    that landed before now: a second queued run would score the same files again. Should the
    waiting run never start (cancelled), the reconciliation sensor finds the files unscored.
    """
    if not requests:
        return requests
    asset_jobs = {b.predictions.key: b.job.name for b in built.values()}
    waiting = runs_by_partition(context.instance, WAITING, {built[r.endpoint].job.name for r in requests}, asset_jobs)
    kept = []
    for request in requests:
        joined = next(
            (r for r in waiting.get((built[request.endpoint].job.name, request.partition), []) if r.scores_into_latest),
            None,
        )
        if joined is None:
            kept.append(request)
        else:
            context.log.info(
                f"{len(request.files)} files of {request.endpoint} {request.partition} join run "
                f"{joined.run_id[:8]} ({joined.status.value}): it lists the folder when it starts"
            )
    return kept
