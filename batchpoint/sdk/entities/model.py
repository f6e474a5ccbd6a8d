"""``Model``: a local folder to register, or a registered version read back from the API."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from batchpoint.sdk.entities.entity import Entity, parse_time, without_none


class Model(Entity):
    """Azure: ``Model(name=, path=, type=AssetTypes.MLFLOW_MODEL)``; after registration ``version`` is set."""

    def __init__(
        self,
        *,
        name: str | None = None,
        version: str | int | None = None,
        type: str | None = None,
        path: str | Path | None = None,
        description: str | None = None,
        tags: dict[str, str] | None = None,
        properties: dict[str, str] | None = None,
    ) -> None:
        self.name = name
        self.version = None if version is None else str(version)
        self.type = type or "custom_model"
        self.path = path
        self.description = description
        self.tags = dict(tags or {})
        self.properties = dict(properties or {})
        self.uri: str | None = None
        self.aliases: list[str] = []
        self.created_at: datetime | None = None
        self.source: str | None = None

    @property
    def id(self) -> str:
        """Azure-style reference usable as a deployment's ``model``: ``azureml:<name>:<version>``."""
        return f"azureml:{self.name}:{self.version}" if self.version else f"azureml:{self.name}@latest"

    def _to_dict(self) -> dict[str, Any]:
        path = Path(self.path).name if self.path is not None else None
        return without_none(
            {
                "name": self.name,
                "version": self.version,
                "type": self.type,
                "path": path,
                "description": self.description,
                "tags": self.tags,
                "properties": self.properties or None,
            }
        )

    @classmethod
    def _from_dict(cls, data: dict[str, Any]) -> Model:
        model = cls(
            name=data["name"],
            version=data.get("version"),
            type=data.get("type"),
            description=data.get("description"),
            tags=data.get("tags"),
        )
        model.uri = data.get("uri")
        model.aliases = list(data.get("aliases") or [])
        model.created_at = parse_time(data.get("created_at"))
        model.source = data.get("source")
        model.path = data.get("source")
        return model
