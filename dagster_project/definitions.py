"""Dagster definitions built from the registry: one predictions asset and job per batch endpoint."""

from __future__ import annotations

import dagster as dg

from batchpoint.config import Settings
from dagster_project.arrival_sensor import build_arrival_sensor
from dagster_project.endpoint_assets import build_endpoint_definitions
from dagster_project.platform_resource import Platform


def build_definitions(platform: Platform) -> dg.Definitions:
    """Definitions for every endpoint in the registry (reloaded when an endpoint changes)."""
    endpoints = platform.registry.list_endpoints()
    built = {e.name: build_endpoint_definitions(e, platform) for e in endpoints}
    triggered = [e for e in endpoints if e.data_arrival is not None]
    sensors = [build_arrival_sensor(triggered, built, platform)] if triggered else []
    return dg.Definitions(
        assets=[*(b.landing for b in built.values()), *(b.predictions for b in built.values())],
        jobs=[b.job for b in built.values()],
        sensors=sensors,
    )


@dg.definitions
def defs() -> dg.Definitions:
    """Entry point for Dagster: settings are read here, once per process, not at import."""
    return build_definitions(Platform(Settings.from_env()))
