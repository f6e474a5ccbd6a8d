"""Azure's accounting of a finished mini-batch: items, short returns, retries, not-run reasons."""

from __future__ import annotations

from pathlib import Path

import pytest

from batchpoint.scoring.input_staging import StagedMiniBatch
from batchpoint.scoring.mini_batch_record import record_of
from batchpoint.scoring.planning import MiniBatch
from batchpoint.scoring.pool_records import Attempt, MiniBatchOutcome
from batchpoint.scoring.script_answers import FileOutcome, ScriptAnswer
from batchpoint.storage.port import ObjectInfo

FILES = tuple(ObjectInfo("in", f"sales/2026-11/part-{i}.csv", f"etag{i}", 10) for i in range(3))
MINI_BATCH = MiniBatch(4, FILES)


def staged(errors: dict[str, str] | None = None) -> StagedMiniBatch:
    errors = errors or {}
    local = {f.key: Path("/stage") / f.name for f in FILES if f.key not in errors}
    return StagedMiniBatch(MINI_BATCH, Path("/stage"), local, errors)


def answer(items: int, files: tuple[FileOutcome, ...] = ()) -> ScriptAnswer:
    return ScriptAnswer(4, True, items, "/r", None, None, 0.1, "rows", files)


def failure(number: int, kind: str = "run") -> Attempt:
    return Attempt(number, "worker-0", kind, "ValueError: bad row", "Traceback ...\nValueError: bad row")


def test_full_return_fails_nothing() -> None:
    record = record_of(MiniBatchOutcome(MINI_BATCH, staged(), answer(3), (), "worker-0"), 3, 4)
    assert record.failed_items == 0
    assert all(f.ok and f.rows is None for f in record.files)
    assert record.error_lines() == []
    assert record.attempts == 1


@pytest.mark.parametrize(("items", "failed"), [(2, 1), (0, 3), (5, 0)])
def test_short_return_counts_missing_items(items: int, failed: int) -> None:
    record = record_of(MiniBatchOutcome(MINI_BATCH, staged(), answer(items), (), "worker-0"), items, 4)
    assert record.failed_items == failed
    if failed:
        assert f"run() returned {items} item(s) for 3 file(s)" in record.error_lines()[0]


def test_no_answer_after_retries_fails_every_file_with_last_error() -> None:
    failures = (failure(1), failure(2, "timeout"))
    record = record_of(MiniBatchOutcome(MINI_BATCH, staged(), None, failures, "worker-1"), 0, 2)
    assert record.failed_items == 3
    assert all(f.error == "ValueError: bad row" for f in record.files)
    assert "failed after 2 attempt(s); last: timeout" in record.error_lines()[0]
    reports = record.attempt_reports()
    assert len(reports) == 2
    assert "attempt 2/2 on worker-0: timeout" in reports[1]
    assert "Traceback" in reports[0]


def test_download_error_fails_that_file_only() -> None:
    errors = {FILES[1].key: "could not download"}
    record = record_of(MiniBatchOutcome(MINI_BATCH, staged(errors), answer(2), (), "worker-0"), 2, 4)
    assert record.failed_items == 1
    assert [f.ok for f in record.files] == [True, False, True]


def test_builtin_per_file_outcomes() -> None:
    outcomes = (
        FileOutcome("/stage/part-0.csv", 7, None),
        FileOutcome("/stage/part-1.csv", 0, "missing column(s) units"),
        FileOutcome("/stage/part-2.csv", 5, None),
    )
    record = record_of(MiniBatchOutcome(MINI_BATCH, staged(), answer(2, outcomes), (), "worker-0"), 12, 4)
    assert record.failed_items == 1
    assert [f.rows for f in record.files] == [7, 0, 5]
    assert record.files[1].error == "missing column(s) units"


def test_not_run_names_the_reason() -> None:
    outcome = MiniBatchOutcome(MINI_BATCH, None, None, (), None, not_run="error_threshold 1 exceeded")
    record = record_of(outcome, 0, 4)
    assert record.failed_items == 3
    assert all(f.error == "not scored: error_threshold 1 exceeded" for f in record.files)
    assert record.attempts == 0
