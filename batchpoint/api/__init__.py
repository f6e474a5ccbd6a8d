"""The HTTPS API (FastAPI) over the workspace facade: ``create_app(workspace_factory)``."""

from batchpoint.api.app import create_app

__all__ = ["create_app"]
