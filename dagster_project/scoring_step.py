"""The body of a predictions materialisation: resolve, list, score, report as metadata."""

from __future__ import annotations

import hashlib

import dagster as dg

from batchpoint.models.mlflow_models import resolve_model
from batchpoint.routing import partition_prefix
from batchpoint.scoring.job import JobResult, run_scoring_job
from dagster_project.platform_resource import Platform


def score_partition(
    context: dg.AssetExecutionContext, platform: Platform, endpoint_name: str, deployment_name: str | None
) -> dg.MaterializeResult[None]:
    """Score one month of an endpoint's landing folder into a new output version."""
    registry = platform.registry
    partition = context.partition_key
    endpoint = registry.get_endpoint(endpoint_name)
    deployment = (
        registry.get_deployment(endpoint_name, deployment_name)
        if deployment_name
        else registry.default_deployment(endpoint_name)
    )
    bucket, prefix = partition_prefix(endpoint, partition)
    inputs = [obj for obj in platform.store.list(bucket, prefix) if not obj.key.endswith("/")]
    if not inputs:
        raise dg.Failure(description=f"no files under s3://{bucket}/{prefix}: nothing to score for {partition}")
    model = resolve_model(deployment.model, platform.settings)
    context.log.info(
        f"scoring {len(inputs)} files of s3://{bucket}/{prefix} with deployment {deployment.name!r} "
        f"(model {model.uri}, {deployment.resources.instance_count} instances x "
        f"{deployment.settings.max_concurrency_per_instance} processes, "
        f"mini_batch_size {deployment.settings.mini_batch_size})"
    )
    result = run_scoring_job(
        store=platform.store,
        settings=platform.settings,
        endpoint_name=endpoint_name,
        deployment=deployment,
        model=model,
        inputs=inputs,
        partition=partition,
        job_id=context.run_id,
        progress=lambda p: context.log.info(f"progress: {p}"),
        log=context.log,
    )
    metadata = result_metadata(result)
    if result.status != "Completed":
        raise dg.Failure(description=f"scoring {endpoint_name} {partition} failed: {result.error}", metadata=metadata)
    etags = "".join(sorted(f"{f.key}@{f.etag}" for f in inputs))
    return dg.MaterializeResult(
        metadata=metadata,
        data_version=dg.DataVersion(hashlib.sha256(f"{model.uri}|{etags}".encode()).hexdigest()[:16]),
    )


def result_metadata(result: JobResult) -> dict[str, dg.MetadataValue]:
    """The facts of a scoring job as Dagster metadata (shown in the asset's UI)."""
    manifest = result.manifest
    return {
        "model_uri": dg.MetadataValue.text(str(manifest["model"]["uri"])),
        "model_version": dg.MetadataValue.text(str(manifest["model"]["version"])),
        "deployment": dg.MetadataValue.text(str(manifest["deployment"]["name"])),
        "output_uri": dg.MetadataValue.url(result.output_uri),
        "output_version": dg.MetadataValue.text(result.version_id),
        "latest_moved": dg.MetadataValue.bool(result.latest_moved),
        "rows": dg.MetadataValue.int(int(manifest["totals"]["rows"])),
        "files": dg.MetadataValue.int(int(manifest["totals"]["files"])),
        "failed_files": dg.MetadataValue.int(int(manifest["totals"]["failed_files"])),
        "input_files": dg.MetadataValue.json({"files": manifest["inputs"]}),
        "duration_seconds": dg.MetadataValue.float(float(manifest["timings"]["seconds"])),
        "preview": dg.MetadataValue.md(result.preview_markdown()),
    }
