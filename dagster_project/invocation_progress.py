"""A job row's progress from a scoring job's: live (throttled) while it runs, and final."""

from __future__ import annotations

import time
from collections.abc import Callable

from batchpoint.scoring.job import JobResult
from batchpoint.specs.job import JobProgress

# Job rows get a progress update at most this often (and always for the last mini-batch).
PROGRESS_RECORD_SECONDS = 0.5


def progress_recorder(
    record: Callable[[JobProgress], None], interval: float = PROGRESS_RECORD_SECONDS
) -> Callable[[JobProgress], None]:
    """A progress callback that writes the job row at most every ``interval`` seconds, and at the end."""
    last = [float("-inf")]

    def report(progress: JobProgress) -> None:
        now = time.monotonic()
        if now - last[0] >= interval or progress.mini_batches_done >= progress.mini_batches:
            last[0] = now
            record(progress)

    return report


def result_progress(result: JobResult) -> JobProgress:
    """Final progress of a finished scoring job."""
    return JobProgress(
        mini_batches_done=result.mini_batches,
        mini_batches=result.mini_batches,
        files_done=len(result.files),
        files=len(result.files),
        failed_items=result.failed_items,
        rows=result.rows,
    )
