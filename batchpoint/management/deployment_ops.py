"""``Workspace.batch_deployments``: deployments checked against what they reference, then stored.

At create time, as Azure does: the model reference is pinned to a concrete registered version
(``@latest`` or an alias becomes ``models:/<name>/<version>``), environment and compute references
must name registered assets (stored pinned, ``azureml:<name>:<version>``), and a local
``code_configuration.code`` folder is uploaded to S3 and replaced by its URI.
"""

from __future__ import annotations

from batchpoint.errors import ConflictError, NotFoundError, SpecError
from batchpoint.management.asset_ops import ComputeOperations, EnvironmentOperations
from batchpoint.management.backends import Backends
from batchpoint.management.code_upload import store_code
from batchpoint.specs.deployment import BatchDeployment
from batchpoint.specs.model_ref import VALID_FORMS, ParsedModelRef


class DeploymentOperations:
    """Batch deployments (Azure ``ml_client.batch_deployments``)."""

    def __init__(self, backends: Backends) -> None:
        self._b = backends
        self._environments = EnvironmentOperations(backends)
        self._computes = ComputeOperations(backends)

    def create_or_update(self, deployment: BatchDeployment, *, set_default: bool = False) -> BatchDeployment:
        """Validate references, pin versions, store code; the endpoint's first deployment becomes its default."""
        self._b.registry.get_endpoint(deployment.endpoint_name)
        resolved = self.resolve_references(deployment)
        stored = self._b.registry.create_or_update_deployment(resolved, set_default=set_default)
        self._b.definitions_changed()
        return stored

    def resolve_references(self, deployment: BatchDeployment) -> BatchDeployment:
        """``deployment`` with model, environment and compute pinned and code in S3."""
        update: dict[str, object] = {"model": self._pinned_model(deployment.model)}
        if deployment.environment is not None:
            env = self._environments.resolve(deployment.environment, "environment")
            update["environment"] = f"azureml:{env.name}:{env.version}"
        if deployment.compute is not None:
            compute = self._computes.resolve(deployment.compute, "compute")
            # Locally a compute pool bounds the worker processes: a deployment may not ask for more
            # instances than its pool has (Azure refuses the same at deployment time).
            if deployment.resources.instance_count > compute.max_instances:
                raise SpecError(
                    "resources.instance_count",
                    f"{deployment.resources.instance_count} is more than compute {compute.name!r} allows",
                    f"at most its max_instances, {compute.max_instances}",
                )
            update["compute"] = f"azureml:{compute.name}"
        code = deployment.code_configuration
        if code is not None:
            uri = store_code(
                code.code,
                code.scoring_script,
                store=self._b.store,
                bucket=self._b.settings.output_bucket,
                endpoint=deployment.endpoint_name,
                deployment=deployment.name,
            )
            update["code_configuration"] = code.model_copy(update={"code": uri})
        return deployment.model_copy(update=update)

    def _pinned_model(self, ref: ParsedModelRef) -> ParsedModelRef:
        try:
            found = self._b.models.get(ref.name, version=ref.version, label=ref.alias)
        except NotFoundError as exc:
            raise SpecError("model", f"{ref.uri} is not a registered model version ({exc})", VALID_FORMS) from exc
        return ParsedModelRef(found.name, found.version)

    def get(self, endpoint: str, name: str) -> BatchDeployment:
        """One deployment; ``NotFoundError`` naming endpoint and deployment otherwise."""
        return self._b.registry.get_deployment(endpoint, name)

    def list(self, endpoint: str) -> list[BatchDeployment]:
        """The endpoint's deployments, by name."""
        return self._b.registry.list_deployments(endpoint)

    def delete(self, endpoint: str, name: str) -> None:
        """Delete a deployment; refuses the endpoint's default and its last deployment."""
        self._b.registry.get_deployment(endpoint, name)
        if len(self._b.registry.list_deployments(endpoint)) == 1:
            raise ConflictError(
                f"deployment {name!r} is the last of endpoint {endpoint!r}; delete the endpoint instead "
                f"(batchpoint batch-endpoint delete --name {endpoint})"
            )
        self._b.registry.delete_deployment(endpoint, name)
        self._b.definitions_changed()
