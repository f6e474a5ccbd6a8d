"""The text of the job logs users look for (Azure's ``logs/user/*.txt``). Pure formatting."""

from __future__ import annotations

from collections.abc import Sequence

from batchpoint.scoring.results import FileResult


def job_error_text(files: Sequence[FileResult], job_error: str | None) -> str:
    """``job_error.txt``: the job-level error, then one line per failed file: ``s3://... : problem``."""
    lines = [f"job failed: {job_error}"] if job_error else []
    lines += [f"{f.uri}: {f.error}" for f in files if not f.ok]
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
) -> str:
    """``job_result.txt``: outcome, counts, the threshold rule and every error from init()/run()."""
    failed = [f for f in files if not f.ok]
    threshold = "any number (-1)" if error_threshold == -1 else str(error_threshold)
    lines = [
        f"status: {status}",
        f"job: {job_id}",
        f"version: {version_id}",
        f"files: {len(files)} ({len(files) - len(failed)} succeeded, {len(failed)} failed; tolerated: {threshold})",
        f"mini-batches: {mini_batches}",
        f"rows: {sum(f.rows for f in files)}",
        f"latest: {latest_note}",
    ]
    if job_error:
        lines += ["", f"job error: {job_error}"]
    if failed:
        lines += ["", "failed files:"] + [f"  {f.uri}: {f.error}" for f in failed]
    return "\n".join(lines) + "\n"
