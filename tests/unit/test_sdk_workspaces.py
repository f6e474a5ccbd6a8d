"""``ml_client.workspaces``: the installation is the one workspace Azure's notebooks ``get`` first."""

from __future__ import annotations

import pytest

from batchpoint.errors import NotFoundError
from batchpoint.sdk import MLClient
from batchpoint.sdk.entities import Workspace


def test_get_returns_the_workspace_the_client_names() -> None:
    ml_client = MLClient(None, "sub", "rg", "my-ws", endpoint="http://127.0.0.1:1", token="t")
    workspace = ml_client.workspaces.get(ml_client.workspace_name)
    assert isinstance(workspace, Workspace)
    assert (workspace.name, workspace.resource_group, workspace.subscription_id) == ("my-ws", "rg", "sub")
    assert (workspace.location, workspace.discovery_url) == ("local", "http://127.0.0.1:1")
    assert [w.name for w in ml_client.workspaces.list()] == ["my-ws"]
    with pytest.raises(NotFoundError, match=r"workspace 'other' not found; .* one workspace 'my-ws'"):
        ml_client.workspaces.get("other")


def test_without_a_workspace_name_it_is_called_batchpoint() -> None:
    ml_client = MLClient(endpoint="http://127.0.0.1:1", token="t")
    assert ml_client.workspaces.get().name == "batchpoint"
    assert ml_client.workspaces.get("batchpoint")._to_dict()["display_name"] == "batchpoint"
