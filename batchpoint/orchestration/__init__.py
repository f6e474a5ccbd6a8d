"""Talking to the orchestrator over its public API (no Dagster import in the core)."""
