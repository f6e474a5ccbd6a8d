"""``ml_client.workspaces``: the installation is one workspace, so ``get`` and ``list`` show that one.

Azure's notebooks start with ``ml_client.workspaces.get(ml_client.workspace_name)``; the workspace
is named as the client was (``workspace_name``), else ``batchpoint``.
"""

from __future__ import annotations

import builtins

from batchpoint.errors import NotFoundError
from batchpoint.sdk.entities.workspace import Workspace

DEFAULT_WORKSPACE_NAME = "batchpoint"


class WorkspaceOperations:
    """Azure: ``MLClient.workspaces`` (read-only: the workspace is the installation)."""

    def __init__(self, workspace: Workspace) -> None:
        self._workspace = workspace

    def get(self, name: str | None = None) -> Workspace:
        """The workspace; another ``name`` than the client's is ``NotFoundError``."""
        if name is not None and name != self._workspace.name:
            raise NotFoundError(
                "workspace", name, f"this batchpoint installation is the one workspace {self._workspace.name!r}"
            )
        return Workspace._from_dict(self._workspace._to_dict())

    def list(self, *, scope: str | None = None) -> builtins.list[Workspace]:
        """The one workspace (``scope`` is accepted, as in Azure)."""
        return [self.get()]
