"""Dagster adapter over batchpoint: endpoint assets, the data-arrival sensor, resources."""
