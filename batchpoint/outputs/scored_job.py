"""``ScoredJob``: what the scoring phase of a job left, in plain form, for publishing to write.

Scoring (``scoring/job.py``) fills it in; publishing (``job_publishing.py``) turns it into a
manifest, the job logs and a version. Only plain records here, never scoring's own classes, so
outputs never imports scoring (an import-linter contract keeps it so).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from batchpoint.job_records.file_result import FileResult
from batchpoint.job_records.mini_batch_summary import MiniBatchSummary
from batchpoint.outputs.manifest_figures import PlanSection
from batchpoint.outputs.manifest_sections import ModelSection, ReuseSection, RuntimeSection, WorkersSection
from batchpoint.outputs.reuse_index import ReuseIndex
from batchpoint.specs.deployment import BatchDeployment, BatchDeploymentOutputAction
from batchpoint.specs.job import JobStatus
from batchpoint.storage.port import ObjectInfo


@dataclass(frozen=True)
class ScoredJob:
    """One scored job: who, with what, the outcome of every input, and where its local outputs are.

    The local paths (``predictions_path``, ``extra_files``, ``worker_log_dir``) live in the job's
    work folder, which the caller removes once the job is published.
    """

    job_id: str
    endpoint: str
    partition: str
    version_id: str
    started_at: datetime
    deployment: BatchDeployment
    model: ModelSection
    runtime: RuntimeSection
    plan: PlanSection
    """The plan of every input, reused ones included (what a full run would have scored)."""
    input_bytes: int
    scored_mini_batches: int
    """Mini-batches this run scored (reused files are in none)."""
    files: tuple[FileResult, ...]
    """Every input's result in full-run order, reused ones included."""
    inputs: tuple[ObjectInfo, ...]
    """Every input the job covered, as listed: those it was given, then those that landed while it ran."""
    failed_items: int
    error: str | None
    """What fails the job (``scoring/job_outcome.py``); ``None`` for a Completed job."""
    mini_batches: tuple[MiniBatchSummary, ...]
    progress_text: str
    """``job_progress_overview.txt`` as the job left it."""
    rows: int
    columns: tuple[str, ...]
    output_format: str | None
    """The merged output's format (``csv``, ``rows``, ``parquet``); ``None`` when nothing was merged."""
    predictions_path: Path
    worker_log_dir: Path
    worker_startup_seconds: float
    scoring_seconds: float
    init_errors: tuple[tuple[str, str], ...] = ()
    """``(worker, error and traceback)`` per failed ``init()``."""
    extra_files: Mapping[str, Path] = field(default_factory=dict)
    """Other local files to publish by their path inside the version (a ``summary_only`` script's
    own outputs, the lineage Parquet)."""
    lineage_name: str | None = None
    """The lineage Parquet's name inside the version, when the runtime writes one (the MLflow scorer)."""
    reused: ReuseSection | None = None
    reuse_index: ReuseIndex | None = None
    """What a later run may reuse of this version (``outputs/reuse_index.py``)."""
    workers: WorkersSection | None = None
    """Where the workers ran: in-process, or which Ray pool and nodes."""
    preview: tuple[dict[str, Any], ...] = ()

    @property
    def status(self) -> JobStatus:
        """``Failed`` when there is an error, else ``Completed``."""
        return JobStatus.FAILED if self.error else JobStatus.COMPLETED

    @property
    def summary_only(self) -> bool:
        """True when the deployment writes no predictions file (``output_action: summary_only``)."""
        return self.deployment.settings.output_action is BatchDeploymentOutputAction.SUMMARY_ONLY
