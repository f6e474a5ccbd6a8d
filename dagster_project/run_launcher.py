"""Run launchers: Dagster's default one plus a run-worker health check, and one that hands runs to
a warm run worker when there is one.

With ``WorkerCheckingRunLauncher``, the daemon's run monitoring (``run_monitoring`` in
``dagster.yaml``) fails a STARTED run whose worker process is gone (the code server and its run
workers were killed), instead of leaving it STARTED forever. Runs are not resumed
(``max_resume_run_attempts: 0``): the sensors ask for the month again, and a new run scores it whole.

``WarmRunLauncher`` (configured with the warm run worker's ``socket``) sends each run to
``dagster_project.warm_run_worker``, which forks a child that already has Dagster and the
definitions imported, instead of asking the code server to spawn a fresh interpreter (seconds of
imports per run). When that worker is not there (not started, not ready yet, stopped) or declines
the run, the run is launched the default way. The launcher runs where runs are launched: in the
daemon (queued runs), so the socket must be on the daemon's machine.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Self

import dagster as dg
from dagster._core.errors import DagsterLaunchFailedError
from dagster._core.launcher import CheckRunHealthResult, DefaultRunLauncher, LaunchRunContext, WorkerStatus
from dagster._grpc.types import ExecuteRunArgs
from dagster._serdes import ConfigurableClassData, serialize_value

from dagster_project.run_workers import WARM_WORKER_TAG, check_worker, process_start_time, started_by

# Connecting to a live local socket takes microseconds; a worker that does not accept at once is
# not one to wait for (the default launch is there).
CONNECT_TIMEOUT_S = 2.0
# The worker answers right after forking; under two loaded cores that is still well under this.
ANSWER_TIMEOUT_S = 30.0


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


class WarmRunLauncher(WorkerCheckingRunLauncher):
    """Hands each run to the warm run worker on ``socket``; launches it the default way without one."""

    def __init__(self, inst_data: ConfigurableClassData | None = None, socket: str | None = None) -> None:
        super().__init__(inst_data)
        self.socket = Path(socket) if socket else None

    @classmethod
    def config_type(cls) -> Any:
        return {"socket": dg.Field(dg.StringSource, is_required=False)}

    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData, config_value: Mapping[str, Any]) -> Self:
        return cls(inst_data=inst_data, socket=config_value.get("socket"))

    def launch_run(self, context: LaunchRunContext) -> None:
        """Send the run to the warm worker; the default launch when it is not there or declines."""
        run = context.dagster_run
        declined = self._launch_warm(run)
        if declined is None:
            return
        if self.socket is not None:  # with none configured (compose) there is nothing to say per run
            self._instance.report_engine_event(
                f"Launching the run on the code server: {declined}.", dagster_run=run, cls=self.__class__
            )
        super().launch_run(context)

    def _launch_warm(self, run: dg.DagsterRun) -> str | None:
        """``None`` once the warm worker forked the run's child; else why the run was not sent."""
        if self.socket is None:
            return "no warm run worker is configured"
        if run.job_code_origin is None:
            return "the run has no code origin"
        args = ExecuteRunArgs(job_origin=run.job_code_origin, run_id=run.run_id, instance_ref=self._instance.get_ref())
        request = json.dumps({"execute_run_args": serialize_value(args)}).encode() + b"\n"
        connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        with connection:
            connection.settimeout(CONNECT_TIMEOUT_S)
            try:
                connection.connect(str(self.socket))
            except OSError as exc:
                # Nothing was sent: the run certainly did not start there.
                return f"the warm run worker at {self.socket} is not there ({exc})"
            # From here the worker may have forked the run: never launch it a second time.
            launched_at = time.time()
            connection.settimeout(ANSWER_TIMEOUT_S)
            try:
                connection.sendall(request)
                answer = json.loads(_read_line(connection))
            except (OSError, ValueError) as exc:
                message = f"The warm run worker at {self.socket} did not answer: {exc}"
                raise DagsterLaunchFailedError(message) from exc  # type: ignore[no-untyped-call]
        if "pid" not in answer:
            return str(answer.get("declined", f"the warm run worker answered {answer!r}"))
        worker = {"pid": int(answer["pid"]), "launched_at": launched_at, "socket": str(self.socket)}
        self._instance.add_run_tags(run.run_id, {WARM_WORKER_TAG: json.dumps(worker)})
        return None

    def terminate(self, run_id: str) -> bool:
        """Interrupt a warm-launched run's worker (Dagster's handler ends the run CANCELED); other
        runs the default way, through the code server."""
        run = self._instance.get_run_by_id(run_id)
        if not run or run.is_finished:
            return False
        raw = run.tags.get(WARM_WORKER_TAG)
        if raw is None:
            return bool(super().terminate(run_id))  # type: ignore[no-untyped-call]
        worker = json.loads(raw)
        pid = int(worker["pid"])
        self._instance.report_run_canceling(run)
        began = process_start_time(pid)
        # The pid is ours only if its process started before the launch answered (not reused since).
        if began is None or not started_by(began, float(worker["launched_at"])):
            self._instance.report_engine_event(
                f"Cannot terminate the run: its run worker (pid {pid}) is gone.", dagster_run=run, cls=self.__class__
            )
            return False
        os.kill(pid, signal.SIGTERM)
        return True


def _read_line(connection: socket.socket) -> bytes:
    data = b""
    while not data.endswith(b"\n"):
        chunk = connection.recv(4096)
        if not chunk:
            raise ValueError("the connection closed before a whole answer")
        data += chunk
    return data
