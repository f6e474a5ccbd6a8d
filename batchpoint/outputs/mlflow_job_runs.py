"""Adapter: one MLflow run per scoring job, so a model version's use can be traced in MLflow.

A run in experiment ``batchpoint-jobs/<endpoint>``, named after the job, holds:

- tags ``batchpoint.{endpoint,deployment,job_id,model_name,model_version,model_uri,output_uri}``;
- params: the deployment as it was used (``manifest.deployment``, nested keys joined by dots);
- metrics ``rows``, ``failed_items``, ``failed_files``, ``files``, ``seconds``;
- the input files as a dataset (context ``scoring``): source the folder holding them, digest
  ``files_digest`` of their (key, ETag) pairs (for a landing month this is its Dagster data
  version), files and bytes as its profile; no data is read;
- ``manifest.json`` as an artifact; start and end times from the manifest's timings.

Linking the model version: MLflow 3's model version page links only its source run and source
logged model. When a version was registered from a logged model (``model_id``), the run takes that
model as an input and its metrics are linked to it, so the logged model's page lists each job run
with its metrics and dataset. For every version, its tag ``batchpoint.last_job_run`` names the
newest job run, and ``job_run_search.runs_for_model_version`` finds them all.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import posixpath
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from batchpoint.config import Settings
from batchpoint.errors import ModelError
from batchpoint.models import mlflow_edge
from batchpoint.models.mlflow_edge import (
    EXPERIMENT_PREFIX,
    LAST_JOB_RUN_TAG,
    MLFLOW_DATASET_CONTEXT,
    MLFLOW_FAILURES,
    Dataset,
    DatasetInput,
    InputTag,
    LoggedModelInput,
    Metric,
    MlflowClient,
    MlflowException,
    ModelVersion,
    Param,
    RunStatus,
)
from batchpoint.models.resolved import ResolvedModel
from batchpoint.outputs.manifest import Manifest
from batchpoint.outputs.manifest_figures import TotalsSection
from batchpoint.storage.port import ObjectInfo

# The two names live in mlflow_edge with batchpoint's other MLflow names; exported here too.
__all__ = ["EXPERIMENT_PREFIX", "LAST_JOB_RUN_TAG", "files_digest", "log_job_run"]

# A manifest value MLflow refuses (a bad timestamp, say) fails the recording as MLflow's own errors do.
_RECORDING_FAILURES: tuple[type[Exception], ...] = (*MLFLOW_FAILURES, ValueError)


def files_digest(files: Iterable[ObjectInfo]) -> str:
    """A digest of the files' (key, ETag) pairs, in any order; folder markers are not files."""
    pairs = sorted(f"{f.key}\t{f.etag}" for f in files if not f.key.endswith("/"))
    return hashlib.sha256("\n".join(pairs).encode()).hexdigest()[:16]


def log_job_run(
    settings: Settings,
    *,
    endpoint: str,
    deployment: str,
    job_id: str,
    model: ResolvedModel,
    inputs: Sequence[ObjectInfo],
    manifest: Manifest,
    output_uri: str,
    extra_tags: Mapping[str, str] | None = None,
) -> str:
    """Record one scoring job as an MLflow run (see the module docstring); returns the run id.

    ``extra_tags`` are added as they are (e.g. ``{"batchpoint.dagster_run_id": ...}``).

    Raises ``ModelError`` when MLflow cannot record it (the job's outputs stand regardless).
    """
    client = mlflow_edge.client(settings)
    experiment = f"{EXPERIMENT_PREFIX}{endpoint}"
    tags = {
        "endpoint": endpoint,
        "deployment": deployment,
        "job_id": job_id,
        "model_name": model.name,
        "model_version": model.version,
        "model_uri": model.uri,
        "output_uri": output_uri,
    }
    timings = manifest.timings
    run_id = ""
    try:
        with mlflow_edge.artifact_environment(settings):
            model_id = _logged_model_id(client.get_model_version(model.name, model.version))
            run = client.create_run(
                _experiment_id(client, experiment),
                start_time=_millis(timings.started_at),
                tags={mlflow_edge.tag(k): v for k, v in tags.items()}
                | {"mlflow.note.content": _note(tags)}
                | dict(extra_tags or {}),
                run_name=job_id,
            )
            run_id = str(run.info.run_id)
            dataset = _dataset(inputs)
            client.log_inputs(
                run_id,
                datasets=[DatasetInput(dataset, [InputTag(MLFLOW_DATASET_CONTEXT, "scoring")])],
                models=[LoggedModelInput(model_id)] if model_id else None,
            )
            client.log_batch(
                run_id,
                metrics=list(_metrics(manifest, model_id, dataset)),
                params=[Param(k, v) for k, v in _params(manifest.deployment.to_dict() if manifest.deployment else {})],
            )
            client.log_text(run_id, json.dumps(manifest.to_dict(), indent=2), "manifest.json")
            client.set_model_version_tag(model.name, model.version, LAST_JOB_RUN_TAG, f"{experiment} {job_id} {run_id}")
            status = "FINISHED" if manifest.status == "Completed" else "FAILED"
            client.set_terminated(run_id, status=status, end_time=_millis(timings.finished_at))
    except _RECORDING_FAILURES as exc:
        _fail_quietly(client, run_id)
        raise ModelError(
            f"job {job_id} of endpoint {endpoint!r}: recording its MLflow run in {experiment!r} at "
            f"{settings.mlflow_uri} failed: {type(exc).__name__}: {exc}"
        ) from exc
    return run_id


def _logged_model_id(version: ModelVersion) -> str | None:
    """The MLflow 3 logged model a version was registered from, if any."""
    # The registry leaves ``model_id`` empty in some stores; the source ``models:/<id>`` names it.
    source = str(version.source or "")
    named = source.removeprefix("models:/")
    return version.model_id or (named if named != source and "/" not in named else None)


def _experiment_id(client: MlflowClient, name: str) -> str:
    found = client.get_experiment_by_name(name)
    if found is not None:
        return str(found.experiment_id)
    try:
        return str(client.create_experiment(name))
    except MlflowException:
        # Another job of the endpoint created it first.
        again = client.get_experiment_by_name(name)
        if again is None:
            raise
        return str(again.experiment_id)


def _dataset(inputs: Sequence[ObjectInfo]) -> Dataset:
    """The input files as an MLflow dataset entity (metadata only: the files are not read)."""
    uri = _folder_uri(inputs)
    name = uri.removeprefix("s3://").rstrip("/")
    profile = {"files": len(inputs), "bytes": sum(f.size for f in inputs)}
    return mlflow_edge.s3_dataset(uri, name, files_digest(inputs), profile)


def _folder_uri(inputs: Sequence[ObjectInfo]) -> str:
    """``s3://bucket/folder/`` holding every input (their longest common folder)."""
    buckets = {f.bucket for f in inputs}
    if len(buckets) != 1:
        return "s3://"
    common = posixpath.commonpath([posixpath.dirname(f.key) for f in inputs])
    return f"s3://{buckets.pop()}/{common}/" if common else f"s3://{buckets.pop()}/"


def _metrics(manifest: Manifest, model_id: str | None, dataset: Dataset) -> Iterator[Metric]:
    now = int(time.time() * 1000)
    # Linked to the logged model and dataset, the metrics put this run on the logged model's page.
    link: dict[str, Any] = (
        {"model_id": model_id, "dataset_name": dataset.name, "dataset_digest": dataset.digest} if model_id else {}
    )
    for name, value in _totals(manifest.totals).items():
        if value is not None:
            yield Metric(name, float(value), now, 0, **link)
    seconds = manifest.timings.seconds
    if seconds is not None:
        yield Metric("seconds", float(seconds), now, 0, **link)


def _totals(totals: TotalsSection) -> dict[str, int | None]:
    """The totals logged as metrics, by metric name."""
    return {
        "rows": totals.rows,
        "failed_items": totals.failed_items,
        "failed_files": totals.failed_files,
        "files": totals.files,
    }


def _params(facts: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    for key, value in facts.items():
        if isinstance(value, Mapping):
            yield from _params(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value if isinstance(value, str) else json.dumps(value)


def _note(tags: Mapping[str, str]) -> str:
    return (
        f"Batch job `{tags['job_id']}` of endpoint `{tags['endpoint']}`, deployment `{tags['deployment']}`, "
        f"scored with `{tags['model_uri']}`. Output: {tags['output_uri']}"
    )


def _millis(iso: object) -> int | None:
    return int(datetime.fromisoformat(iso).timestamp() * 1000) if isinstance(iso, str) else None


def _fail_quietly(client: MlflowClient, run_id: str) -> None:
    """Mark a half-recorded run FAILED, if it was created; a second failure adds nothing to the first."""
    if run_id:
        with contextlib.suppress(*MLFLOW_FAILURES):
            client.set_terminated(run_id, status=RunStatus.to_string(RunStatus.FAILED))
