"""The reconciliation sensor: each landing folder compared with its months' ``latest`` outputs.

The data-arrival sensor only knows what Kafka tells it. This sensor catches what it missed (events
lost while the broker or the publisher was down, a queued run cancelled): every
``reconcile_interval_seconds`` it lists each watched landing folder once, reads the ``latest``
pointer of each month found there, and asks for a run of the months in which
``batchpoint.triggers.reconciliation`` finds unscored or changed files.

- Files written less than ``grace_seconds`` ago are left to the data-arrival sensor.
- A month with a run still queued or running is skipped; it is looked at again once the run ended
  (a STARTED run whose worker process is gone does not count: ``partition_runs``).
- The run key is the digest of the month's listing and ``latest`` version, plus the attempt: a
  run that failed (or was canceled, or crashed) leaves the state as it was, so the state is asked
  for again with the next attempt's key, at most ``reconcile_max_retries`` times; then an error
  says so each tick, until a file or ``latest`` changes. Attempts are counted from the runs
  tagged with the state's key in the instance, so they survive a restart.
- Month folders outside the endpoint's partitions (before its ``start_month``, in the future) are
  not looked at; the data-arrival sensor dead-letters their events with the reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

import dagster as dg

from batchpoint.config import Settings
from batchpoint.errors import NotFoundError, StorageError
from batchpoint.specs.endpoint import BatchEndpoint
from batchpoint.storage.port import ObjectInfo
from batchpoint.triggers.reconciliation import LatestInputs, attempt_run_key, landing_months, reconcile
from dagster_project.endpoint_assets import EndpointDefinitions
from dagster_project.latest_reader import LatestReader
from dagster_project.partition_runs import IN_FLIGHT, PartitionRun, runs_by_partition
from dagster_project.platform_resource import Platform

SENSOR_NAME = "reconciliation"
TRIGGER = "reconciliation"
STATE_TAG = "batchpoint/reconcile_state"
"""Tag of every reconciliation run: the key of the state it was asked for (its first attempt's run key)."""
FAILED = [dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED]


def grace_seconds(settings: Settings) -> float:
    """How long a landed file is left to the data-arrival sensor before reconciliation counts it.

    That sensor asks for a month at the latest ``arrival_max_wait_seconds`` after its first event,
    at its first tick after that (a tick waits up to ``arrival_poll_seconds`` for events first);
    two of its ticks on top cover the publisher's delay and a clock that differs a little from S3's.
    """
    return (
        settings.arrival_max_wait_seconds
        + settings.arrival_settle_seconds
        + settings.arrival_poll_seconds
        + 2 * settings.sensor_interval_seconds
    )


def build_reconciliation_sensor(
    endpoints: list[BatchEndpoint], built: Mapping[str, EndpointDefinitions], platform: Platform
) -> dg.SensorDefinition:
    """One sensor for every endpoint with a data-arrival trigger."""
    settings = platform.settings
    watched = [e for e in endpoints if e.data_arrival is not None]
    reader = LatestReader(platform.store, settings.output_bucket)

    @dg.sensor(
        name=SENSOR_NAME,
        jobs=[built[e.name].job for e in watched],
        minimum_interval_seconds=settings.reconcile_interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=(
            "Asks for a run of every month whose landed files (key and ETag) are not all in its latest "
            "output: catches what the data-arrival sensor missed."
        ),
    )
    def reconciliation(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        asset_jobs = {built[e.name].predictions.key: built[e.name].job.name for e in watched}
        busy = runs_by_partition(
            context.instance, IN_FLIGHT, {built[e.name].job.name for e in watched}, asset_jobs, context.log.warning
        )
        requests: list[dg.RunRequest] = []
        for endpoint in watched:
            try:
                requests += _endpoint_requests(context, platform, reader, endpoint, built[endpoint.name], busy)
            except StorageError as exc:
                # One unreachable landing or output bucket must not keep the other endpoints waiting.
                context.log.error(f"reconciling endpoint {endpoint.name!r} failed, retried next tick: {exc}")
        return dg.SensorResult(run_requests=requests)

    return reconciliation


def _endpoint_requests(
    context: dg.SensorEvaluationContext,
    platform: Platform,
    reader: LatestReader,
    endpoint: BatchEndpoint,
    built: EndpointDefinitions,
    busy: Mapping[tuple[str, str], list[PartitionRun]],
) -> list[dg.RunRequest]:
    trigger = endpoint.data_arrival
    assert trigger is not None  # only watched endpoints get here
    job = built.job.name
    try:
        # The one listing of this endpoint per tick: every month at once.
        listing = landing_months(platform.store.list(trigger.bucket, trigger.prefix), trigger.prefix)
    except NotFoundError:
        return []  # the landing bucket does not exist yet: nothing has landed
    now = datetime.now(UTC)
    months: dict[str, list[ObjectInfo]] = {}
    for month, files in listing.items():
        if not built.partitions.has_partition_key(month):
            continue
        if (job, month) in busy:
            running = busy[(job, month)][0]
            context.log.debug(f"{endpoint.name} {month}: run {running.run_id[:8]} is {running.status.value}")
            continue
        months[month] = files
    latest = {}
    for month in months:
        found = _latest(context, reader, endpoint.name, month)
        if found is not None:
            latest[month] = found
    checks = reconcile(months, latest, now, grace_seconds(platform.settings))
    requests = []
    retries = platform.settings.reconcile_max_retries
    for check in checks:
        state_key = f"reconcile:{endpoint.name}:{check.partition}:{check.state}"
        failed = len(context.instance.get_run_ids(dg.RunsFilter(tags={STATE_TAG: state_key}, statuses=FAILED)))
        run_key = attempt_run_key(state_key, failed, retries)
        if run_key is None:
            context.log.error(
                f"{endpoint.name} {check.describe()}: not asking again, its {failed} runs for this state "
                f"failed (BATCHPOINT_RECONCILE_MAX_RETRIES={retries}); see those runs' logs, then land the "
                f"files again or backfill the month"
            )
            continue
        attempt = f" (retry {failed} of {retries})" if failed else ""
        context.log.info(f"{endpoint.name} {check.describe()}: asking for a run{attempt}")
        requests.append(
            dg.RunRequest(
                run_key=run_key,
                job_name=job,
                partition_key=check.partition,
                tags={
                    "batchpoint/trigger": TRIGGER,
                    STATE_TAG: state_key,
                    "batchpoint/endpoint": endpoint.name,
                    "batchpoint/unscored_files": str(len(check.unscored)),
                    "batchpoint/changed_files": str(len(check.changed)),
                },
            )
        )
    return requests


def _latest(
    context: dg.SensorEvaluationContext, reader: LatestReader, endpoint: str, month: str
) -> LatestInputs | None:
    try:
        return reader.read(endpoint, month)
    except NotFoundError as exc:
        # `latest` names a version without a manifest: treat the month as never scored, so a new
        # run writes a complete version and moves `latest` to it.
        context.log.warning(f"{endpoint} {month}: {exc}; scoring the month again")
        return None
