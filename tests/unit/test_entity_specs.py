"""Entity specs and their Azure YAML: good input loads, bad input names the field and the valid form."""

from pathlib import Path

import pytest

from batchpoint.errors import SpecError
from batchpoint.specs.asset_naming import AssetRef, parse_asset_ref
from batchpoint.specs.compute import ComputeSpec
from batchpoint.specs.data_asset import DataAssetSpec
from batchpoint.specs.deployment import BatchDeployment
from batchpoint.specs.environment import EnvironmentSpec
from batchpoint.specs.job import InvocationMessage, InvokeRequest, JobInfo, JobStatus
from batchpoint.specs.model_asset import ModelSpec, ModelType
from batchpoint.specs.yaml_loading import (
    AzureFieldWarning,
    load_compute,
    load_data,
    load_deployment,
    load_environment,
    load_model,
)

CONDA = {"name": "env", "dependencies": ["python=3.11.9", "pip", {"pip": ["mlflow==3.1", "pandas"]}, "numpy"]}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("azureml:cpu-env:3", AssetRef("cpu-env", "3")),
        ("azureml:cpu-env@latest", AssetRef("cpu-env")),
        ("cpu-env", AssetRef("cpu-env")),
        ("azureml:batch-cluster", AssetRef("batch-cluster")),
        ("sklearn.env:2024.1", AssetRef("sklearn.env", "2024.1")),
    ],
)
def test_asset_references(text: str, expected: AssetRef) -> None:
    assert parse_asset_ref(text, "environment") == expected


@pytest.mark.parametrize("text", ["azureml:", "azureml:env@champion", "env:", "-env", "a b"])
def test_bad_asset_reference_names_field_and_forms(text: str) -> None:
    with pytest.raises(SpecError, match=r"^environment: .*azureml:<name>:<version>"):
        parse_asset_ref(text, "environment")


def test_environment_keeps_python_and_pip_section_of_conda() -> None:
    env = EnvironmentSpec.parse({"name": "sk", "version": 2, "conda_file": CONDA, "pip_requirements": ["skops"]})
    assert (env.version, env.python_version) == ("2", "3.11.9")
    assert env.installable_requirements == ["skops", "mlflow==3.1", "pandas"]


@pytest.mark.parametrize(
    ("spec", "cls", "field", "hint"),
    [
        ({"name": "e", "conda_file": {"dependencies": [{"pip": "x"}]}}, EnvironmentSpec, "conda_file", "pip"),
        ({"name": "e", "conda_file": {"dependencies": "x"}}, EnvironmentSpec, "conda_file", "list"),
        ({"name": "e", "python_version": "three"}, EnvironmentSpec, "python_version", "such as 3.11"),
        ({"name": "cpu", "min_instances": 3, "max_instances": 2}, ComputeSpec, "max_instances", "min_instances"),
        ({"name": "cpu", "type": "kubernetes"}, ComputeSpec, "type", "amlcompute"),
        ({"name": "d", "path": "/local/folder"}, DataAssetSpec, "path", "s3://<bucket>"),
        ({"name": "d", "type": "uri_file", "path": "s3://landing/x/"}, DataAssetSpec, "path", "one object"),
        ({"name": "d", "path": "s3://landing/x", "mystery": 1}, DataAssetSpec, "mystery", "unknown field"),
        ({"name": "m", "type": "triton_model"}, ModelSpec, "type", "mlflow_model"),
        ({"name": "m", "version": "v1"}, ModelSpec, "version", "a whole number"),
        ({"inputs": {}}, InvokeRequest, "inputs", "at least 1"),
        ({"inputs": {"i": {"path": "/tmp/x"}}}, InvokeRequest, "inputs.i.path", "azureml:<data>@latest"),
        ({"inputs": {"i": {"path": "azureml:d@best"}}}, InvokeRequest, "inputs.i.path", "azureml:<data>:<version>"),
        ({"inputs": {"1x": {"path": "s3://landing/x/"}}}, InvokeRequest, "inputs", "input name"),
        ({"inputs": {"i": {"path": "s3://landing/x/"}}, "mini_batch_size": 0}, InvokeRequest, "mini_batch_size", ""),
        ({"inputs": {"i": {"path": "s3://landing/x/"}}, "output_path": "out/"}, InvokeRequest, "output_path", "s3"),
    ],
)
def test_bad_spec_names_the_field(spec: dict[str, object], cls: type, field: str, hint: str) -> None:
    with pytest.raises(SpecError) as caught:
        cls.parse(spec)  # type: ignore[attr-defined]
    assert caught.value.field == f"{cls.__name__}.{field}"
    assert hint in str(caught.value)


def test_invoke_overrides_apply_to_the_deployment_settings() -> None:
    request = InvokeRequest.parse(
        {"inputs": {"input": {"path": "s3://landing/sales/"}}, "output_path": "s3://out/run", "max_retries": 5}
    )
    assert request.output_path == "s3://out/run/"
    deployment = BatchDeployment.parse({"name": "dpl", "endpoint_name": "e", "model": "models:/m/1"})
    applied = request.overrides().apply(deployment)
    assert (applied.settings.retry_settings.max_retries, applied.settings.retry_settings.timeout) == (5, 30)
    assert applied.resources.instance_count == 1
    more = InvokeRequest.parse({"inputs": {"input": {"path": "s3://landing/sales/"}}, "instance_count": 3})
    assert more.overrides().apply(deployment).resources.instance_count == 3
    message = InvocationMessage(
        job_name="batchjob-1", endpoint_name="e", deployment_name="dpl", inputs=request.inputs, output_path="s3://out/x"
    )
    assert InvocationMessage.model_validate_json(message.model_dump_json()) == message


def test_job_status_ended_and_info_round_trip() -> None:
    assert [s.value for s in JobStatus if s.ended] == ["Completed", "Failed", "Canceled", "Failed-check"]
    info = JobInfo.parse(
        {
            "name": "batchjob-1",
            "endpoint_name": "e",
            "deployment_name": "d",
            "trigger": "data-arrival",
            "status": "Running",
            "created_at": "2026-11-24T10:00:00Z",
        }
    )
    assert JobInfo.model_validate_json(info.model_dump_json()) == info


def test_azure_model_yaml_path_is_relative_to_the_file(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    yml = tmp_path / "sub" / "model.yml"
    yml.write_text("$schema: x\nname: heart\npath: ../model\ntype: mlflow_model\nstage: Production\n")
    with pytest.warns(AzureFieldWarning, match=r"Model\.stage"):
        model = load_model(yml)
    assert (model.type, model.path) == (ModelType.MLFLOW_MODEL, str(tmp_path / "model"))


def test_azure_environment_yaml_reads_its_conda_file(tmp_path: Path) -> None:
    (tmp_path / "conda.yaml").write_text(
        "name: env\ndependencies:\n  - python=3.11\n  - pip\n  - pip:\n    - mlflow\n    - pandas\n"
    )
    yml = tmp_path / "environment.yml"
    yml.write_text(
        "name: sk-env\nversion: 1\nimage: mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04\nconda_file: conda.yaml\n"
    )
    with pytest.warns(AzureFieldWarning, match=r"Environment\.image"):
        env = load_environment(yml)
    assert (env.version, env.python_version, env.installable_requirements) == ("1", "3.11", ["mlflow", "pandas"])


def test_azure_compute_yaml(tmp_path: Path) -> None:
    yml = tmp_path / "compute.yml"
    yml.write_text("name: batch-cluster\ntype: amlcompute\nsize: STANDARD_DS3_v2\nmin_instances: 0\nmax_instances: 5\n")
    with pytest.warns(AzureFieldWarning, match=r"Compute\.size"):
        compute = load_compute(yml)
    assert (compute.max_instances, compute.idle_time_before_scale_down, compute.size) == (5, 120, "STANDARD_DS3_v2")


def test_azure_data_yaml_uploads_a_local_path(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    yml = tmp_path / "data.yml"
    yml.write_text("name: heart-data\ntype: uri_folder\npath: data\n")
    with pytest.raises(SpecError, match=r"Data\.path: .* local path"):
        load_data(yml)
    uploaded: list[Path] = []
    data = load_data(yml, upload=lambda p: uploaded.append(p) or "s3://batchpoint/uploads/heart/")
    assert (data.path, uploaded) == ("s3://batchpoint/uploads/heart/", [tmp_path / "data"])


def test_deployment_code_is_relative_to_the_yaml(tmp_path: Path) -> None:
    yml = tmp_path / "deployment.yml"
    yml.write_text(
        "name: dpl\nendpoint_name: e\nmodel: azureml:m@latest\n"
        "code_configuration:\n  code: code\n  scoring_script: batch_driver.py\n"
    )
    deployment = load_deployment(yml)
    assert deployment.code_configuration is not None
    assert deployment.code_configuration.code == str(tmp_path / "code")


@pytest.mark.parametrize(
    ("loader", "text", "match"),
    [
        (load_compute, "name: cpu\nmax_nodes: 3\n", r"Compute\.max_nodes: unknown field"),
        (load_environment, "name: e\nbuild:\n  path: docker\n", r"Environment\.build: .*conda_file"),
        (load_environment, "name: e\nconda_file: missing.yaml\n", "cannot be read as YAML"),
        (load_model, "name: m\npath: model\nflavor: x\n", r"Model\.flavor: unknown field"),
        (load_data, "name: d\npath: s3://landing/x/\ntype: mltable\n", r"Data\.type"),
    ],
)
def test_bad_asset_yaml_names_the_field(tmp_path: Path, loader: object, text: str, match: str) -> None:
    yml = tmp_path / "asset.yml"
    yml.write_text(text)
    with pytest.raises(SpecError, match=match):
        loader(yml)  # type: ignore[operator]
