"""``LaunchIdleRunCoordinator`` on a real sqlite instance: a run of an idle month is launched at
once, a run of a busy month waits in the queue, and two submitters racing for one month launch one.

The launcher is Dagster's own ``MockedRunLauncher`` (it records what it is asked to launch): the
coordinator's decision is what is tested here; the warm launcher has its own tests.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.remote_origin import InProcessCodeLocationOrigin, RemoteJobOrigin, RemoteRepositoryOrigin
from dagster._core.run_coordinator.base import SubmitRunContext
from dagster._core.test_utils import MockedRunLauncher
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin

from batchpoint.stack.dagster_config import MONTH_TAG, run_coordinator
from dagster_project.run_coordinator import LaunchIdleRunCoordinator, limits_room

ONE_PER_MONTH = [{"key": MONTH_TAG, "value": {"applyLimitPerUniqueValue": True}, "limit": 1}]


@dg.op
def noop() -> None:
    """Nothing: the runs here are never executed, only submitted."""


@dg.job
def month_job() -> None:
    noop()


# Dagster queues only runs that say where their code is; it is never loaded here.
ORIGIN = RemoteJobOrigin(
    RemoteRepositoryOrigin(InProcessCodeLocationOrigin(LoadableTargetOrigin(python_file=__file__)), "__repository__"),
    "month_job",
)


def _new_run(instance: dg.DagsterInstance, month: str) -> dg.DagsterRun:
    return instance.create_run_for_job(month_job, remote_job_origin=ORIGIN, tags={MONTH_TAG: month})


def _instance(home: Path, lock: Path | None, **extra: object) -> Iterator[dg.DagsterInstance]:
    coordinator = run_coordinator(lock)
    coordinator["config"].update(extra)
    overrides = {
        "run_coordinator": coordinator,
        "run_launcher": {"module": "dagster._core.test_utils", "class": "MockedRunLauncher"},
    }
    with dg.instance_for_test(overrides=overrides, temp_dir=str(home)) as instance:
        yield instance


@pytest.fixture
def instance(tmp_path: Path) -> Iterator[dg.DagsterInstance]:
    yield from _instance(tmp_path, tmp_path / "launch.lock")


def _submit(instance: dg.DagsterInstance, month: str) -> dg.DagsterRun:
    run = _new_run(instance, month)
    return instance.run_coordinator.submit_run(SubmitRunContext(run, workspace=None))  # type: ignore[arg-type]


def _status(instance: dg.DagsterInstance, run: dg.DagsterRun) -> dg.DagsterRunStatus:
    found = instance.get_run_by_id(run.run_id)
    assert found is not None
    return found.status


def test_the_configured_coordinator_is_this_one(instance: dg.DagsterInstance) -> None:
    assert isinstance(instance.run_coordinator, LaunchIdleRunCoordinator)


def test_a_run_of_an_idle_month_is_launched_at_once(instance: dg.DagsterInstance) -> None:
    run = _submit(instance, "2026-11")
    assert _status(instance, run) == dg.DagsterRunStatus.STARTING
    launcher = instance.run_launcher
    assert isinstance(launcher, MockedRunLauncher) and launcher.did_run_launch(run.run_id)


def test_a_run_of_a_busy_month_waits_in_the_queue_and_other_months_do_not(instance: dg.DagsterInstance) -> None:
    first = _submit(instance, "2026-11")
    second = _submit(instance, "2026-11")
    other = _submit(instance, "2026-10")
    assert _status(instance, first) == dg.DagsterRunStatus.STARTING
    assert _status(instance, second) == dg.DagsterRunStatus.QUEUED
    assert _status(instance, other) == dg.DagsterRunStatus.STARTING
    # A queued run of the month counts too: the queue launches it first, not a later submission.
    instance.report_run_failed(check_run(instance, first))
    third = _submit(instance, "2026-11")
    assert _status(instance, third) == dg.DagsterRunStatus.QUEUED


def check_run(instance: dg.DagsterInstance, run: dg.DagsterRun) -> dg.DagsterRun:
    found = instance.get_run_by_id(run.run_id)
    assert found is not None
    return found


def test_without_a_lock_file_every_run_is_queued(tmp_path: Path) -> None:
    for instance in _instance(tmp_path, None):
        run = _submit(instance, "2026-11")
        assert _status(instance, run) == dg.DagsterRunStatus.QUEUED


def test_max_concurrent_runs_holds_a_run_of_an_idle_month(tmp_path: Path) -> None:
    for instance in _instance(tmp_path, tmp_path / "launch.lock", max_concurrent_runs=1):
        first = _submit(instance, "2026-11")
        second = _submit(instance, "2026-10")
        assert _status(instance, first) == dg.DagsterRunStatus.STARTING
        assert _status(instance, second) == dg.DagsterRunStatus.QUEUED


def test_two_submitters_racing_for_one_month_launch_one_run(instance: dg.DagsterInstance) -> None:
    runs = [_new_run(instance, "2026-11") for _ in range(4)]
    start = threading.Barrier(len(runs))

    def submit(run: dg.DagsterRun) -> None:
        start.wait()
        instance.run_coordinator.submit_run(SubmitRunContext(run, workspace=None))  # type: ignore[arg-type]

    threads = [threading.Thread(target=submit, args=(run,)) for run in runs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    statuses = sorted(_status(instance, run).value for run in runs)
    assert statuses == ["QUEUED", "QUEUED", "QUEUED", "STARTING"]


def test_limits_room_counts_each_limit_the_run_falls_under() -> None:
    counts = {("dagster/partition", "2026-11"): 1}

    def count(tags: dict[str, str] | object) -> int:
        assert isinstance(tags, dict)
        return sum(counts.get(item, 0) for item in tags.items())

    assert limits_room({MONTH_TAG: "2026-11"}, ONE_PER_MONTH, count) is False
    assert limits_room({MONTH_TAG: "2026-10"}, ONE_PER_MONTH, count) is True
    assert limits_room({"other": "x"}, ONE_PER_MONTH, count) is True  # no limit applies
    fixed = [{"key": MONTH_TAG, "value": "2026-11", "limit": 2}]
    assert limits_room({MONTH_TAG: "2026-11"}, fixed, count) is True  # 1 + this one ≤ 2
    assert limits_room({MONTH_TAG: "2026-10"}, fixed, count) is True  # another value: not limited
    # One limit over every value of a key cannot be counted by tags: the queue decides.
    assert limits_room({MONTH_TAG: "2026-10"}, [{"key": MONTH_TAG, "limit": 3}], count) is None
