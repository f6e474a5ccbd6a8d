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
from batchpoint.outputs.versions import LatestPointer, list_versions, move_latest, read_latest, read_manifest
from batchpoint.storage.port import ObjectStore

COMPLETED = "Completed"


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


def _section(manifest: dict[str, Any], name: str) -> dict[str, Any]:
    value = manifest.get(name)
    return value if isinstance(value, dict) else {}


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def summarize(manifest: dict[str, Any], version_id: str, *, is_latest: bool) -> VersionSummary:
    """The summary of one version's manifest (fields it lacks are ``None``; ``promoted`` defaults to true).

    ``failed_items`` falls back to ``failed_files``: manifests written before per-item counting had
    only that.
    """
    totals, model = _section(manifest, "totals"), _section(manifest, "model")
    failed = _int(totals.get("failed_items"))
    version = model.get("version")
    return VersionSummary(
        version_id=version_id,
        status=str(manifest.get("status") or "Unknown"),
        started_at=_section(manifest, "timings").get("started_at"),
        rows=_int(totals.get("rows")),
        failed_items=failed if failed is not None else _int(totals.get("failed_files")),
        files=_int(totals.get("files")),
        model_name=model.get("name"),
        model_version=None if version is None else str(version),
        deployment_name=_section(manifest, "deployment").get("name"),
        promoted=manifest.get("promoted", True) is not False,
        is_latest=is_latest,
        output_uri=_section(manifest, "output").get("uri"),
    )


def list_version_summaries(store: ObjectStore, layout: OutputLayout) -> list[VersionSummary]:
    """Every complete version of the partition, newest first."""
    pointer = read_latest(store, layout)
    latest = pointer.version_id if pointer else None
    return [
        summarize(read_manifest(store, layout, v), v, is_latest=v == latest)
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

    Only a ``Completed`` version may be ``latest``: a Failed one raises ``RollbackRefusedError``
    naming it and the Completed ones; an unknown one ``NotFoundError`` listing them all. A version
    that was not promoted (scored by another deployment) may be chosen: that is how it is promoted.
    Already ``latest``: nothing is written.
    """
    ids = _known(store, layout, version_id)
    manifest = read_manifest(store, layout, version_id)
    status = str(manifest.get("status") or "Unknown")
    if status != COMPLETED:
        completed = [v for v in reversed(ids) if v != version_id and _status(store, layout, v) == COMPLETED]
        raise RollbackRefusedError(version_id, status, completed)
    current = read_latest(store, layout)
    if current is not None and current.version_id == version_id:
        return current
    output_uri = _section(manifest, "output").get("uri") or layout.uri(layout.version_prefix(version_id))
    pointer = LatestPointer(
        version_id=version_id,
        job_id=str(manifest.get("job_id") or ""),
        manifest_uri=layout.uri(layout.manifest_key(version_id)),
        output_uri=str(output_uri),
        updated_at=datetime.now(UTC).isoformat(),
    )
    move_latest(store, layout, pointer, force=True)
    return pointer


def _status(store: ObjectStore, layout: OutputLayout, version_id: str) -> str:
    return str(read_manifest(store, layout, version_id).get("status") or "Unknown")
