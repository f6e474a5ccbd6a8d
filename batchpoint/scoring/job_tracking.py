"""Bookkeeping of a running job: per-file results, predictions file, progress and its log."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from batchpoint.errors import BatchpointError
from batchpoint.outputs.layout import JOB_PROGRESS_LOG, OutputLayout
from batchpoint.outputs.predictions_file import PredictionsFile
from batchpoint.scoring.planning import JobPlan
from batchpoint.scoring.progress import JobProgress
from batchpoint.scoring.results import FileResult, MiniBatchResult
from batchpoint.storage.port import ObjectStore

PREVIEW_ROWS = 10
# Upload the progress overview this often, so users can watch a long job from the store.
PROGRESS_UPLOAD_SECONDS = 10.0


@dataclass
class JobTracker:
    """Takes each finished mini-batch: appends its rows, records its files, reports progress."""

    job_id: str
    plan: JobPlan
    out: PredictionsFile
    log: logging.Logger
    store: ObjectStore
    layout: OutputLayout
    version_id: str
    progress: Callable[[JobProgress], None] | None = None
    results: dict[str, FileResult] = field(default_factory=dict)
    preview: list[dict[str, Any]] = field(default_factory=list)
    progress_lines: list[str] = field(default_factory=list)
    mini_batches_done: int = 0
    started: float = field(default_factory=time.perf_counter)
    _uploaded_at: float = field(default_factory=time.perf_counter)

    def add(self, result: MiniBatchResult) -> None:
        """Record one mini-batch result."""
        if result.predictions is not None:
            self.out.append(result.predictions)
            if len(self.preview) < PREVIEW_ROWS:
                self.preview += result.predictions.slice(0, PREVIEW_ROWS - len(self.preview)).to_pylist()
        for file in result.files:
            self.results[file.key] = file
            if not file.ok:
                self.log.error(f"input file {file.uri} failed: {file.error}")
        self.mini_batches_done += 1
        self.report()

    def report(self) -> JobProgress:
        """Append a progress line, tell the caller, and upload the overview now and then."""
        now = JobProgress(
            job_id=self.job_id,
            mini_batches_done=self.mini_batches_done,
            mini_batches=self.plan.mini_batch_count,
            files_done=len(self.results),
            files=self.plan.file_count,
            failed_files=sum(1 for f in self.results.values() if not f.ok),
            rows=self.out.rows,
            elapsed_seconds=time.perf_counter() - self.started,
        )
        self.progress_lines.append(f"{time.strftime('%Y-%m-%dT%H:%M:%S%z')} {now}")
        if self.progress is not None:
            try:
                self.progress(now)
            except Exception as exc:
                # A failing observer must not fail the scoring it observes.
                self.log.warning(f"progress callback failed: {type(exc).__name__}: {exc}")
        if time.perf_counter() - self._uploaded_at >= PROGRESS_UPLOAD_SECONDS:
            self._uploaded_at = time.perf_counter()
            self._upload_progress()
        return now

    def progress_text(self) -> str:
        """``job_progress_overview.txt``."""
        return "\n".join(self.progress_lines) + "\n"

    def files(self, unscored_reason: str | None) -> tuple[FileResult, ...]:
        """Every planned file's result, in plan order; files never scored fail with ``unscored_reason``."""
        reason = f"not scored: {unscored_reason or 'the job stopped before this file'}"
        return tuple(
            self.results.get(f.key) or FileResult(f.bucket, f.key, f.etag, f.size, 0, reason, 0.0)
            for f in self.plan.files
        )

    def _upload_progress(self) -> None:
        key = self.layout.key(self.version_id, JOB_PROGRESS_LOG)
        try:
            self.store.put_bytes(self.layout.bucket, key, self.progress_text().encode(), "text/plain")
        except BatchpointError as exc:
            # Progress is a courtesy; the final upload reports storage failures for real.
            self.log.warning(f"could not upload progress to {self.layout.uri(key)}: {exc}")
