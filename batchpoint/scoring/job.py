"""The one entry point of a scoring job: plan, score in a pool of script workers, publish a new version.

The orchestrator (a Dagster asset) resolves the model, prepares the ``WorkerRuntime`` (the
deployment's environment and script, or the built-in MLflow scorer) and lists the inputs, then
calls ``run_scoring_job`` once per run: ``score_job`` scores and leaves a plain ``ScoredJob``,
``outputs/job_publishing.py`` publishes it. See ``docs/scoring-runtime.md`` for the scoring rules and
``docs/backfills-and-versions.md`` for promotion, reuse and retention.
"""

from __future__ import annotations

import dataclasses
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
from batchpoint.outputs.job_publishing import publish_job
from batchpoint.outputs.layout import OutputLayout, new_version_id
from batchpoint.outputs.lineage import LineageConstants, assemble, lineage_file_name
from batchpoint.outputs.manifest_figures import PlanSection, ShardSection
from batchpoint.outputs.manifest_sections import ModelSection, ReuseSection, RuntimeSection, WorkersSection
from batchpoint.outputs.merged_output import MergedOutput
from batchpoint.outputs.reuse_index import ReuseIndex
from batchpoint.outputs.scored_job import ScoredJob
from batchpoint.scoring.job_outcome import file_order, job_outcome
from batchpoint.scoring.job_result import JobResult, JobStatus
from batchpoint.scoring.job_tracking import JobTracker
from batchpoint.scoring.late_files import LateFiles
from batchpoint.scoring.local_host import local_host
from batchpoint.scoring.planning import JobPlan, plan_job
from batchpoint.scoring.pool_run import pool_settings, score_in_order
from batchpoint.scoring.reuse import Reused, ReuseMode, find_reusable
from batchpoint.scoring.reuse_key import reuse_key
from batchpoint.scoring.runtime import WorkerRuntime
from batchpoint.scoring.script_pool import ScriptPool
from batchpoint.scoring.segment_reuse import find_reusable_segments
from batchpoint.scoring.segments import copy_reused_segments, scored_segments, segment_unit
from batchpoint.scoring.worker_config import THREAD_LIMITS
from batchpoint.scoring.worker_host import HostFactory, HostRequest
from batchpoint.specs.deployment import BatchDeployment, BatchDeploymentOutputAction
from batchpoint.specs.job import JobProgress
from batchpoint.specs.prediction_checks import PredictionChecks
from batchpoint.storage.port import ObjectInfo, ObjectStore
from batchpoint.storage.retrying import with_retries

__all__ = ["JobIdentity", "JobResult", "JobStatus", "ReuseMode", "run_scoring_job", "score_job"]


@dataclass(frozen=True)
class _Scored:
    """What the scoring phase left: the pool (for its logs), the tracker, the error if any."""

    pool: ScriptPool
    tracker: JobTracker
    error: str | None
    startup: float
    seconds: float
    workers: WorkersSection
    """Where the workers ran: the host's ``placement``, and how many were lent warm or started."""
    plan: JobPlan
    """What was scored: the plan, with the files that landed while the job ran."""
    late: tuple[ObjectInfo, ...]
    """Inputs listed after the job began and scored in it (``scoring/late_files.py``)."""


def run_scoring_job(
    *,
    store: ObjectStore,
    settings: Settings,
    layout: OutputLayout,
    deployment: BatchDeployment,
    model: ResolvedModel,
    inputs: Sequence[ObjectInfo],
    job_id: str,
    runtime: WorkerRuntime,
    progress: Callable[[JobProgress], None] | None = None,
    log: logging.Logger,
    promote: bool = True,
    reuse: ReuseMode | None = None,
    keep_versions: int | None = None,
    hosts: HostFactory | None = None,
    relist: Callable[[], Sequence[ObjectInfo]] | None = None,
    checks: PredictionChecks | None = None,
    compare: bool = False,
) -> JobResult:
    """Score ``inputs`` with ``runtime`` and write them as a new version in ``layout``.

    Failed items (bad files, failed or short mini-batches) count against ``error_threshold``; once it
    is exceeded the job stops and fails. Every store call outlasts short outages
    (``storage/retrying.py``); a store unreachable for longer fails the job, never its files
    (``job_records/failure_causes.py``). A version is written either way, for diagnosis; ``latest``
    moves only for a ``Completed`` job with ``promote``. ``reuse`` carries over an earlier version's
    rows for unchanged files (``scoring/reuse.py``); ``keep_versions`` prunes older versions after
    publishing. ``layout`` says whose outputs these are and where they go: a month of an endpoint
    (``<endpoint>/<month>/`` of the output bucket) or an invoked job's own folder
    (``OutputLayout.at``). ``hosts`` opens where the workers run (a Ray pool,
    ``batchpoint.ray_compute``); by default they are this process's children (``LocalHost``).
    ``relist`` lists the inputs' folder again: files new since ``inputs`` that it finds once the
    plan is scored join the job (``scoring/late_files.py``); ``JobResult.inputs`` has them all.
    ``checks`` (the endpoint's; the defaults when not given) are evaluated on a Completed job before
    it is published: a failed blocking one makes it ``Failed-check`` and keeps ``latest``.
    ``compare`` diffs the version against the month's ``latest`` (``outputs/challenger_report.py``).
    Raises ``ScoringError`` when there is nothing to score, ``StorageError`` when the version cannot
    be written.

    Two phases: ``score_job`` leaves a plain ``ScoredJob``, ``publish_job`` (``outputs/``) writes it.
    """
    if not inputs:
        raise ScoringError(f"no input files for {layout.endpoint} {layout.partition}: nothing to score")
    progress_store = store  # the progress overview is a courtesy: never worth waiting for the store
    store = with_retries(store, settings)
    started_at = datetime.now(UTC)
    job = JobIdentity(layout.endpoint, layout.partition, job_id, new_version_id(job_id, started_at), started_at, layout)
    work = settings.cache_dir / "jobs" / job.version_id
    try:
        scored = score_job(
            (store, progress_store),
            job,
            deployment,
            model,
            runtime,
            inputs,
            work,
            log,
            progress=progress,
            reuse=reuse,
            hosts=hosts,
            relist=relist,
        )
        published = publish_job(
            store,
            layout,
            scored,
            promote=promote,
            keep_versions=keep_versions,
            log=log,
            checks=checks if checks is not None else PredictionChecks(),
            compare=compare,
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return JobResult(
        status=published.status,
        job_id=job_id,
        version_id=job.version_id,
        output_uri=published.output_uri,
        manifest_uri=published.manifest_uri,
        latest_moved=published.latest_moved,
        files=scored.files,
        inputs=scored.inputs,
        rows=scored.rows,
        failed_items=scored.failed_items,
        mini_batches=scored.scored_mini_batches,
        seconds=published.seconds,
        worker_startup_seconds=scored.worker_startup_seconds,
        manifest=published.manifest,
        preview=scored.preview,
        error=published.error,
    )


@dataclass(frozen=True)
class JobIdentity:
    """Which job this is and where its version goes."""

    endpoint: str
    partition: str
    job_id: str
    version_id: str
    started_at: datetime
    layout: OutputLayout


def score_job(
    stores: tuple[ObjectStore, ObjectStore],
    job: JobIdentity,
    deployment: BatchDeployment,
    model: ResolvedModel,
    runtime: WorkerRuntime,
    inputs: Sequence[ObjectInfo],
    work: Path,
    log: logging.Logger,
    *,
    progress: Callable[[JobProgress], None] | None = None,
    reuse: ReuseMode | None = None,
    hosts: HostFactory | None = None,
    relist: Callable[[], Sequence[ObjectInfo]] | None = None,
) -> ScoredJob:
    """The scoring phase: plan, score in a pool into one merged output under ``work``, account for every input.

    ``stores``: the retrying store, and the plain one progress is uploaded to; ``hosts`` and
    ``relist`` as for ``run_scoring_job``. Leaves the outputs in ``work`` for publishing; the caller removes it.
    """
    store, layout, version_id, job_id = stores[0], job.layout, job.version_id, job.job_id
    store.ensure_bucket(layout.bucket)
    output_file = deployment.settings.output_file_name
    summary_only = deployment.settings.output_action is BatchDeploymentOutputAction.SUMMARY_ONLY
    index = ReuseIndex(reuse_key(deployment, model, runtime), segment_unit(deployment, runtime))
    reused = _reusable(store, layout, reuse, runtime, list(inputs), log, index, work)
    plan = plan_job([i for i in inputs if reused is None or i.key not in reused.files], *_plan_settings(deployment))
    lineage_name = lineage_file_name(output_file) if runtime.builtin else None
    log.info(
        f"job {job_id}: {plan.file_count} files to score in {plan.mini_batch_count} mini-batches"
        f"{f' ({len(reused.files)} reused from {reused.version_id})' if reused else ''}, "
        f"{min(deployment.workers, max(plan.mini_batch_count, 1))} workers running {runtime.entry} "
        f"({runtime.kind}), model {model.uri}, output {layout.uri(layout.version_prefix(version_id))}"
    )
    reused_rows = reused.rows if reused is not None else None
    leading = reused is not None and reused_rows is not None and rows_lead(set(reused.files), plan.files)
    with MergedOutput(
        work / "output" / output_file,
        lineage_path=work / "output" / lineage_name if lineage_name else None,
        constants=LineageConstants(model.name, model.version, deployment.name, job_id),
        deferred=reused_rows is not None and not leading,
    ) as out:
        if leading and reused_rows is not None:
            out.lead_with(assemble([reused_rows], file_order(inputs)))
        carried = copy_reused_segments(out, reused, pool_settings(deployment, runtime).result_format)
        choice = _HostChoice(hosts or local_host, job.endpoint, model)
        carried_keys = {(f.bucket, f.key) for f in inputs if reused is not None and f.key in reused.files}
        late = _Relisting(relist, carried_keys) if relist is not None else None
        scored = _score(
            stores, deployment, runtime, plan, out, work, log, (job_id, version_id), layout, progress, choice, late
        )
        inputs = [*inputs, *scored.late]
        out.finish_with(reused_rows, file_order(inputs))
    tracker, pool, plan = scored.tracker, scored.pool, scored.plan
    if index.unit is not None:
        index = dataclasses.replace(index, segments=(*carried, *scored_segments(tracker.ordered(), out.spans)))
    outcome = job_outcome(
        inputs=inputs,
        tracker=tracker,
        pool=pool,
        scoring_error=scored.error,
        reused=reused,
        threshold=deployment.settings.error_threshold,
        rows=out.rows,
        writes_rows=not summary_only,
        log=log,
    )
    if not tracker.progress_lines:
        tracker.report()  # no mini-batch finished: the overview still says where the job got to
    extra = _local_files(work / "bi_output") if summary_only else {}
    if out.has_lineage and lineage_name and out.lineage_path is not None:
        extra[lineage_name] = out.lineage_path
    full_plan = plan_job(inputs, *_plan_settings(deployment))
    return ScoredJob(
        job_id=job_id,
        endpoint=job.endpoint,
        partition=job.partition,
        version_id=version_id,
        started_at=job.started_at,
        deployment=deployment,
        model=ModelSection.from_dict(model.to_dict()),
        runtime=RuntimeSection.from_dict(runtime.to_dict()),
        plan=plan_section(full_plan),
        input_bytes=full_plan.total_bytes,
        scored_mini_batches=plan.mini_batch_count,
        files=outcome.files,
        inputs=tuple(inputs),
        failed_items=outcome.failed_items,
        error=outcome.error,
        mini_batches=tuple(r.summary() for r in tracker.ordered()),
        progress_text=tracker.progress_text(),
        rows=out.rows,
        columns=tuple(out.columns),
        output_format=out.format,
        predictions_path=out.path,
        worker_log_dir=pool.log_dir,
        worker_startup_seconds=scored.startup,
        scoring_seconds=scored.seconds,
        init_errors=tuple(
            (worker, f"{e.error}\n{e.traceback}") for worker, e in zip(pool.init_workers, pool.init_errors, strict=True)
        ),
        extra_files=extra,
        lineage_name=lineage_name,
        reused=ReuseSection.from_dict(reused.to_dict()) if reused else None,
        reuse_index=index,
        workers=scored.workers,
        preview=tuple(out.preview),
    )


def _score(
    stores: tuple[ObjectStore, ObjectStore],
    deployment: BatchDeployment,
    runtime: WorkerRuntime,
    plan: JobPlan,
    out: MergedOutput,
    work: Path,
    log: logging.Logger,
    ids: tuple[str, str],
    layout: OutputLayout,
    progress: Callable[[JobProgress], None] | None,
    hosts: _HostChoice,
    relisting: _Relisting | None,
) -> _Scored:
    """The scoring phase: the pool scores the plan's mini-batches into ``out``.

    ``stores``: the retrying store inputs are read from, and the plain one progress is uploaded to;
    ``ids`` the job's and its version's; ``relisting`` finds files that landed meanwhile, scored after the plan's.
    """
    store, progress_store = stores
    job_id, version_id = ids
    started = time.perf_counter()
    # The environment's lines come first: how the workers' Python was chosen, then their progress.
    tracker = JobTracker(
        job_id, plan, log, progress_store, layout, version_id, progress, progress_lines=list(runtime.environment_lines)
    )
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
    # Opening the host is start-up too: a new Ray pool starts its agents and prepares them here.
    opening = time.perf_counter() - started
    rules = pool_settings(deployment, runtime)
    # A warm pool's every slot starts, as Azure inits every process of every instance: those
    # beyond the job's mini-batches only warm the pool for the next run (not waited for), and
    # start once one of the job's own is ready, so their init()s do not slow the ones it waits
    # for. A job's own processes start only where there is a mini-batch for them.
    busy = max(plan.mini_batch_count, 1)
    workers = deployment.workers if host.workers_outlive_job else min(deployment.workers, busy)
    pool = ScriptPool(host, workers, rules, builtin=runtime.builtin, work_dir=work, log=log, first_wave=busy)
    late = None
    if relisting is not None:
        instances = deployment.resources.instance_count
        late = LateFiles(relisting.relist, plan, instances, relisting.skip, tracker.replan, log)
    try:
        error = score_in_order(pool, plan, out, tracker, deployment.settings.error_threshold, late)
    finally:
        host.close(work / "bi_output")
    # Worker start-up (until every worker is ready) is reported on its own, so rows/s is the rate
    # of warm workers; when fewer came up (init() failing), until the first was.
    startup = opening + (pool.all_ready_seconds or pool.first_ready_seconds or 0.0)
    placement = WorkersSection.from_dict(host.placement)
    workers_record = dataclasses.replace(
        placement, warm_workers=pool.warm_workers, started_workers=len(pool.init_seconds)
    )
    seconds = max(time.perf_counter() - started - startup, 0.0)
    final = (late.plan, tuple(late.taken)) if late is not None else (plan, ())
    return _Scored(pool, tracker, error, startup, seconds, workers_record, *final)


@dataclass(frozen=True)
class _Relisting:
    """How the job finds files that landed after it listed: ``relist``, less the inputs it carries over."""

    relist: Callable[[], Sequence[ObjectInfo]]
    skip: set[tuple[str, str]]


@dataclass(frozen=True)
class _HostChoice:
    """How the scoring phase opens its host, and what the host is told of the job."""

    factory: HostFactory
    endpoint: str
    model: ResolvedModel


def _plan_settings(deployment: BatchDeployment) -> tuple[int, int]:
    return deployment.settings.mini_batch_size, deployment.resources.instance_count


def plan_section(plan: JobPlan) -> PlanSection:
    """The manifest's ``plan``: the mini-batch size and each shard's mini-batches and files."""
    shards = tuple(ShardSection(s.index, len(s.mini_batches), s.file_count) for s in plan.shards)
    return PlanSection(plan.mini_batch_size, shards)


def _local_files(root: Path) -> dict[str, Path]:
    """Every file under ``root`` by its path relative to it, for upload."""
    return {p.relative_to(root).as_posix(): p for p in sorted(root.rglob("*")) if p.is_file()}


def _reusable(
    store: ObjectStore,
    layout: OutputLayout,
    reuse: ReuseMode | None,
    runtime: WorkerRuntime,
    inputs: list[ObjectInfo],
    log: logging.Logger,
    index: ReuseIndex,
    work: Path,
) -> Reused | None:
    if reuse is None:
        return None
    if runtime.builtin:
        return find_reusable(store, layout, reuse, inputs, log, index.key)
    if index.unit is None:
        log.info(f"{reuse}: a summary_only script's own files are not attributed to mini-batches; scoring every file")
        return None
    return find_reusable_segments(store, layout, reuse, inputs, log, key=index.key, unit=index.unit, work=work)


def rows_lead(reused_keys: set[str], planned: Sequence[ObjectInfo]) -> bool:
    """True when every reused file sorts before every file to score: the reused rows can then be
    written first and the new rows streamed after them, in the order a full run writes them,
    instead of holding the new rows back to sort them in at the end (a tenth of a second per
    200,000 rows). Files that land during the run follow, as in a run that reuses nothing."""
    return bool(reused_keys) and (not planned or max(reused_keys) < min(f.key for f in planned))
