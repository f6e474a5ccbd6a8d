"""Publishing a scored job: its manifest and job logs, the version uploaded, ``latest`` moved, old versions pruned.

Takes the plain ``ScoredJob`` the scoring phase left (``scored_job.py``) and the store; knows
nothing of workers or pools. ``publish_version`` keeps the upload order that keeps ``latest``
honest; ``latest`` moves only for a Completed job that promotes its version.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from batchpoint.checks.results import CheckReport
from batchpoint.errors import BatchpointError
from batchpoint.outputs.challenger_report import challenger_report
from batchpoint.outputs.job_logs import check_lines, job_error_text, job_result_text
from batchpoint.outputs.layout import JOB_ERROR_LOG, JOB_PROGRESS_LOG, JOB_RESULT_LOG, OutputLayout
from batchpoint.outputs.manifest import Manifest, build_manifest
from batchpoint.outputs.manifest_figures import TimingsSection
from batchpoint.outputs.manifest_sections import DeploymentSection, MiniBatchSection
from batchpoint.outputs.publishing import publish_version
from batchpoint.outputs.retention import apply_retention
from batchpoint.outputs.scored_job import ScoredJob
from batchpoint.outputs.version_checks import check_version
from batchpoint.outputs.versions import read_latest
from batchpoint.specs.job import JobStatus
from batchpoint.specs.prediction_checks import PredictionChecks
from batchpoint.storage.port import ObjectStore

WORKER_LOGS = "logs/user/stdout"


@dataclass(frozen=True)
class PublishedJob:
    """What publishing wrote: the manifest, where the predictions and manifest are, whether ``latest`` moved."""

    manifest: Manifest
    output_uri: str
    manifest_uri: str
    latest_moved: bool
    seconds: float
    """Wall time of the whole job, from its start to the version written."""
    status: JobStatus
    """The scored job's status, or ``Failed-check`` when a blocking check kept ``latest`` where it is."""
    error: str | None
    """The job's error, or which blocking checks failed."""


def publish_job(
    store: ObjectStore,
    layout: OutputLayout,
    scored: ScoredJob,
    *,
    promote: bool,
    keep_versions: int | None,
    log: logging.Logger,
    checks: PredictionChecks | None = None,
    compare: bool = False,
) -> PublishedJob:
    """Write ``scored`` as its version (see the module docstring); prune to ``keep_versions`` after.

    ``checks``: the endpoint's checks, evaluated on a Completed job before anything is uploaded
    (``version_checks.py``); a failed blocking one makes the job ``Failed-check``: its version is
    written, ``latest`` stays. Raises ``StorageError`` when the version cannot be written; a failure
    to prune is only a warning. ``compare``: diff the version against the month's ``latest`` into
    ``compare/report.*`` and the manifest's ``compare`` (``challenger_report.py``).
    """
    version_id, status, error = scored.version_id, scored.status, scored.error
    output_file = scored.deployment.settings.output_file_name
    extra = dict(scored.extra_files)
    worker_logs = worker_logs_in(scored.worker_log_dir)
    report = None
    if checks is not None and status is JobStatus.COMPLETED:
        into = scored.predictions_path.parent.parent / "pictures"
        report, pictures = check_version(store, layout, scored, checks, log, into)
        extra.update(pictures)
        if report.blocked_by:
            status, error = JobStatus.FAILED_CHECK, report.blocking_note()
    compared = None
    if compare and status in (JobStatus.COMPLETED, JobStatus.FAILED_CHECK):
        compared, files = challenger_report(
            store, layout, scored, scored.predictions_path.parent.parent / "compare", log
        )
        extra.update(files)
    note = latest_note(store, layout, version_id, error, promote, checked=status is JobStatus.FAILED_CHECK)
    logs = job_logs(scored, note, status=status, checks=report)
    finished = datetime.now(UTC)
    timings = TimingsSection.of(
        scored.started_at, finished, scored.worker_startup_seconds, scored.scoring_seconds, scored.rows
    )
    has_predictions = not scored.summary_only and (status is JobStatus.COMPLETED or scored.rows > 0)
    output_uri = output_uri_of(layout, version_id, output_file if has_predictions else None)
    lineage = scored.lineage_name
    manifest = build_manifest(
        job_id=scored.job_id,
        endpoint=scored.endpoint,
        partition=scored.partition,
        version_id=version_id,
        status=status,
        error=error,
        deployment=DeploymentSection.of(scored.deployment),
        error_threshold=scored.deployment.settings.error_threshold,
        model=scored.model,
        plan=scored.plan,
        input_bytes=scored.input_bytes,
        files=scored.files,
        timings=timings,
        output_uri=output_uri,
        output_columns=scored.columns,
        logs={name: layout.uri(layout.key(version_id, name)) for name in [*logs, *worker_logs]},
        rows=scored.rows,
        failed_items=scored.failed_items,
        mini_batches=[MiniBatchSection.of(m) for m in scored.mini_batches],
        runtime=scored.runtime,
        output_format="summary_only" if scored.summary_only else scored.output_format or "csv",
        extra_outputs=[layout.uri(layout.key(version_id, name)) for name in extra],
        promoted=promote,
        reused=scored.reused,
        lineage_uri=layout.uri(layout.key(version_id, lineage)) if lineage is not None and lineage in extra else None,
        workers=scored.workers,
        reuse_index=scored.reuse_index,
        checks=report,
        compare=compared,
    )
    moved = publish_version(
        store,
        layout,
        version_id=version_id,
        job_id=scored.job_id,
        predictions=scored.predictions_path if has_predictions else None,
        output_file_name=output_file,
        logs=logs,
        manifest=manifest,
        make_latest=status is JobStatus.COMPLETED and promote,
        files={**extra, **worker_logs},
    )
    if keep_versions is not None:
        prune(store, layout, keep_versions, log)
    seconds = (finished - scored.started_at).total_seconds()
    # Said once the version is out: in a Dagster run each line is an event (~10 ms), and the
    # manifest and the job's log have them already.
    for line in check_lines(report) if report is not None else ():
        log.info(f"check {line}")
    log.info(
        f"job {scored.job_id} {status}: {scored.rows} rows, {scored.failed_items} failed items, {seconds:.1f} s; {note}"
    )
    manifest_uri = layout.uri(layout.manifest_key(version_id))
    return PublishedJob(manifest, output_uri, manifest_uri, moved, seconds, status, error)


def job_logs(
    scored: ScoredJob, latest_note: str, *, status: JobStatus | None = None, checks: CheckReport | None = None
) -> dict[str, str]:
    """The three job logs users look for, by their path inside the version.

    ``status`` defaults to the scored job's (publishing may make it ``Failed-check``).
    """
    threshold = scored.deployment.settings.error_threshold
    return {
        JOB_ERROR_LOG: job_error_text(scored.files, scored.error, scored.mini_batches),
        JOB_PROGRESS_LOG: scored.progress_text,
        JOB_RESULT_LOG: job_result_text(
            status=status or scored.status,
            job_id=scored.job_id,
            version_id=scored.version_id,
            files=scored.files,
            mini_batches=scored.scored_mini_batches,
            error_threshold=threshold,
            job_error=scored.error,
            latest_note=latest_note,
            rows=scored.rows,
            failed_items=scored.failed_items,
            records=scored.mini_batches,
            init_errors=scored.init_errors,
            checks=checks,
        ),
    }


def output_uri_of(layout: OutputLayout, version_id: str, output_file: str | None) -> str:
    """The predictions file's URI; the version folder when there is none.

    ``summary_only`` writes no predictions file, and a failed job with no rows writes none either,
    so an empty file is never mistaken for a result.
    """
    if output_file is None:
        return layout.uri(layout.version_prefix(version_id))
    return layout.uri(layout.key(version_id, output_file))


def latest_note(
    store: ObjectStore,
    layout: OutputLayout,
    version_id: str,
    job_error: str | None,
    promote: bool = True,
    *,
    checked: bool = False,
) -> str:
    """What happens to ``latest``, in words, for ``job_result.txt``; ``checked``: a blocking check failed."""
    if checked:
        deliberate = (
            f"`batchpoint output rollback --endpoint {layout.endpoint} --partition {layout.partition} "
            f"--version {version_id}` moves latest to it deliberately"
            if layout.folder is None
            else "an invoked job's output has no latest"
        )
        return f"not moved: {job_error}; the version is written, and {deliberate}"
    if job_error:
        return f"not moved: the job failed ({job_error})"
    if not promote:
        return "not moved: this run does not promote its version (a non-default deployment; use --promote)"
    current = read_latest(store, layout)
    if current is not None and current.version_id > version_id:
        return f"not moved: newer version {current.version_id} is latest"
    return f"moved to {version_id}"


def worker_logs_in(log_dir: Path) -> Mapping[str, Path]:
    """Each pool process's stdout/stderr log (``script_process.process_log``), by its path inside the version."""
    return {f"{WORKER_LOGS}/{p.name}": p for p in sorted(log_dir.glob("*.txt"))}


def prune(store: ObjectStore, layout: OutputLayout, keep: int, log: logging.Logger) -> None:
    """Apply the endpoint's retention after publishing; a failure to prune never fails the job."""
    try:
        deleted = apply_retention(store, layout, keep)
    except BatchpointError as exc:
        log.warning(f"could not prune {layout.uri(layout.prefix)} to {keep} versions: {exc}")
        return
    if deleted:
        log.info(f"retention: kept {keep} versions of {layout.uri(layout.prefix)}, deleted {', '.join(deleted)}")
