"""``Input``: what a job reads: a local path (uploaded), ``s3://...`` or a data asset ``azureml:<name>:<v>``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from batchpoint.sdk.entities.entity import Entity, without_none


class Input(Entity):
    """Azure: ``Input(type=AssetTypes.URI_FOLDER, path=...)``; ``mode`` is accepted (inputs are downloaded)."""

    def __init__(
        self,
        *,
        type: str = "uri_folder",
        path: str | Path | None = None,
        mode: str | None = None,
        description: str | None = None,
        optional: bool | None = None,
    ) -> None:
        self.type = type
        self.path = path
        self.mode = mode
        self.description = description
        self.optional = optional

    def _to_dict(self) -> dict[str, Any]:
        return without_none({"type": self.type, "path": None if self.path is None else str(self.path)})
