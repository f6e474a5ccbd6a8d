"""The data-arrival sensor: ``datastore-events`` on Kafka -> run requests per month.

docs/decisions/arrival-latency.md says when a month is requested and how a tick reads.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

import dagster as dg

from batchpoint.errors import BatchpointError, EventError
from batchpoint.specs.endpoint import BatchEndpoint
from batchpoint.triggers.arrival_batching import Arrival, ArrivalState, MonthRuns, PartitionRequest
from batchpoint.triggers.object_versions import event_order
from batchpoint.triggers.routing import Route, Router
from dagster_project.broker_restart import offsets_for_this_broker
from dagster_project.endpoint_assets import EndpointDefinitions
from dagster_project.latest_reader import LatestReader
from dagster_project.partition_runs import IN_FLIGHT, WAITING, runs_by_partition
from dagster_project.platform_resource import Platform
from kafka_edge.events import ObjectCreated
from kafka_edge.intake import no_endpoint_watches, object_created_events, take

SENSOR_NAME = "datastore_events"


def build_arrival_sensor(
    endpoints: list[BatchEndpoint], built: Mapping[str, EndpointDefinitions], platform: Platform
) -> dg.SensorDefinition:
    """A sensor reading ``datastore-events`` from the offsets in its cursor.

    Offsets, months with files not yet requested and the newest version of each file requested
    all live in the cursor, so offsets only advance together with the run requests they produced.
    A tick waits up to ``arrival_poll_seconds`` for the first event, so a file that lands between
    two of the daemon's sensor loops (every 5 s, fixed by Dagster) is read when it is published,
    and then reads every event pending (up to ``arrival_read_max_records`` in
    ``arrival_read_seconds``).
    """
    settings = platform.settings
    router = Router(endpoints)
    held_since: dict[str, float] = {}  # s3 uri -> when a tick first held it for newer definitions
    reader = LatestReader(platform.store, settings.output_bucket)
    # An endpoint that re-scores every file on every run (outputs.incremental: false) gets its run.
    incremental = {e.name for e in endpoints if e.outputs.incremental}

    def route(event: ObjectCreated) -> Route | None:
        found = router.route(event.bucket, event.key)
        if found is None and _watched_by_a_newer_endpoint(platform, event):
            # Held for at most max_wait: definitions that never learn the endpoint (it fails to
            # build) must not stop every later event behind this one.
            held = held_since.setdefault(event.uri, time.monotonic())
            if time.monotonic() - held >= settings.arrival_max_wait_seconds:
                return None
            raise NewerDefinitionsError(f"s3://{event.bucket}/{event.key}: watched by an endpoint newer than this tick")
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
        try:
            intake = take(
                settings.bootstrap,
                settings.events_topic,
                settings.dead_letter_topic,
                state.offsets or None,
                object_created_events,
                route,
                unrouted=no_endpoint_watches,
                max_records=settings.arrival_read_max_records,
                timeout_s=settings.arrival_read_seconds,
                wait_s=settings.arrival_poll_seconds,
            )
        except NewerDefinitionsError as exc:
            # The cursor stays where it was: the next tick, with the new endpoint's definitions,
            # reads the same events again.
            return dg.SensorResult(skip_reason=dg.SkipReason(f"{exc}: read again once the definitions reload"))
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
        runs, started = month_runs_and_starts(context, state.months(), built)
        due = state.take_due(
            now, runs, settings.arrival_max_wait_seconds, settings.arrival_settle_seconds, running_since=started
        )
        for joined in due.joined:
            waiting = runs.get((joined.endpoint, joined.partition)) is MonthRuns.WAITING
            context.log.info(
                f"{len(joined.files)} files of {joined.endpoint} {joined.partition} join its run "
                + (
                    "that has not begun: it lists the folder when it begins"
                    if waiting
                    else "in flight: they were announced before it started, so it lists them"
                )
            )
        requests = [r for r in due.requests if r.endpoint not in incremental or not _in_latest(context, reader, r)]
        held = state.months()
        if held:
            months = ", ".join(f"{e} {p} ({runs.get((e, p), MonthRuns.IDLE).value})" for e, p in held)
            context.log.info(f"not requested yet (a run of the month is running, or the burst settles): {months}")
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


def _in_latest(context: dg.SensorEvaluationContext, reader: LatestReader, request: PartitionRequest) -> bool:
    """Whether the month's ``latest`` holds every file version ``request`` asks for: then no run.

    A run takes the files that land while it scores (``scoring/late_files.py``), so files the sensor
    held while the month's run was running are often in the version it published; asking for a run
    for them would lease the pool and publish a version that scores nothing. A ``latest`` that
    cannot be read asks for the run.
    """
    try:
        latest = reader.read(request.endpoint, request.partition)
    except BatchpointError as exc:
        context.log.warning(f"{request.endpoint} {request.partition}: could not read latest ({exc}); asking for a run")
        return False
    if latest is None or not latest.holds((uri, version.etag) for uri, version in request.files):
        return False
    context.log.info(
        f"{len(request.files)} files of {request.endpoint} {request.partition} are in its latest version "
        f"{latest.version_id} already, with these ETags (the run before took them as they landed): no run"
    )
    return True


class NewerDefinitionsError(Exception):
    """An event routes to no endpoint of these definitions but to one in the registry now.

    A tick waits for events (``arrival_poll_seconds``), so an endpoint created during the wait,
    or just before a reload reached the daemon, has its first files read by definitions that do
    not know it. Dead-lettering them then would leave them to the reconciliation sensor (a minute
    or more later); the tick ends without advancing instead.
    """


def _watched_by_a_newer_endpoint(platform: Platform, event: ObjectCreated) -> bool:
    """Whether an endpoint in the registry now (not in these definitions) watches the object."""
    registry = platform.registry
    try:
        return Router(registry.list_endpoints()).route(event.bucket, event.key) is not None
    finally:
        registry.close()


def month_runs(
    context: dg.SensorEvaluationContext, months: list[tuple[str, str]], built: Mapping[str, EndpointDefinitions]
) -> dict[tuple[str, str], MonthRuns]:
    """What each (endpoint, month)'s runs that score into ``latest`` are doing (``month_runs_and_starts``)."""
    return month_runs_and_starts(context, months, built)[0]


def month_runs_and_starts(
    context: dg.SensorEvaluationContext, months: list[tuple[str, str]], built: Mapping[str, EndpointDefinitions]
) -> tuple[dict[tuple[str, str], MonthRuns], dict[tuple[str, str], float]]:
    """What each (endpoint, month)'s runs that score into ``latest`` are doing (left out: none in flight).

    A run whose step has not begun lists the month's folder when it does, so it will score files
    that landed before now: the month's new files join it rather than queue a second run. Should
    the waiting run never start (cancelled), the reconciliation sensor finds the files unscored.
    Re-scores of failed files and backfills that do not promote are not counted (files they cover
    may still be missing from ``latest`` after them). With the states, when each ``RUNNING``
    month's latest-started run started (``ArrivalState.take_due``'s ``running_since``).
    """
    if not months:
        return {}, {}
    jobs = {endpoint: built[endpoint].job.name for endpoint, _ in months}
    asset_jobs = {b.predictions.key: b.job.name for b in built.values()}
    found = runs_by_partition(context.instance, IN_FLIGHT, set(jobs.values()), asset_jobs, context.log.warning)
    states: dict[tuple[str, str], MonthRuns] = {}
    started: dict[tuple[str, str], float] = {}
    for endpoint, partition in months:
        runs = [r for r in found.get((jobs[endpoint], partition), []) if r.scores_into_latest]
        if any(r.status in WAITING for r in runs):
            states[(endpoint, partition)] = MonthRuns.WAITING
        elif runs:
            states[(endpoint, partition)] = MonthRuns.RUNNING
            starts = [r.start_time for r in runs if r.start_time is not None]
            if starts:
                started[(endpoint, partition)] = max(starts)
    return states, started
