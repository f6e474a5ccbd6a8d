"""Which Python a no-code deployment scores in: the model's environment, the deployment's, or ours."""

from __future__ import annotations

import dataclasses
import logging
import sys
from pathlib import Path
from typing import Any

import mlflow
import pytest
import sklearn

from batchpoint.config import Settings
from batchpoint.environments.builder import BuiltEnvironment, EnvironmentBuilder
from batchpoint.errors import EnvironmentBuildError, SpecError
from batchpoint.models.resolved import ResolvedModel
from batchpoint.scoring.runtime_setup import prepare_runtime
from batchpoint.sdk.entities import ModelBatchDeployment
from batchpoint.specs.deployment import BatchDeployment
from batchpoint.specs.deployment_properties import env_manager, keep_azure_packages
from batchpoint.specs.environment import EnvironmentSpec
from batchpoint.specs.yaml_loading import deployment_from_dict
from batchpoint.storage.memory import MemoryStore

OLD_MODEL = {
    "python_env.yaml": "python: 3.10.5\nbuild_dependencies: [pip==23.0, wheel]\ndependencies: [-r requirements.txt]\n",
    "requirements.txt": "mlflow==2.22.2\nscikit-learn==1.5.2\nnumpy<2\nazureml-defaults==1.56\nazureml-mlflow\n",
    "MLmodel": "mlflow_version: 2.22.2\n",
}
OUR_MODEL = {
    # As MLflow 3 writes it: unpinned build tools our venv does not have (uv venvs lack setuptools).
    "python_env.yaml": (
        f"python: {sys.version_info.major}.{sys.version_info.minor}.{sys.version_info.micro}\n"
        "build_dependencies: [pip, setuptools, wheel, batchpoint-no-such-build-tool]\n"
        "dependencies: [-r requirements.txt]\n"
    ),
    "requirements.txt": f"mlflow=={mlflow.__version__}\nscikit-learn=={sklearn.__version__}\nazureml-core\n",
}


class RecordingBuilder(EnvironmentBuilder):
    """Builds nothing: answers with a made-up environment and records what it was asked for."""

    def __init__(self, cache_root: Path, fail: bool = False) -> None:
        super().__init__(cache_root, uv="uv-must-not-run")
        self.asked: list[EnvironmentSpec] = []
        self.fail = fail

    def ensure(self, spec: EnvironmentSpec) -> BuiltEnvironment:
        self.asked.append(spec)
        if self.fail:
            raise EnvironmentBuildError("scikit-learn==1.5.2", "no version found", "uv said no")
        root = self.envs_dir / "fake"
        return BuiltEnvironment(
            root / "bin" / "python", root, "k" * 64, True, 1.5, "3.10.13", spec.python_version or "", "3.10.5 missing"
        )


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return dataclasses.replace(Settings(), data_dir=tmp_path / "data")


def model(tmp_path: Path, files: dict[str, str]) -> ResolvedModel:
    local = tmp_path / "models" / "sales" / "3" / "model"
    local.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (local / name).write_text(text)
    return ResolvedModel("sales", "3", "models:/sales/3", None, None, local)


def deployment(**fields: Any) -> BatchDeployment:
    return BatchDeployment.model_validate(
        {"name": "blue", "endpoint_name": "sales", "model": "models:/sales/3", **fields}
    )


def prepare(
    tmp_path: Path, settings: Settings, files: dict[str, str], caplog: pytest.LogCaptureFixture, **kwargs: Any
) -> tuple[Any, RecordingBuilder, str]:
    builder = kwargs.pop("builder", None) or RecordingBuilder(tmp_path)
    environment = kwargs.pop("env_spec", None)
    with caplog.at_level(logging.INFO, logger="test.env"):
        runtime = prepare_runtime(
            deployment(**kwargs),
            model(tmp_path, files),
            settings=settings,
            store=MemoryStore(),
            environment=environment,
            builder=builder,
            log=logging.getLogger("test.env"),
        )
    return runtime, builder, caplog.text


def test_an_old_model_scores_in_its_own_environment(
    tmp_path: Path, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    runtime, builder, log = prepare(tmp_path, settings, OLD_MODEL, caplog)

    [spec] = builder.asked
    assert spec.python_version == "3.10.5"
    assert spec.installable_requirements == ["wheel", "mlflow==2.22.2", "scikit-learn==1.5.2", "numpy<2", "pyarrow"]
    assert runtime.python == tmp_path / "envs" / "fake" / "bin" / "python"
    assert runtime.environment_key == "k" * 64
    facts = runtime.to_dict()["environment"]
    assert facts["choice"] == "built"
    assert facts["source"] == "the model's python_env.yaml"
    assert (facts["python_requested"], facts["python_used"]) == ("3.10.5", "3.10.13")
    assert facts["python_warning"] == "3.10.5 missing"
    assert facts["dropped_packages"] == ["azureml-defaults==1.56", "azureml-mlflow"]
    assert facts["added_packages"] == ["pyarrow"]
    assert "left out Azure-runtime packages azureml-defaults==1.56, azureml-mlflow" in log
    assert "a build is needed: mlflow==2.22.2 (batchpoint has" in log
    assert "added for the built-in scorer: pyarrow" in log
    assert "asks for python 3.10.5 and 5 requirements (and 1 build dependencies)" in log
    assert "building (python 3.10.5, 5 requirements)…" in log
    assert "built in 1.5 s (python 3.10.13)" in log
    assert "3.10.5 missing" in log


def test_a_model_our_interpreter_satisfies_builds_nothing(
    tmp_path: Path, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    runtime, builder, log = prepare(tmp_path, settings, OUR_MODEL, caplog)

    assert builder.asked == []
    assert (runtime.python, runtime.environment_key) == (Path(sys.executable), None)
    facts = runtime.to_dict()["environment"]
    assert (facts["choice"], facts["reason"]) == (
        "own-interpreter",
        "batchpoint's own interpreter satisfies every requirement",
    )
    assert facts["dropped_packages"] == ["azureml-core"]
    assert "satisfies every requirement: no build" in log


def test_a_model_without_environment_files_uses_our_interpreter(
    tmp_path: Path, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    runtime, builder, _ = prepare(tmp_path, settings, {}, caplog)

    assert builder.asked == [] and runtime.python == Path(sys.executable)
    assert runtime.to_dict()["environment"]["choice"] == "own-interpreter"


def test_env_manager_local_forces_our_interpreter(
    tmp_path: Path, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    runtime, builder, log = prepare(tmp_path, settings, OLD_MODEL, caplog, properties={"env_manager": "local"})

    assert builder.asked == [] and runtime.python == Path(sys.executable)
    assert runtime.to_dict()["environment"]["choice"] == "local"
    assert "properties.env_manager is local" in log


def test_the_deployments_environment_overrides_the_models(
    tmp_path: Path, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    override = EnvironmentSpec(name="xgb", version="2", pip_requirements=["xgboost==1.7.6"], python_version="3.10")
    runtime, builder, log = prepare(
        tmp_path, settings, OLD_MODEL, caplog, env_spec=override, environment="azureml:xgb:2"
    )

    [spec] = builder.asked
    assert spec.python_version == "3.10"
    assert spec.installable_requirements == ["xgboost==1.7.6", "mlflow", "pandas", "pyarrow"]
    assert runtime.to_dict()["environment"]["source"] == "the deployment's environment xgb"
    assert "the deployment's environment xgb asks for python 3.10 and 1 requirements" in log


@pytest.mark.parametrize("where", ["setting", "property"])
def test_azure_packages_can_be_kept(
    tmp_path: Path, settings: Settings, caplog: pytest.LogCaptureFixture, where: str
) -> None:
    if where == "setting":
        settings = dataclasses.replace(settings, keep_azure_packages=True)
        extra: dict[str, Any] = {}
    else:
        extra = {"properties": {"keep_azure_packages": "true"}}
    _, builder, _ = prepare(tmp_path, settings, OLD_MODEL, caplog, **extra)

    assert "azureml-defaults==1.56" in builder.asked[0].installable_requirements


def test_a_build_failure_names_the_requirement_in_the_log(
    tmp_path: Path, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    with pytest.raises(EnvironmentBuildError, match=r"scikit-learn==1.5.2: no version found"):
        prepare(tmp_path, settings, OLD_MODEL, caplog, builder=RecordingBuilder(tmp_path, fail=True))

    assert "build failed: environment.pip_requirements: scikit-learn==1.5.2: no version found" in caplog.text


def test_a_scripts_environment_loses_azures_packages_only(
    tmp_path: Path, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    code = tmp_path / "src"
    code.mkdir()
    (code / "score.py").write_text("def init(): pass\n")
    env = EnvironmentSpec(name="script-env", pip_requirements=["pandas", "azureml-core"], python_version="3.11")
    runtime, builder, log = prepare(
        tmp_path,
        settings,
        {},
        caplog,
        env_spec=env,
        code_configuration={"code": str(code), "scoring_script": "score.py"},
        environment="azureml:script-env:1",
    )

    assert [s.installable_requirements for s in builder.asked] == [["pandas"]]
    assert runtime.to_dict()["environment"]["dropped_packages"] == ["azureml-core"]
    assert "left out Azure-runtime packages azureml-core" in log


@pytest.mark.parametrize(
    ("properties", "problem"),
    [
        ({"env_manager": "conda"}, "env_manager must be local or virtualenv"),
        ({"keep_azure_packages": "maybe"}, "true or false"),
    ],
)
def test_bad_properties_are_refused_when_the_spec_is_built(properties: dict[str, str], problem: str) -> None:
    with pytest.raises((SpecError, ValueError), match=problem):
        deployment(properties=properties)


def test_azure_deployment_yaml_carries_the_properties() -> None:
    loaded = deployment_from_dict(
        {
            "$schema": "https://azuremlschemas.azureedge.net/latest/modelBatchDeployment.schema.json",
            "name": "blue",
            "endpoint_name": "sales",
            "model": "azureml:sales@latest",
            "properties": {"env_manager": "local", "keep_azure_packages": "true"},
            "settings": {"mini_batch_size": 2},
        }
    )

    assert env_manager(loaded.properties) == "local"
    assert keep_azure_packages(loaded.properties) is True
    assert keep_azure_packages(deployment().properties) is None


@pytest.mark.parametrize(("raw", "value"), [("true", True), ("1", True), ("False", False), ("", False)])
def test_environment_settings_read_as_flags(raw: str, value: bool) -> None:
    env = {"BATCHPOINT_PYTHON_DOWNLOADS": raw, "BATCHPOINT_KEEP_AZURE_PACKAGES": raw}
    settings = Settings.from_env(env)

    assert (settings.python_downloads, settings.keep_azure_packages) == (value, value)
    assert Settings.from_env(settings.to_env()).python_downloads is value


def test_a_bad_flag_setting_shows_the_valid_form() -> None:
    with pytest.raises(SpecError, match=r"BATCHPOINT_PYTHON_DOWNLOADS: got 'sometimes' \(expected true or false\)"):
        Settings.from_env({"BATCHPOINT_PYTHON_DOWNLOADS": "sometimes"})


def test_sdk_deployments_carry_the_properties() -> None:
    made = ModelBatchDeployment(
        name="blue", endpoint_name="sales", model="azureml:sales@latest", properties={"env_manager": "local"}
    )

    assert made._to_dict()["properties"] == {"env_manager": "local"}
    assert BatchDeployment.model_validate(made._to_dict()).properties == {"env_manager": "local"}
    assert ModelBatchDeployment._from_dict(made._to_dict()).properties == {"env_manager": "local"}
