"""``OutputVersion``: one version of an endpoint partition's outputs as the API lists it."""

from __future__ import annotations

from typing import Any

from batchpoint.sdk.entities.entity import Entity, parse_time


class OutputVersion(Entity):
    """A version: ``version_id``, ``status`` (Completed/Failed), counts, model, deployment, ``is_latest``."""

    def __init__(self, data: dict[str, Any]) -> None:
        self._data = dict(data)
        self.version_id: str = data["version_id"]
        self.status: str = data.get("status", "Unknown")
        self.started_at = parse_time(data.get("started_at"))
        self.rows: int | None = data.get("rows")
        self.failed_items: int | None = data.get("failed_items")
        self.files: int | None = data.get("files")
        self.model_name: str | None = data.get("model_name")
        self.model_version: str | None = data.get("model_version")
        self.deployment_name: str | None = data.get("deployment_name")
        self.promoted: bool = bool(data.get("promoted", True))
        self.is_latest: bool = bool(data.get("is_latest", False))
        self.output_uri: str | None = data.get("output_uri")

    @property
    def name(self) -> str:
        """The version id (entities are named)."""
        return self.version_id

    def _to_dict(self) -> dict[str, Any]:
        return dict(self._data)
