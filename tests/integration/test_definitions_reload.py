"""Endpoints created or deleted through the Workspace become (or stop being) Dagster assets at once."""

from __future__ import annotations

import uuid

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
        assert dagster.asset_defined(key), "the endpoint's predictions asset is not in Dagster after create"
        workspace.batch_endpoints.delete(name)
    assert not dagster.asset_defined(key), "the deleted endpoint's asset is still in Dagster"
