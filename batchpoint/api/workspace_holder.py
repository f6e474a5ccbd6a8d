"""One ``Workspace`` per app, made on first use by the injected factory and closed at shutdown."""

from __future__ import annotations

import threading
from collections.abc import Callable

from batchpoint.management.workspace import Workspace

WorkspaceFactory = Callable[[], Workspace]


class WorkspaceHolder:
    """Create the workspace lazily (tests inject theirs; the server builds one from Settings)."""

    def __init__(self, factory: WorkspaceFactory) -> None:
        self._factory = factory
        self._workspace: Workspace | None = None
        self._lock = threading.Lock()

    def get(self) -> Workspace:
        """The workspace, created on the first call."""
        with self._lock:
            if self._workspace is None:
                self._workspace = self._factory()
            return self._workspace

    def close(self) -> None:
        """Release the workspace's connections, if it was made."""
        with self._lock:
            workspace, self._workspace = self._workspace, None
        close = getattr(workspace, "close", None)
        if callable(close):
            close()
