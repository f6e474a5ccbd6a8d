"""The one entry point of a scoring job: plan, score in a pool of script workers, write a new version.

The orchestrator (a Dagster asset) resolves the model, prepares the ``WorkerRuntime`` (the
deployment's environment and script, or the built-in MLflow scorer) and lists the inputs, then
calls ``run_scoring_job`` once per run. See ``docs/scoring-runtime.md`` for the rules.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from batchpoint.config import Settings
from batchpoint.errors import ScoringError
from batchpoint.models.resolved import ResolvedModel
from batchpoint.outputs.job_logs import job_error_text, job_result_text
from batchpoint.outputs.layout import JOB_ERROR_LOG, JOB_PROGRESS_LOG, JOB_RESULT_LOG, OutputLayout, new_version_id
from batchpoint.outputs.manifest import Timings, build_manifest
from batchpoint.outputs.merged_output import MergedOutput
from batchpoint.outputs.publishing import publish_version
from batchpoint.outputs.versions import read_latest, within_threshold
from batchpoint.scoring.input_staging import InputStager
from batchpoint.scoring.job_result import JobResult, JobStatus
from batchpoint.scoring.job_tracking import JobTracker
from batchpoint.scoring.planning import plan_job
from batchpoint.scoring.pool_run import pool_settings, score_in_order
from batchpoint.scoring.progress import JobProgress
from batchpoint.scoring.results import FileResult
from batchpoint.scoring.runtime import WorkerRuntime
from batchpoint.scoring.script_pool import ScriptPool
from batchpoint.scoring.script_process import script_environment
from batchpoint.scoring.worker_config import THREAD_LIMITS
from batchpoint.specs.deployment import BatchDeployment, BatchDeploymentOutputAction
from batchpoint.storage.port import ObjectInfo, ObjectStore

__all__ = ["JobResult", "JobStatus", "run_scoring_job"]

WORKER_LOGS = "logs/user/stdout"


def run_scoring_job(
    *,
    store: ObjectStore,
    settings: Settings,
    endpoint_name: str,
    deployment: BatchDeployment,
    model: ResolvedModel,
    inputs: Sequence[ObjectInfo],
    partition: str,
    job_id: str,
    runtime: WorkerRuntime,
    progress: Callable[[JobProgress], None] | None = None,
    log: logging.Logger,
    layout: OutputLayout | None = None,
) -> JobResult:
    """Score ``inputs`` with ``runtime`` and write them as a new version of ``endpoint_name``/``partition``.

    Failed items (bad files, failed or short mini-batches) count against ``error_threshold``; once it
    is exceeded the job stops and fails. A version is written either way, for diagnosis, and
    ``latest`` moves only for a ``Completed`` job. ``layout`` puts the outputs in another folder than
    ``<endpoint>/<partition>/`` of the output bucket (an invoked job's own folder). Raises
    ``ScoringError`` when there is nothing to score, ``StorageError`` when the version cannot be written.
    """
    if not inputs:
        raise ScoringError(f"no input files for {endpoint_name} {partition}: nothing to score")
    started_at = datetime.now(UTC)
    plan = plan_job(inputs, deployment.settings.mini_batch_size, deployment.resources.instance_count)
    layout = layout or OutputLayout(settings.output_bucket, endpoint_name, partition)
    version_id = new_version_id(job_id, started_at)
    store.ensure_bucket(layout.bucket)
    work = settings.cache_dir / "jobs" / version_id
    output_file = deployment.settings.output_file_name
    summary_only = deployment.settings.output_action is BatchDeploymentOutputAction.SUMMARY_ONLY
    workers = min(deployment.workers, plan.mini_batch_count)
    bi_output = work / "bi_output"
    log.info(
        f"job {job_id}: {plan.file_count} files in {plan.mini_batch_count} mini-batches, {workers} workers "
        f"running {runtime.entry} ({runtime.kind}), model {model.uri}, "
        f"output {layout.uri(layout.version_prefix(version_id))}"
    )
    scoring_started = time.perf_counter()
    try:
        with MergedOutput(work / "output" / output_file) as out:
            tracker = JobTracker(job_id, plan, log, store, layout, version_id, progress)
            stager = InputStager(store, work / "inputs")
            try:
                rules = pool_settings(deployment, runtime)
                env = _worker_env(runtime, deployment, bi_output)
                pool = ScriptPool(runtime, workers, rules, env=env, work_dir=work, stager=stager, log=log)
                job_error = score_in_order(pool, plan, out, tracker, deployment.settings.error_threshold)
            finally:
                stager.close()
        startup = pool.first_ready_seconds or 0.0
        # Worker start-up is reported on its own; rows/s is the rate of the warm workers.
        scoring_seconds = max(time.perf_counter() - scoring_started - startup, 0.0)
        job_error = job_error or _init_failure(pool, log, job_id)
        files = tracker.files(job_error)
        failed = tracker.failed_items + sum(1 for f in files if not f.ok and f.key not in _recorded(tracker))
        threshold = deployment.settings.error_threshold
        if job_error is None and not within_threshold(failed, threshold):
            job_error = f"{failed} failed items, more than error_threshold {threshold}"
        status: JobStatus = "Failed" if job_error else "Completed"
        latest_note = _latest_note(store, layout, version_id, job_error)
        if not tracker.progress_lines:
            tracker.report()  # no mini-batch finished: the overview still says where the job got to
        logs = _job_logs(tracker, files, job_error, status, threshold, latest_note, out.rows, failed, pool)
        extra, worker_logs = _local_files(bi_output) if summary_only else {}, _worker_logs(pool)
        timings = Timings(started_at, datetime.now(UTC), startup, scoring_seconds)
        has_predictions = not summary_only and (status == "Completed" or out.rows > 0)
        output_uri = _output_uri(layout, version_id, output_file if has_predictions else None)
        manifest = build_manifest(
            job_id=job_id,
            endpoint=endpoint_name,
            partition=partition,
            version_id=version_id,
            status=status,
            error=job_error,
            deployment=deployment,
            model=model,
            plan=plan,
            files=files,
            timings=timings,
            output_uri=output_uri,
            output_columns=out.columns,
            logs={name: layout.uri(layout.key(version_id, name)) for name in [*logs, *worker_logs]},
            rows=out.rows,
            failed_items=failed,
            mini_batches=[r.to_dict() for r in tracker.ordered()],
            runtime=runtime.to_dict(),
            output_format="summary_only" if summary_only else out.format or "csv",
            extra_outputs=[layout.uri(layout.key(version_id, name)) for name in extra],
        )
        moved = publish_version(
            store,
            layout,
            version_id=version_id,
            job_id=job_id,
            predictions=out.path if has_predictions else None,
            output_file_name=output_file,
            logs=logs,
            manifest=manifest,
            make_latest=status == "Completed",
            files={**extra, **worker_logs},
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    log.info(f"job {job_id} {status}: {out.rows} rows, {failed} failed items, {timings.seconds:.1f} s; {latest_note}")
    return JobResult(
        status=status,
        job_id=job_id,
        version_id=version_id,
        output_uri=output_uri,
        manifest_uri=layout.uri(layout.manifest_key(version_id)),
        latest_moved=moved,
        files=files,
        rows=out.rows,
        failed_files=failed,
        mini_batches=plan.mini_batch_count,
        seconds=timings.seconds,
        worker_startup_seconds=startup,
        manifest=manifest,
        preview=tuple(out.preview),
        error=job_error,
    )


def _output_uri(layout: OutputLayout, version_id: str, output_file: str | None) -> str:
    """The predictions file's URI; the version folder when there is none.

    ``summary_only`` writes no predictions file, and a failed job with no rows writes none either,
    so an empty file is never mistaken for a result.
    """
    if output_file is None:
        return layout.uri(layout.version_prefix(version_id))
    return layout.uri(layout.key(version_id, output_file))


def _worker_env(runtime: WorkerRuntime, deployment: BatchDeployment, bi_output: Path) -> dict[str, str]:
    """What every worker process sees: thread limits, the deployment's variables, Azure's paths."""
    bi_output.mkdir(parents=True, exist_ok=True)
    extra = {**THREAD_LIMITS, **deployment.settings.environment_variables}
    return script_environment(runtime.model_dir, bi_output, extra)


def _init_failure(pool: ScriptPool, log: logging.Logger, job_id: str) -> str | None:
    """The job's error when no worker could run ``init()``."""
    if not (pool.gave_up and pool.init_errors):
        return None
    error = f"init() failed in every worker: {pool.init_errors[-1].error}"
    log.error(f"job {job_id} failed: {error}")
    return error


def _latest_note(store: ObjectStore, layout: OutputLayout, version_id: str, job_error: str | None) -> str:
    """What happens to ``latest``, in words, for ``job_result.txt``."""
    if job_error:
        return f"not moved: the job failed ({job_error})"
    current = read_latest(store, layout)
    if current is not None and current.version_id > version_id:
        return f"not moved: newer version {current.version_id} is latest"
    return f"moved to {version_id}"


def _job_logs(
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
            init_errors=[f"{e.error}\n{e.traceback}" for e in pool.init_errors],
        ),
    }


def _recorded(tracker: JobTracker) -> set[str]:
    return {f.key for r in tracker.records.values() for f in r.files}


def _worker_logs(pool: ScriptPool) -> dict[str, Path]:
    """Each worker slot's stdout/stderr log, by its path inside the version."""
    return {f"{WORKER_LOGS}/{p.name.removesuffix('.stderr.txt')}.txt": p for p in sorted(pool.log_dir.glob("*.txt"))}


def _local_files(root: Path) -> dict[str, Path]:
    """Every file under ``root`` by its path relative to it, for upload."""
    return {p.relative_to(root).as_posix(): p for p in sorted(root.rglob("*")) if p.is_file()}
