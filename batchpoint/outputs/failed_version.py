"""The version a job leaves when it fails before scoring: its logs and manifest, no predictions.

Building the environment, downloading the model or listing the inputs can fail before any worker
starts; Azure still writes ``logs/user/job_error.txt`` and ``job_result.txt`` for such a job, and so
do we, into a version of its own, so ``job download`` brings them. ``latest`` never moves to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from batchpoint.job_records.failure_causes import FailureCause
from batchpoint.job_records.file_result import FileResult
from batchpoint.outputs.job_logs import job_error_text, job_result_text
from batchpoint.outputs.layout import JOB_ERROR_LOG, JOB_PROGRESS_LOG, JOB_RESULT_LOG, OutputLayout, new_version_id
from batchpoint.outputs.manifest import Manifest
from batchpoint.outputs.manifest_figures import OutputSection, TimingsSection, TotalsSection
from batchpoint.outputs.manifest_sections import DeploymentSection, ModelSection
from batchpoint.outputs.publishing import publish_version
from batchpoint.specs.deployment import BatchDeployment
from batchpoint.storage.port import ObjectInfo, ObjectStore

NOT_SCORED = "not scored: the job failed before scoring"
BEFORE_SCORING = "before scoring"


@dataclass(frozen=True)
class FailedBeforeScoring:
    """What is known of a job that failed before scoring."""

    job_id: str
    endpoint: str
    partition: str
    error: str
    """The error as users should read it: ``EnvironmentBuildError: ... requirement 'x' ...``."""
    deployment: BatchDeployment | None = None
    model_uri: str | None = None
    inputs: Sequence[ObjectInfo] = ()
    started_at: datetime | None = None
    environment_lines: Sequence[str] = ()
    """What choosing and building the environment said (``scoring/environment_log.py``), for the user log."""


def write_failed_version(store: ObjectStore, layout: OutputLayout, failed: FailedBeforeScoring) -> str:
    """Write the failed job's version (logs, manifest; no predictions); return its folder's URI.

    Raises ``StorageError`` when the store cannot take it.
    """
    started = failed.started_at or datetime.now(UTC)
    version_id = new_version_id(failed.job_id, started)
    job_error = f"the job failed before scoring: {failed.error}"
    # Not the files' fault: nothing counts against error_threshold (as for a store outage).
    files = [
        FileResult(i.bucket, i.key, i.etag, i.size, 0, NOT_SCORED, 0.0, cause=FailureCause.INFRASTRUCTURE)
        for i in failed.inputs
    ]
    threshold = failed.deployment.settings.error_threshold if failed.deployment is not None else -1
    latest_note = "not moved: the job failed before scoring"
    logs = {
        JOB_ERROR_LOG: job_error_text(files, job_error),
        JOB_PROGRESS_LOG: "".join(f"{line}\n" for line in failed.environment_lines)
        + "0 mini-batches processed: the job failed before scoring\n",
        JOB_RESULT_LOG: job_result_text(
            status="Failed",
            job_id=failed.job_id,
            version_id=version_id,
            files=files,
            mini_batches=0,
            error_threshold=threshold,
            job_error=job_error,
            latest_note=latest_note,
            rows=0,
            failed_items=0,
        ),
    }
    store.ensure_bucket(layout.bucket)
    publish_version(
        store,
        layout,
        version_id=version_id,
        job_id=failed.job_id,
        predictions=None,
        output_file_name=failed.deployment.settings.output_file_name if failed.deployment else "predictions.csv",
        logs=logs,
        manifest=_manifest(failed, layout, version_id, started, job_error, files, logs),
        make_latest=False,
    )
    return layout.uri(layout.version_prefix(version_id))


def _manifest(
    failed: FailedBeforeScoring,
    layout: OutputLayout,
    version_id: str,
    started: datetime,
    job_error: str,
    files: Sequence[FileResult],
    logs: dict[str, str],
) -> Manifest:
    """The manifest's sections that are known before scoring; readers treat the rest as absent."""
    finished = datetime.now(UTC)
    return Manifest(
        job_id=failed.job_id,
        endpoint=failed.endpoint,
        partition=failed.partition,
        version_id=version_id,
        status="Failed",
        error=job_error,
        stage=BEFORE_SCORING,
        deployment=DeploymentSection.of(failed.deployment) if failed.deployment is not None else None,
        model=ModelSection(uri=failed.model_uri) if failed.model_uri else None,
        inputs=tuple(files),
        totals=TotalsSection(
            files=len(files), succeeded_files=0, failed_files=len(files), failed_items=0, rows=0, mini_batches=0
        ),
        timings=TimingsSection(
            started_at=started.isoformat(),
            finished_at=finished.isoformat(),
            seconds=round((finished - started).total_seconds(), 3),
        ),
        output=OutputSection(uri=layout.uri(layout.version_prefix(version_id)), format=None, files=()),
        logs={name: layout.uri(layout.key(version_id, name)) for name in logs},
        promoted=False,
    )
