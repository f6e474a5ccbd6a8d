"""``Environment``: pip requirements or a conda file (its pip section is what gets installed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from batchpoint.sdk.entities.entity import Entity, without_none
from batchpoint.specs.yaml_loading import read_yaml


class Environment(Entity):
    """Azure: ``Environment(name=, conda_file="env/conda.yaml", image=...)``; ``image`` has no meaning here."""

    def __init__(
        self,
        *,
        name: str | None = None,
        version: str | int | None = None,
        description: str | None = None,
        conda_file: str | Path | dict[str, Any] | None = None,
        pip_requirements: list[str] | None = None,
        python_version: str | None = None,
        image: str | None = None,
        tags: dict[str, str] | None = None,
        properties: dict[str, str] | None = None,
    ) -> None:
        self.name = name
        self.version = None if version is None else str(version)
        self.description = description
        self.conda_file = conda_file
        self.pip_requirements = pip_requirements
        self.python_version = python_version
        self.image = image
        self.tags = dict(tags or {})
        self.properties = dict(properties or {})

    @property
    def id(self) -> str:
        """``azureml:<name>:<version>``."""
        return f"azureml:{self.name}:{self.version}" if self.version else f"azureml:{self.name}@latest"

    def _to_dict(self) -> dict[str, Any]:
        """The spec JSON; a conda file path is read (relative to the working directory) into a dict."""
        conda = self.conda_file
        if isinstance(conda, str | Path):
            conda = read_yaml(Path(conda))
        return without_none(
            {
                "name": self.name,
                "version": self.version,
                "description": self.description,
                "conda_file": conda,
                "pip_requirements": self.pip_requirements,
                "python_version": self.python_version,
                "image": self.image,
                "tags": self.tags,
            }
        )

    @classmethod
    def _from_dict(cls, data: dict[str, Any]) -> Environment:
        return cls(**{k: v for k, v in data.items() if k in _FIELDS})


_FIELDS = {"name", "version", "description", "conda_file", "pip_requirements", "python_version", "image", "tags"}
