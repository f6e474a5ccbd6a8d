"""How a scored job ends: every input's result, the failed items, and the error that fails it, if any.

A job fails (Azure's rules, ``docs/scoring-runtime.md``) when the pool stopped it (the store was
unreachable, ``error_threshold`` was exceeded), when no worker could run ``init()``, when its failed
items exceed ``error_threshold``, and, whatever ``error_threshold`` says, when none of its
mini-batches succeeded: Azure's "There is no succeeded mini batch item returned from run()". A job
that writes rows fails the same way when only empty files succeeded while others failed, so
``latest`` never moves to a version with no predictions when the inputs had rows; inputs that are
all header-only give 0 rows, no failures, and a Completed job.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from batchpoint.job_records.failure_causes import FailureCause
from batchpoint.job_records.file_result import FileResult
from batchpoint.outputs.versions import within_threshold
from batchpoint.scoring.job_tracking import JobTracker
from batchpoint.scoring.mini_batch_record import MiniBatchRecord
from batchpoint.scoring.reuse import Reused
from batchpoint.scoring.script_pool import ScriptPool
from batchpoint.specs.job import JobStatus
from batchpoint.storage.port import ObjectInfo

NO_SUCCEEDED_MINI_BATCH = "There is no succeeded mini batch item returned from run()"


@dataclass(frozen=True)
class JobOutcome:
    """The accounting of a finished scoring phase."""

    files: tuple[FileResult, ...]
    failed_items: int
    error: str | None

    @property
    def status(self) -> JobStatus:
        """``Failed`` when there is an error, else ``Completed``."""
        return JobStatus.FAILED if self.error else JobStatus.COMPLETED


def job_outcome(
    *,
    inputs: Sequence[ObjectInfo],
    tracker: JobTracker,
    pool: ScriptPool,
    scoring_error: str | None,
    reused: Reused | None,
    threshold: int,
    rows: int,
    writes_rows: bool,
    log: logging.Logger,
) -> JobOutcome:
    """Account for every input and decide whether the job failed (rules in the module docstring).

    ``scoring_error`` is what stopped the pool, if anything; ``rows`` the rows written (reused ones
    included); ``writes_rows`` False for ``summary_only``, whose returns are only counted.
    """
    error = scoring_error or init_failure(pool)
    files, failed = accounted(inputs, tracker, pool, error, reused)
    if error is None and not within_threshold(failed, threshold):
        error = f"{failed} failed items, more than error_threshold {threshold}"
    if error is None:
        carried = len(reused.files) if reused is not None else 0
        error = no_success_error(tracker.ordered(), tracker.plan.mini_batch_count, rows, failed, writes_rows, carried)
    if error is not None and error != scoring_error:
        log.error(f"job {tracker.job_id} failed: {error}")
    return JobOutcome(files, failed, error)


def no_success_error(
    records: Sequence[MiniBatchRecord],
    mini_batches: int,
    rows: int,
    failed: int,
    writes_rows: bool,
    carried: int = 0,
) -> str | None:
    """Azure's error when no mini-batch item succeeded, or when only empty files did; ``None`` otherwise.

    A run with nothing to score (every file reused) has no mini-batches and cannot fail this way.
    ``carried`` files reused from an earlier version count as succeeded items: a failed-only re-score
    whose re-tried files fail again still writes the others' predictions, and ``error_threshold``
    judges it as it judged the run it repeats.
    """
    if mini_batches == 0:
        return None
    succeeded = sum(r.succeeded_items for r in records) + carried
    if succeeded == 0:
        return f"{NO_SUCCEEDED_MINI_BATCH}: all {mini_batches} mini-batches failed ({failed} failed items)"
    if writes_rows and rows == 0 and failed > 0:
        return (
            f"{NO_SUCCEEDED_MINI_BATCH} with rows: the {succeeded} item(s) that succeeded had no rows and "
            f"{failed} failed, so there are no predictions"
        )
    return None


def init_failure(pool: ScriptPool) -> str | None:
    """The job's error when no worker could run ``init()``."""
    if not (pool.gave_up and pool.init_errors):
        return None
    return f"init() failed in every worker: {pool.init_errors[-1].error}"


def accounted(
    inputs: Sequence[ObjectInfo], tracker: JobTracker, pool: ScriptPool, job_error: str | None, reused: Reused | None
) -> tuple[tuple[FileResult, ...], int]:
    """Every input's result, and the failed items they count for (the files' own failures only)."""
    unscored_cause = FailureCause.INFRASTRUCTURE if pool.store_error else FailureCause.CONTENT
    files = all_files(inputs, tracker.files(job_error, unscored_cause), reused)
    recorded = {f.key for r in tracker.records.values() for f in r.files}  # once: not per file of the generator below
    return files, tracker.failed_items + sum(1 for f in files if f.counted and f.key not in recorded)


def file_order(inputs: Sequence[ObjectInfo]) -> dict[str, int]:
    """Input URI → position in the order a full run scores them (bucket, key)."""
    ordered = sorted({(i.bucket, i.key) for i in inputs})
    return {f"s3://{bucket}/{key}": n for n, (bucket, key) in enumerate(ordered)}


def all_files(
    inputs: Sequence[ObjectInfo], scored: Sequence[FileResult], reused: Reused | None
) -> tuple[FileResult, ...]:
    """Every input's result in full-run order: the scored ones and the reused ones."""
    by_key = {f.key: f for f in scored}
    if reused is not None:
        by_key.update(reused.files)
    order = file_order(inputs)
    return tuple(sorted(by_key.values(), key=lambda f: order.get(f.uri, len(order))))
