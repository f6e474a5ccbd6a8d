"""SDK entities convert to the spec JSON of the contract and back, in Azure's forms."""

from __future__ import annotations

from pathlib import Path

import pytest

from batchpoint.errors import SpecError
from batchpoint.sdk.constants import AssetTypes, BatchDeploymentOutputAction
from batchpoint.sdk.entities import (
    AmlCompute,
    BatchDeployment,
    BatchEndpoint,
    BatchRetrySettings,
    CodeConfiguration,
    Data,
    Environment,
    Model,
    ModelBatchDeployment,
    ModelBatchDeploymentSettings,
    ResourceConfiguration,
)
from batchpoint.sdk.invocation import invoke_body, override_values
from batchpoint.specs.deployment import BatchDeployment as DeploymentSpec
from batchpoint.specs.endpoint import BatchEndpoint as EndpointSpec
from batchpoint.specs.job import InvokeRequest
from batchpoint.specs.yaml_loading import AzureFieldWarning

REGISTERED = Model(name="heart-classifier", version="3", type=AssetTypes.MLFLOW_MODEL)


def test_endpoint_defaults_are_mutable_and_round_trip() -> None:
    endpoint = BatchEndpoint(name="heart-classifier", description="batch")
    endpoint.defaults.deployment_name = "xgb"
    data = endpoint._to_dict()
    assert data == {
        "name": "heart-classifier",
        "description": "batch",
        "defaults": {"deployment_name": "xgb"},
        "tags": {},
    }
    assert EndpointSpec.parse(data).defaults.deployment_name == "xgb"
    assert BatchEndpoint._from_dict(data) == endpoint


def test_endpoint_auth_mode_is_accepted_with_a_warning() -> None:
    with pytest.warns(AzureFieldWarning, match="auth_mode"):
        endpoint = BatchEndpoint(name="e-1", auth_mode="aad_token")
    assert "auth_mode" not in endpoint._to_dict()


def test_model_batch_deployment_settings_become_the_spec() -> None:
    deployment = ModelBatchDeployment(
        name="classifier-xgboost",
        endpoint_name="heart-classifier",
        model=REGISTERED,
        compute="batch-cluster",
        settings=ModelBatchDeploymentSettings(
            instance_count=2,
            max_concurrency_per_instance=2,
            mini_batch_size=10,
            output_action=BatchDeploymentOutputAction.APPEND_ROW,
            output_file_name="predictions.csv",
            retry_settings=BatchRetrySettings(max_retries=3, timeout=300),
            logging_level="info",
        ),
    )
    data = deployment._to_dict()
    assert data["model"] == "azureml:heart-classifier:3"
    assert data["resources"] == {"instance_count": 2}
    assert data["settings"]["retry_settings"] == {"max_retries": 3, "timeout": 300}
    spec = DeploymentSpec.parse(data)
    assert (spec.workers, spec.settings.output_action) == (4, BatchDeploymentOutputAction.APPEND_ROW)
    back = BatchDeployment._from_dict(spec.model_dump(mode="json"))
    assert (back.instance_count, back.mini_batch_size, back.retry_settings.timeout) == (2, 10, 300)
    assert back.model == "models:/heart-classifier/3"


def test_older_flat_keywords_give_the_same_spec() -> None:
    flat = BatchDeployment(
        name="mnist-torch",
        endpoint_name="mnist",
        model="azureml:mnist@latest",
        code_path="code",
        scoring_script="batch_driver.py",
        environment="azureml:torch:1",
        compute="batch-cluster",
        instance_count=1,
        max_concurrency_per_instance=2,
        mini_batch_size=10,
        output_action=BatchDeploymentOutputAction.APPEND_ROW,
        retry_settings=BatchRetrySettings(max_retries=3, timeout=30),
        error_threshold=-1,
        logging_level="info",
    )
    nested = BatchDeployment(
        name="mnist-torch",
        endpoint_name="mnist",
        model="azureml:mnist@latest",
        code_configuration=CodeConfiguration(code="code", scoring_script="batch_driver.py"),
        environment="azureml:torch:1",
        compute="batch-cluster",
        resources=ResourceConfiguration(instance_count=1),
        settings=ModelBatchDeploymentSettings(
            max_concurrency_per_instance=2,
            mini_batch_size=10,
            output_action="APPEND_ROW",
            retry_settings=BatchRetrySettings(max_retries=3, timeout=30),
            error_threshold=-1,
            logging_level="info",
        ),
    )
    assert flat._to_dict() == nested._to_dict()
    assert flat._to_dict()["code_configuration"] == {"code": "code", "scoring_script": "batch_driver.py"}


def test_flat_attributes_write_through_to_settings() -> None:
    deployment = BatchDeployment(name="d-1", endpoint_name="e-1", model="azureml:m:1")
    deployment.mini_batch_size = 5
    deployment.instance_count = 3
    deployment.scoring_script = "score.py"
    deployment.code_path = "src"
    assert deployment.settings.mini_batch_size == 5
    data = deployment._to_dict()
    assert data["settings"] == {"mini_batch_size": 5}
    assert data["resources"] == {"instance_count": 3}
    assert data["code_configuration"] == {"code": "src", "scoring_script": "score.py"}


def test_a_setting_given_twice_names_it() -> None:
    with pytest.raises(SpecError, match="mini_batch_size"):
        BatchDeployment(
            name="d", model="azureml:m:1", mini_batch_size=2, settings=ModelBatchDeploymentSettings(mini_batch_size=3)
        )


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        (REGISTERED, "azureml:heart-classifier:3"),
        ("azureml:heart-classifier@latest", "azureml:heart-classifier@latest"),
        ("azureml:heart-classifier:1", "azureml:heart-classifier:1"),
    ],
)
def test_model_references(model: Model | str, expected: str) -> None:
    data = BatchDeployment(name="dep", endpoint_name="ep-1", model=model)._to_dict()
    assert data["model"] == expected
    assert DeploymentSpec.parse(data).model.name == "heart-classifier"


def test_an_unregistered_model_says_to_register_it() -> None:
    deployment = BatchDeployment(name="dep", endpoint_name="ep-1", model=Model(name="m", path="model"))
    with pytest.raises(SpecError, match="register it first"):
        deployment._to_dict()


def test_an_invalid_output_action_shows_the_valid_ones() -> None:
    deployment = BatchDeployment(name="dep", model="azureml:m:1", output_action="append")
    with pytest.raises(SpecError, match=r"append_row \| summary_only"):
        deployment._to_dict()


def test_environment_reads_its_conda_file(tmp_path: Path) -> None:
    conda = tmp_path / "conda.yaml"
    conda.write_text("name: env\ndependencies:\n  - python=3.11\n  - pip\n  - pip:\n    - scikit-learn\n")
    env = Environment(name="batch-env", conda_file=conda, image="mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04")
    data = env._to_dict()
    assert data["conda_file"]["dependencies"][2] == {"pip": ["scikit-learn"]}
    assert data["image"].startswith("mcr.")


def test_compute_data_and_model_specs() -> None:
    compute = AmlCompute(name="batch-cluster", description="amlcompute", min_instances=0, max_instances=5)
    assert compute._to_dict() == {
        "name": "batch-cluster",
        "min_instances": 0,
        "max_instances": 5,
        "description": "amlcompute",
        "tags": {},
        "type": "amlcompute",
    }
    assert AmlCompute._from_dict(compute._to_dict()).provisioning_state == "Succeeded"
    data = Data(name="heart-unlabeled", version=1, path="s3://landing/heart/", type=AssetTypes.URI_FOLDER)
    assert (data.id, data._to_dict()["version"]) == ("azureml:heart-unlabeled:1", "1")
    model = Model(name="heart", path="some/dir/model", type=AssetTypes.MLFLOW_MODEL)
    assert model._to_dict() == {"name": "heart", "type": "mlflow_model", "path": "model", "tags": {}}


def test_invoke_body_uploads_local_paths_and_maps_overrides() -> None:
    uploaded: list[str] = []

    def resolve(path: str | Path, field: str) -> str:
        uploaded.append(f"{field}={path}")
        return f"s3://batchpoint/uploads/x/{Path(path).name}/"

    from batchpoint.sdk import Input

    body = invoke_body(
        input=Input(type=AssetTypes.URI_FOLDER, path=Path("data")),
        inputs=None,
        deployment_name="dep",
        output_path=None,
        params_override=[{"mini_batch_size": "20"}, {"output_file_name": "p.csv"}, {"retry_settings.timeout": 60}],
        resolve=resolve,
    )
    assert uploaded == ["inputs.input.path=data"]
    request = InvokeRequest.parse(body)
    assert (request.mini_batch_size, request.timeout, request.output_file_name) == (20, 60, "p.csv")
    assert request.inputs["input"].path == "s3://batchpoint/uploads/x/data/"


def test_unknown_overrides_name_themselves() -> None:
    with pytest.raises(SpecError, match=r"params_override\.mini_batch"):
        override_values({"mini_batch": 3})
    with pytest.warns(AzureFieldWarning, match="experiment_name"):
        assert override_values([{"experiment_name": "x"}]) == {}


def test_instance_count_is_an_override_in_every_azure_spelling() -> None:
    for key in ("instance_count", "compute.instance_count", "resources.instance_count"):
        assert override_values([{key: "5"}]) == {"instance_count": 5}
