"""``ml_client.outputs``: the versions of an endpoint's monthly partition — list, get, roll back, prune.

batchpoint's own operation group (Azure keeps one output per job): every run of a partition writes
a new version and ``latest`` points at the one readers get.

::

    versions = ml_client.outputs.list_versions("sales-forecast", "2026-05")   # newest first
    ml_client.outputs.rollback("sales-forecast", "2026-05", versions[1].version_id)
    ml_client.outputs.prune("sales-forecast", "2026-05", keep=3)
"""

from __future__ import annotations

from typing import Any

from batchpoint.sdk.entities.output_version import OutputVersion
from batchpoint.sdk.operations.endpoints import segment
from batchpoint.sdk.transport import ApiTransport

LATEST = "latest"


class OutputOperations:
    """``MLClient.outputs``."""

    def __init__(self, transport: ApiTransport) -> None:
        self._api = transport

    def _path(self, endpoint_name: str, partition: str, rest: str) -> str:
        return f"/v1/batch-endpoints/{segment(endpoint_name)}/outputs/{segment(partition)}/{rest}"

    def list_versions(self, endpoint_name: str, partition: str) -> list[OutputVersion]:
        """The partition's complete versions, newest first (``partition`` is ``YYYY-MM``)."""
        return [OutputVersion(d) for d in self._api.values(self._path(endpoint_name, partition, "versions"))]

    def get_version(self, endpoint_name: str, partition: str, version_id: str | None = None) -> dict[str, Any]:
        """A version's manifest plus ``is_latest``; without ``version_id`` the one ``latest`` points at."""
        path = self._path(endpoint_name, partition, f"versions/{segment(version_id or LATEST)}")
        answer: dict[str, Any] = self._api.get(path)
        return answer

    def rollback(self, endpoint_name: str, partition: str, version_id: str) -> OutputVersion:
        """Point ``latest`` at a Completed version (older or newer); ``ConflictError`` for one that failed."""
        path = self._path(endpoint_name, partition, "rollback")
        return OutputVersion(self._api.request("POST", path, json={"version_id": version_id}))

    def prune(self, endpoint_name: str, partition: str, keep: int) -> dict[str, list[str]]:
        """Delete all but the newest ``keep`` versions (never ``latest``'s): ``{"deleted": [...], "kept": [...]}``."""
        answer = self._api.request("POST", self._path(endpoint_name, partition, "prune"), json={"keep": keep})
        return {"deleted": list(answer["deleted"]), "kept": list(answer["kept"])}
