"""The ``landing_observations`` sensor: between scoring runs, report each month whose files changed.

One listing per endpoint per tick and no run: the sensor reports the observations itself, and only
for months whose data version differs from the one it last reported (kept in its cursor), so an
unchanged landing folder writes nothing. A month whose files were all deleted is reported with the
version of an empty listing.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import dagster as dg
from dagster._core.definitions.data_version import DATA_VERSION_TAG

from batchpoint.errors import BatchpointError
from batchpoint.specs.endpoint import BatchEndpoint
from dagster_project.endpoint_assets import monthly_partitions
from dagster_project.landing_observation import (
    listing_version,
    month_listings,
    observation_metadata,
    versions_by_month,
)
from dagster_project.naming import landing_key
from dagster_project.platform_resource import Platform

SENSOR_NAME = "landing_observations"
OBSERVE_INTERVAL_SECONDS = 60
"""Seconds between listings; a scoring run observes its own month anyway, so this only drives the UI."""

Reported = dict[str, dict[str, str]]
"""The cursor: endpoint name -> month -> data version last reported."""


def build_landing_sensor(endpoints: Sequence[BatchEndpoint], platform: Platform) -> dg.SensorDefinition:
    """The sensor observing the landing folders of ``endpoints`` (those with a data-arrival trigger)."""
    watched = [e for e in endpoints if e.data_arrival is not None]

    @dg.sensor(
        name=SENSOR_NAME,
        minimum_interval_seconds=OBSERVE_INTERVAL_SECONDS,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Observes the landing folders: a month with new, changed or deleted files gets a new "
        "data version, and its predictions show as stale until they are scored again.",
    )
    def landing_observations(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        previous: Reported = json.loads(context.cursor) if context.cursor else {}
        reported: Reported = {}  # endpoints deleted since the last tick drop out
        events: list[dg.AssetObservation] = []
        for endpoint in watched:
            try:
                listings = month_listings(platform.store, endpoint)
            except BatchpointError as exc:
                # Reporting the month as empty would mark scored predictions stale for nothing.
                context.log.warning(f"landing folder of {endpoint.name!r} not observed: {exc}")
                if endpoint.name in previous:
                    reported[endpoint.name] = previous[endpoint.name]
                continue
            partitions = monthly_partitions(endpoint)
            listings = {m: files for m, files in listings.items() if partitions.has_partition_key(m)}
            before = previous.get(endpoint.name, {})
            now = versions_by_month(listings)
            for month in sorted(set(before) | set(now)):
                if month in now and before.get(month) == now[month]:
                    continue
                files = listings.get(month, [])
                events.append(
                    dg.AssetObservation(
                        asset_key=landing_key(endpoint),
                        partition=month,
                        tags={DATA_VERSION_TAG: listing_version(files)},
                        metadata=observation_metadata(endpoint, month, files),
                    )
                )
            reported[endpoint.name] = now
        if events:
            context.log.info(f"{len(events)} landing months changed")
        return dg.SensorResult(asset_events=events, cursor=json.dumps(reported, sort_keys=True))

    return landing_observations
