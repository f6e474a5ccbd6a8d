"""``Workspace.models``: model versions in MLflow's registry (Azure ``ml_client.models``)."""

from __future__ import annotations

from pathlib import Path

from batchpoint.management.backends import Backends
from batchpoint.specs.model_asset import ModelSpec, ModelVersionInfo


class ModelOperations:
    """Register, read and alias model versions."""

    def __init__(self, backends: Backends) -> None:
        self._b = backends

    def create(self, spec: ModelSpec, local_dir: Path | None = None) -> ModelVersionInfo:
        """A new version from ``local_dir`` (else ``spec.path``: a folder or ``runs:/<run_id>/<path>``)."""
        return self._b.models.create(spec, local_dir)

    def get(self, name: str, version: str | None = None, label: str | None = None) -> ModelVersionInfo:
        """A version by number, by label (``latest`` or an alias), or the latest."""
        return self._b.models.get(name, version=version, label=label)

    def list(self, name: str | None = None) -> list[ModelVersionInfo]:
        """Versions of ``name``, newest first; without a name, each model's latest version."""
        return self._b.models.list(name)

    def set_alias(self, name: str, alias: str, version: str) -> ModelVersionInfo:
        """Point ``alias`` at ``version``."""
        return self._b.models.set_alias(name, alias, version)

    def delete_alias(self, name: str, alias: str) -> None:
        """Remove ``alias``."""
        self._b.models.delete_alias(name, alias)
