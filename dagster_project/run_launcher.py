"""Dagster's default run launcher, plus a run-worker health check for Dagster's run monitoring.

With it, the daemon's run monitoring (``run_monitoring`` in ``dagster.yaml``) fails a STARTED run
whose worker process is gone (the code server and its run workers were killed), instead of leaving
it STARTED forever. Runs are not resumed (``max_resume_run_attempts: 0``): the sensors ask for the
month again, and a new run scores it whole.
"""

from __future__ import annotations

import dagster as dg
from dagster._core.launcher import CheckRunHealthResult, DefaultRunLauncher, WorkerStatus

from dagster_project.run_workers import check_worker


class WorkerCheckingRunLauncher(DefaultRunLauncher):
    """Launches runs on the code server as ``DefaultRunLauncher`` does; reports their workers' health."""

    @property
    def supports_check_run_worker_health(self) -> bool:
        return True

    def check_run_worker_health(self, run: dg.DagsterRun) -> CheckRunHealthResult:
        """FAILED when the worker is known to be gone; RUNNING otherwise.

        Run monitoring fails a run for any other answer, UNKNOWN included, so a worker that cannot
        be checked from here (a code server on another machine) is reported RUNNING.
        """
        found = check_worker(self._instance, run)
        if found.gone:
            return CheckRunHealthResult(WorkerStatus.FAILED, f"The run ended without finishing: {found.reason}.")
        return CheckRunHealthResult(WorkerStatus.RUNNING, found.reason)
