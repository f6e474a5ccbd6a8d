"""``ModelSpec`` (what is registered) and ``ModelVersionInfo`` (what the registry answers)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import Field

from batchpoint.specs.asset_naming import AssetName
from batchpoint.specs.base import Spec
from batchpoint.specs.free_text import Description, Tags


class ModelType(StrEnum):
    """Azure's ``AssetTypes`` for models: an MLflow model folder, or any files."""

    MLFLOW_MODEL = "mlflow_model"
    CUSTOM_MODEL = "custom_model"


class ModelSpec(Spec):
    """A model version to register (Azure ``Model``): a local folder or ``runs:/<run_id>/<path>``."""

    name: AssetName
    version: str | None = Field(default=None, pattern=r"^\d+$", description="assigned by the registry")
    type: ModelType = ModelType.CUSTOM_MODEL
    path: str | None = None
    description: Description = ""
    tags: Tags = Field(default_factory=dict)
    properties: Tags = Field(default_factory=dict)

    @property
    def run_artifact(self) -> bool:
        """Whether ``path`` names artifacts of an MLflow run (``runs:/<run_id>/<path>``)."""
        return bool(self.path and self.path.startswith("runs:/"))


class ModelVersionInfo(Spec):
    """One registered model version."""

    name: str
    version: str
    type: ModelType
    uri: str = Field(description="models:/<name>/<version>")
    aliases: list[str] = Field(default_factory=list)
    description: str = ""
    tags: dict[str, str] = Field(default_factory=dict)
    created_at: datetime | None = None
    source: str = ""
