"""Endpoints created or deleted through the Workspace become (or stop being) Dagster assets at once."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

import pytest

from batchpoint.config import Settings
from batchpoint.management.workspace import Workspace
from batchpoint.orchestration.dagster_graphql import DagsterClient
from batchpoint.specs.endpoint import BatchEndpoint

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]


def test_endpoint_changes_reload_dagster_without_a_manual_call(stack: Settings) -> None:
    name = f"reload-{uuid.uuid4().hex[:6]}"
    key = [name.replace("-", "_"), "predictions"]
    dagster = DagsterClient(stack.dagster_url)
    assert not dagster.asset_defined(key)
    with Workspace(stack) as workspace:
        workspace.batch_endpoints.create_or_update(
            BatchEndpoint.parse({"name": name, "data_arrival": {"prefix": f"{name}/"}})
        )
        assert _eventually(lambda: dagster.asset_defined(key)), "the endpoint's asset never appeared in Dagster"
        workspace.batch_endpoints.delete(name)
        assert _eventually(lambda: not dagster.asset_defined(key)), "the deleted endpoint's asset stayed in Dagster"


def _eventually(check: Callable[[], bool], timeout: float = 90.0) -> bool:
    """The reload runs in the background; wait for its effect, as a user reloading the UI would."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.5)
    return False
