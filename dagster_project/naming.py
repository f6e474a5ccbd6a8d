"""Dagster names derived from batchpoint names (Dagster allows only letters, digits and underscores)."""

from __future__ import annotations

import re

import dagster as dg

from batchpoint.specs.endpoint import BatchEndpoint


def snake(name: str) -> str:
    """``sales-forecast`` -> ``sales_forecast``."""
    return re.sub(r"[^A-Za-z0-9_]", "_", name)


def predictions_key(endpoint_name: str) -> dg.AssetKey:
    """Asset key of an endpoint's predictions: ``<endpoint>/predictions``."""
    return dg.AssetKey([snake(endpoint_name), "predictions"])


def landing_key(endpoint: BatchEndpoint) -> dg.AssetKey:
    """Asset key of the landing folder feeding an endpoint: ``landing/<bucket>/<prefix parts>``."""
    trigger = endpoint.data_arrival
    parts = [trigger.bucket, *trigger.prefix.strip("/").split("/")] if trigger else [endpoint.name, "inputs"]
    return dg.AssetKey(["landing", *(snake(p) for p in parts)])


def job_name(endpoint_name: str) -> str:
    """Name of the job that materialises an endpoint's predictions."""
    return f"score_{snake(endpoint_name)}"
