"""Two jobs for the run-launcher tests, loaded by a real code server and a real warm run worker."""

# No `from __future__ import annotations`: Dagster reads the ops' context type at runtime.

import os
import time

import dagster as dg


@dg.op
def report_parent(context: dg.OpExecutionContext) -> None:
    """Logs the pid of the process that started this run's worker."""
    context.log.info(f"parent pid {os.getppid()}")


@dg.op
def wait_a_long_time() -> None:
    """Runs until the run is terminated (or ten minutes pass)."""
    time.sleep(600)


@dg.job(executor_def=dg.in_process_executor)
def quick() -> None:
    """Ends at once."""
    report_parent()


@dg.job(executor_def=dg.in_process_executor)
def slow() -> None:
    """Ends only when terminated."""
    wait_a_long_time()


defs = dg.Definitions(jobs=[quick, slow])
