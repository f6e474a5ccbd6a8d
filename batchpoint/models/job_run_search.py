"""Finding the MLflow runs of scoring jobs (written by ``outputs/mlflow_job_runs.log_job_run``) by model version."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from batchpoint.config import Settings
from batchpoint.errors import ModelError
from batchpoint.models import mlflow_edge
from batchpoint.models.mlflow_edge import EXPERIMENT_PREFIX, MLFLOW_FAILURES, MlflowClient, tag


@dataclass(frozen=True)
class JobRun:
    """One job's MLflow run, as ``runs_for_model_version`` finds it."""

    run_id: str
    experiment: str
    job_id: str
    endpoint: str
    deployment: str
    output_uri: str
    status: str


def runs_for_model_version(settings: Settings, name: str, version: str) -> list[JobRun]:
    """Every job run that scored with ``models:/<name>/<version>``, newest first."""
    # MLflow's own retries, unless this process bounded them already (see mlflow_edge.client).
    client = mlflow_edge.client(settings, bounded_retries=False)
    try:
        experiments = {
            e.experiment_id: e.name
            for e in client.search_experiments(filter_string=f"name LIKE '{EXPERIMENT_PREFIX}%'")
        }
        if not experiments:
            return []
        found = _all_runs(
            client,
            list(experiments),
            f"tags.`{tag('model_name')}` = '{name}' AND tags.`{tag('model_version')}` = '{version}'",
        )
        return [
            JobRun(
                run_id=r.info.run_id,
                experiment=experiments[r.info.experiment_id],
                job_id=r.data.tags.get(tag("job_id"), ""),
                endpoint=r.data.tags.get(tag("endpoint"), ""),
                deployment=r.data.tags.get(tag("deployment"), ""),
                output_uri=r.data.tags.get(tag("output_uri"), ""),
                status=r.info.status,
            )
            for r in found
        ]
    except MLFLOW_FAILURES as exc:
        raise ModelError(
            f"model {name}:{version}: searching its job runs at {settings.mlflow_uri} failed: {exc}"
        ) from exc


def _all_runs(client: MlflowClient, experiment_ids: list[str], filter_string: str) -> Iterator[Any]:
    token: str | None = None
    while True:
        page = client.search_runs(
            experiment_ids, filter_string, order_by=["attributes.start_time DESC"], page_token=token
        )
        yield from page
        token = page.token
        if not token:
            return
