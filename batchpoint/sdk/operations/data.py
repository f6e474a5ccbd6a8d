"""``ml_client.data``: data assets; a local ``path`` is uploaded to the datastore first."""

from __future__ import annotations

from pathlib import Path

from batchpoint.sdk.entities.data import Data
from batchpoint.sdk.operations.endpoints import resolve_input_path
from batchpoint.sdk.operations.versioned_assets import VersionedAssets
from batchpoint.sdk.transport import ApiTransport


class DataOperations:
    """Azure: ``MLClient.data``."""

    def __init__(self, transport: ApiTransport) -> None:
        self._api = transport
        self._assets = VersionedAssets(transport, "data", "data asset")

    def create_or_update(self, data: Data) -> Data:
        """Register ``data``; a local file or folder is uploaded and registered at its ``s3://`` URI."""
        spec = data._to_dict()
        if data.path is not None:
            spec["path"] = resolve_input_path(self._api, data.path, "Data.path")
        return Data._from_dict(self._assets.register(spec))

    def upload(self, path: str | Path) -> str:
        """Store a local file or folder in the datastore; its ``s3://`` URI (a URI is returned as it is)."""
        return resolve_input_path(self._api, path, "Data.path")

    def get(self, name: str, version: str | None = None, label: str | None = None) -> Data:
        """One version, or the latest (``label="latest"``)."""
        return Data._from_dict(self._assets.get(name, version, label))

    def list(self, name: str | None = None) -> list[Data]:
        """Every data asset, or every version of ``name``."""
        return [Data._from_dict(d) for d in self._assets.list(name)]

    def archive(self, name: str, version: str) -> None:
        """Delete one version."""
        self._assets.delete(name, version)
