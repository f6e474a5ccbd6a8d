"""Files that land while a job runs: planned after the job's own, a few listings at most.

The pool half runs on the fake host of ``test_grouped_attempts``: once every outcome of the plan
is in, the pool asks for more and scores it with the workers it has, without starting new ones.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from batchpoint.errors import StorageError
from batchpoint.scoring.late_files import LateFiles
from batchpoint.scoring.planning import JobPlan, plan_job
from batchpoint.scoring.pool_records import PoolSettings
from batchpoint.scoring.script_pool import ScriptPool
from batchpoint.storage.port import ObjectInfo
from tests.unit.test_grouped_attempts import FakeHost


def _file(i: int, etag: str = "e") -> ObjectInfo:
    return ObjectInfo("landing", f"sales/2026-11/part-{i:03d}.csv", etag, 10)


class Folder:
    """A folder whose listing grows as the test says."""

    def __init__(self, *files: ObjectInfo) -> None:
        self.files = list(files)
        self.listings = 0

    def __call__(self) -> list[ObjectInfo]:
        self.listings += 1
        return list(self.files)


def _late(folder: Folder, plan: JobPlan, skip: set[tuple[str, str]] | None = None) -> tuple[LateFiles, list[JobPlan]]:
    plans: list[JobPlan] = []
    return LateFiles(folder, plan, 1, skip or set(), plans.append, logging.getLogger("test")), plans


def test_new_files_are_planned_after_the_plan_and_a_quiet_listing_ends_the_intake() -> None:
    plan = plan_job([_file(0), _file(1)], 2, 1)
    folder = Folder(_file(0), _file(1, "changed"), _file(2), _file(3), _file(4), _file(9))
    late, plans = _late(folder, plan, skip={("landing", _file(9).key)})

    added = late()

    assert [mb.index for mb in added] == [1, 2]
    assert [f.key[-7:-4] for mb in added for f in mb.files] == ["002", "003", "004"]
    assert [f.key[-7:-4] for f in late.taken] == ["002", "003", "004"]  # not 001 again, not the carried 009
    assert plans == [late.plan] and late.plan.file_count == 5
    assert late() == ()  # nothing new: the folder is quiet
    folder.files.append(_file(5))
    assert late() == ()  # and the intake stays closed, so the job publishes
    assert folder.listings == 2


def test_a_folder_that_keeps_filling_is_listed_at_most_the_rounds() -> None:
    folder = Folder(_file(0))
    plan = plan_job([_file(0)], 1, 1)
    late = LateFiles(folder, plan, 1, set(), lambda p: None, logging.getLogger("test"), rounds=2)

    for i in range(1, 5):
        folder.files.append(_file(i))
        late()

    assert folder.listings == 2 and late.plan.file_count == 3


def test_a_failed_listing_takes_nothing_and_says_so(caplog: pytest.LogCaptureFixture) -> None:
    def unreachable() -> list[ObjectInfo]:
        raise StorageError("the store is down")

    late = LateFiles(unreachable, plan_job([_file(0)], 1, 1), 1, set(), lambda p: None, logging.getLogger("test"))

    assert late() == ()
    assert "could not list the folder again" in caplog.text


def test_the_pool_scores_what_lands_while_it_runs_with_the_workers_it_has(tmp_path: Path) -> None:
    host = FakeHost(tmp_path / "logs")
    settings = PoolSettings("append_row", "rows", timeout=5.0, max_retries=0, init_timeout=5.0, logging_level="info")
    pool = ScriptPool(host, 2, settings, builtin=False, work_dir=tmp_path, log=logging.getLogger("test"))
    plan = plan_job([_file(i) for i in range(4)], 1, 1)
    folder = Folder(*(_file(i) for i in range(4)))
    late, _ = _late(folder, plan)
    folder.files += [_file(7), _file(8)]

    outcomes = list(pool.run(plan.mini_batches, late))

    assert sorted(o.mini_batch.index for o in outcomes) == list(range(6))
    assert all(o.ok for o in outcomes)
    by_index = sorted(outcomes, key=lambda o: o.mini_batch.index)
    assert [o.mini_batch.files[0].key[-7:-4] for o in by_index[4:]] == ["007", "008"]
    assert len(pool.init_seconds) == 2  # the two workers it had, no new one
    assert folder.listings == 2  # after the plan, after the late files: then quiet
