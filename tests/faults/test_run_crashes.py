"""Runs that crash: a run worker SIGKILLed, a reconciliation run crashing, the whole stack killed.

After each, the month is scored again by a new run and the invariants hold (``assert_invariants``).
The whole-stack case runs last: it brings the module's stack up again.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from batchpoint.management.workspace import Workspace
from batchpoint.stack.services import api_url
from dagster_project.reconciliation_sensor import STATE_TAG
from tests.faults.endpoint import THIS_MONTH, ScoringEndpoint
from tests.faults.invariants import assert_invariants
from tests.faults.stack import DEADLINE_S, FaultStack, poll

pytestmark = [
    pytest.mark.faults,
    pytest.mark.integration,
    pytest.mark.timeout(900),
    pytest.mark.filterwarnings("ignore:The ``noload`` loader strategy is deprecated"),
]
FILES = 6
NOT_FINISHED = "without finishing the job"


def test_a_killed_run_worker_fails_its_run_and_the_month_is_scored_again(faults: FaultStack) -> None:
    endpoint = ScoringEndpoint.create(faults)
    month = str(THIS_MONTH - 1)
    endpoint.land(month, FILES)
    run, pid = endpoint.started_run(month)
    fault_at = time.monotonic()
    os.kill(pid, signal.SIGKILL)
    assert endpoint.run_ended(run.run_id) == "FAILURE"
    assert_invariants(endpoint, month, fault_at)
    rescored = [r for r in endpoint.runs(month) if r.run_id != run.run_id]
    assert [r.status for r in rescored] == ["SUCCESS"]


def test_a_killed_runs_job_is_failed_and_job_stream_ends(faults: FaultStack, tmp_path: Path) -> None:
    endpoint = ScoringEndpoint.create(faults)
    month = str(THIS_MONTH - 2)
    endpoint.land(month, FILES)
    run, pid = endpoint.started_run(month)
    job = endpoint.job_of_run(run.run_id)
    with Workspace(faults.settings) as workspace:
        _, token = workspace.tokens.create("faults")
    env = {
        **os.environ,
        "BATCHPOINT_API_URL": api_url(faults.settings),
        "BATCHPOINT_API_TOKEN": token,
        "HOME": str(tmp_path),
    }
    batchpoint = str(Path(sys.executable).parent / "batchpoint")
    with subprocess.Popen(
        [batchpoint, "job", "stream", "-n", job.name], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    ) as stream:
        fault_at = time.monotonic()
        os.kill(pid, signal.SIGKILL)
        try:
            said, _ = stream.communicate(timeout=DEADLINE_S)
        except subprocess.TimeoutExpired:
            stream.kill()
            raise AssertionError("job stream did not end after its run was killed") from None
    text = said.decode(errors="replace")
    assert endpoint.run_ended(run.run_id) == "FAILURE"
    assert stream.returncode == 1, text
    assert "Status: Failed" in text and NOT_FINISHED in text, text
    failed = endpoint.job_of_run(run.run_id)
    assert failed.status.value == "Failed"
    assert failed.error is not None and failed.error.startswith(f"the Dagster run {run.run_id} ended FAILURE")
    assert_invariants(endpoint, month, fault_at)


def test_a_crashed_reconciliation_run_is_retried(faults: FaultStack) -> None:
    endpoint = ScoringEndpoint.create(faults)
    month = str(THIS_MONTH - 3)
    endpoint.land(month, FILES)
    # The data-arrival run crashes: reconciliation finds the month unscored and asks for it ...
    arrival, pid = endpoint.started_run(month, "data-arrival")
    os.kill(pid, signal.SIGKILL)
    assert endpoint.run_ended(arrival.run_id) == "FAILURE"
    # ... and that run crashes too: the listing and `latest` are as they were, the state the same.
    first, pid = endpoint.started_run(month, "reconciliation")
    fault_at = time.monotonic()
    os.kill(pid, signal.SIGKILL)
    assert endpoint.run_ended(first.run_id) == "FAILURE"
    retry = poll(
        lambda: next((r for r in endpoint.runs(month) if r.run_id not in (arrival.run_id, first.run_id)), None),
        f"a retry of {month}",
    )
    assert retry.tags["batchpoint/trigger"] == "reconciliation"
    assert retry.tags[STATE_TAG] == first.tags[STATE_TAG]
    assert endpoint.run_ended(retry.run_id) == "SUCCESS"
    assert_invariants(endpoint, month, fault_at)


def test_a_stack_killed_mid_run_comes_back_and_scores_the_month(faults: FaultStack) -> None:
    endpoint = ScoringEndpoint.create(faults)
    month = str(THIS_MONTH - 4)
    endpoint.land(month, FILES)
    run, _ = endpoint.started_run(month)
    job = endpoint.job_of_run(run.run_id)
    fault_at = time.monotonic()
    killed = faults.kill_everything()
    assert len(killed) > len(faults.services)  # the run worker (and its drivers) died too
    faults.up_again()
    endpoint.wait_for_sensors()
    # Run monitoring finds the run's worker gone; the job ends with the run.
    assert endpoint.run_ended(run.run_id) == "FAILURE"
    ended = poll(lambda: j if (j := endpoint.job_of_run(run.run_id)).status.ended else None, f"{job.name} ended")
    assert ended.status.value == "Failed" and ended.error is not None and NOT_FINISHED in ended.error
    assert_invariants(endpoint, month, fault_at)
