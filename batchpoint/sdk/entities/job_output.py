"""``Output``: where a job writes, as Azure's ``invoke(outputs={"score": Output(path=...)})`` names it."""

from __future__ import annotations

from typing import Any

from batchpoint.sdk.entities.entity import Entity, without_none


class Output(Entity):
    """Azure: ``Output(type=AssetTypes.URI_FOLDER, path="azureml://datastores/workspaceblobstore/paths/...")``."""

    def __init__(
        self,
        *,
        type: str = "uri_folder",
        path: str | None = None,
        mode: str | None = None,
        description: str | None = None,
    ) -> None:
        self.type = type
        self.path = path
        self.mode = mode
        self.description = description

    def _to_dict(self) -> dict[str, Any]:
        return without_none({"type": self.type, "path": self.path})
