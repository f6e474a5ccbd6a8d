"""What a finished job writes beside its predictions: logs, worker logs, the latest note, URIs."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from batchpoint.errors import BatchpointError
from batchpoint.outputs.job_logs import job_error_text, job_result_text
from batchpoint.outputs.layout import JOB_ERROR_LOG, JOB_PROGRESS_LOG, JOB_RESULT_LOG, OutputLayout
from batchpoint.outputs.versions import read_latest
from batchpoint.scoring.job_tracking import JobTracker
from batchpoint.scoring.results import FileResult
from batchpoint.scoring.script_pool import ScriptPool
from batchpoint.storage.port import ObjectStore

WORKER_LOGS = "logs/user/stdout"


def output_uri_of(layout: OutputLayout, version_id: str, output_file: str | None) -> str:
    """The predictions file's URI; the version folder when there is none.

    ``summary_only`` writes no predictions file, and a failed job with no rows writes none either,
    so an empty file is never mistaken for a result.
    """
    if output_file is None:
        return layout.uri(layout.version_prefix(version_id))
    return layout.uri(layout.key(version_id, output_file))


def latest_note(
    store: ObjectStore, layout: OutputLayout, version_id: str, job_error: str | None, promote: bool = True
) -> str:
    """What happens to ``latest``, in words, for ``job_result.txt``."""
    if job_error:
        return f"not moved: the job failed ({job_error})"
    if not promote:
        return "not moved: this run does not promote its version (a non-default deployment; use --promote)"
    current = read_latest(store, layout)
    if current is not None and current.version_id > version_id:
        return f"not moved: newer version {current.version_id} is latest"
    return f"moved to {version_id}"


def job_logs(
    tracker: JobTracker,
    files: Sequence[FileResult],
    job_error: str | None,
    status: str,
    threshold: int,
    latest_note: str,
    rows: int,
    failed: int,
    pool: ScriptPool,
) -> dict[str, str]:
    """The three job logs users look for, by their path inside the version."""
    records = tracker.ordered()
    return {
        JOB_ERROR_LOG: job_error_text(files, job_error, records),
        JOB_PROGRESS_LOG: tracker.progress_text(),
        JOB_RESULT_LOG: job_result_text(
            status=status,
            job_id=tracker.job_id,
            version_id=tracker.version_id,
            files=files,
            mini_batches=tracker.plan.mini_batch_count,
            error_threshold=threshold,
            job_error=job_error,
            latest_note=latest_note,
            rows=rows,
            failed_items=failed,
            records=records,
            init_errors=[
                (worker, f"{e.error}\n{e.traceback}")
                for worker, e in zip(pool.init_workers, pool.init_errors, strict=True)
            ],
        ),
    }


def recorded_keys(tracker: JobTracker) -> set[str]:
    return {f.key for r in tracker.records.values() for f in r.files}


def worker_logs(log_dir: Path) -> dict[str, Path]:
    """Each pool process's stdout/stderr log (``script_process.process_log``), by its path inside the version."""
    return {f"{WORKER_LOGS}/{p.name}": p for p in sorted(log_dir.glob("*.txt"))}


def local_files(root: Path) -> dict[str, Path]:
    """Every file under ``root`` by its path relative to it, for upload."""
    return {p.relative_to(root).as_posix(): p for p in sorted(root.rglob("*")) if p.is_file()}


def prune(store: ObjectStore, layout: OutputLayout, keep: int, log: logging.Logger) -> None:
    """Apply the endpoint's retention after publishing; a failure to prune never fails the job."""
    from batchpoint.outputs.retention import apply_retention

    try:
        deleted = apply_retention(store, layout, keep)
    except BatchpointError as exc:
        log.warning(f"could not prune {layout.uri(layout.prefix)} to {keep} versions: {exc}")
        return
    if deleted:
        log.info(f"retention: kept {keep} versions of {layout.uri(layout.prefix)}, deleted {', '.join(deleted)}")
