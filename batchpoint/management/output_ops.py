"""``Workspace.outputs``: the versions of an endpoint's monthly partition — list, show, roll back, prune.

Partitions are the endpoint's own (``s3://<output_bucket>/<endpoint>/<YYYY-MM>/``); an invoked
job's outputs live in the job's folder and are read through ``Workspace.jobs``.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

from batchpoint.errors import NotFoundError, SpecError
from batchpoint.management.backends import Backends
from batchpoint.outputs.layout import OutputLayout
from batchpoint.outputs.retention import apply_retention
from batchpoint.outputs.version_views import VersionSummary, list_version_summaries, rollback, show_version
from batchpoint.outputs.versions import list_versions, read_latest

PARTITION = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
PARTITION_FORM = "a month as YYYY-MM, e.g. 2026-05"
LATEST = "latest"


@dataclass(frozen=True)
class PruneResult:
    """What ``prune`` deleted and what is left, newest first."""

    deleted: list[str]
    kept: list[str]

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return asdict(self)


class OutputOperations:
    """Output versions of endpoint partitions (batchpoint's own; Azure keeps one output per job)."""

    def __init__(self, backends: Backends) -> None:
        self._b = backends

    def _layout(self, endpoint: str, partition: str) -> OutputLayout:
        if not isinstance(partition, str) or not PARTITION.match(partition):
            raise SpecError("partition", f"got {partition!r}", PARTITION_FORM)
        self._b.registry.get_endpoint(endpoint)
        return OutputLayout(self._b.settings.output_bucket, endpoint, partition)

    def versions(self, endpoint: str, partition: str) -> list[VersionSummary]:
        """Every complete version of the partition, newest first (empty before any run)."""
        return list_version_summaries(self._b.store, self._layout(endpoint, partition))

    def show(self, endpoint: str, partition: str, version: str | None = None) -> dict[str, Any]:
        """A version's manifest plus ``is_latest``; ``None`` or ``"latest"`` is the one ``latest`` points at.

        ``NotFoundError`` for an unknown version (listing the partition's) or when nothing is latest yet.
        """
        layout = self._layout(endpoint, partition)
        if version is None or version == LATEST:
            pointer = read_latest(self._b.store, layout)
            if pointer is None:
                hint = "no version of it completed yet; list them all with `batchpoint output versions`"
                raise NotFoundError("latest version of", f"{endpoint}/{partition}", hint)
            version = pointer.version_id
        return show_version(self._b.store, layout, version)

    def rollback(self, endpoint: str, partition: str, version: str) -> VersionSummary:
        """Point ``latest`` at ``version`` (any Completed version, older or newer); its summary.

        ``RollbackRefusedError`` (a ``ConflictError``) for a version that did not complete,
        ``NotFoundError`` for an unknown one; both list the versions that would do.
        """
        layout = self._layout(endpoint, partition)
        rollback(self._b.store, layout, version)
        return next(s for s in list_version_summaries(self._b.store, layout) if s.version_id == version)

    def prune(self, endpoint: str, partition: str, keep: int) -> PruneResult:
        """Delete all but the newest ``keep`` versions (never the one ``latest`` points at).

        ``SpecError`` on ``keep`` below 1.
        """
        layout = self._layout(endpoint, partition)
        deleted = apply_retention(self._b.store, layout, keep)
        return PruneResult(deleted=deleted, kept=list(reversed(list_versions(self._b.store, layout))))
