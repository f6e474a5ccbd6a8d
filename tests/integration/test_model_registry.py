"""Model registration against the real MLflow server (artifacts in the stack's S3)."""

from pathlib import Path

import pytest

from batchpoint.config import Settings
from batchpoint.errors import NotFoundError, SpecError
from batchpoint.models.model_registry import ModelRegistry
from batchpoint.specs.model_asset import ModelSpec, ModelType

pytestmark = pytest.mark.integration

MLMODEL = "artifact_path: model\nflavors:\n  python_function:\n    loader_module: mlflow.sklearn\n"


def mlflow_folder(root: Path) -> Path:
    """A minimal MLflow model folder: an MLmodel file and one artifact."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "MLmodel").write_text(MLMODEL)
    (root / "model.skops").write_bytes(b"\x00weights")
    return root


def test_versions_latest_and_aliases(stack: Settings, tmp_path: Path, unique_name: str) -> None:
    registry = ModelRegistry(stack)
    spec = ModelSpec(name=unique_name, type=ModelType.MLFLOW_MODEL, tags={"team": "sales"}, description="v1")
    first = registry.create(spec, mlflow_folder(tmp_path / "m1"))
    assert (first.version, first.uri, first.type, first.tags) == ("1", f"models:/{unique_name}/1", spec.type, spec.tags)
    custom = tmp_path / "custom"
    (custom / "nested").mkdir(parents=True)
    (custom / "nested" / "weights.bin").write_bytes(b"1234")
    second = registry.create(ModelSpec(name=unique_name, type=ModelType.CUSTOM_MODEL, path=str(custom)))
    assert (second.version, second.type) == ("2", ModelType.CUSTOM_MODEL)
    assert second.source.endswith("/model")

    assert registry.get(unique_name).version == "2"
    assert registry.get(unique_name, label="latest").version == "2"
    assert registry.get(unique_name, version="1").description == "v1"
    assert [v.version for v in registry.list(unique_name)] == ["2", "1"]
    assert unique_name in [m.name for m in registry.list()]

    assert registry.set_alias(unique_name, "champion", "1").aliases == ["champion"]
    assert registry.get(unique_name, label="champion").version == "1"
    registry.delete_alias(unique_name, "champion")
    with pytest.raises(NotFoundError, match=f"model '{unique_name}:champion'"):
        registry.get(unique_name, label="champion")
    with pytest.raises(NotFoundError, match=f"model '{unique_name}:9'"):
        registry.get(unique_name, version="9")
    with pytest.raises(NotFoundError, match="model 'no-such-model'"):
        registry.list("no-such-model")
    with pytest.raises(SpecError, match="latest"):
        registry.set_alias(unique_name, "latest", "1")


def test_register_from_a_run(stack: Settings, tmp_path: Path, unique_name: str) -> None:
    registry = ModelRegistry(stack)  # imports MLflow's client with its import-time warning quiet
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=stack.mlflow_uri)
    run = client.create_run(client.create_experiment(unique_name))
    client.log_artifacts(run.info.run_id, str(mlflow_folder(tmp_path / "m")), artifact_path="model")
    client.set_terminated(run.info.run_id)
    from_run = registry.create(
        ModelSpec(name=unique_name, type=ModelType.MLFLOW_MODEL, path=f"runs:/{run.info.run_id}/model")
    )
    assert (from_run.version, from_run.source) == ("1", f"{run.info.artifact_uri}/model")


@pytest.mark.parametrize(
    ("model_type", "files", "match"),
    [
        (ModelType.MLFLOW_MODEL, {"weights.bin": b"1"}, r"^path: folder .* has no MLmodel file"),
        (ModelType.CUSTOM_MODEL, {}, r"^path: folder .* holds no files"),
    ],
)
def test_bad_folders_are_named(
    stack: Settings, tmp_path: Path, unique_name: str, model_type: ModelType, files: dict[str, bytes], match: str
) -> None:
    folder = tmp_path / "model"
    folder.mkdir()
    for name, data in files.items():
        (folder / name).write_bytes(data)
    with pytest.raises(SpecError, match=match) as caught:
        ModelRegistry(stack).create(ModelSpec(name=unique_name, type=model_type), folder)
    assert str(folder) in str(caught.value)
    with pytest.raises(SpecError, match="runs:/<run_id>"):
        ModelRegistry(stack).create(ModelSpec(name=unique_name, path="runs:/only-an-id"))
