"""``prepare_runtime``: which Python, code folder, script and model folder a deployment's workers get."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import Any

import pytest

from batchpoint.config import Settings
from batchpoint.environments.builder import BuiltEnvironment, EnvironmentBuilder
from batchpoint.errors import ModelError, SpecError
from batchpoint.models.resolved import ModelKind, ResolvedModel
from batchpoint.scoring.code_cache import code_cache_path
from batchpoint.scoring.runtime import BUILTIN_DIR, MLFLOW_SCORER
from batchpoint.scoring.runtime_setup import prepare_runtime
from batchpoint.specs.deployment import BatchDeployment
from batchpoint.specs.environment import EnvironmentSpec
from batchpoint.storage.memory import MemoryStore

CODE_URI = "s3://outputs/code/sales/blue/abc123/"
ENV_REF = "azureml:sklearn:1"


class RecordingBuilder(EnvironmentBuilder):
    """Builds nothing: answers with a made-up environment and records what it was asked for."""

    def __init__(self, cache_root: Path) -> None:
        super().__init__(cache_root, uv="uv-must-not-run")
        self.asked: list[EnvironmentSpec] = []

    def ensure(self, spec: EnvironmentSpec) -> BuiltEnvironment:
        self.asked.append(spec)
        root = self.envs_dir / "fake"
        return BuiltEnvironment(root / "bin" / "python", root, "k" * 64, True, 0.0)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return dataclasses.replace(Settings(), data_dir=tmp_path / "data")


@pytest.fixture
def store() -> MemoryStore:
    store = MemoryStore()
    store.ensure_bucket("outputs")
    store.put_bytes("outputs", "code/sales/blue/abc123/score.py", b"def init(): pass\n")
    store.put_bytes("outputs", "code/sales/blue/abc123/src/helpers.py", b"X = 1\n")
    return store


def model(tmp_path: Path, kind: ModelKind = "mlflow_model") -> ResolvedModel:
    local = tmp_path / "cache" / "models" / "sales" / "3" / "model"
    local.mkdir(parents=True, exist_ok=True)
    return ResolvedModel("sales", "3", "models:/sales/3", None, None, local, kind=kind, model_dir=local.parent)


def deployment(**fields: Any) -> BatchDeployment:
    return BatchDeployment.model_validate(
        {"name": "blue", "endpoint_name": "sales", "model": "models:/sales/3", **fields}
    )


def test_no_code_mlflow_runs_the_builtin_scorer_in_our_interpreter(
    tmp_path: Path, settings: Settings, store: MemoryStore
) -> None:
    resolved = model(tmp_path)
    builder = RecordingBuilder(tmp_path)
    runtime = prepare_runtime(deployment(), resolved, settings=settings, store=store, environment=None, builder=builder)
    assert (runtime.kind, runtime.builtin) == ("mlflow", True)
    assert (runtime.python, runtime.code_dir, runtime.entry) == (Path(sys.executable), BUILTIN_DIR, MLFLOW_SCORER)
    assert runtime.model_dir == resolved.model_dir == resolved.local_path.parent
    assert (runtime.environment_key, runtime.code_uri) == (None, None)
    assert builder.asked == []


def test_no_code_needs_an_mlflow_model(tmp_path: Path, settings: Settings, store: MemoryStore) -> None:
    with pytest.raises(ModelError, match=r"models:/sales/3 is a custom_model.*add code_configuration"):
        prepare_runtime(deployment(), model(tmp_path, "custom_model"), settings=settings, store=store, environment=None)


@pytest.mark.parametrize("kind", ["custom_model", "mlflow_model"])
def test_custom_code_from_s3_without_environment_builds_nothing(
    tmp_path: Path, settings: Settings, store: MemoryStore, kind: ModelKind
) -> None:
    resolved = model(tmp_path, kind)
    builder = RecordingBuilder(tmp_path)
    code = {"code": CODE_URI, "scoring_script": "score.py"}
    runtime = prepare_runtime(
        deployment(code_configuration=code), resolved, settings=settings, store=store, environment=None, builder=builder
    )
    assert (runtime.kind, runtime.builtin, runtime.entry) == ("script", False, "score.py")
    assert runtime.code_dir == code_cache_path(CODE_URI, settings.cache_dir)
    assert (runtime.code_dir / "score.py").is_file()
    assert (runtime.code_dir / "src" / "helpers.py").is_file()
    assert (runtime.python, runtime.environment_key, runtime.code_uri) == (Path(sys.executable), None, CODE_URI)
    assert runtime.model_dir == resolved.model_dir
    assert builder.asked == []


def test_custom_code_runs_in_its_built_environment(tmp_path: Path, settings: Settings, store: MemoryStore) -> None:
    env = EnvironmentSpec(name="sklearn", version="1", pip_requirements=["scikit-learn==1.5.2"])
    builder = RecordingBuilder(tmp_path)
    runtime = prepare_runtime(
        deployment(
            code_configuration={"code": CODE_URI, "scoring_script": "src/helpers.py"}, environment="azureml:sklearn:1"
        ),
        model(tmp_path, "custom_model"),
        settings=settings,
        store=store,
        environment=env,
        builder=builder,
    )
    assert builder.asked == [env]
    assert (runtime.python, runtime.environment_key) == (tmp_path / "envs" / "fake" / "bin" / "python", "k" * 64)
    assert runtime.entry == "src/helpers.py"


def test_a_local_code_folder_is_used_in_place(tmp_path: Path, settings: Settings) -> None:
    code = tmp_path / "src"
    code.mkdir()
    (code / "score.py").write_text("def init(): pass\n")
    runtime = prepare_runtime(
        deployment(code_configuration={"code": str(code), "scoring_script": "score.py"}),
        model(tmp_path, "custom_model"),
        settings=settings,
        store=MemoryStore(),
        environment=None,
    )
    assert (runtime.code_dir, runtime.code_uri, runtime.entry) == (code.resolve(), str(code.resolve()), "score.py")


@pytest.mark.parametrize("script", ["missing.py", "src", "../outside.py"])
def test_a_script_not_in_the_code_folder_names_the_field(
    tmp_path: Path, settings: Settings, store: MemoryStore, script: str
) -> None:
    (tmp_path / "outside.py").write_text("\n")
    with pytest.raises(SpecError, match=rf"^code_configuration\.scoring_script: {script} is not a file in {CODE_URI}"):
        prepare_runtime(
            deployment(code_configuration={"code": CODE_URI, "scoring_script": script}),
            model(tmp_path, "custom_model"),
            settings=settings,
            store=store,
            environment=None,
        )


def test_a_missing_local_code_folder_names_the_field(tmp_path: Path, settings: Settings) -> None:
    with pytest.raises(SpecError, match=r"^code_configuration\.code: .*/nowhere is not a folder \(expected a local"):
        prepare_runtime(
            deployment(code_configuration={"code": str(tmp_path / "nowhere"), "scoring_script": "score.py"}),
            model(tmp_path, "custom_model"),
            settings=settings,
            store=MemoryStore(),
            environment=None,
        )


def test_a_named_environment_that_was_not_resolved_is_an_error(
    tmp_path: Path, settings: Settings, store: MemoryStore
) -> None:
    with pytest.raises(SpecError, match=rf"^environment: deployment blue names {ENV_REF} but it was not resolved"):
        prepare_runtime(
            deployment(
                code_configuration={"code": CODE_URI, "scoring_script": "score.py"}, environment="azureml:sklearn:1"
            ),
            model(tmp_path, "custom_model"),
            settings=settings,
            store=store,
            environment=None,
        )


def test_resolved_model_keeps_azure_layout(tmp_path: Path) -> None:
    local = tmp_path / "3" / "model"
    defaulted = ResolvedModel("sales", "3", "models:/sales/3", None, None, local)
    assert (defaulted.model_dir, defaulted.kind, defaulted.subfolder) == (tmp_path / "3", "mlflow_model", "model")
    assert defaulted.to_dict()["kind"] == "mlflow_model"
    with pytest.raises(ModelError, match=r"local_path .* must be one subfolder of model_dir"):
        ResolvedModel("sales", "3", "models:/sales/3", None, None, local, model_dir=tmp_path)
    with pytest.raises(ModelError, match=r"kind must be one of mlflow_model, custom_model, got 'triton_model'"):
        ResolvedModel("sales", "3", "models:/sales/3", None, None, local, kind="triton_model")  # type: ignore[arg-type]
