"""Dagster definitions built from the registry: per batch endpoint a monthly predictions asset and job
(data arrival) and an invocation asset and job (one partition per invoked job); the sensors: data arrival,
reconciliation of landing folders with their outputs, landing observations, invocations, and the
run-status sensors that end a job whose run ended without finishing it."""

from __future__ import annotations

import dagster as dg

from batchpoint.config import Settings
from dagster_project.arrival_sensor import build_arrival_sensor
from dagster_project.endpoint_assets import build_endpoint_definitions
from dagster_project.invocation_assets import build_invocation_definitions, build_new_endpoint_job
from dagster_project.invocation_sensor import build_invocation_sensor
from dagster_project.landing_sensor import build_landing_sensor
from dagster_project.platform_resource import Platform
from dagster_project.reconciliation_sensor import build_reconciliation_sensor
from dagster_project.run_end_sensors import build_run_end_sensors


def build_definitions(platform: Platform) -> dg.Definitions:
    """Definitions for every endpoint in the registry (reloaded when an endpoint changes)."""
    endpoints = platform.registry.list_endpoints()
    built = {e.name: build_endpoint_definitions(e, platform) for e in endpoints}
    invoked = {e.name: build_invocation_definitions(e, platform) for e in endpoints}
    triggered = [e for e in endpoints if e.data_arrival is not None]
    sensors = (
        [
            build_arrival_sensor(triggered, built, platform),
            build_reconciliation_sensor(triggered, built, platform),
            build_landing_sensor(triggered, platform),
        ]
        if triggered
        else []
    )
    # Always there, even with no endpoint: an invocation of an endpoint created since this load
    # runs at once with the new-endpoint job, and the sensor asks for the reload that brings the
    # endpoint's own job.
    new_endpoint_job = build_new_endpoint_job(platform)
    sensors.append(build_invocation_sensor(invoked, new_endpoint_job, platform))
    sensors += build_run_end_sensors(platform)
    return dg.Definitions(
        assets=[
            *(b.landing for b in built.values()),
            *(b.predictions for b in built.values()),
            *(i.asset for i in invoked.values()),
        ],
        jobs=[*(b.job for b in built.values()), *(i.job for i in invoked.values()), new_endpoint_job],
        sensors=sensors,
        # A backfill's runs belong to Dagster's implicit asset job, which takes this default: one
        # process per run, the worker pool inside its step doing the fan-out (as the endpoint jobs).
        executor=dg.in_process_executor,
    )


@dg.definitions
def defs() -> dg.Definitions:
    """Entry point for Dagster: settings are read here, once per process, not at import."""
    return build_definitions(Platform(Settings.from_env()))
