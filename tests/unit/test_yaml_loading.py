"""Azure CLI v2 YAML loads as it is."""

from pathlib import Path

import pytest

from batchpoint.errors import SpecError
from batchpoint.specs.yaml_loading import AzureFieldWarning, load_deployment, load_endpoint

AZURE_DEPLOYMENT = """\
$schema: https://azuremlschemas.azureedge.net/latest/modelBatchDeployment.schema.json
name: forecast-mlflow
endpoint_name: sales-forecast
type: model
model: azureml:sales-forecaster@latest
compute: azureml:batch-cluster
resources:
  instance_count: 2
settings:
  max_concurrency_per_instance: 2
  mini_batch_size: 2
  output_action: append_row
  output_file_name: predictions.csv
  retry_settings:
    max_retries: 3
    timeout: 300
  error_threshold: -1
  logging_level: info
"""


def test_azure_deployment_yaml_loads(tmp_path: Path) -> None:
    path = tmp_path / "deployment.yml"
    path.write_text(AZURE_DEPLOYMENT)
    with pytest.warns(AzureFieldWarning, match="type"):
        d = load_deployment(path)
    assert (d.workers, d.settings.mini_batch_size, d.settings.retry_settings.timeout) == (4, 2, 300)
    assert d.model.uri == "models:/sales-forecaster@latest"
    assert d.compute == "azureml:batch-cluster"


def test_flat_settings_are_folded(tmp_path: Path) -> None:
    path = tmp_path / "deployment.yml"
    path.write_text("name: dpl\nendpoint_name: e\nmodel: models:/m/1\nmini_batch_size: 5\nerror_threshold: 3\n")
    d = load_deployment(path, endpoint_name="other")
    assert (d.settings.mini_batch_size, d.settings.error_threshold, d.endpoint_name) == (5, 3, "other")


def test_endpoint_yaml(tmp_path: Path) -> None:
    path = tmp_path / "endpoint.yml"
    path.write_text("$schema: x\nname: sales-forecast\nauth_mode: aad_token\ndata_arrival:\n  prefix: sales/\n")
    with pytest.warns(AzureFieldWarning, match="auth_mode"):
        e = load_endpoint(path, name="renamed")
    assert e.name == "renamed"
    assert e.data_arrival is not None
    assert e.data_arrival.bucket == "landing"


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("name: dpl\nendpoint_name: e\nmodel: models:/m/1\nmystery: 1\n", r"BatchDeployment\.mystery: unknown field"),
        ("- a\n- b\n", "a YAML mapping"),
        ("name: [unclosed\n", "cannot be read as YAML"),
        ("name: dpl\nendpoint_name: e\nmodel: {path: ./model}\n", "registered model"),
    ],
)
def test_bad_yaml_names_the_problem(tmp_path: Path, text: str, match: str) -> None:
    path = tmp_path / "deployment.yml"
    path.write_text(text)
    with pytest.raises(SpecError, match=match):
        load_deployment(path)
