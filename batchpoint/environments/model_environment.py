"""The environment an MLflow model asks for, read from its own files in MLflow's order of preference.

1. ``python_env.yaml``: its ``python`` version, its ``build_dependencies`` (but ``pip``: uv installs;
   they are kept apart, as ``build_requirements``)
   and its ``dependencies`` (``-r requirements.txt`` read from the model folder);
2. else ``requirements.txt``, with the Python version of ``conda.yaml`` when there is one;
3. else ``conda.yaml``: its ``python=`` dependency and its ``pip:`` section.

``model_environment(files)`` is pure over the files' texts; ``read_model_environment(folder)``
reads them. What the built-in scorer needs beyond the model's own requirements is
``with_scorer_needs``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from batchpoint.environments.keys import normalised_requirements, requirement_name
from batchpoint.errors import ModelError
from batchpoint.specs.environment import conda_pip_requirements, conda_python_version

PYTHON_ENV = "python_env.yaml"
REQUIREMENTS = "requirements.txt"
CONDA = "conda.yaml"
MLMODEL = "MLmodel"
MODEL_FILES = (PYTHON_ENV, REQUIREMENTS, CONDA, MLMODEL)
# What the built-in scorer imports in the model's environment (besides the standard library).
SCORER_NEEDS = ("mlflow", "pandas", "pyarrow")
_MLFLOW_NAMES = {"mlflow", "mlflow-skinny"}


@dataclass(frozen=True)
class ModelEnvironment:
    """What the model's files ask for: requirements (as written) and a Python version, and where from.

    ``build_requirements`` are ``python_env.yaml``'s ``build_dependencies`` (but ``pip``): installed
    first, and not needed at run time, so they never make batchpoint's own interpreter unfit.
    """

    source: str
    requirements: tuple[str, ...]
    python_version: str | None
    mlflow_version: str | None = None
    build_requirements: tuple[str, ...] = ()

    @property
    def installable(self) -> tuple[str, ...]:
        """Everything to install: the build requirements, then the requirements."""
        return (*self.build_requirements, *self.requirements)


def _yaml(text: str, name: str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ModelError(f"the model's {name} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ModelError(f"the model's {name} is not a YAML mapping (got {type(data).__name__})")
    return data


def _requirement_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]


def _expanded(lines: list[str], files: Mapping[str, str]) -> list[str]:
    """``-r other.txt`` lines replaced by that file's lines (from the model folder, once each)."""
    found: list[str] = []
    for line in lines:
        if line.startswith(("-r ", "--requirement ")):
            name = line.split(None, 1)[1].strip()
            if name not in files:
                raise ModelError(f"the model's environment includes {name}, which is not in the model folder")
            found.extend(_expanded(_requirement_lines(files[name]), {k: v for k, v in files.items() if k != name}))
        else:
            found.append(line)
    return found


def _python(value: Any) -> str | None:
    return str(value).strip() if value not in (None, "") else None


def model_environment(files: Mapping[str, str]) -> ModelEnvironment | None:
    """The environment the model's files (name → text) ask for; ``None`` when they name none.

    Raises ``ModelError`` when a file is unreadable as what it claims to be.
    """
    mlflow_version = _mlflow_version(files.get(MLMODEL))
    conda = _yaml(files[CONDA], CONDA) if CONDA in files else None
    if PYTHON_ENV in files:
        env = _yaml(files[PYTHON_ENV], PYTHON_ENV)
        build = [str(d) for d in env.get("build_dependencies") or [] if requirement_name(str(d)) != "pip"]
        deps = _expanded([str(d).strip() for d in env.get("dependencies") or []], files)
        return ModelEnvironment(PYTHON_ENV, tuple(deps), _python(env.get("python")), mlflow_version, tuple(build))
    conda_python = _conda(conda, conda_python_version) if conda else None
    if REQUIREMENTS in files:
        lines = _expanded(_requirement_lines(files[REQUIREMENTS]), files)
        return ModelEnvironment(REQUIREMENTS, tuple(lines), conda_python, mlflow_version)
    if conda is not None:
        pip = _conda(conda, conda_pip_requirements) or []
        return ModelEnvironment(CONDA, tuple(_expanded(list(pip), files)), conda_python, mlflow_version)
    return None


def _conda(conda: dict[str, Any], read: Any) -> Any:
    try:
        return read(conda)
    except ValueError as exc:
        raise ModelError(f"the model's {CONDA} cannot be read: {exc}") from exc


def _mlflow_version(mlmodel: str | None) -> str | None:
    if mlmodel is None:
        return None
    try:
        data = yaml.safe_load(mlmodel)
    except yaml.YAMLError:
        return None  # the model loader reports an unreadable MLmodel; here it only pins mlflow
    version = data.get("mlflow_version") if isinstance(data, dict) else None
    return str(version) if version else None


def read_model_environment(folder: Path) -> ModelEnvironment | None:
    """``model_environment`` of the files in ``folder`` (the one holding ``MLmodel``)."""
    files: dict[str, str] = {}
    for path in folder.iterdir():
        if path.is_file() and (path.name in MODEL_FILES or path.suffix == ".txt"):
            files[path.name] = path.read_text(errors="replace")
    return model_environment(files)


def with_scorer_needs(requirements: list[str], mlflow_version: str | None) -> tuple[list[str], list[str]]:
    """``requirements`` plus what the built-in scorer imports and they lack, and the list of those added.

    Added unpinned, so the resolver picks versions that fit the model's own pins (mlflow bounds
    pyarrow and pandas; pyarrow's wheels take numpy 1.x and 2.x alike); mlflow at the version that
    logged the model (``MLmodel``'s ``mlflow_version``) when the requirements name no mlflow at all.
    """
    names = {requirement_name(r) for r in normalised_requirements(requirements)}
    added: list[str] = []
    for need in SCORER_NEEDS:
        if need == "mlflow" and names & _MLFLOW_NAMES:
            continue
        if need != "mlflow" and need in names:
            continue
        added.append(f"mlflow=={mlflow_version}" if need == "mlflow" and mlflow_version else need)
    if "mlflow" in names:
        added = [a for a in added if a != "pandas"]  # mlflow itself requires pandas (skinny does not)
    return [*requirements, *added], added
