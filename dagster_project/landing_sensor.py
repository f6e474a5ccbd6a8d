"""The ``landing_observations`` sensor: between scoring runs, report each month whose files changed.

One listing per endpoint per tick and no run: the sensor reports the observations itself, and only
for months whose data version differs from the one it last reported (kept in its cursor), so an
unchanged landing folder writes nothing. A month whose files were all deleted is reported with the
version of an empty listing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

import dagster as dg
from dagster._core.definitions.data_version import DATA_VERSION_TAG

from batchpoint.errors import BatchpointError, NotFoundError
from batchpoint.specs.endpoint import BatchEndpoint
from batchpoint.storage.port import ObjectInfo
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
            except NotFoundError:
                listings = {}  # no landing bucket: nothing has landed, or it is gone with its files
            except BatchpointError as exc:
                # Reporting the month as empty would mark scored predictions stale for nothing.
                context.log.warning(f"landing folder of {endpoint.name!r} not observed: {exc}")
                if endpoint.name in previous:
                    reported[endpoint.name] = previous[endpoint.name]
                continue
            found, now = changed_observations(endpoint, listings, previous.get(endpoint.name, {}))
            events += found
            reported[endpoint.name] = now
        if events:
            context.log.info(f"{len(events)} landing months changed")
        return dg.SensorResult(asset_events=events, cursor=json.dumps(reported, sort_keys=True))

    return landing_observations


def changed_observations(
    endpoint: BatchEndpoint, listings: Mapping[str, list[ObjectInfo]], before: Mapping[str, str]
) -> tuple[list[dg.AssetObservation], dict[str, str]]:
    """Observations of the months whose data version differs from ``before`` (month -> version),
    and the versions now. ``listings`` is ``month_listings`` of the endpoint (any sensor that lists
    the landing folder anyway can report these with its own listing); months outside the endpoint's
    partitions are left out, and a month gone from the listing is reported once, empty.
    """
    partitions = monthly_partitions(endpoint)
    current = {m: files for m, files in listings.items() if partitions.has_partition_key(m)}
    now = versions_by_month(current)
    events = [
        dg.AssetObservation(
            asset_key=landing_key(endpoint),
            partition=month,
            tags={DATA_VERSION_TAG: listing_version(current.get(month, []))},
            metadata=observation_metadata(endpoint, month, current.get(month, [])),
        )
        for month in sorted(set(before) | set(now))
        if month not in now or before.get(month) != now[month]
    ]
    return events, now
