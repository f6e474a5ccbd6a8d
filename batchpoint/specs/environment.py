"""``EnvironmentSpec``: what a deployment's Python needs (Azure ``Environment``).

A conda file is accepted as Azure users write it; its ``pip:`` section is what batchpoint can
install, and its ``python=X.Y`` dependency is kept as ``python_version``.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import Field, field_validator, model_validator

from batchpoint.specs.asset_naming import AssetName, AssetVersion
from batchpoint.specs.base import Spec
from batchpoint.specs.free_text import Description, Tags

CONDA_FORM = "a conda environment mapping with `dependencies: [python=3.11, pip, {pip: [...]}]`"
_PYTHON = re.compile(r"^python\s*[=<>~!]*\s*(?P<version>\d+(?:\.\d+)*)")


def _conda_dependencies(conda: dict[str, Any]) -> list[Any]:
    deps = conda.get("dependencies", [])
    if not isinstance(deps, list):
        raise ValueError(f"dependencies must be a list, got {deps!r}; expected {CONDA_FORM}")
    return deps


def conda_pip_requirements(conda: dict[str, Any]) -> list[str]:
    """The ``pip:`` section of a conda file's dependencies."""
    found: list[str] = []
    for dep in _conda_dependencies(conda):
        if isinstance(dep, dict):
            pip = dep.get("pip", [])
            if set(dep) != {"pip"} or not isinstance(pip, list) or not all(isinstance(p, str) for p in pip):
                raise ValueError(f"got {dep!r}; expected {CONDA_FORM}")
            found.extend(pip)
    return found


def conda_python_version(conda: dict[str, Any]) -> str | None:
    """``3.11`` of a ``python=3.11`` conda dependency, if any."""
    for dep in _conda_dependencies(conda):
        match = _PYTHON.match(dep) if isinstance(dep, str) else None
        if match:
            return match["version"]
    return None


def conda_only_packages(conda: dict[str, Any]) -> list[str]:
    """Conda packages batchpoint cannot install (everything but python, pip and the pip section)."""
    return [d for d in _conda_dependencies(conda) if isinstance(d, str) and not _PYTHON.match(d) and d.strip() != "pip"]


class EnvironmentSpec(Spec):
    """A named, versioned set of requirements; ``image`` is accepted but means nothing here."""

    name: AssetName
    version: AssetVersion | None = None
    description: Description = ""
    conda_file: dict[str, Any] | None = None
    pip_requirements: list[str] = Field(default_factory=list)
    python_version: str | None = Field(default=None, pattern=r"^\d+(\.\d+){0,2}$")
    image: str | None = None
    tags: Tags = Field(default_factory=dict)

    @field_validator("conda_file")
    @classmethod
    def _conda_is_readable(cls, conda: dict[str, Any] | None) -> dict[str, Any] | None:
        if conda is not None:
            conda_pip_requirements(conda)
        return conda

    @model_validator(mode="before")
    @classmethod
    def _python_from_conda(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("conda_file"), dict) and not data.get("python_version"):
            try:
                version = conda_python_version(data["conda_file"])
            except ValueError:
                return data  # the conda_file validator reports it with its field name
            if version:
                return {**data, "python_version": version}
        return data

    @property
    def installable_requirements(self) -> list[str]:
        """pip requirements: ``pip_requirements`` then the conda file's pip section."""
        conda = conda_pip_requirements(self.conda_file) if self.conda_file else []
        return [*self.pip_requirements, *conda]
