"""``ScriptPool`` on a fake host whose second slot is slow to start.

A slot starts its process before it takes a mini-batch, so a ready slot scores the whole queue
while the other is still in ``init()``. A host whose workers outlive the job (a warm pool) is not
waited for once every mini-batch is done: the late worker joins the pool for the next job, and
nothing it does after that is counted in this job's records. A host whose workers are the job's
own children is waited for, as before.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import pytest

from batchpoint.errors import ScriptInitError
from batchpoint.scoring.planning import MiniBatch
from batchpoint.scoring.pool_records import PoolSettings
from batchpoint.scoring.script_pool import ScriptPool
from batchpoint.scoring.worker_host import Say, Starting
from batchpoint.storage.port import ObjectInfo
from tests.unit.test_grouped_attempts import FakeHost, FakeWorker


class SlowSecondSlot(FakeHost):
    """Slot 0 starts at once; slot 1 only once ``go`` is set."""

    def __init__(self, log_dir: Path, *, outlive: bool) -> None:
        super().__init__(log_dir)
        self.workers_outlive_job = outlive
        self.go = threading.Event()
        self.started: list[int] = []

    def start_worker(self, slot: int, name: str, init_timeout: float, say: Say, starting: Starting) -> FakeWorker:
        if slot == 1:
            assert self.go.wait(30), "the test never let slot 1 start"
        self.started.append(slot)
        return super().start_worker(slot, name, init_timeout, say, starting)


def _pool(host: FakeHost, tmp_path: Path) -> ScriptPool:
    settings = PoolSettings("append_row", "rows", timeout=5.0, max_retries=0, init_timeout=5.0, logging_level="info")
    return ScriptPool(host, 2, settings, builtin=False, work_dir=tmp_path, log=logging.getLogger("test"))


def _mini_batches(count: int) -> list[MiniBatch]:
    return [MiniBatch(i, (ObjectInfo("b", f"part-{i:02d}.csv", "e", 10),)) for i in range(count)]


def test_a_ready_slot_scores_the_queue_and_a_warm_pool_does_not_wait_for_a_late_one(tmp_path: Path) -> None:
    host = SlowSecondSlot(tmp_path / "logs", outlive=True)
    pool = _pool(host, tmp_path)

    outcomes = list(pool.run(_mini_batches(6)))  # returns while slot 1 is still starting

    assert sorted(o.mini_batch.index for o in outcomes) == list(range(6))
    assert all(o.ok for o in outcomes)
    assert host.started == [0]
    assert host.sent == [[i] for i in range(6)]  # all on slot 0, none held by the starting slot
    assert pool.all_ready_seconds is None  # start-up was until the first worker was ready
    assert pool.first_ready_seconds is not None
    figures = (pool.init_seconds[:], pool.warm_workers, pool.first_ready_seconds)

    host.go.set()  # the late worker becomes ready after the job: it is not the job's
    threads = [t for t in threading.enumerate() if t.name == "slot-1"]
    for thread in threads:
        thread.join(10)
    assert host.started == [0, 1]
    assert (pool.init_seconds, pool.warm_workers, pool.first_ready_seconds) == figures
    assert pool.all_ready_seconds is None


@pytest.mark.timeout(60)
def test_a_host_whose_workers_end_with_the_job_is_waited_for(tmp_path: Path) -> None:
    host = SlowSecondSlot(tmp_path / "logs", outlive=False)
    pool = _pool(host, tmp_path)
    mini_batches = _mini_batches(6)
    outcomes = []
    for outcome in pool.run(mini_batches):
        outcomes.append(outcome)
        if len(outcomes) == len(mini_batches):
            host.go.set()  # run() returns only after slot 1 is done starting (and released)

    assert host.started == [0, 1]
    assert host.sent == [[i] for i in range(6)]
    assert pool.all_ready_seconds is not None


class GatedHost(FakeHost):
    """A warm-pool host that records, for each slot's start, whether a worker was ready before it."""

    def __init__(self, log_dir: Path, *, first_fails: bool = False) -> None:
        super().__init__(log_dir)
        self.workers_outlive_job = True
        self.first_fails = first_fails
        self.go = threading.Event()
        self.ready: list[int] = []
        self.started_after_ready: dict[int, bool] = {}
        self._lock = threading.Lock()

    def start_worker(self, slot: int, name: str, init_timeout: float, say: Say, starting: Starting) -> FakeWorker:
        with self._lock:
            self.started_after_ready[slot] = bool(self.ready)
        if slot == 0:
            assert self.go.wait(30), "the test never let slot 0 finish init()"
            if self.first_fails:
                raise ScriptInitError("ModuleNotFoundError: No module named 'lightgbm'", "")
        worker = super().start_worker(slot, name, init_timeout, say, starting)
        with self._lock:
            self.ready.append(slot)
        return worker


def _gated_pool(host: FakeHost, tmp_path: Path, first_wave: int) -> ScriptPool:
    settings = PoolSettings("append_row", "rows", timeout=5.0, max_retries=0, init_timeout=5.0, logging_level="info")
    log = logging.getLogger("test")
    return ScriptPool(host, 2, settings, builtin=False, work_dir=tmp_path, log=log, first_wave=first_wave)


def _join_slots() -> None:
    for thread in [t for t in threading.enumerate() if t.name.startswith("slot-")]:
        thread.join(10)


def test_a_slot_beyond_the_jobs_mini_batches_starts_once_one_of_the_jobs_is_ready(tmp_path: Path) -> None:
    host = GatedHost(tmp_path / "logs")
    pool = _gated_pool(host, tmp_path, first_wave=1)
    done: list[list[int]] = []
    runner = threading.Thread(target=lambda: done.append([o.mini_batch.index for o in pool.run(_mini_batches(1))]))
    runner.start()
    assert not host.go.wait(0.5)  # slot 0 is in init() for half a second ...
    assert list(host.started_after_ready) == [0]  # ... and slot 1 has not started beside it
    host.go.set()
    runner.join(10)
    _join_slots()
    assert done == [[0]]
    assert host.sent == [[0]]
    # Claimed when slot 0 was ready, slot 1 starts then, even if the job has ended since: warm
    # for the next job.
    assert host.started_after_ready == {0: False, 1: True}
    assert host.ready == [0, 1]


def test_a_failed_init_in_the_first_wave_lets_the_others_start(tmp_path: Path) -> None:
    host = GatedHost(tmp_path / "logs", first_fails=True)
    pool = _gated_pool(host, tmp_path, first_wave=1)
    host.go.set()
    outcomes = list(pool.run(_mini_batches(3)))
    _join_slots()
    assert sorted(o.mini_batch.index for o in outcomes) == [0, 1, 2]
    assert all(o.ok for o in outcomes)  # slot 1 started after slot 0's init() failed, and scored them
    assert host.ready == [1] and host.started_after_ready[1] is False
    assert len(pool.init_errors) == 1


def test_every_slot_starts_at_once_by_default(tmp_path: Path) -> None:
    host = GatedHost(tmp_path / "logs")
    pool = _gated_pool(host, tmp_path, first_wave=2)
    runner = threading.Thread(target=lambda: list(pool.run(_mini_batches(4))))
    runner.start()
    deadline = time.monotonic() + 10
    while len(host.started_after_ready) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert host.started_after_ready == {0: False, 1: False}  # both began before any was ready
    host.go.set()
    runner.join(10)
    _join_slots()
    assert sorted(i for batch in host.sent for i in batch) == [0, 1, 2, 3]
