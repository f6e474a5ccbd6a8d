"""Runs launched through ``WarmRunLauncher`` on real processes: a real code server (Dagster's
``dagster api grpc``), a real warm run worker, a sqlite instance on disk.

A run handed to the warm worker completes in a child forked by it; terminating it ends it
CANCELED; a killed child is failed by run monitoring; with no warm worker listening the run is
launched on the code server instead.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import dagster as dg
import pytest
from dagster._core.launcher import LaunchRunContext
from dagster._core.storage.tags import GRPC_INFO_TAG
from dagster._core.workspace.context import WorkspaceProcessContext, WorkspaceRequestContext
from dagster._core.workspace.load_target import ModuleTarget
from dagster._daemon.monitoring.run_monitoring import monitor_started_run
from dagster._grpc.types import ExecuteRunArgs

from batchpoint.stack.dagster_config import RunMonitoring, run_launcher
from dagster_project.run_launcher import WarmRunLauncher
from dagster_project.run_workers import WARM_WORKER_TAG, Worker, check_worker, process_start_time
from dagster_project.warm_run_worker import declined_reason
from tests.dagster import warm_jobs

ROOT = Path(__file__).resolve().parents[2]
MODULE = "tests.dagster.warm_jobs"
LOCATION = "warm_jobs"
# Bounds for waits on real processes on a loaded two-core machine: not timing assertions.
WAIT_S = 240.0
T = TypeVar("T")


@dataclass
class Setup:
    instance: dg.DagsterInstance
    workspace: WorkspaceRequestContext
    worker_pid: int
    socket: Path


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    home = tmp_path_factory.mktemp("warm")
    socket = home / "run-worker.sock"
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dagster_project.warm_run_worker",
            "--socket",
            str(socket),
            "-d",
            str(ROOT),
            "-m",
            MODULE,
            # A module named but not there (another package's internal name that moved) is skipped.
            "--preload",
            "no_such_module_bp.inner",
            "--preload",
            "pyarrow.dataset",
        ],
        start_new_session=True,  # its run children share its group: one killpg ends them all
    )
    overrides = {"run_launcher": run_launcher(socket), "run_monitoring": RunMonitoring().config()}
    try:
        with (
            dg.instance_for_test(overrides=overrides, temp_dir=str(home)) as instance,
            WorkspaceProcessContext(instance, ModuleTarget(MODULE, None, str(ROOT), LOCATION)) as context,
        ):
            _wait(lambda: socket.exists() or None, "the warm run worker to listen")
            yield Setup(instance, context.create_request_context(), worker.pid, socket)
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()


def _wait(found: Callable[[], T | None], what: str) -> T:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        value = found()
        if value is not None:
            return value
        time.sleep(0.2)
    raise AssertionError(f"gave up waiting for {what}")


def _new_run(setup: Setup, job: dg.JobDefinition) -> dg.DagsterRun:
    location = setup.workspace.get_code_location(LOCATION)
    remote = location.get_repository("__repository__").get_full_job(job.name)
    return setup.instance.create_run_for_job(
        job_def=job, remote_job_origin=remote.get_remote_origin(), job_code_origin=remote.get_python_origin()
    )


def _run(setup: Setup, run_id: str) -> dg.DagsterRun:
    run = setup.instance.get_run_by_id(run_id)
    assert run is not None
    return run


def _finished(setup: Setup, run_id: str) -> dg.DagsterRun:
    return _wait(lambda: run if (run := _run(setup, run_id)).is_finished else None, f"run {run_id} to finish")


def _started(setup: Setup, run_id: str) -> dg.DagsterRun:
    def started() -> dg.DagsterRun | None:
        run = _run(setup, run_id)
        assert not run.is_finished, run.status
        return run if run.status is dg.DagsterRunStatus.STARTED else None

    return _wait(started, f"run {run_id} to start")


def _messages(setup: Setup, run_id: str) -> list[str]:
    return [e.message for e in setup.instance.all_logs(run_id) if e.message]


def _gone(pid: int) -> None:
    _wait(lambda: True if process_start_time(pid) is None else None, f"process {pid} to exit and be reaped")


def _warm_pid(run: dg.DagsterRun) -> int:
    return int(json.loads(run.tags[WARM_WORKER_TAG])["pid"])


def test_a_run_handed_to_the_warm_worker_completes_in_a_child_of_it(setup: Setup) -> None:
    run = _new_run(setup, warm_jobs.quick)
    setup.instance.launch_run(run.run_id, setup.workspace)
    done = _finished(setup, run.run_id)
    assert done.status is dg.DagsterRunStatus.SUCCESS
    pid = _warm_pid(done)
    messages = _messages(setup, run.run_id)
    assert f"Started process for run (pid: {pid})." in messages
    assert f"parent pid {setup.worker_pid}" in messages
    assert GRPC_INFO_TAG not in done.tags  # the code server never saw it
    _gone(pid)  # the worker reaps its finished child: no zombie left for run monitoring to see


def test_a_warm_run_terminated_ends_canceled(setup: Setup) -> None:
    run = _new_run(setup, warm_jobs.slow)
    setup.instance.launch_run(run.run_id, setup.workspace)
    started = _started(setup, run.run_id)
    assert setup.instance.run_launcher.terminate(run.run_id)
    assert _finished(setup, run.run_id).status is dg.DagsterRunStatus.CANCELED
    _gone(_warm_pid(started))


def test_a_warm_run_whose_child_was_killed_is_failed_by_run_monitoring(setup: Setup) -> None:
    run = _new_run(setup, warm_jobs.slow)
    setup.instance.launch_run(run.run_id, setup.workspace)
    started = _started(setup, run.run_id)
    assert check_worker(setup.instance, started).state is Worker.ALIVE
    pid = _warm_pid(started)
    os.kill(pid, signal.SIGKILL)
    _gone(pid)
    assert check_worker(setup.instance, started).state is Worker.GONE
    record = setup.instance.get_run_record_by_id(run.run_id)
    assert record is not None
    monitor_started_run(setup.instance, None, record, logging.getLogger("test"))  # type: ignore[arg-type]
    assert _run(setup, run.run_id).status is dg.DagsterRunStatus.FAILURE


def test_without_a_warm_worker_the_run_is_launched_on_the_code_server(setup: Setup, tmp_path: Path) -> None:
    launcher = WarmRunLauncher(socket=str(tmp_path / "nobody-listens.sock"))
    launcher.register_instance(setup.instance)
    run = _new_run(setup, warm_jobs.quick)
    launcher.launch_run(LaunchRunContext(dagster_run=run, workspace=setup.workspace))
    done = _finished(setup, run.run_id)
    assert done.status is dg.DagsterRunStatus.SUCCESS
    assert WARM_WORKER_TAG not in done.tags and GRPC_INFO_TAG in done.tags
    messages = _messages(setup, run.run_id)
    assert any("Launching the run on the code server: the warm run worker at" in m for m in messages)
    assert f"parent pid {setup.worker_pid}" not in messages


def test_a_run_of_other_code_is_declined(setup: Setup) -> None:
    run = _new_run(setup, warm_jobs.quick)
    assert run.job_code_origin is not None
    args = ExecuteRunArgs(job_origin=run.job_code_origin, run_id=run.run_id, instance_ref=setup.instance.get_ref())
    assert declined_reason(args, MODULE, ROOT) is None
    assert "dagster_project.definitions" in (declined_reason(args, "dagster_project.definitions", ROOT) or "")
    assert "working directory" in (declined_reason(args, MODULE, ROOT / "tests") or "")
