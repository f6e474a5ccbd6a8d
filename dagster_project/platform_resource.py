"""The one resource the assets and sensors use: settings, registry, object store and workspace of this process."""

from __future__ import annotations

from functools import cached_property

from batchpoint.config import Settings
from batchpoint.management.workspace import Workspace
from batchpoint.registry.store import Registry
from batchpoint.storage.datastore import open_datastore
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
    def workspace(self) -> Workspace:
        """The management facade over the same registry and store (job rows the runs update)."""
        return Workspace(self.settings, registry=self.registry, store=self.store)

    @cached_property
    def store(self) -> S3Store:
        """The datastore."""
        s = self.settings
        return open_datastore(s)
