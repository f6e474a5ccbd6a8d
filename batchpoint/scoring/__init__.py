"""Scoring runtime: planning, reading and casting inputs, the worker pool and the job entry point."""
