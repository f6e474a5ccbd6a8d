"""``ml_client.environments``: named, versioned requirements (pip or a conda file)."""

from __future__ import annotations

from batchpoint.sdk.entities.environment import Environment
from batchpoint.sdk.operations.versioned_assets import VersionedAssets
from batchpoint.sdk.transport import ApiTransport


class EnvironmentOperations:
    """Azure: ``MLClient.environments``."""

    def __init__(self, transport: ApiTransport) -> None:
        self._assets = VersionedAssets(transport, "environments", "environment")

    def create_or_update(self, environment: Environment) -> Environment:
        """Register ``environment`` (a conda file path is read here); returns it with its version."""
        return Environment._from_dict(self._assets.register(environment._to_dict()))

    def get(self, name: str, version: str | None = None, label: str | None = None) -> Environment:
        """One version, or the latest."""
        return Environment._from_dict(self._assets.get(name, version, label))

    def list(self, name: str | None = None) -> list[Environment]:
        """Every environment, or every version of ``name``."""
        return [Environment._from_dict(d) for d in self._assets.list(name)]

    def archive(self, name: str, version: str) -> None:
        """Delete one version (Azure archives; nothing refers to a deleted version afterwards)."""
        self._assets.delete(name, version)
