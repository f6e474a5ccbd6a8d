"""The body of a predictions materialisation: resolve, list, score, report as metadata.

Every run is also a job (trigger ``data-arrival``, or ``backfill`` for a backfill's runs) on the
registry, so an endpoint's job list shows these runs beside the invoked ones. A run's tags
(``batchpoint/orchestration/run_tags.py``) pick the deployment, whether ``latest`` moves and what is re-scored.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import dagster as dg

from batchpoint.errors import ModelError
from batchpoint.models.mlflow_models import resolve_model
from batchpoint.models.resolved import ResolvedModel
from batchpoint.orchestration.run_tags import RunChoices, run_choices
from batchpoint.outputs.failed_version import FailedBeforeScoring
from batchpoint.outputs.layout import OutputLayout
from batchpoint.outputs.mlflow_job_runs import log_job_run
from batchpoint.scoring.environment_log import EnvironmentLog
from batchpoint.scoring.job import JobResult, run_scoring_job
from batchpoint.scoring.reuse import ReuseMode
from batchpoint.specs.deployment import BatchDeployment
from batchpoint.specs.endpoint import BatchEndpoint
from batchpoint.specs.job import InputType, JobInput, JobProgress, JobStatus, JobTrigger
from batchpoint.storage.port import ObjectInfo
from batchpoint.triggers.routing import partition_prefix
from dagster_project.asset_checks import check_metadata, check_results
from dagster_project.failed_runs import error_text, write_failure_logs
from dagster_project.invocation_progress import progress_recorder, result_progress
from dagster_project.naming import predictions_key
from dagster_project.platform_resource import Platform
from dagster_project.worker_runtime import worker_hosts, worker_runtime

PROGRESS_LOG_SECONDS = 1.0


def score_partition(
    context: dg.AssetExecutionContext, platform: Platform, endpoint_name: str, deployment_name: str | None
) -> dg.MaterializeResult[None]:
    """Score one month of an endpoint's landing folder into a new output version.

    ``deployment_name`` is the run config's (``ScoringConfig``); the run's tags may name one too.
    """
    registry = platform.registry
    partition = context.partition_key
    endpoint = registry.get_endpoint(endpoint_name)
    choices = run_choices(
        context.run.tags, configured_deployment=deployment_name, default_deployment=endpoint.defaults.deployment_name
    )
    deployment = (
        registry.get_deployment(endpoint_name, choices.deployment_name)
        if choices.deployment_name
        else registry.default_deployment(endpoint_name)
    )
    bucket, prefix = partition_prefix(endpoint, partition)
    job = platform.workspace.jobs.record_data_arrival_job(
        endpoint_name,
        deployment.name,
        partition=partition,
        inputs={"input": JobInput(type=InputType.URI_FOLDER, path=f"s3://{bucket}/{prefix}")},
        dagster_run_id=context.run_id,
        trigger=JobTrigger.BACKFILL if choices.backfill_id else JobTrigger.DATA_ARRIVAL,
    )
    reuse = reuse_mode(choices, endpoint)
    context.log.info(
        f"recorded as job {job.name}; deployment {deployment.name!r}, promote {choices.promote}, "
        f"reuse {reuse or 'none (every file scored)'}"
        + (f", backfill {choices.backfill_id}" if choices.backfill_id else "")
    )
    environment_log = EnvironmentLog(context.log)
    try:
        inputs, model, result = _score(
            context, platform, endpoint, deployment, partition, (bucket, prefix), job.name, choices, environment_log
        )
    except Exception as exc:
        error = error_text(exc)
        layout = OutputLayout(platform.settings.output_bucket, endpoint_name, partition)
        failed = FailedBeforeScoring(
            job.name,
            endpoint_name,
            partition,
            error,
            deployment,
            deployment.model.uri,
            environment_lines=tuple(environment_log.lines),
        )
        logs_uri = write_failure_logs(context, platform, layout, failed)
        platform.workspace.jobs.record_finished(job.name, status=JobStatus.FAILED, output_uri=logs_uri, error=error)
        raise
    metadata = {"job": dg.MetadataValue.text(job.name), **result_metadata(result)}
    metadata.update(
        record_mlflow_run(context, platform, endpoint_name, deployment.name, job.name, model, inputs, result)
    )
    platform.workspace.jobs.record_finished(
        job.name,
        status=result.status,
        output_uri=result.manifest_uri.rsplit("/", 1)[0] + "/",
        error=result.error,
        progress=result_progress(result),
    )
    if result.status not in (JobStatus.COMPLETED, JobStatus.FAILED_CHECK):
        raise dg.Failure(description=f"scoring {endpoint_name} {partition} failed: {result.error}", metadata=metadata)
    etags = "".join(sorted(f"{f.key}@{f.etag}" for f in inputs))
    # A Failed-check version is written: its materialisation is recorded, and its failed blocking
    # check (an ERROR) then fails the run in Dagster, as latest stayed where it was.
    return dg.MaterializeResult(
        metadata=metadata,
        data_version=dg.DataVersion(hashlib.sha256(f"{model.uri}|{etags}".encode()).hexdigest()[:16]),
        check_results=check_results(result.manifest.checks, predictions_key(endpoint_name)),
    )


def reuse_mode(choices: RunChoices, endpoint: BatchEndpoint) -> ReuseMode | None:
    """What an earlier version may lend this run: its good files' rows (failed-files or incremental), or nothing.

    A failed-only re-score reuses the newest version's good files; ``batchpoint/rescore: all`` and a
    backfill (asked for to re-score its months) reuse nothing; any other run (data arrival,
    reconciliation, a materialisation) scores only new or changed files unless the endpoint says
    ``outputs.incremental: false`` (docs/decisions/every-file-once.md).
    """
    if choices.rescore_failed_files:
        return "failed-files"
    if choices.rescore_all or choices.backfill_id:
        return None
    return "incremental" if endpoint.outputs.incremental else None


def _score(
    context: dg.AssetExecutionContext,
    platform: Platform,
    endpoint: BatchEndpoint,
    deployment: BatchDeployment,
    partition: str,
    folder: tuple[str, str],
    job_name: str,
    choices: RunChoices,
    environment_log: EnvironmentLog,
) -> tuple[list[ObjectInfo], ResolvedModel, JobResult]:
    bucket, prefix = folder
    hosts = worker_hosts(platform, deployment)  # first: a Ray pool's cluster is joined meanwhile

    def listed() -> list[ObjectInfo]:
        return [obj for obj in platform.store.list(bucket, prefix) if not obj.key.endswith("/")]

    inputs = listed()
    if not inputs:
        raise dg.Failure(description=f"no files under s3://{bucket}/{prefix}: nothing to score for {partition}")
    model = resolve_model(deployment.model, platform.settings)
    context.log.info(
        f"scoring {len(inputs)} files of s3://{bucket}/{prefix} with deployment {deployment.name!r} "
        f"(model {model.uri}, {deployment.resources.instance_count} instances x "
        f"{deployment.settings.max_concurrency_per_instance} processes, "
        f"mini_batch_size {deployment.settings.mini_batch_size})"
    )
    runtime = worker_runtime(platform, deployment, model, environment_log)
    context.log.info(f"worker runtime: {runtime.to_dict()}")
    result = run_scoring_job(
        store=platform.store,
        settings=platform.settings,
        layout=OutputLayout(platform.settings.output_bucket, endpoint.name, partition),
        deployment=deployment,
        model=model,
        inputs=inputs,
        job_id=context.run_id,
        runtime=runtime,
        progress=log_and_record_progress(context, platform, job_name),
        log=context.log,
        hosts=hosts,
        promote=choices.promote,
        reuse=reuse_mode(choices, endpoint),
        keep_versions=endpoint.outputs.keep_versions,
        relist=listed,  # files landing while the run scores join it (scoring/late_files.py)
        checks=endpoint.checks,
        compare=choices.compare,
    )
    return list(result.inputs), model, result


def record_mlflow_run(
    context: dg.AssetExecutionContext | dg.OpExecutionContext,
    platform: Platform,
    endpoint_name: str,
    deployment_name: str,
    job_name: str,
    model: ResolvedModel,
    inputs: list[ObjectInfo],
    result: JobResult,
    *,
    partition: str | None = None,
) -> dict[str, dg.MetadataValue]:
    """Log the job as an MLflow run linked to its model version; a failure to log is only a warning.

    ``partition`` defaults to the run's partition key (the new-endpoint invocation job has none).
    """
    try:
        run_id = log_job_run(
            platform.settings,
            endpoint=endpoint_name,
            deployment=deployment_name,
            job_id=job_name,
            model=model,
            inputs=inputs,
            manifest=result.manifest,
            output_uri=result.output_uri,
            extra_tags={
                "batchpoint.dagster_run_id": context.run_id,
                "batchpoint.partition": partition or context.partition_key,
            },
        )
    except ModelError as exc:
        context.log.warning(f"scored, but the MLflow run was not recorded: {exc}")
        return {}
    return {"mlflow_run_id": dg.MetadataValue.text(run_id)}


def log_and_record_progress(
    context: dg.AssetExecutionContext | dg.OpExecutionContext, platform: Platform, job_name: str
) -> Callable[[JobProgress], None]:
    """Log the progress in the run's log at most once a second, and when every mini-batch is done;
    record it on the job row now and then. (Each line is a Dagster event: ~13 ms of sqlite writes in
    the thread that feeds the workers, 6 s for 500 mini-batches; every line is in the version's
    ``job_progress_overview.txt``.)"""
    record = progress_recorder(lambda p: platform.workspace.jobs.record_progress(job_name, p))
    log = progress_recorder(lambda p: context.log.info(f"progress: {p}"), PROGRESS_LOG_SECONDS)

    def report(progress: JobProgress) -> None:
        log(progress)
        record(progress)

    return report


def result_metadata(result: JobResult) -> dict[str, dg.MetadataValue]:
    """The facts of a scoring job as Dagster metadata (shown in the asset's UI)."""
    manifest = result.manifest
    model, deployment, totals = manifest.model, manifest.deployment, manifest.totals
    return {
        "model_uri": dg.MetadataValue.text(str(model.uri if model else None)),
        "model_version": dg.MetadataValue.text(str(model.version if model else None)),
        "deployment": dg.MetadataValue.text(str(deployment.name if deployment else None)),
        "output_uri": dg.MetadataValue.url(result.output_uri),
        "output_version": dg.MetadataValue.text(result.version_id),
        "latest_moved": dg.MetadataValue.bool(result.latest_moved),
        "promoted": dg.MetadataValue.bool(manifest.promoted),
        "rows": dg.MetadataValue.int(totals.rows or 0),
        "files": dg.MetadataValue.int(totals.files or 0),
        "failed_files": dg.MetadataValue.int(totals.failed_files or 0),
        "failed_items": dg.MetadataValue.int(totals.failed_items or 0),
        "reused_files": dg.MetadataValue.int(manifest.reused.files if manifest.reused else 0),
        "input_files": dg.MetadataValue.json({"files": [f.to_dict() for f in manifest.inputs]}),
        "duration_seconds": dg.MetadataValue.float(float(manifest.timings.seconds or 0.0)),
        "preview": dg.MetadataValue.md(result.preview_markdown()),
        **check_metadata(manifest.checks),
        **({"lineage_uri": dg.MetadataValue.url(manifest.lineage_uri)} if manifest.lineage_uri else {}),
    }
