"""Resolving registered versions into the cache, laid out as Azure's AZUREML_MODEL_DIR.

``model_dir/<subfolder>/`` holds the files: ``glob(model_dir + "/*/")`` finds exactly the model folder,
for MLflow models (``MLmodel`` inside it) and custom models (any files) alike. A sqlite MLflow registry
(no server) with artifacts on local disk, and once with artifacts in the stack's S3.
"""

from __future__ import annotations

import dataclasses
import glob
from pathlib import Path

import pytest

from batchpoint.config import Settings
from batchpoint.errors import ModelError
from batchpoint.models.mlflow_models import resolve_model
from batchpoint.models.model_registry import EXPERIMENT, TYPE_TAG, ModelRegistry
from batchpoint.specs.model_asset import ModelSpec, ModelType
from batchpoint.specs.model_ref import parse_model_ref
from batchpoint.storage.s3 import S3Store

pytestmark = [
    pytest.mark.integration,
    # MLflow's SQL tracking store still declares a `noload` relationship, which SQLAlchemy 2.1
    # deprecates when MLflow imports the store; nothing batchpoint can change.
    pytest.mark.filterwarnings(
        "ignore:The ``noload`` loader strategy is deprecated:sqlalchemy.exc.SADeprecationWarning"
    ),
]

MLMODEL = """\
artifact_path: model
flavors:
  python_function:
    loader_module: mlflow.sklearn
signature:
  inputs: '[{"type": "double", "name": "price", "required": true}, {"type": "long", "name": "units", "required": true}]'
  outputs: null
"""


def sqlite_registry(base: Settings, root: Path, artifact_location: str) -> Settings:
    """``base`` with a sqlite MLflow registry and a cache of its own under ``root``."""
    settings = dataclasses.replace(base, data_dir=root / "data", mlflow_tracking_uri=f"sqlite:///{root}/mlflow.db")
    ModelRegistry(settings)  # imports MLflow's client with its import-time warning quiet
    from mlflow.tracking import MlflowClient

    # Created here with its artifacts where asked: MLflow's default would be ./mlruns in the checkout.
    MlflowClient(tracking_uri=settings.mlflow_uri).create_experiment(EXPERIMENT, artifact_location=artifact_location)
    return settings


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A sqlite MLflow registry with file artifacts, all under one temporary folder (no server)."""
    root = tmp_path_factory.mktemp("resolution")
    return sqlite_registry(Settings(), root, (root / "artifacts").as_uri())


def files_under(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def custom_folder(root: Path) -> Path:
    (root / "nested").mkdir(parents=True)
    (root / "nested" / "weights.bin").write_bytes(b"1234")
    (root / "config.json").write_text('{"threshold": 0.5}')
    return root


def mlflow_folder(root: Path) -> Path:
    root.mkdir(parents=True)
    (root / "MLmodel").write_text(MLMODEL)
    (root / "model.skops").write_bytes(b"\x00weights")
    return root


def test_a_custom_model_resolves_to_one_subfolder_of_model_dir(settings: Settings, tmp_path: Path) -> None:
    folder = custom_folder(tmp_path / "custom")
    ModelRegistry(settings).create(ModelSpec(name="churn-custom", type=ModelType.CUSTOM_MODEL), folder)

    model = resolve_model(parse_model_ref("azureml:churn-custom:1"), settings)
    assert (model.kind, model.signature, model.version) == ("custom_model", None, "1")
    assert model.model_dir == settings.cache_dir / "models" / "churn-custom" / "1"
    assert model.local_path == model.model_dir / "model"
    assert glob.glob(f"{model.model_dir}/*/") == [f"{model.local_path}/"]
    assert files_under(model.local_path) == files_under(folder)
    assert model.to_dict()["kind"] == "custom_model"


def test_an_mlflow_model_keeps_mlmodel_and_signature_under_local_path(settings: Settings, tmp_path: Path) -> None:
    ModelRegistry(settings).create(
        ModelSpec(name="sales-mlflow", type=ModelType.MLFLOW_MODEL), mlflow_folder(tmp_path / "m")
    )

    model = resolve_model(parse_model_ref("models:/sales-mlflow@latest"), settings)
    assert model.kind == "mlflow_model"
    assert model.signature is not None
    assert model.signature.names == ("price", "units")
    assert (model.local_path / "MLmodel").is_file()
    assert not (model.model_dir / "MLmodel").exists()
    assert glob.glob(f"{model.model_dir}/*/MLmodel") == [str(model.local_path / "MLmodel")]

    marker = model.local_path / "cached-marker"
    marker.write_text("x")
    again = resolve_model(parse_model_ref("models:/sales-mlflow/1"), settings)
    assert (again.model_dir, again.local_path) == (model.model_dir, model.local_path)
    assert marker.exists(), "a cached version must not be downloaded again"
    names = [p.name for p in model.model_dir.parent.iterdir()]
    assert sorted(names) == ["1", "1.lock"], "no staging folder left behind"


def test_an_old_flat_cache_is_replaced_by_the_new_layout(settings: Settings, tmp_path: Path) -> None:
    ModelRegistry(settings).create(
        ModelSpec(name="sales-flat", type=ModelType.MLFLOW_MODEL), mlflow_folder(tmp_path / "m")
    )
    flat = settings.cache_dir / "models" / "sales-flat" / "1"
    mlflow_folder(flat)  # what earlier releases cached: the files directly in <version>/

    model = resolve_model(parse_model_ref("models:/sales-flat/1"), settings)
    assert model.model_dir == flat
    assert [p.name for p in flat.iterdir()] == ["model"]
    assert (model.local_path / "MLmodel").is_file()


def test_untagged_versions_are_told_apart_by_mlmodel(settings: Settings, tmp_path: Path) -> None:
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=settings.mlflow_uri)
    run = client.create_run(client.get_experiment_by_name(EXPERIMENT).experiment_id)
    client.log_artifacts(run.info.run_id, str(custom_folder(tmp_path / "c")), artifact_path="weights")
    client.log_artifacts(run.info.run_id, str(mlflow_folder(tmp_path / "m")), artifact_path="mlflow-model")
    client.set_terminated(run.info.run_id)
    client.create_registered_model("untagged")
    client.create_model_version("untagged", f"{run.info.artifact_uri}/weights", run_id=run.info.run_id)
    client.create_model_version("untagged", f"{run.info.artifact_uri}/mlflow-model", run_id=run.info.run_id)
    client.create_model_version(
        "untagged", f"{run.info.artifact_uri}/weights", run_id=run.info.run_id, tags={TYPE_TAG: "mlflow_model"}
    )

    custom = resolve_model(parse_model_ref("models:/untagged/1"), settings)
    assert (custom.kind, custom.local_path.name) == ("custom_model", "weights")
    mlflow_model = resolve_model(parse_model_ref("models:/untagged/2"), settings)
    assert (mlflow_model.kind, mlflow_model.local_path.name) == ("mlflow_model", "mlflow-model")
    with pytest.raises(ModelError, match=r"models:/untagged/3 is tagged batchpoint.model_type=mlflow_model but has no"):
        resolve_model(parse_model_ref("models:/untagged/3"), settings)


def test_both_kinds_resolve_from_s3_artifacts(store_and_broker: Settings, tmp_path: Path, unique_name: str) -> None:
    base = store_and_broker
    S3Store(base.s3_url, base.access_key, base.secret_key, base.region).ensure_bucket(unique_name)
    settings = sqlite_registry(base, tmp_path / "registry", f"s3://{unique_name}/mlflow")
    registry = ModelRegistry(settings)
    custom = custom_folder(tmp_path / "custom")
    registry.create(ModelSpec(name=unique_name, type=ModelType.CUSTOM_MODEL), custom)
    registry.create(ModelSpec(name=unique_name, type=ModelType.MLFLOW_MODEL), mlflow_folder(tmp_path / "m"))

    first = resolve_model(parse_model_ref(f"models:/{unique_name}/1"), settings)
    assert (first.kind, first.signature) == ("custom_model", None)
    assert glob.glob(f"{first.model_dir}/*/") == [f"{first.local_path}/"]
    assert files_under(first.local_path) == files_under(custom)
    second = resolve_model(parse_model_ref(f"azureml:{unique_name}@latest"), settings)
    assert (second.kind, second.version, second.local_path.name) == ("mlflow_model", "2", "model")
    assert second.signature is not None
    assert (second.local_path / "MLmodel").read_text() == MLMODEL


# Importing mlflow.pyfunc (log_model does) builds schemas of MLflow's own agent types and warns about
# their `Any` fields; it says nothing about this model.
@pytest.mark.filterwarnings("ignore:.*Any type hint is inferred as AnyType:UserWarning")
def test_a_logged_model_takes_the_name_it_was_logged_under(settings: Settings) -> None:
    import mlflow
    from sklearn.linear_model import LinearRegression

    # MLflow 3 registers log_model(..., registered_model_name=...) from `models:/m-<id>`, not a folder.
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(settings.mlflow_uri)
    try:
        mlflow.set_experiment(EXPERIMENT)
        with mlflow.start_run():
            mlflow.sklearn.log_model(
                LinearRegression().fit([[1.0], [2.0]], [1.0, 2.0]), name="regressor", registered_model_name="logged"
            )
    finally:
        mlflow.set_tracking_uri(previous)

    model = resolve_model(parse_model_ref("models:/logged/1"), settings)
    assert model.kind == "mlflow_model"
    assert model.local_path == model.model_dir / "regressor"
    assert (model.local_path / "MLmodel").is_file()
