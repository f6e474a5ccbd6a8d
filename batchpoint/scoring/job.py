"""The one entry point of a scoring job: plan, score in a worker pool, write a new output version.

The orchestrator (the Dagster asset) resolves the model and lists the inputs, then calls
``run_scoring_job`` once per run.
"""

from __future__ import annotations

import itertools
import logging
import shutil
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from batchpoint.config import Settings
from batchpoint.errors import ScoringError
from batchpoint.models.resolved import ResolvedModel
from batchpoint.outputs.job_logs import job_error_text, job_result_text
from batchpoint.outputs.layout import JOB_ERROR_LOG, JOB_PROGRESS_LOG, JOB_RESULT_LOG, OutputLayout, new_version_id
from batchpoint.outputs.manifest import Timings, build_manifest
from batchpoint.outputs.predictions_file import PredictionsFile
from batchpoint.outputs.publishing import publish_version
from batchpoint.outputs.versions import read_latest, within_threshold
from batchpoint.scoring.job_tracking import JobTracker
from batchpoint.scoring.planning import MiniBatch, plan_job
from batchpoint.scoring.progress import JobProgress
from batchpoint.scoring.results import FileResult, MiniBatchResult
from batchpoint.scoring.worker_config import S3StoreFactory, WorkerConfig
from batchpoint.scoring.worker_pool import WorkerPool
from batchpoint.specs.deployment import BatchDeployment
from batchpoint.storage.port import ObjectInfo, ObjectStore

JobStatus = Literal["Completed", "Failed"]


@dataclass(frozen=True)
class JobResult:
    """What a scoring job did; ``manifest`` is the JSON written next to the predictions."""

    status: JobStatus
    job_id: str
    version_id: str
    output_uri: str
    manifest_uri: str
    latest_moved: bool
    files: tuple[FileResult, ...]
    rows: int
    failed_files: int
    mini_batches: int
    seconds: float
    worker_startup_seconds: float
    manifest: dict[str, Any]
    preview: tuple[dict[str, Any], ...]
    error: str | None

    def preview_markdown(self) -> str:
        """The first rows of the predictions as a Markdown table."""
        if not self.preview:
            return "_no rows_"
        columns = list(self.preview[0])
        lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
        lines += ["| " + " | ".join(str(row.get(c, "")) for c in columns) + " |" for row in self.preview]
        return "\n".join(lines)


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
    progress: Callable[[JobProgress], None] | None = None,
    log: logging.Logger,
    worker_store: Callable[[], ObjectStore] | None = None,
    layout: OutputLayout | None = None,
) -> JobResult:
    """Score ``inputs`` with ``model`` and write them as a new version of ``endpoint_name``/``partition``.

    Bad files are counted against ``error_threshold`` and named in ``job_error.txt``; a model that
    cannot load or a crashed worker fails the job. Either way the version is written for diagnosis,
    and ``latest`` moves only for a ``Completed`` job. ``worker_store`` builds each worker's own store
    (default: S3 at ``settings``). ``layout`` puts the outputs in another folder than the endpoint's
    ``<endpoint>/<partition>/`` of the output bucket (an invoked job's own folder). Raises
    ``ScoringError`` when there is nothing to score, and ``StorageError`` when the version cannot be
    written.
    """
    if not inputs:
        raise ScoringError(f"no input files for {endpoint_name} {partition}: nothing to score")
    started_at = datetime.now(UTC)
    plan = plan_job(inputs, deployment.settings.mini_batch_size, deployment.resources.instance_count)
    layout = layout or OutputLayout(settings.output_bucket, endpoint_name, partition)
    version_id = new_version_id(job_id, started_at)
    store.ensure_bucket(layout.bucket)
    staging = settings.cache_dir / "staging" / version_id
    output_file = deployment.settings.output_file_name
    workers = min(deployment.workers, plan.mini_batch_count)
    log.info(
        f"job {job_id}: {plan.file_count} files in {plan.mini_batch_count} mini-batches, {workers} workers, "
        f"model {model.uri}, output {layout.uri(layout.version_prefix(version_id))}"
    )
    config = WorkerConfig(
        model_path=model.local_path,
        signature=model.signature,
        store_factory=worker_store or S3StoreFactory.from_settings(settings),
        environment=dict(deployment.settings.environment_variables),
    )
    job_error: str | None = None
    startup = 0.0
    scoring_started = time.perf_counter()
    try:
        with PredictionsFile(staging / output_file) as out:
            tracker = JobTracker(job_id, plan, out, log, store, layout, version_id, progress)
            try:
                with WorkerPool(config, workers) as pool:
                    startup = pool.start().seconds
                    log.info(f"job {job_id}: {workers} workers ready in {startup:.2f} s")
                    for result in _in_order(pool, plan.mini_batches, window=2 * workers):
                        tracker.add(result)
            except Exception as exc:
                # The job as a whole failed (model load, worker crash): record it, never hide it.
                job_error = f"{type(exc).__name__}: {exc}"
                log.error(f"job {job_id} failed: {job_error}")
        # Worker start-up is reported on its own; rows/s is the rate of the warm workers.
        scoring_seconds = max(time.perf_counter() - scoring_started - startup, 0.0)
        files = tracker.files(job_error)
        failed = sum(1 for f in files if not f.ok)
        threshold = deployment.settings.error_threshold
        if job_error is None and not within_threshold(failed, threshold):
            job_error = f"{failed} of {len(files)} files failed, more than error_threshold {threshold}"
            log.error(f"job {job_id} failed: {job_error}")
        status: JobStatus = "Failed" if job_error else "Completed"
        current = read_latest(store, layout)
        newer = current is not None and current.version_id > version_id
        latest_note = (
            f"not moved: the job failed ({job_error})"
            if job_error
            else f"not moved: newer version {current.version_id} is latest"
            if newer and current
            else f"moved to {version_id}"
        )
        tracker.report()
        logs = {
            JOB_ERROR_LOG: job_error_text(files, job_error),
            JOB_PROGRESS_LOG: tracker.progress_text(),
            JOB_RESULT_LOG: job_result_text(
                status=status,
                job_id=job_id,
                version_id=version_id,
                files=files,
                mini_batches=plan.mini_batch_count,
                error_threshold=threshold,
                job_error=job_error,
                latest_note=latest_note,
            ),
        }
        timings = Timings(started_at, datetime.now(UTC), startup, scoring_seconds)
        output_uri = layout.uri(layout.key(version_id, output_file))
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
            logs={name: layout.uri(layout.key(version_id, name)) for name in logs},
        )
        moved = publish_version(
            store,
            layout,
            version_id=version_id,
            job_id=job_id,
            predictions=out.path,
            output_file_name=output_file,
            logs=logs,
            manifest=manifest,
            make_latest=status == "Completed",
        )
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    log.info(f"job {job_id} {status}: {out.rows} rows, {failed} failed files, {timings.seconds:.1f} s; {latest_note}")
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
        preview=tuple(tracker.preview),
        error=job_error,
    )


def _in_order(pool: WorkerPool, mini_batches: Sequence[MiniBatch], window: int) -> Iterator[MiniBatchResult]:
    """Results in mini-batch order (a deterministic output file), at most ``window`` in flight."""
    remaining = iter(mini_batches)
    queue: deque[Future[MiniBatchResult]] = deque(pool.submit(mb) for mb in itertools.islice(remaining, window))
    while queue:
        result = queue.popleft().result()
        following = next(remaining, None)
        if following is not None:
            # Before yielding: the pool keeps working while the caller writes this result.
            queue.append(pool.submit(following))
        yield result
