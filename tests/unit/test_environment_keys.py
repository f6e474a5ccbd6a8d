"""The content key of an environment spec: stable, order-free, sensitive to what gets installed."""

from __future__ import annotations

from pathlib import Path

import pytest

from batchpoint.environments import EnvironmentBuilder, environment_key, normalised_requirements
from batchpoint.specs.environment import EnvironmentSpec

SKLEARN_152 = ["scikit-learn==1.5.2", "numpy<2"]


def test_key_is_stable_across_runs() -> None:
    # Pinned: a change here silently rebuilds every cached environment, so it must be deliberate.
    assert environment_key(SKLEARN_152, "3.11") == environment_key(list(SKLEARN_152), "3.11")
    assert environment_key(SKLEARN_152, "3.11") == "e6f2e41e97b6b35a0ac89369091f7efc768e43da41c2c4403c3ebdf615730fea"


@pytest.mark.parametrize(
    "variant",
    [
        ["numpy<2", "scikit-learn==1.5.2"],
        ["scikit-learn == 1.5.2", "numpy < 2"],
        ["Scikit_Learn==1.5.2", "NumPy<2", "numpy<2"],
        ["  scikit-learn==1.5.2  ", "", "# the model's pins", "numpy<2  # abi"],
    ],
)
def test_key_ignores_order_spacing_case_and_comments(variant: list[str]) -> None:
    assert environment_key(variant, "3.11") == environment_key(SKLEARN_152, "3.11")


@pytest.mark.parametrize(
    ("requirements", "python"),
    [
        (SKLEARN_152, "3.10"),
        (SKLEARN_152, "3.11.7"),
        (["scikit-learn==1.5.1", "numpy<2"], "3.11"),
        (["scikit-learn==1.5.2"], "3.11"),
        (["scikit-learn[alldeps]==1.5.2", "numpy<2"], "3.11"),
    ],
)
def test_key_changes_with_what_is_installed(requirements: list[str], python: str) -> None:
    assert environment_key(requirements, python) != environment_key(SKLEARN_152, "3.11")


def test_markers_keep_their_inner_spacing() -> None:
    assert normalised_requirements(['tomli>=2 ; python_version  <  "3.11"']) == ['tomli>=2; python_version < "3.11"']


def test_conda_pip_section_and_pip_requirements_share_a_key(tmp_path: Path) -> None:
    builder = EnvironmentBuilder(tmp_path)
    from_pip = EnvironmentSpec.parse({"name": "a", "pip_requirements": SKLEARN_152, "python_version": "3.11"})
    conda = {"dependencies": ["python=3.11", "pip", {"pip": list(reversed(SKLEARN_152))}]}
    from_conda = EnvironmentSpec.parse({"name": "b", "version": "2", "conda_file": conda})
    assert builder.key(from_pip) == builder.key(from_conda)


def test_names_and_descriptions_do_not_change_the_key(tmp_path: Path) -> None:
    builder = EnvironmentBuilder(tmp_path)
    one = EnvironmentSpec.parse({"name": "one", "pip_requirements": SKLEARN_152, "python_version": "3.11"})
    two = EnvironmentSpec.parse(
        {
            "name": "two",
            "description": "x",
            "tags": {"t": "1"},
            "pip_requirements": SKLEARN_152,
            "python_version": "3.11",
        }
    )
    assert builder.key(one) == builder.key(two)
