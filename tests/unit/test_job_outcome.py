"""When a scored job fails whatever error_threshold says: no mini-batch item succeeded (Azure's rule)."""

import pytest

from batchpoint.job_records.file_result import FileResult
from batchpoint.scoring.job_outcome import NO_SUCCEEDED_MINI_BATCH, no_success_error
from batchpoint.scoring.mini_batch_record import MiniBatchRecord


def file(name: str, rows: int | None, error: str | None = None) -> FileResult:
    return FileResult("in", name, "etag", 10, rows, error, 0.0)


def record(*files: FileResult, short: int = 0) -> MiniBatchRecord:
    failed = sum(1 for f in files if f.counted) + short
    return MiniBatchRecord(0, files, sum(f.rows or 0 for f in files), failed, "worker-0", (), 4, None)


def test_succeeded_items_are_scored_files_less_a_short_return() -> None:
    assert record(file("a.csv", 3), file("b.csv", 0, "bad")).succeeded_items == 1
    assert record(file("a.csv", None), file("b.csv", None), short=1).succeeded_items == 1
    assert record(file("a.csv", 0, "bad"), file("b.csv", 0, "bad")).succeeded_items == 0


def test_every_file_failing_fails_the_job_with_azures_message() -> None:
    records = [record(file("a.csv", 0, "bad")), record(file("b.csv", 0, "bad"), file("c.csv", 0, "bad"))]
    error = no_success_error(records, 2, rows=0, failed=3, writes_rows=True)
    assert error is not None and error.startswith(NO_SUCCEEDED_MINI_BATCH)
    assert "all 2 mini-batches failed (3 failed items)" in error


def test_a_script_that_returned_nothing_for_every_mini_batch_fails() -> None:
    records = [record(file("a.csv", None), short=1), record(file("b.csv", None), short=1)]
    assert no_success_error(records, 2, rows=0, failed=2, writes_rows=False) is not None


def test_only_empty_files_succeeding_while_others_failed_fails() -> None:
    records = [record(file("empty.csv", 0), file("bad.csv", 0, "bad"))]
    error = no_success_error(records, 1, rows=0, failed=1, writes_rows=True)
    assert error is not None and "had no rows" in error
    # summary_only writes no rows: one succeeded item is success
    assert no_success_error(records, 1, rows=0, failed=1, writes_rows=False) is None


@pytest.mark.parametrize(
    ("records", "mini_batches", "rows", "failed"),
    [
        ([record(file("header-only.csv", 0), file("also.csv", 0))], 1, 0, 0),  # 0 rows, legitimately
        ([record(file("a.csv", 2), file("bad.csv", 0, "bad"))], 1, 2, 1),  # one file is enough
        ([], 0, 5, 0),  # every file reused: nothing was scored
    ],
)
def test_jobs_with_a_succeeded_item_or_nothing_to_score_do_not_fail_this_way(
    records: list[MiniBatchRecord], mini_batches: int, rows: int, failed: int
) -> None:
    assert no_success_error(records, mini_batches, rows, failed, writes_rows=True) is None


def test_a_failed_only_rescore_whose_retried_file_fails_again_keeps_the_carried_predictions() -> None:
    # The month's good files are carried over; only its bad file is scored again, and fails again.
    records = [record(file("bad.csv", 0, "bad"))]
    assert no_success_error(records, 1, rows=40, failed=1, writes_rows=True, carried=3) is None
    # With nothing carried, the same run has no succeeded item and fails.
    assert no_success_error(records, 1, rows=0, failed=1, writes_rows=True) is not None
