"""Retention of an endpoint partition's output versions: keep the newest ``keep``, never ``latest``.

Only complete versions (those with a manifest) count and only they are deleted; a folder without a
manifest may belong to a job still writing it, so it is left alone.

A version is deleted manifest first, then every other object under its folder. Its manifest is
what marks a version complete (``list_versions``, ``rollback``, the reconciliation and reuse read
only versions with one), so from the first delete on readers no longer see the version, and a
deletion interrupted half-way leaves an incomplete folder that nobody mistakes for a whole version
rather than a "complete" version whose predictions are gone.
"""

from __future__ import annotations

from batchpoint.errors import SpecError
from batchpoint.outputs.layout import OutputLayout
from batchpoint.outputs.versions import list_versions, read_latest
from batchpoint.storage.port import ObjectStore


def versions_beyond(version_ids: list[str], keep: int, latest: str | None) -> list[str]:
    """Which of ``version_ids`` retention deletes: all but the newest ``keep`` and ``latest``, oldest first."""
    if isinstance(keep, bool) or not isinstance(keep, int) or keep < 1:
        raise SpecError("keep", f"got {keep!r}", "an integer >= 1 (the number of newest versions to keep)")
    ordered = sorted(version_ids)
    return [v for v in ordered[: max(len(ordered) - keep, 0)] if v != latest]


def delete_version(store: ObjectStore, layout: OutputLayout, version_id: str) -> None:
    """Delete every object of one version, its manifest first (see the module docstring for why)."""
    manifest_key = layout.manifest_key(version_id)
    store.delete(layout.bucket, manifest_key)
    for obj in list(store.list(layout.bucket, layout.version_prefix(version_id))):
        store.delete(layout.bucket, obj.key)


def apply_retention(store: ObjectStore, layout: OutputLayout, keep: int) -> list[str]:
    """Delete the versions beyond the newest ``keep`` (by version id), never ``latest``'s; the ids deleted.

    When ``latest`` points at an older version (after a rollback) that one stays too, so ``keep + 1``
    versions may remain. ``SpecError`` on ``keep`` below 1; a ``StorageError`` stops the deletion
    where it happened (versions already deleted stay deleted; the one being deleted is incomplete).
    """
    pointer = read_latest(store, layout)
    doomed = versions_beyond(list_versions(store, layout), keep, pointer.version_id if pointer else None)
    for version_id in doomed:
        delete_version(store, layout, version_id)
    return doomed
