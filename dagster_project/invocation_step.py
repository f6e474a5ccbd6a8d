"""The body of an invoked job's run: list its inputs, apply its overrides, score, record on the job row."""

from __future__ import annotations

import dagster as dg

from batchpoint.errors import NotFoundError, ScoringError
from batchpoint.models.mlflow_models import resolve_model
from batchpoint.models.resolved import ResolvedModel
from batchpoint.outputs.failed_version import FailedBeforeScoring
from batchpoint.outputs.layout import OutputLayout
from batchpoint.scoring.environment_log import EnvironmentLog
from batchpoint.scoring.job import JobResult, run_scoring_job
from batchpoint.specs.deployment import BatchDeployment
from batchpoint.specs.job import InputType, InvocationMessage, JobStatus
from batchpoint.specs.s3_uri import split_s3_uri
from batchpoint.storage.port import ObjectInfo, ObjectStore
from dagster_project.failed_runs import error_text, write_failure_logs
from dagster_project.invocation_progress import result_progress
from dagster_project.platform_resource import Platform
from dagster_project.scoring_step import log_and_record_progress, record_mlflow_run, result_metadata
from dagster_project.worker_runtime import worker_hosts, worker_runtime


def list_invocation_inputs(store: ObjectStore, message: InvocationMessage) -> list[ObjectInfo]:
    """The files of every input, in input order: a ``uri_folder`` is every object under it, a
    ``uri_file`` the one object. A file named by two inputs is scored once. Raises ``ScoringError``
    naming the input that holds nothing to score."""
    files: dict[tuple[str, str], ObjectInfo] = {}
    for name, given in message.inputs.items():
        bucket, key = split_s3_uri(given.path)
        found: list[ObjectInfo]
        if given.type is InputType.URI_FILE:
            try:
                found = [store.head(bucket, key)]
            except NotFoundError as exc:
                raise ScoringError(f"input {name!r}: {given.path} does not exist") from exc
        elif given.type is InputType.URI_FOLDER:
            prefix = key if not key or key.endswith("/") else key + "/"
            try:
                found = [o for o in store.list(bucket, prefix) if not o.key.endswith("/")]
            except NotFoundError:  # no such bucket
                found = []
            if not found:
                raise ScoringError(f"input {name!r}: no files under s3://{bucket}/{prefix}: nothing to score")
        else:
            raise ScoringError(f"input {name!r} has type {given.type.value}; a batch job scores uri_folder or uri_file")
        for info in found:
            files.setdefault((info.bucket, info.key), info)
    return list(files.values())


def score_invocation(
    context: dg.AssetExecutionContext | dg.OpExecutionContext, platform: Platform, message: InvocationMessage
) -> dg.MaterializeResult[None]:
    """Score one invoked job into its output folder, keeping its job row up to date."""
    jobs = platform.workspace.jobs
    name = message.job_name
    if jobs.get(name).status is JobStatus.CANCELED:
        context.log.info(f"job {name} was canceled before its run started; nothing to score")
        return dg.MaterializeResult(metadata={"job": dg.MetadataValue.text(name), "status": "Canceled"})
    jobs.record_started(name, dagster_run_id=context.run_id)
    environment_log = EnvironmentLog(context.log)
    try:
        inputs, model, deployment_name, result = _score(context, platform, message, environment_log)
    except Exception as exc:
        # A BatchpointError or dg.Failure says what the user must fix; anything else is a bug. Either
        # way the job row says it failed, and why, and its logs are written for `job download`.
        error = error_text(exc)
        layout = OutputLayout.at(message.output_path, message.endpoint_name, name)
        deployment = _deployment_or_none(platform, message)
        model_uri = deployment.model.uri if deployment is not None else None
        failed = FailedBeforeScoring(
            name,
            message.endpoint_name,
            name,
            error,
            deployment,
            model_uri,
            environment_lines=tuple(environment_log.lines),
        )
        write_failure_logs(context, platform, layout, failed)
        jobs.record_finished(name, status=JobStatus.FAILED, error=error)
        raise
    metadata = {"job": dg.MetadataValue.text(name), **result_metadata(result)}
    metadata.update(
        record_mlflow_run(
            context, platform, message.endpoint_name, deployment_name, name, model, inputs, result, partition=name
        )
    )
    status = result.status
    jobs.record_finished(name, status=status, error=result.error, progress=result_progress(result))
    if status in (JobStatus.FAILED, JobStatus.FAILED_CHECK):
        raise dg.Failure(description=f"job {name} {status}: {result.error}", metadata=metadata)
    return dg.MaterializeResult(metadata=metadata)


def _deployment_or_none(platform: Platform, message: InvocationMessage) -> BatchDeployment | None:
    """The job's deployment with its overrides, for the failure's logs; ``None`` if that is what failed."""
    try:
        return message.overrides.apply(platform.registry.get_deployment(message.endpoint_name, message.deployment_name))
    except Exception:  # on the failure path: the run's own error must surface, not this one
        return None


def _score(
    context: dg.AssetExecutionContext | dg.OpExecutionContext,
    platform: Platform,
    message: InvocationMessage,
    environment_log: EnvironmentLog,
) -> tuple[list[ObjectInfo], ResolvedModel, str, JobResult]:
    name, endpoint = message.job_name, message.endpoint_name
    deployment = message.overrides.apply(platform.registry.get_deployment(endpoint, message.deployment_name))
    hosts = worker_hosts(platform, deployment)  # first: a Ray pool's cluster is joined meanwhile
    inputs = list_invocation_inputs(platform.store, message)
    model = resolve_model(deployment.model, platform.settings)
    overrides = message.overrides.model_dump(exclude_none=True)
    sources = ", ".join(i.path for i in message.inputs.values())
    context.log.info(
        f"job {name}: scoring {len(inputs)} files of {sources} with deployment "
        f"{deployment.name!r} (model {model.uri}, mini_batch_size {deployment.settings.mini_batch_size}"
        f"{', overrides ' + str(overrides) if overrides else ''}) into {message.output_path}"
    )
    runtime = worker_runtime(platform, deployment, model, environment_log)
    context.log.info(f"worker runtime: {runtime.to_dict()}")
    result = run_scoring_job(
        store=platform.store,
        settings=platform.settings,
        layout=OutputLayout.at(message.output_path, endpoint, name),
        deployment=deployment,
        model=model,
        inputs=inputs,
        job_id=name,
        runtime=runtime,
        progress=log_and_record_progress(context, platform, name),
        log=context.log,
        hosts=hosts,
        checks=platform.registry.get_endpoint(endpoint).checks,
    )
    return inputs, model, deployment.name, result
