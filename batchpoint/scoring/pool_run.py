"""Running a job's pool: the deployment's rules for it, and outcomes merged in mini-batch order."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path

from batchpoint.errors import ScoringError
from batchpoint.outputs.merged_output import MergedOutput
from batchpoint.outputs.versions import within_threshold
from batchpoint.scoring.job_tracking import JobTracker
from batchpoint.scoring.mini_batch_record import record_of
from batchpoint.scoring.planning import JobPlan, MiniBatch
from batchpoint.scoring.pool_records import Attempt, MiniBatchOutcome, PoolSettings
from batchpoint.scoring.runtime import WorkerRuntime
from batchpoint.scoring.script_pool import ScriptPool
from batchpoint.specs.deployment import BatchDeployment

# init() loads the model; a big one takes a while, a hung one must not hold the job forever.
INIT_TIMEOUT_SECONDS = 300.0


def pool_settings(deployment: BatchDeployment, runtime: WorkerRuntime) -> PoolSettings:
    """The pool's rules from the deployment's settings."""
    settings = deployment.settings
    parquet = settings.output_file_name.lower().endswith(".parquet") and not runtime.builtin
    return PoolSettings(
        output_action=settings.output_action.value,
        result_format="parquet" if parquet else "rows",
        timeout=float(settings.retry_settings.timeout),
        max_retries=settings.retry_settings.max_retries,
        init_timeout=max(INIT_TIMEOUT_SECONDS, float(settings.retry_settings.timeout)),
        logging_level=settings.logging_level,
    )


def score_in_order(
    pool: ScriptPool,
    plan: JobPlan,
    out: MergedOutput,
    tracker: JobTracker,
    threshold: int,
    more: Callable[[], Sequence[MiniBatch]] | None = None,
) -> str | None:
    """Run the pool; merge outcomes in mini-batch order; stop once ``threshold`` is exceeded.

    ``more`` gives the pool further mini-batches once the plan's are in (``scoring/late_files.py``),
    numbered on from the plan's last.
    """
    waiting: dict[int, MiniBatchOutcome] = {}
    following = 0
    job_error: str | None = None
    for outcome in pool.run(plan.mini_batches, more):
        waiting[outcome.mini_batch.index] = outcome
        # In mini-batch order, so the same inputs always give the same output file.
        while following in waiting:
            ready = waiting.pop(following)
            following += 1
            rows, ready = merge_outcome(out, ready)
            tracker.add(record_of(ready, rows, pool.attempts_allowed))
            if job_error is None and pool.store_error is not None:
                job_error = pool.store_error  # the pool stopped itself: nothing more can be read
            if job_error is None and not within_threshold(tracker.failed_items, threshold):
                job_error = f"{tracker.failed_items} failed items, more than error_threshold {threshold}"
                tracker.log.error(job_error)
                pool.stop(f"the job stopped: error_threshold {threshold} exceeded")
    return job_error


def merge_outcome(out: MergedOutput, outcome: MiniBatchOutcome) -> tuple[int, MiniBatchOutcome]:
    """Append the outcome's rows; a result that cannot be appended fails the mini-batch instead.

    Where the rows went is kept in ``out.spans``, so a later run can reuse them (``scoring/segment_reuse.py``).
    """
    answer = outcome.answer
    start = out.position
    out.spans[outcome.mini_batch.index] = (start, 0)
    if answer is None or not answer.ok or not answer.result_path:
        return 0, outcome
    try:
        rows = out.add(Path(answer.result_path), answer.format, answer.items, _row_sources(outcome))
        out.spans[outcome.mini_batch.index] = (start, out.position - start)
        return rows, outcome
    except ScoringError as exc:
        attempt = Attempt(len(outcome.failures) + 1, outcome.worker or "-", "output", str(exc), "")
        failed = dataclasses.replace(outcome, answer=None, failures=(*outcome.failures, attempt))
        return 0, failed
    finally:
        Path(answer.result_path).unlink(missing_ok=True)


def _row_sources(outcome: MiniBatchOutcome) -> list[tuple[str, int]]:
    """``(input_uri, rows)`` of the files that produced rows, in the order their rows were written.

    The built-in scorer writes the rows of its successful files in mini-batch order.
    """
    answer, staged = outcome.answer, outcome.staged
    if answer is None or not answer.files or staged is None:
        return []
    by_path = {o.path: o for o in answer.files}
    sources: list[tuple[str, int]] = []
    for info in outcome.mini_batch.files:
        local = staged.local.get(info.key)
        found = by_path.get(str(local)) if local is not None else None
        if found is not None and found.ok and found.rows:
            sources.append((f"s3://{info.bucket}/{info.key}", found.rows))
    return sources
