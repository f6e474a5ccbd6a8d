"""What users see of an endpoint partition's versions, and the one change they make: moving ``latest``.

Read from the manifests (``manifest.json`` of each complete version) and ``latest.json``::

    list_version_summaries(store, layout)        newest first, one VersionSummary per version
    show_version(store, layout, version_id)      the manifest plus ``is_latest``
    rollback(store, layout, version_id)          ``latest`` moved to any Completed version, older or not
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from batchpoint.errors import NotFoundError, RollbackRefusedError
from batchpoint.outputs.layout import OutputLayout
from batchpoint.outputs.manifest import Manifest
from batchpoint.outputs.versions import (
    LatestPointer,
    list_versions,
    load_manifest,
    move_latest,
    read_latest,
    read_manifest,
)
from batchpoint.storage.port import ObjectStore

COMPLETED = "Completed"
PROMOTABLE = frozenset({COMPLETED, "Failed-check"})
"""The statuses a rollback may point ``latest`` at."""


@dataclass(frozen=True)
class VersionSummary:
    """One version as a row of ``batchpoint output versions``."""

    version_id: str
    status: str
    started_at: str | None
    rows: int | None
    failed_items: int | None
    files: int | None
    model_name: str | None
    model_version: str | None
    deployment_name: str | None
    promoted: bool
    is_latest: bool
    output_uri: str | None

    def to_dict(self) -> dict[str, Any]:
        """JSON form (API answers, ``-o json``)."""
        return asdict(self)


def summarize(manifest: Manifest, version_id: str, *, is_latest: bool) -> VersionSummary:
    """The summary of one version's manifest (fields it lacks are ``None``; ``promoted`` defaults to true).

    ``failed_items`` falls back to ``failed_files`` (``TotalsSection.from_dict``): manifests written
    before per-item counting had only that.
    """
    totals, model = manifest.totals, manifest.model
    return VersionSummary(
        version_id=version_id,
        status=manifest.status,
        started_at=manifest.timings.started_at,
        rows=totals.rows,
        failed_items=totals.failed_items,
        files=totals.files,
        model_name=model.name if model else None,
        model_version=model.version if model else None,
        deployment_name=manifest.deployment.name if manifest.deployment else None,
        promoted=manifest.promoted,
        is_latest=is_latest,
        output_uri=manifest.output.uri,
    )


def list_version_summaries(store: ObjectStore, layout: OutputLayout) -> list[VersionSummary]:
    """Every complete version of the partition, newest first."""
    pointer = read_latest(store, layout)
    latest = pointer.version_id if pointer else None
    return [
        summarize(load_manifest(store, layout, v), v, is_latest=v == latest)
        for v in reversed(list_versions(store, layout))
    ]


def _known(store: ObjectStore, layout: OutputLayout, version_id: str) -> list[str]:
    """The partition's version ids; ``NotFoundError`` naming them when ``version_id`` is not one."""
    ids = list_versions(store, layout)
    if version_id not in ids:
        where = f"{layout.uri(layout.versions_prefix)}{version_id}"
        hint = f"versions: {', '.join(reversed(ids))}" if ids else "the partition has no complete version"
        raise NotFoundError("output version", where, hint)
    return ids


def show_version(store: ObjectStore, layout: OutputLayout, version_id: str) -> dict[str, Any]:
    """The version's manifest plus ``is_latest``; ``NotFoundError`` listing the versions if unknown."""
    _known(store, layout, version_id)
    pointer = read_latest(store, layout)
    is_latest = pointer is not None and pointer.version_id == version_id
    return {**read_manifest(store, layout, version_id), "is_latest": is_latest}


def rollback(store: ObjectStore, layout: OutputLayout, version_id: str) -> LatestPointer:
    """Point ``latest`` at ``version_id``, older or newer than the current one; the pointer written.

    Only a ``Completed`` version may be ``latest``, or a ``Failed-check`` one (scored in full, held
    back by a blocking check: moving ``latest`` to it is a person's decision to overrule the check):
    a Failed one raises ``RollbackRefusedError`` naming it and the versions that would do; an unknown
    one ``NotFoundError`` listing them all. A version that was not promoted (scored by another
    deployment) may be chosen: that is how it is promoted.
    Already ``latest``: nothing is written.
    """
    ids = _known(store, layout, version_id)
    manifest = load_manifest(store, layout, version_id)
    status = manifest.status
    if status not in PROMOTABLE:
        completed = [v for v in reversed(ids) if v != version_id and _status(store, layout, v) in PROMOTABLE]
        raise RollbackRefusedError(version_id, status, completed)
    current = read_latest(store, layout)
    if current is not None and current.version_id == version_id:
        return current
    output_uri = manifest.output.uri or layout.uri(layout.version_prefix(version_id))
    pointer = LatestPointer(
        version_id=version_id,
        job_id=manifest.job_id,
        manifest_uri=layout.uri(layout.manifest_key(version_id)),
        output_uri=str(output_uri),
        updated_at=datetime.now(UTC).isoformat(),
    )
    move_latest(store, layout, pointer, force=True)
    return pointer


def _status(store: ObjectStore, layout: OutputLayout, version_id: str) -> str:
    return load_manifest(store, layout, version_id).status
