"""Constants with ``azure.ai.ml.constants``' names and values."""

from __future__ import annotations

from batchpoint.specs.deployment import BatchDeploymentOutputAction

__all__ = ["AssetTypes", "BatchDeploymentOutputAction", "InputOutputModes"]


class AssetTypes:
    """Types of models, data and inputs (``Model.type``, ``Data.type``, ``Input.type``)."""

    URI_FOLDER = "uri_folder"
    URI_FILE = "uri_file"
    MLFLOW_MODEL = "mlflow_model"
    CUSTOM_MODEL = "custom_model"


class InputOutputModes:
    """Accepted for ``Input(mode=...)``; inputs are always downloaded here."""

    RO_MOUNT = "ro_mount"
    DOWNLOAD = "download"
    DIRECT = "direct"
