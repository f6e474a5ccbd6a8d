"""The text of the job logs users look for (Azure's ``logs/user/*.txt``). Pure formatting."""

from __future__ import annotations

from collections.abc import Sequence

from batchpoint.checks.results import CheckReport
from batchpoint.job_records.file_result import FileResult
from batchpoint.job_records.mini_batch_summary import MiniBatchSummary
from batchpoint.text_excerpts import excerpt

# Tracebacks repeat across attempts and mini-batches; past this many, the rest are counted only.
MAX_REPORTS = 50


def job_error_text(files: Sequence[FileResult], job_error: str | None, records: Sequence[MiniBatchSummary] = ()) -> str:
    """``job_error.txt``: the job-level error, then each failed mini-batch (why, its files), then
    files that failed outside any mini-batch record (never scored)."""
    lines = [f"job failed: {job_error}"] if job_error else []
    recorded: set[str] = set()
    for record in records:
        lines += record.error_lines()
        recorded.update(f.key for f in record.files)
    lines += [f"{f.uri}: {excerpt(f.error)}" for f in files if f.error is not None and f.key not in recorded]
    return "\n".join(lines) + "\n" if lines else "no errors\n"


def job_result_text(
    *,
    status: str,
    job_id: str,
    version_id: str,
    files: Sequence[FileResult],
    mini_batches: int,
    error_threshold: int,
    job_error: str | None,
    latest_note: str,
    rows: int | None = None,
    failed_items: int | None = None,
    records: Sequence[MiniBatchSummary] = (),
    init_errors: Sequence[tuple[str, str]] = (),
    checks: CheckReport | None = None,
) -> str:
    """``job_result.txt``: outcome, counts, the threshold rule, the checks and every error from init() and run().

    ``init_errors`` is ``(worker, error and traceback)`` per failed ``init()``; each distinct one is
    reported once with the workers and attempts it hit, as every worker retries the same failure.
    """
    failed = [f for f in files if not f.ok]
    items = len(failed) if failed_items is None else failed_items
    threshold = "any number (-1)" if error_threshold == -1 else str(error_threshold)
    failed_batches = [r for r in records if r.failed]
    lines = [
        f"status: {status}",
        f"job: {job_id}",
        f"version: {version_id}",
        f"files: {len(files)} ({len(files) - len(failed)} succeeded, {len(failed)} failed)",
        f"failed items: {items} (tolerated: {threshold})",
        f"mini-batches: {mini_batches} ({len(records)} done, {len(failed_batches)} with failed items)",
        f"rows: {sum(f.rows or 0 for f in files) if rows is None else rows}",
        f"latest: {latest_note}",
    ]
    if job_error:
        lines += ["", f"job error: {job_error}"]
    if checks is not None:
        lines += ["", "checks:"] + [f"  {line}" for line in check_lines(checks)]
    reports = init_error_reports(init_errors)
    reports += [report for record in records for report in record.attempt_reports]
    if reports:
        lines += ["", "errors from init() and run():"]
        lines += reports[:MAX_REPORTS]
        if len(reports) > MAX_REPORTS:
            lines.append(f"... and {len(reports) - MAX_REPORTS} more")
    if failed:
        lines += ["", "failed files:"] + [f"  {f.uri}: {excerpt(f.error or '')}" for f in failed]
    return "\n".join(lines) + "\n"


def check_lines(report: CheckReport) -> list[str]:
    """One line per check: its name, status, whether it blocks, and what it found."""
    return [
        f"{r.name}: {r.status.value.replace('_', ' ')}{' (blocking)' if r.blocking else ''}: {r.summary}"
        for r in report.results
    ]


def init_error_reports(init_errors: Sequence[tuple[str, str]]) -> list[str]:
    """One report per distinct ``init()`` error, first seen first: the workers and attempts it hit."""
    workers: dict[str, set[str]] = {}
    attempts: dict[str, int] = {}
    for worker, text in init_errors:
        workers.setdefault(text, set()).add(worker)
        attempts[text] = attempts.get(text, 0) + 1
    return [
        f"init() failed in {_count(len(workers[text]), 'worker')}, {_count(attempts[text], 'attempt')}:\n"
        f"{_indent(text)}"
        for text in workers
    ]


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _indent(text: str) -> str:
    return "\n".join(f"    {line}" for line in text.rstrip().splitlines())
