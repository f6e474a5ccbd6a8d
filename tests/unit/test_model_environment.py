"""A model's own environment from its files, Azure's runtime packages, the scorer's needs, our interpreter."""

from __future__ import annotations

from pathlib import Path

import pytest

from batchpoint.environments.azure_packages import is_azure_runtime_package, without_azure_runtime
from batchpoint.environments.model_environment import model_environment, read_model_environment, with_scorer_needs
from batchpoint.environments.own_interpreter import installed_versions, python_fits, unsatisfied
from batchpoint.errors import ModelError

PYTHON_ENV = """python: 3.10.5
build_dependencies:
- pip==23.0
- setuptools==68.0.0
- wheel==0.41.0
dependencies:
- -r requirements.txt
"""
REQUIREMENTS = "mlflow==2.22.2\nscikit-learn==1.5.2\n# a comment\n\nnumpy==1.26.4\n"
CONDA = """channels: [conda-forge]
dependencies:
- python=3.9.7
- pip<=23.0
- pip:
  - mlflow==2.9.0
  - azureml-defaults
  - xgboost==1.7.6
name: mlflow-env
"""
MLMODEL = "artifact_path: model\nmlflow_version: 2.22.2\nflavors: {}\n"


def test_python_env_yaml_comes_first() -> None:
    env = model_environment(
        {"python_env.yaml": PYTHON_ENV, "requirements.txt": REQUIREMENTS, "conda.yaml": CONDA, "MLmodel": MLMODEL}
    )

    assert env is not None
    assert env.source == "python_env.yaml"
    assert env.python_version == "3.10.5"
    assert env.requirements == ("mlflow==2.22.2", "scikit-learn==1.5.2", "numpy==1.26.4")
    # Build dependencies but pip (uv installs), kept apart, installed first.
    assert env.build_requirements == ("setuptools==68.0.0", "wheel==0.41.0")
    assert env.installable == (*env.build_requirements, *env.requirements)
    assert env.mlflow_version == "2.22.2"


def test_requirements_txt_comes_next_with_condas_python() -> None:
    env = model_environment({"requirements.txt": REQUIREMENTS, "conda.yaml": CONDA})

    assert env is not None
    assert (env.source, env.python_version) == ("requirements.txt", "3.9.7")
    assert env.requirements == ("mlflow==2.22.2", "scikit-learn==1.5.2", "numpy==1.26.4")


def test_condas_pip_section_comes_last() -> None:
    env = model_environment({"conda.yaml": CONDA})

    assert env is not None
    assert (env.source, env.python_version) == ("conda.yaml", "3.9.7")
    assert env.requirements == ("mlflow==2.9.0", "azureml-defaults", "xgboost==1.7.6")


def test_no_environment_files_name_no_environment() -> None:
    assert model_environment({"MLmodel": MLMODEL}) is None


def test_a_missing_included_file_is_a_model_error() -> None:
    with pytest.raises(ModelError, match=r"includes requirements\.txt, which is not in the model folder"):
        model_environment({"python_env.yaml": PYTHON_ENV})


@pytest.mark.parametrize(("name", "text"), [("python_env.yaml", "[1, 2"), ("conda.yaml", "- just a list")])
def test_unreadable_files_are_model_errors(name: str, text: str) -> None:
    with pytest.raises(ModelError, match=name):
        model_environment({name: text})


def test_read_model_environment_reads_the_folder(tmp_path: Path) -> None:
    (tmp_path / "python_env.yaml").write_text(PYTHON_ENV)
    (tmp_path / "requirements.txt").write_text(REQUIREMENTS)
    (tmp_path / "MLmodel").write_text(MLMODEL)
    (tmp_path / "model.pkl").write_bytes(b"\x80\x04not text")

    env = read_model_environment(tmp_path)

    assert env is not None and env.python_version == "3.10.5" and "scikit-learn==1.5.2" in env.requirements


@pytest.mark.parametrize(
    ("requirement", "azure"),
    [
        ("azureml-core==1.56.0", True),
        ("azureml-defaults", True),
        ("azureml_mlflow>=1.0", True),
        ("AzureML-Inference-Server-HTTP", True),
        ("azureml-ai-monitoring ; python_version >= '3.8'", True),
        ("azureml", True),
        ("inference-schema[numpy-support]==1.5", False),
        ("azure-ai-ml", False),
        ("azure-identity", False),
        ("mlflow", False),
        ("-r other.txt", False),
    ],
)
def test_azure_runtime_packages(requirement: str, azure: bool) -> None:
    assert is_azure_runtime_package(requirement) is azure


def test_azure_runtime_packages_are_split_out_in_order() -> None:
    kept, dropped = without_azure_runtime(["mlflow", "azureml-core", "pandas", " azureml-defaults "])

    assert (kept, dropped) == (["mlflow", "pandas"], ["azureml-core", "azureml-defaults"])


def test_the_scorer_needs_are_added_unpinned_when_missing() -> None:
    reqs, added = with_scorer_needs(["mlflow==2.22.2", "numpy<2", "pandas==1.5.3"], "2.22.2")

    assert added == ["pyarrow"]
    assert reqs == ["mlflow==2.22.2", "numpy<2", "pandas==1.5.3", "pyarrow"]


def test_mlflow_is_added_at_the_version_that_logged_the_model() -> None:
    _, added = with_scorer_needs(["scikit-learn==1.5.2", "PyArrow==15.0.2"], "2.22.2")

    assert added == ["mlflow==2.22.2", "pandas"]


def test_mlflow_skinny_counts_as_mlflow_but_brings_no_pandas() -> None:
    _, added = with_scorer_needs(["mlflow-skinny==2.22.2"], None)

    assert added == ["pandas", "pyarrow"]


def test_unpinned_mlflow_when_nothing_says_which() -> None:
    _, added = with_scorer_needs(["scikit-learn"], None)

    assert added == ["mlflow", "pandas", "pyarrow"]


INSTALLED = {"mlflow": "3.17.2", "scikit-learn": "1.9.1", "numpy": "2.4.0", "pandas": "3.1.0"}


def test_satisfied_requirements() -> None:
    requirements = ["mlflow==3.17.2", "scikit-learn>=1.9,<2", "NumPy", "pandas ; python_version < '3'"]

    assert unsatisfied(requirements, INSTALLED) == []


@pytest.mark.parametrize(
    ("requirement", "reason"),
    [
        ("scikit-learn==1.5.2", "scikit-learn==1.5.2 (batchpoint has 1.9.1)"),
        ("xgboost==1.7.6", "xgboost==1.7.6"),
        ("mlflow[extras]==3.17.2", "mlflow[extras]==3.17.2"),
        ("-e ./local", "-e ./local"),
        ("pkg @ https://example.invalid/pkg.whl", "pkg @ https://example.invalid/pkg.whl"),
    ],
)
def test_unsatisfied_requirements_are_named(requirement: str, reason: str) -> None:
    assert unsatisfied(["mlflow", requirement], INSTALLED) == [reason]


def test_our_own_environment_is_listed() -> None:
    assert {"mlflow", "pandas", "pyarrow", "scikit-learn"} <= installed_versions().keys()
    assert installed_versions(["MLflow", "no-such-dist-zq"]) == {"mlflow": installed_versions()["mlflow"]}


@pytest.mark.parametrize(
    ("requested", "fits"), [(None, True), ("3.11", True), ("3.11.2", True), ("3.10.13", False), ("3", False)]
)
def test_python_fits_on_the_minor_version(requested: str | None, fits: bool) -> None:
    assert python_fits(requested, "3.11.7") is fits
