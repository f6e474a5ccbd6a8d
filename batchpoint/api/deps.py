"""FastAPI dependencies shared by the routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from batchpoint.api.workspace_holder import WorkspaceHolder
from batchpoint.management.workspace import Workspace


def _workspace(request: Request) -> Workspace:
    holder: WorkspaceHolder = request.app.state.workspaces
    return holder.get()


WorkspaceDep = Annotated[Workspace, Depends(_workspace)]
"""The app's workspace facade, the only thing the routes talk to."""
