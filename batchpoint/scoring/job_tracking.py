"""Bookkeeping of a running job: per-mini-batch records, progress and its log."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from batchpoint.errors import BatchpointError
from batchpoint.job_records.failure_causes import FailureCause
from batchpoint.job_records.file_result import FileResult
from batchpoint.outputs.layout import JOB_PROGRESS_LOG, OutputLayout
from batchpoint.scoring.mini_batch_record import MiniBatchRecord
from batchpoint.scoring.planning import JobPlan
from batchpoint.specs.job import JobProgress
from batchpoint.storage.port import ObjectStore

# Upload the progress overview this often, so users can watch a long job from the store.
PROGRESS_UPLOAD_SECONDS = 10.0


@dataclass
class JobTracker:
    """Takes each finished mini-batch: records its files and failed items, reports progress."""

    job_id: str
    plan: JobPlan
    log: logging.Logger
    store: ObjectStore
    layout: OutputLayout
    version_id: str
    progress: Callable[[JobProgress], None] | None = None
    records: dict[int, MiniBatchRecord] = field(default_factory=dict)
    progress_lines: list[str] = field(default_factory=list)
    rows: int = 0
    started: float = field(default_factory=time.perf_counter)
    _uploaded_at: float = field(default_factory=time.perf_counter)

    @property
    def failed_items(self) -> int:
        """Failed items so far (what ``error_threshold`` counts)."""
        return sum(r.failed_items for r in self.records.values())

    def add(self, record: MiniBatchRecord) -> None:
        """Record one final mini-batch and log what failed in it."""
        self.records[record.index] = record
        self.rows += record.rows
        for line in record.error_lines():
            self.log.error(line.strip())
        self.report()

    def replan(self, plan: JobPlan) -> None:
        """Count progress against ``plan`` from now on: the job's plan, with files that landed meanwhile."""
        self.plan = plan

    def report(self) -> JobProgress:
        """Append a progress line, tell the caller, and upload the overview now and then."""
        now = JobProgress(
            mini_batches_done=len(self.records),
            mini_batches=self.plan.mini_batch_count,
            files_done=sum(len(r.files) for r in self.records.values()),
            files=self.plan.file_count,
            failed_items=self.failed_items,
            rows=self.rows,
            elapsed_seconds=time.perf_counter() - self.started,
            failed_mini_batches=sum(1 for r in self.records.values() if r.failed),
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

    def ordered(self) -> list[MiniBatchRecord]:
        """Records in mini-batch order."""
        return [self.records[i] for i in sorted(self.records)]

    def files(self, unscored_reason: str | None, cause: FailureCause = FailureCause.CONTENT) -> tuple[FileResult, ...]:
        """Every planned file's result, in plan order; files never scored fail with ``unscored_reason``."""
        known = {f.key: f for r in self.records.values() for f in r.files}
        reason = f"not scored: {unscored_reason or 'the job stopped before this file'}"
        return tuple(
            known.get(f.key) or FileResult(f.bucket, f.key, f.etag, f.size, 0, reason, 0.0, cause=cause)
            for f in self.plan.files
        )

    def _upload_progress(self) -> None:
        key = self.layout.key(self.version_id, JOB_PROGRESS_LOG)
        try:
            self.store.put_bytes(self.layout.bucket, key, self.progress_text().encode(), "text/plain")
        except BatchpointError as exc:
            # Progress is a courtesy; the final upload reports storage failures for real.
            self.log.warning(f"could not upload progress to {self.layout.uri(key)}: {exc}")
