"""The one resource the assets and sensors use: settings, registry and object store of this process."""

from __future__ import annotations

from functools import cached_property

from batchpoint.config import Settings
from batchpoint.registry.store import Registry
from batchpoint.storage.s3 import S3Store


class Platform:
    """Lazily built adapters over one ``Settings`` (read once per process by the definitions)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @cached_property
    def registry(self) -> Registry:
        """The endpoint/deployment registry."""
        return Registry(self.settings.registry)

    @cached_property
    def store(self) -> S3Store:
        """The datastore."""
        s = self.settings
        return S3Store(s.s3_url, s.access_key, s.secret_key, s.region)
