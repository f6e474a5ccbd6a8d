"""Dagster definitions of batchpoint (placeholder until the endpoint assets land)."""

import dagster as dg

defs = dg.Definitions()
