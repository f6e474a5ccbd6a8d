"""``Workspace.batch_endpoints``: create, read, list, delete endpoints; set the default deployment."""

from __future__ import annotations

from batchpoint.management.backends import Backends
from batchpoint.management.watched_folders import check_endpoint_folders
from batchpoint.specs.endpoint import BatchEndpoint, EndpointDefaults


class EndpointOperations:
    """Batch endpoints (Azure ``ml_client.batch_endpoints``)."""

    def __init__(self, backends: Backends) -> None:
        self._b = backends

    def create_or_update(self, endpoint: BatchEndpoint) -> BatchEndpoint:
        """Store ``endpoint``; a named default deployment must exist (``SpecError`` otherwise).

        Its landing folder may not overlap the folders batchpoint writes, nor its outputs another
        endpoint's landing folder (``watched_folders``).
        """
        check_endpoint_folders(endpoint, self._b.registry.list_endpoints(), self._b.settings.output_bucket)
        stored = self._b.registry.create_or_update_endpoint(endpoint)
        self._b.definitions_changed()
        return stored

    def get(self, name: str) -> BatchEndpoint:
        """The endpoint; ``NotFoundError`` naming it otherwise."""
        return self._b.registry.get_endpoint(name)

    def list(self) -> list[BatchEndpoint]:
        """Every endpoint, by name."""
        return self._b.registry.list_endpoints()

    def delete(self, name: str) -> None:
        """Delete the endpoint and its deployments; its jobs stay listed."""
        self._b.registry.delete_endpoint(name)
        self._b.definitions_changed()

    def set_default(self, endpoint: str, deployment: str) -> BatchEndpoint:
        """Make ``deployment`` the one an invocation without ``deployment_name`` uses."""
        current = self._b.registry.get_endpoint(endpoint)
        self._b.registry.get_deployment(endpoint, deployment)
        updated = current.model_copy(update={"defaults": EndpointDefaults(deployment_name=deployment)})
        stored = self._b.registry.create_or_update_endpoint(updated)
        self._b.definitions_changed()  # the default deployment is the predictions asset's code version
        return stored
