"""``MLClient``: the SDK's entry point, shaped like ``azure.ai.ml.MLClient``.

Azure's positional ``credential, subscription_id, resource_group_name, workspace_name`` are accepted
and ignored; the API is found through ``endpoint=``, ``BATCHPOINT_API_URL`` or ``~/.batchpoint/config.json``
and authenticated with ``token=``, the credential's token, ``BATCHPOINT_API_TOKEN`` or the config file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from batchpoint.errors import SpecError
from batchpoint.sdk.connection import Connection
from batchpoint.sdk.credentials import token_of
from batchpoint.sdk.entities.compute import AmlCompute
from batchpoint.sdk.entities.deployment import BatchDeployment
from batchpoint.sdk.entities.endpoint import BatchEndpoint
from batchpoint.sdk.entities.workspace import Workspace
from batchpoint.sdk.operations.compute import ComputeOperations
from batchpoint.sdk.operations.data import DataOperations
from batchpoint.sdk.operations.deployments import BatchDeploymentOperations
from batchpoint.sdk.operations.endpoints import BatchEndpointOperations
from batchpoint.sdk.operations.environments import EnvironmentOperations
from batchpoint.sdk.operations.jobs import JobOperations
from batchpoint.sdk.operations.models import ModelOperations
from batchpoint.sdk.operations.outputs import OutputOperations
from batchpoint.sdk.operations.workspaces import DEFAULT_WORKSPACE_NAME, WorkspaceOperations
from batchpoint.sdk.poller import LROPoller
from batchpoint.sdk.transport import ApiTransport


class MLClient:
    """A client of one batchpoint installation, with Azure's operation groups."""

    def __init__(
        self,
        credential: Any = None,
        subscription_id: str | None = None,
        resource_group_name: str | None = None,
        workspace_name: str | None = None,
        *,
        endpoint: str | None = None,
        token: str | None = None,
        verify: bool | str = True,
        transport: httpx.BaseTransport | None = None,
        show_progress: bool = True,
    ) -> None:
        self.subscription_id = subscription_id
        self.resource_group_name = resource_group_name
        self.workspace_name = workspace_name
        if token is None:
            token = token_of(credential)
        self._transport = ApiTransport(
            Connection.resolve(endpoint=endpoint, token=token),
            transport=transport,
            verify=verify,
            show_progress=show_progress,
        )
        self.batch_endpoints = BatchEndpointOperations(self._transport)
        self.environments = EnvironmentOperations(self._transport)
        self.batch_deployments = BatchDeploymentOperations(self._transport, self.environments)
        self.models = ModelOperations(self._transport)
        self.compute = ComputeOperations(self._transport)
        self.data = DataOperations(self._transport)
        self.jobs = JobOperations(self._transport)
        self.outputs = OutputOperations(self._transport)
        self.workspaces = WorkspaceOperations(
            Workspace(
                name=workspace_name or DEFAULT_WORKSPACE_NAME,
                resource_group=resource_group_name,
                subscription_id=subscription_id,
                discovery_url=self.api_url,
            )
        )

    @classmethod
    def from_config(cls, credential: Any = None, *, path: str | Path | None = None, **kwargs: Any) -> MLClient:
        """Azure reads the workspace from ``config.json``; here the API is found the usual way."""
        return cls(credential, **kwargs)

    @property
    def api_url(self) -> str:
        """The URL of the API this client talks to."""
        return self._transport.connection.url

    def begin_create_or_update(self, entity: Any) -> LROPoller[Any]:
        """Create or update an endpoint, deployment or compute, whichever ``entity`` is."""
        if isinstance(entity, BatchEndpoint):
            return self.batch_endpoints.begin_create_or_update(entity)
        if isinstance(entity, BatchDeployment):
            return self.batch_deployments.begin_create_or_update(entity)
        if isinstance(entity, AmlCompute):
            return self.compute.begin_create_or_update(entity)
        raise SpecError("entity", f"got a {type(entity).__name__}", "a BatchEndpoint, BatchDeployment or AmlCompute")

    def create_or_update(self, entity: Any) -> Any:
        """Azure's synchronous form for assets (models, environments, data) and the ``begin_`` ones."""
        from batchpoint.sdk.entities import Data, Environment, Model

        if isinstance(entity, Model):
            return self.models.create_or_update(entity)
        if isinstance(entity, Environment):
            return self.environments.create_or_update(entity)
        if isinstance(entity, Data):
            return self.data.create_or_update(entity)
        return self.begin_create_or_update(entity).result()

    def close(self) -> None:
        """Close the HTTP connections."""
        self._transport.close()

    def __enter__(self) -> MLClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
