"""What the operations talk to: the registry database, the object store, the model registry, Dagster.

Each is made on first use, so a token command does not start an MLflow client and a test can pass
its own store.
"""

from __future__ import annotations

import functools
import threading
from typing import TYPE_CHECKING

from batchpoint.config import Settings
from batchpoint.orchestration.dagster_graphql import DagsterClient, reload_in_background
from batchpoint.registry.store import Registry
from batchpoint.storage.datastore import open_datastore
from batchpoint.storage.port import ObjectStore

if TYPE_CHECKING:
    from batchpoint.models.model_registry import ModelRegistry


class Backends:
    """The services behind one ``Workspace``."""

    def __init__(
        self,
        settings: Settings,
        *,
        registry: Registry | None = None,
        store: ObjectStore | None = None,
        models: ModelRegistry | None = None,
    ) -> None:
        self.settings = settings
        self.registry = registry or Registry(settings.registry)
        self._reload_lock = threading.Lock()
        self._reload_waiting = False
        self._store = store
        self._models = models

    def definitions_changed(self) -> None:
        """Tell the orchestrator that endpoints or deployments changed, so it rebuilds their assets.

        Runs in the background: a reload takes seconds (the code server re-imports the
        definitions) and must not hold up the API call that caused it. Changes made while a reload
        is waiting to start share it. Best effort: the change is already stored, and a Dagster that
        is down picks it up when it next loads its code (the invocation sensor also reloads when it
        meets an endpoint it does not know), so a failed reload is logged, never raised.
        """
        with self._reload_lock:
            if self._reload_waiting:
                return
            self._reload_waiting = True
        reload_in_background(self.settings.dagster_url, timeout=120.0, on_start=self._reload_starting)

    def _reload_starting(self) -> None:
        with self._reload_lock:
            # Cleared as the reload starts: a change made during this reload asks for another one.
            self._reload_waiting = False

    @property
    def store(self) -> ObjectStore:
        """The S3 store at ``Settings.s3_url``."""
        if self._store is None:
            s = self.settings
            self._store = open_datastore(s)
        return self._store

    @property
    def models(self) -> ModelRegistry:
        """The MLflow model registry (imported on first use: importing MLflow takes seconds)."""
        if self._models is None:
            from batchpoint.models.model_registry import ModelRegistry

            self._models = ModelRegistry(self.settings)
        return self._models

    @functools.cached_property
    def dagster(self) -> DagsterClient:
        """Dagster's GraphQL API (to terminate a canceled job's run)."""
        return DagsterClient(self.settings.dagster_url)

    def close(self) -> None:
        """Release database connections."""
        self.registry.close()
