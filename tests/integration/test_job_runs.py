"""One MLflow run per scoring job: tags, params, metrics, the input dataset, the manifest, the model link.

A sqlite MLflow (no server) with artifacts on local disk, as in ``test_model_resolution``.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from batchpoint.config import Settings
from batchpoint.errors import ModelError
from batchpoint.models.job_run_search import runs_for_model_version
from batchpoint.models.model_registry import ModelRegistry
from batchpoint.models.resolved import ResolvedModel
from batchpoint.outputs.manifest import Manifest
from batchpoint.outputs.mlflow_job_runs import LAST_JOB_RUN_TAG, files_digest, log_job_run
from batchpoint.specs.model_asset import ModelSpec, ModelType
from batchpoint.storage.port import ObjectInfo

pytestmark = [
    pytest.mark.integration,
    pytest.mark.timeout(120),
    # MLflow's SQL tracking store still declares a `noload` relationship, which SQLAlchemy 2.1
    # deprecates when MLflow imports the store; nothing batchpoint can change.
    pytest.mark.filterwarnings(
        "ignore:The ``noload`` loader strategy is deprecated:sqlalchemy.exc.SADeprecationWarning"
    ),
]

INPUTS = [
    ObjectInfo("landing", "sales/2026-03/part-000.csv", "e0", 120),
    ObjectInfo("landing", "sales/2026-03/part-001.csv", "e1", 80),
]
OUTPUT = "s3://batchpoint/sales/2026-03/versions/v1/predictions.csv"


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """A sqlite MLflow under ``tmp_path``; new experiments put their artifacts there too."""
    # MLflow roots the artifacts of experiments it creates in ./mlruns of the working directory.
    monkeypatch.chdir(tmp_path)
    yield dataclasses.replace(Settings(), data_dir=tmp_path / "data", mlflow_tracking_uri=f"sqlite:///{tmp_path}/m.db")


def register(settings: Settings, tmp_path: Path, name: str) -> ResolvedModel:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "weights.bin").write_bytes(b"1234")
    version = ModelRegistry(settings).create(ModelSpec(name=name, type=ModelType.CUSTOM_MODEL), folder)
    return model_of(name, version.version, tmp_path)


def model_of(name: str, version: str, tmp_path: Path) -> ResolvedModel:
    return ResolvedModel(name, version, f"models:/{name}/{version}", None, None, tmp_path / "cache" / name / "model")


def manifest(status: str = "Completed", minute: int = 0) -> dict[str, Any]:
    return {
        "job_id": "job-1",
        "status": status,
        "deployment": {
            "name": "main",
            "model": "models:/churn/1",
            "instance_count": 2,
            "settings": {"mini_batch_size": 5, "retry_settings": {"max_retries": 3}, "environment_variables": []},
        },
        "totals": {"files": 2, "failed_files": 1, "failed_items": 1, "rows": 17},
        "timings": {
            "started_at": f"2026-03-31T10:{minute:02d}:00+00:00",
            "finished_at": f"2026-03-31T10:{minute:02d}:09+00:00",
            "seconds": 9,
        },
    }


def log(settings: Settings, model: ResolvedModel, job_id: str, status: str = "Completed", minute: int = 0) -> str:
    return log_job_run(
        settings,
        endpoint="sales",
        deployment="main",
        job_id=job_id,
        model=model,
        inputs=INPUTS,
        manifest=Manifest.from_dict(manifest(status, minute)),
        output_uri=OUTPUT,
        extra_tags={"batchpoint.dagster_run_id": f"run-of-{job_id}"},
    )


def test_a_job_run_records_the_model_inputs_outputs_and_manifest(settings: Settings, tmp_path: Path) -> None:
    from mlflow.artifacts import load_text
    from mlflow.tracking import MlflowClient

    model = register(settings, tmp_path, "churn")
    run_id = log(settings, model, "job-1")

    client = MlflowClient(tracking_uri=settings.mlflow_uri, registry_uri=settings.mlflow_uri)
    run = client.get_run(run_id)
    assert client.get_experiment(run.info.experiment_id).name == "batchpoint-jobs/sales"
    assert (run.info.run_name, run.info.status) == ("job-1", "FINISHED")
    assert run.info.end_time - run.info.start_time == 9000, "the run spans the job's own timings"
    tags = run.data.tags
    assert {k: v for k, v in tags.items() if k.startswith("batchpoint.")} == {
        "batchpoint.endpoint": "sales",
        "batchpoint.deployment": "main",
        "batchpoint.job_id": "job-1",
        "batchpoint.model_name": "churn",
        "batchpoint.model_version": "1",
        "batchpoint.model_uri": "models:/churn/1",
        "batchpoint.output_uri": OUTPUT,
        "batchpoint.dagster_run_id": "run-of-job-1",
    }
    assert OUTPUT in tags["mlflow.note.content"]
    assert run.data.params["settings.mini_batch_size"] == "5"
    assert run.data.params["settings.retry_settings.max_retries"] == "3"
    assert (run.data.params["name"], run.data.params["instance_count"]) == ("main", "2")
    assert run.data.metrics == {"rows": 17, "failed_items": 1, "failed_files": 1, "files": 2, "seconds": 9}

    (dataset_input,) = run.inputs.dataset_inputs
    dataset = dataset_input.dataset
    assert (dataset.name, dataset.source_type) == ("landing/sales/2026-03", "s3")
    assert json.loads(dataset.source) == {"uri": "s3://landing/sales/2026-03/"}
    assert dataset.digest == files_digest(INPUTS) == files_digest(reversed(INPUTS))
    assert json.loads(dataset.profile) == {"files": 2, "bytes": 200}
    assert [(t.key, t.value) for t in dataset_input.tags] == [("mlflow.data.context", "scoring")]
    assert run.inputs.model_inputs == [], "a folder-registered version has no logged model to link"

    logged = json.loads(load_text(f"{run.info.artifact_uri}/manifest.json"))
    assert logged == Manifest.from_dict(manifest()).to_dict()
    version = client.get_model_version("churn", "1")
    assert version.tags[LAST_JOB_RUN_TAG] == f"batchpoint-jobs/sales job-1 {run_id}"


def test_runs_are_found_by_model_version_newest_first(settings: Settings, tmp_path: Path) -> None:
    model = register(settings, tmp_path, "churn")
    other = register(settings, tmp_path, "other")
    # A run starts when its job started (the manifest's time): newest first means the later job.
    first = log(settings, model, "job-1", minute=0)
    second = log(settings, model, "job-2", status="Failed", minute=5)
    log(settings, other, "job-3")

    found = runs_for_model_version(settings, "churn", "1")
    assert [(r.run_id, r.job_id, r.status) for r in found] == [
        (second, "job-2", "FAILED"),
        (first, "job-1", "FINISHED"),
    ]
    assert {(r.experiment, r.endpoint, r.deployment, r.output_uri) for r in found} == {
        ("batchpoint-jobs/sales", "sales", "main", OUTPUT)
    }
    assert runs_for_model_version(settings, "churn", "2") == []


# Importing mlflow.sklearn (log_model does) builds schemas of MLflow's own agent types and warns
# about their `Any` fields; MLflow's own deprecation notices while logging. Neither is about us.
@pytest.mark.filterwarnings("ignore:.*Any type hint is inferred as AnyType:UserWarning")
@pytest.mark.filterwarnings("ignore::DeprecationWarning:mlflow.*")
@pytest.mark.filterwarnings("ignore::FutureWarning:mlflow.*")
def test_a_version_from_a_logged_model_gets_the_run_as_its_user(settings: Settings, tmp_path: Path) -> None:
    import mlflow
    from mlflow.tracking import MlflowClient
    from sklearn.linear_model import LinearRegression

    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(settings.mlflow_uri)
    try:
        # An experiment of this server: the active one is process-wide, and a test before this
        # one may have left another server's experiment active (it failed once so: "No Experiment
        # with id=7 exists").
        mlflow.set_experiment("logged-model-user")
        info = mlflow.sklearn.log_model(
            LinearRegression().fit([[1.0], [2.0]], [1.0, 2.0]), name="regressor", registered_model_name="logged"
        )
    finally:
        mlflow.set_tracking_uri(previous)

    run_id = log(settings, model_of("logged", "1", tmp_path), "job-1")

    client = MlflowClient(tracking_uri=settings.mlflow_uri, registry_uri=settings.mlflow_uri)
    assert [m.model_id for m in client.get_run(run_id).inputs.model_inputs] == [info.model_id]
    linked = {(m.key, m.run_id, m.dataset_digest) for m in client.get_logged_model(info.model_id).metrics or []}
    assert ("rows", run_id, files_digest(INPUTS)) in linked, "the logged model's page lists the job run"


def test_a_failure_to_record_is_a_model_error_naming_the_job(settings: Settings, tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"job job-9 of endpoint 'sales': recording its MLflow run"):
        log(settings, model_of("never-registered", "1", tmp_path), "job-9")
