"""Run-worker health on a real Dagster instance: the launcher's answer, and Dagster's run monitoring
failing a STARTED run whose worker process is gone (and only then)."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterator

import dagster as dg
import pytest
from dagster._core.events import DagsterEvent, DagsterEventType, EngineEventData
from dagster._core.events.log import EventLogEntry
from dagster._core.launcher import WorkerStatus
from dagster._core.storage.tags import GRPC_INFO_TAG
from dagster._daemon.monitoring.run_monitoring import monitor_started_run

from batchpoint.stack.dagster_config import RUN_LAUNCHER, RunMonitoring
from dagster_project.run_launcher import WorkerCheckingRunLauncher
from dagster_project.run_workers import Worker, check_worker, process_start_time


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    overrides = {"run_launcher": RUN_LAUNCHER, "run_monitoring": RunMonitoring().config()}
    with dg.instance_for_test(overrides=overrides) as found:
        yield found


@pytest.fixture
def worker() -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    yield process
    process.kill()
    process.wait()


def started_run(instance: dg.DagsterInstance, pid: int | None, host: str = "127.0.0.1", at: float | None = None) -> str:
    """A STARTED run launched on a code server at ``host`` whose worker logged ``pid`` at ``at``."""
    run = instance.add_run(
        dg.DagsterRun(
            job_name="score_sales",
            status=dg.DagsterRunStatus.STARTED,
            tags={"dagster/partition": "2026-11", GRPC_INFO_TAG: json.dumps({"host": host, "port": 4000})},
        )
    )
    if pid is not None:
        message = f"Started process for run (pid: {pid})."
        event = DagsterEvent(
            event_type_value=DagsterEventType.ENGINE_EVENT.value,
            job_name=run.job_name,
            message=message,
            event_specific_data=EngineEventData.in_process(pid),
        )
        instance.store_event(
            EventLogEntry(
                error_info=None,
                level=logging.INFO,
                user_message=message,
                run_id=run.run_id,
                timestamp=time.time() if at is None else at,
                dagster_event=event,
                job_name=run.job_name,
            )
        )
    return run.run_id


def _monitor(instance: dg.DagsterInstance, run_id: str) -> dg.DagsterRunStatus:
    """One pass of Dagster's own run monitoring over the run; its status after."""
    record = instance.get_run_record_by_id(run_id)
    assert record is not None
    monitor_started_run(instance, None, record, logging.getLogger("test"))  # type: ignore[arg-type]
    run = instance.get_run_by_id(run_id)
    assert run is not None
    return run.status


def test_the_instance_uses_the_worker_checking_launcher(instance: dg.DagsterInstance) -> None:
    assert isinstance(instance.run_launcher, WorkerCheckingRunLauncher)
    assert instance.run_monitoring_enabled and instance.run_monitoring_max_resume_run_attempts == 0


def test_a_run_whose_worker_runs_is_left_started(instance: dg.DagsterInstance, worker: subprocess.Popen[bytes]) -> None:
    run_id = started_run(instance, worker.pid)
    run = instance.get_run_by_id(run_id)
    assert run is not None
    assert check_worker(instance, run).state is Worker.ALIVE
    assert instance.run_launcher.check_run_worker_health(run).status is WorkerStatus.RUNNING
    assert _monitor(instance, run_id) is dg.DagsterRunStatus.STARTED


def test_a_run_whose_worker_was_killed_is_failed_by_run_monitoring(
    instance: dg.DagsterInstance, worker: subprocess.Popen[bytes]
) -> None:
    run_id = started_run(instance, worker.pid)
    worker.kill()
    worker.wait()
    run = instance.get_run_by_id(run_id)
    assert run is not None
    found = check_worker(instance, run)
    assert found.state is Worker.GONE and f"pid {worker.pid}" in found.reason
    assert _monitor(instance, run_id) is dg.DagsterRunStatus.FAILURE
    messages = [e.message for e in instance.all_logs(run_id) if e.message]
    assert any("ended without finishing" in m and str(worker.pid) in m for m in messages)


def test_a_pid_now_naming_a_newer_process_counts_as_gone(
    instance: dg.DagsterInstance, worker: subprocess.Popen[bytes]
) -> None:
    # The worker logged its pid an hour ago; the process with that pid now started just now.
    run_id = started_run(instance, worker.pid, at=time.time() - 3600)
    run = instance.get_run_by_id(run_id)
    assert run is not None
    assert check_worker(instance, run).state is Worker.GONE


@pytest.mark.parametrize(("host", "pid"), [("dagster-code", 999_999_999), ("127.0.0.1", None)])
def test_what_cannot_be_checked_from_here_is_never_failed(
    instance: dg.DagsterInstance, host: str, pid: int | None
) -> None:
    # A code server on another machine (its pids mean nothing here), or no pid logged yet.
    run_id = started_run(instance, pid, host=host)
    run = instance.get_run_by_id(run_id)
    assert run is not None
    assert check_worker(instance, run).state is Worker.UNKNOWN
    assert _monitor(instance, run_id) is dg.DagsterRunStatus.STARTED


def test_process_start_time() -> None:
    began = process_start_time(os.getpid())
    assert began is not None and began <= time.time()
    done = subprocess.Popen([sys.executable, "-c", "pass"])
    done.wait()
    assert process_start_time(done.pid) is None
