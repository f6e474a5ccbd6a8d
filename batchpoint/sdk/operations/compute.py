"""``ml_client.compute``: named pools that bound a job's worker processes."""

from __future__ import annotations

from batchpoint.errors import SpecError
from batchpoint.sdk.entities.compute import AmlCompute
from batchpoint.sdk.operations.endpoints import segment
from batchpoint.sdk.poller import LROPoller
from batchpoint.sdk.transport import ApiTransport


class ComputeOperations:
    """Azure: ``MLClient.compute``."""

    def __init__(self, transport: ApiTransport) -> None:
        self._api = transport

    def begin_create_or_update(self, compute: AmlCompute) -> LROPoller[AmlCompute]:
        """Create or replace a compute."""
        if not compute.name:
            raise SpecError("AmlCompute.name", "is missing", "a letter, then letters, digits or hyphens")
        answer = self._api.request("PUT", f"/v1/computes/{segment(compute.name)}", json=compute._to_dict())
        return LROPoller(AmlCompute._from_dict(answer))

    def get(self, name: str) -> AmlCompute:
        """One compute (``provisioning_state`` is always ``Succeeded``)."""
        return AmlCompute._from_dict(self._api.get(f"/v1/computes/{segment(name)}"))

    def list(self) -> list[AmlCompute]:
        """Every compute."""
        return [AmlCompute._from_dict(d) for d in self._api.values("/v1/computes")]

    def begin_delete(self, name: str) -> LROPoller[None]:
        """Delete a compute."""
        self._api.request("DELETE", f"/v1/computes/{segment(name)}")
        return LROPoller(None)
