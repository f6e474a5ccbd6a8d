"""What a finished mini-batch counts for: per-file results, failed items, and the lines users read.

Pure accounting over a ``MiniBatchOutcome`` (Azure's rules, ``docs/scoring-runtime.md``): ``run()``
returning ``k`` items for ``n`` files fails ``n - k`` items; a mini-batch with no answer after its
last attempt fails all its files; the built-in MLflow scorer reports each file's own outcome.
"""

from __future__ import annotations

from dataclasses import dataclass

from batchpoint.job_records.failure_causes import FailureCause
from batchpoint.job_records.file_result import FileResult
from batchpoint.job_records.mini_batch_summary import MiniBatchSummary, error_lines, file_names
from batchpoint.scoring.pool_records import Attempt, MiniBatchOutcome
from batchpoint.scoring.script_answers import failed_items
from batchpoint.storage.port import ObjectInfo


@dataclass(frozen=True)
class MiniBatchRecord:
    """One mini-batch as the job accounts for it."""

    index: int
    files: tuple[FileResult, ...]
    rows: int
    failed_items: int
    worker: str | None
    failures: tuple[Attempt, ...]
    attempts_allowed: int
    note: str | None
    """Why items failed, when it is not one file's own error (short return, no answer, not run)."""
    attempts: int = 0
    """Attempts made: failed ones plus the one that answered."""
    node: str | None = None
    """Where the last attempt ran: ``local``, or the Ray node's id."""

    @property
    def failed(self) -> bool:
        """True when the mini-batch counted any failed item."""
        return self.failed_items > 0

    @property
    def succeeded_items(self) -> int:
        """Items that ``run()`` returned for: files scored, less a script's short return."""
        ok = sum(1 for f in self.files if f.ok)
        short = self.failed_items - sum(1 for f in self.files if f.counted)
        return max(ok - short, 0)

    @property
    def file_names(self) -> str:
        """``a.csv, b.csv``."""
        return file_names(self.files)

    def error_lines(self) -> list[str]:
        """``job_error.txt`` lines: the mini-batch's reason, then each failed file."""
        return error_lines(self.index, self.files, self.note)

    def attempt_reports(self) -> list[str]:
        """``job_result.txt`` entries: every failed attempt with its traceback or the worker's log tail."""
        reports = []
        for attempt in self.failures:
            head = f"mini-batch {self.index} ({self.file_names}) {attempt.line(self.attempts_allowed)}"
            detail = attempt.detail.rstrip()
            reports.append(f"{head}\n{_indent(detail)}" if detail else head)
        return reports

    def summary(self) -> MiniBatchSummary:
        """The plain form the manifest and the job logs take (the attempts written out)."""
        return MiniBatchSummary(
            index=self.index,
            files=self.files,
            rows=self.rows,
            failed_items=self.failed_items,
            worker=self.worker,
            attempts=self.attempts,
            note=self.note,
            attempt_reports=tuple(self.attempt_reports()),
            node=self.node,
        )


def record_of(outcome: MiniBatchOutcome, rows: int, attempts_allowed: int) -> MiniBatchRecord:
    """Account for ``outcome``; ``rows`` is what was appended to the output for it."""
    mini_batch = outcome.mini_batch
    staged = outcome.staged
    download_errors = staged.errors if staged is not None else {}
    answer = outcome.answer if outcome.ok else None
    results: dict[str, FileResult] = {
        key: _result(_info(mini_batch.files, key), 0, error) for key, error in download_errors.items()
    }
    note: str | None = None
    pending = [f for f in mini_batch.files if f.key not in results]
    if answer is None:
        last = outcome.failures[-1] if outcome.failures else None
        reason = outcome.not_run or (last.error if last else None) or "every file failed to download"
        cause = outcome.not_run_cause if outcome.not_run else FailureCause.CONTENT
        if outcome.not_run:
            note = f"not scored: {outcome.not_run}"
        elif last is not None:
            note = f"failed after {len(outcome.failures)} attempt(s); last: {last.kind}: {last.error}"
        for info in pending:
            error = f"not scored: {reason}" if outcome.not_run else reason
            results[info.key] = _result(info, 0, error, cause)
    elif answer.files:
        by_path = {o.path: o for o in answer.files}
        for info in pending:
            local = staged.local.get(info.key) if staged is not None else None
            found = by_path.get(str(local)) if local is not None else None
            if found is None:
                results[info.key] = _result(info, 0, "the scorer reported nothing for this file")
            else:
                results[info.key] = _result(info, found.rows, found.error)
    else:
        short = failed_items(len(pending), answer.items)
        if short:
            note = f"run() returned {answer.items} item(s) for {len(pending)} file(s): {short} failed item(s)"
        for info in pending:
            results[info.key] = _result(info, None, None)
    files = tuple(results[f.key] for f in mini_batch.files)
    # Only the files' own failures are failed items; the store's failure fails the job instead.
    failed = sum(1 for f in files if f.counted)
    if answer is not None and not answer.files:
        failed += failed_items(len(pending), answer.items)
    return MiniBatchRecord(
        index=mini_batch.index,
        files=files,
        rows=rows,
        failed_items=failed,
        worker=outcome.worker,
        failures=outcome.failures,
        attempts_allowed=attempts_allowed,
        note=note,
        attempts=len(outcome.failures) + (1 if answer is not None else 0),
        node=outcome.node,
    )


def _info(files: tuple[ObjectInfo, ...], key: str) -> ObjectInfo:
    return next(f for f in files if f.key == key)


def _result(
    info: ObjectInfo, rows: int | None, error: str | None, cause: FailureCause = FailureCause.CONTENT
) -> FileResult:
    return FileResult(info.bucket, info.key, info.etag, info.size, rows, error, 0.0, cause=cause)


def _indent(text: str) -> str:
    return "\n".join(f"    {line}" for line in text.splitlines())
