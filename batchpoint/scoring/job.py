"""The one entry point of a scoring job: plan, score in a pool of script workers, write a new version.

The orchestrator (a Dagster asset) resolves the model, prepares the ``WorkerRuntime`` (the
deployment's environment and script, or the built-in MLflow scorer) and lists the inputs, then
calls ``run_scoring_job`` once per run. See ``docs/scoring-runtime.md`` for the scoring rules and
``docs/backfills-and-versions.md`` for promotion, reuse and retention.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from batchpoint.config import Settings
from batchpoint.errors import ScoringError
from batchpoint.models.resolved import ResolvedModel
from batchpoint.outputs.layout import OutputLayout, new_version_id
from batchpoint.outputs.lineage import LineageConstants, lineage_file_name
from batchpoint.outputs.manifest import Timings, build_manifest
from batchpoint.outputs.merged_output import MergedOutput
from batchpoint.outputs.publishing import publish_version
from batchpoint.scoring import job_outputs
from batchpoint.scoring.job_outcome import file_order, job_outcome
from batchpoint.scoring.job_result import JobResult, JobStatus
from batchpoint.scoring.job_tracking import JobTracker
from batchpoint.scoring.local_host import local_host
from batchpoint.scoring.planning import JobPlan, plan_job
from batchpoint.scoring.pool_run import pool_settings, score_in_order
from batchpoint.scoring.progress import JobProgress
from batchpoint.scoring.reuse import Reused, ReuseMode, find_reusable
from batchpoint.scoring.runtime import WorkerRuntime
from batchpoint.scoring.script_pool import ScriptPool
from batchpoint.scoring.worker_config import THREAD_LIMITS
from batchpoint.scoring.worker_host import HostFactory, HostRequest
from batchpoint.specs.deployment import BatchDeployment, BatchDeploymentOutputAction
from batchpoint.storage.port import ObjectInfo, ObjectStore
from batchpoint.storage.retrying import with_retries

__all__ = ["JobResult", "JobStatus", "ReuseMode", "run_scoring_job"]


@dataclass(frozen=True)
class _Scored:
    """What the scoring phase left: the pool (for its logs), the tracker, the error if any."""

    pool: ScriptPool
    tracker: JobTracker
    error: str | None
    startup: float
    seconds: float
    workers: dict[str, object]
    """Where the workers ran: the host's ``placement``, plus how many were lent warm."""


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
    promote: bool = True,
    reuse: ReuseMode | None = None,
    keep_versions: int | None = None,
    hosts: HostFactory | None = None,
) -> JobResult:
    """Score ``inputs`` with ``runtime`` and write them as a new version of ``endpoint_name``/``partition``.

    Failed items (bad files, failed or short mini-batches) count against ``error_threshold``; once it
    is exceeded the job stops and fails. Every store call outlasts short outages
    (``storage/retrying.py``); a store unreachable for longer fails the job, never its files
    (``scoring/failure_causes.py``). A version is written either way, for diagnosis; ``latest``
    moves only for a ``Completed`` job with ``promote``. ``reuse`` carries over an earlier version's
    rows for unchanged files (``scoring/reuse.py``); ``keep_versions`` prunes older versions after
    publishing. ``layout`` puts the outputs in another folder than ``<endpoint>/<partition>/`` of the
    output bucket (an invoked job's own folder). ``hosts`` opens where the workers run (a Ray pool,
    ``batchpoint.ray_compute``); by default they are this process's children (``LocalHost``).
    Raises ``ScoringError`` when there is nothing to score, ``StorageError`` when the version cannot
    be written.
    """
    if not inputs:
        raise ScoringError(f"no input files for {endpoint_name} {partition}: nothing to score")
    progress_store = store  # the progress overview is a courtesy: never worth waiting for the store
    store = with_retries(store, settings)
    started_at = datetime.now(UTC)
    layout = layout or OutputLayout(settings.output_bucket, endpoint_name, partition)
    version_id = new_version_id(job_id, started_at)
    store.ensure_bucket(layout.bucket)
    reused = _reusable(store, layout, reuse, runtime, list(inputs), log)
    plan = plan_job([i for i in inputs if reused is None or i.key not in reused.files], *_plan_settings(deployment))
    work = settings.cache_dir / "jobs" / version_id
    output_file = deployment.settings.output_file_name
    summary_only = deployment.settings.output_action is BatchDeploymentOutputAction.SUMMARY_ONLY
    lineage_name = lineage_file_name(output_file) if runtime.builtin else None
    log.info(
        f"job {job_id}: {plan.file_count} files to score in {plan.mini_batch_count} mini-batches"
        f"{f' ({len(reused.files)} reused from {reused.version_id})' if reused else ''}, "
        f"{min(deployment.workers, max(plan.mini_batch_count, 1))} workers running {runtime.entry} "
        f"({runtime.kind}), model {model.uri}, output {layout.uri(layout.version_prefix(version_id))}"
    )
    try:
        with MergedOutput(
            work / "output" / output_file,
            lineage_path=work / "output" / lineage_name if lineage_name else None,
            constants=LineageConstants(model.name, model.version, deployment.name, job_id),
            deferred=reused is not None,
        ) as out:
            stores = (store, progress_store)
            choice = _HostChoice(hosts or local_host, endpoint_name, model)
            scored = _score(
                stores, deployment, runtime, plan, out, work, log, job_id, layout, version_id, progress, choice
            )
            out.finish_with(reused.rows if reused else None, file_order(inputs))
        tracker, pool = scored.tracker, scored.pool
        threshold = deployment.settings.error_threshold
        outcome = job_outcome(
            inputs=inputs,
            tracker=tracker,
            pool=pool,
            scoring_error=scored.error,
            reused=reused,
            threshold=threshold,
            rows=out.rows,
            writes_rows=not summary_only,
            log=log,
        )
        files, failed, job_error, status = outcome.files, outcome.failed_items, outcome.error, outcome.status
        latest_note = job_outputs.latest_note(store, layout, version_id, job_error, promote)
        if not tracker.progress_lines:
            tracker.report()  # no mini-batch finished: the overview still says where the job got to
        logs = job_outputs.job_logs(tracker, files, job_error, status, threshold, latest_note, out.rows, failed, pool)
        extra = job_outputs.local_files(work / "bi_output") if summary_only else {}
        if out.has_lineage and lineage_name and out.lineage_path is not None:
            extra[lineage_name] = out.lineage_path
        worker_logs = job_outputs.worker_logs(pool.log_dir)
        timings = Timings(started_at, datetime.now(UTC), scored.startup, scored.seconds)
        has_predictions = not summary_only and (status == "Completed" or out.rows > 0)
        output_uri = job_outputs.output_uri_of(layout, version_id, output_file if has_predictions else None)
        manifest = build_manifest(
            job_id=job_id,
            endpoint=endpoint_name,
            partition=partition,
            version_id=version_id,
            status=status,
            error=job_error,
            deployment=deployment,
            model=model,
            plan=plan_job(inputs, *_plan_settings(deployment)),
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
        manifest["promoted"] = promote
        manifest["reused"] = reused.to_dict() if reused else None
        manifest["workers"] = scored.workers
        manifest["lineage_uri"] = layout.uri(layout.key(version_id, lineage_name)) if lineage_name in extra else None
        moved = publish_version(
            store,
            layout,
            version_id=version_id,
            job_id=job_id,
            predictions=out.path if has_predictions else None,
            output_file_name=output_file,
            logs=logs,
            manifest=manifest,
            make_latest=status == "Completed" and promote,
            files={**extra, **worker_logs},
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if keep_versions is not None:
        job_outputs.prune(store, layout, keep_versions, log)
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
        worker_startup_seconds=scored.startup,
        manifest=manifest,
        preview=tuple(out.preview),
        error=job_error,
    )


def _score(
    stores: tuple[ObjectStore, ObjectStore],
    deployment: BatchDeployment,
    runtime: WorkerRuntime,
    plan: JobPlan,
    out: MergedOutput,
    work: Path,
    log: logging.Logger,
    job_id: str,
    layout: OutputLayout,
    version_id: str,
    progress: Callable[[JobProgress], None] | None,
    hosts: _HostChoice,
) -> _Scored:
    """The scoring phase: the pool scores the plan's mini-batches into ``out``.

    ``stores``: the retrying store inputs are read from, and the plain one progress is uploaded to.
    """
    store, progress_store = stores
    started = time.perf_counter()
    # The environment's lines come first: how the workers' Python was chosen, then their progress.
    tracker = JobTracker(
        job_id, plan, log, progress_store, layout, version_id, progress, progress_lines=list(runtime.environment_lines)
    )
    workers = min(deployment.workers, max(plan.mini_batch_count, 1))
    host = hosts.factory(
        HostRequest(
            runtime=runtime,
            endpoint=hosts.endpoint,
            deployment=deployment,
            model=hosts.model,
            job_id=job_id,
            work_dir=work,
            variables={**THREAD_LIMITS, **deployment.settings.environment_variables},
            output_dir=work / "bi_output",
            store=store,
            log=log,
        )
    )
    rules = pool_settings(deployment, runtime)
    pool = ScriptPool(host, workers, rules, builtin=runtime.builtin, work_dir=work, log=log)
    try:
        error = score_in_order(pool, plan, out, tracker, deployment.settings.error_threshold)
    finally:
        host.close(work / "bi_output")
    # Worker start-up (until every worker is ready) is reported on its own, so rows/s is the rate
    # of warm workers; when fewer came up (init() failing), until the first was.
    startup = pool.all_ready_seconds or pool.first_ready_seconds or 0.0
    workers_record = {**host.placement, "warm_workers": pool.warm_workers, "started_workers": len(pool.init_seconds)}
    return _Scored(pool, tracker, error, startup, max(time.perf_counter() - started - startup, 0.0), workers_record)


@dataclass(frozen=True)
class _HostChoice:
    """How the scoring phase opens its host, and what the host is told of the job."""

    factory: HostFactory
    endpoint: str
    model: ResolvedModel


def _plan_settings(deployment: BatchDeployment) -> tuple[int, int]:
    return deployment.settings.mini_batch_size, deployment.resources.instance_count


def _reusable(
    store: ObjectStore,
    layout: OutputLayout,
    reuse: ReuseMode | None,
    runtime: WorkerRuntime,
    inputs: list[ObjectInfo],
    log: logging.Logger,
) -> Reused | None:
    if reuse is None:
        return None
    if not runtime.builtin:
        log.info(f"{reuse}: a scoring script's rows are not attributed to files, so every file is scored")
        return None
    return find_reusable(store, layout, reuse, inputs, log)
