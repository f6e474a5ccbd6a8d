"""``Data``: a registered folder or file in the datastore, ``name:version``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from batchpoint.sdk.entities.entity import Entity, without_none


class Data(Entity):
    """Azure: ``Data(name=, path="data", type=AssetTypes.URI_FOLDER)``; a local ``path`` is uploaded."""

    def __init__(
        self,
        *,
        name: str | None = None,
        version: str | int | None = None,
        type: str = "uri_folder",
        path: str | Path | None = None,
        description: str | None = None,
        tags: dict[str, str] | None = None,
        properties: dict[str, str] | None = None,
    ) -> None:
        self.name = name
        self.version = None if version is None else str(version)
        self.type = type
        self.path = path
        self.description = description
        self.tags = dict(tags or {})
        self.properties = dict(properties or {})

    @property
    def id(self) -> str:
        """A reference usable as an ``Input`` path: ``azureml:<name>:<version>``."""
        return f"azureml:{self.name}:{self.version}" if self.version else f"azureml:{self.name}@latest"

    def _to_dict(self) -> dict[str, Any]:
        return without_none(
            {
                "name": self.name,
                "version": self.version,
                "type": self.type,
                "path": None if self.path is None else str(self.path),
                "description": self.description,
                "tags": self.tags,
            }
        )

    @classmethod
    def _from_dict(cls, data: dict[str, Any]) -> Data:
        keys = ("name", "version", "type", "path", "description", "tags")
        return cls(**{k: data[k] for k in keys if k in data})
