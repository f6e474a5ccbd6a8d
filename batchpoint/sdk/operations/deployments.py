"""``ml_client.batch_deployments``: deployments of an endpoint, their code uploaded and environment registered."""

from __future__ import annotations

import builtins

from batchpoint.errors import SpecError
from batchpoint.sdk.entities.deployment import BatchDeployment
from batchpoint.sdk.entities.environment import Environment
from batchpoint.sdk.entities.job import BatchJob
from batchpoint.sdk.operations.endpoints import resolve_input_path, segment
from batchpoint.sdk.operations.environments import EnvironmentOperations
from batchpoint.sdk.poller import LROPoller
from batchpoint.sdk.transport import ApiTransport


class BatchDeploymentOperations:
    """Azure: ``MLClient.batch_deployments``."""

    def __init__(self, transport: ApiTransport, environments: EnvironmentOperations) -> None:
        self._api = transport
        self._environments = environments

    def begin_create_or_update(
        self, deployment: BatchDeployment, *, set_default: bool = False
    ) -> LROPoller[BatchDeployment]:
        """Create or replace a deployment; local code is uploaded, an inline ``Environment`` registered."""
        if not deployment.endpoint_name:
            raise SpecError("BatchDeployment.endpoint_name", "is missing", "the name of an existing endpoint")
        if not deployment.name:
            raise SpecError("BatchDeployment.name", "is missing", "a letter, then letters, digits or hyphens")
        environment = deployment.environment
        if isinstance(environment, Environment):
            environment.name = environment.name or f"{deployment.endpoint_name}-{deployment.name}-env"
            environment = self._environments.create_or_update(environment)
        code = deployment.code_path
        if code is not None:
            code = resolve_input_path(self._api, code, "BatchDeployment.code_configuration.code")
        body = deployment._spec(environment, code)
        path = f"/v1/batch-endpoints/{segment(deployment.endpoint_name)}/deployments/{segment(deployment.name)}"
        answer = self._api.request("PUT", path, json=body, params={"set_default": str(set_default).lower()})
        return LROPoller(BatchDeployment._from_dict(answer))

    def get(self, name: str, endpoint_name: str) -> BatchDeployment:
        """One deployment of an endpoint."""
        path = f"/v1/batch-endpoints/{segment(endpoint_name)}/deployments/{segment(name)}"
        return BatchDeployment._from_dict(self._api.get(path))

    def list(self, endpoint_name: str) -> list[BatchDeployment]:
        """The endpoint's deployments."""
        path = f"/v1/batch-endpoints/{segment(endpoint_name)}/deployments"
        return [BatchDeployment._from_dict(d) for d in self._api.values(path)]

    def begin_delete(self, name: str, endpoint_name: str) -> LROPoller[None]:
        """Delete a deployment (refused for the endpoint's default while others exist)."""
        self._api.request("DELETE", f"/v1/batch-endpoints/{segment(endpoint_name)}/deployments/{segment(name)}")
        return LROPoller(None)

    def list_jobs(self, endpoint_name: str, name: str | None = None) -> builtins.list[BatchJob]:
        """Jobs of the endpoint run by this deployment, newest first."""
        path = f"/v1/batch-endpoints/{segment(endpoint_name)}/jobs"
        return [BatchJob(d) for d in self._api.values(path, deployment_name=name)]
