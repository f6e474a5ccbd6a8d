"""The ``latest`` pointer of an endpoint partition, and the versions behind it.

``latest.json`` is written last, only after a version's predictions, logs and manifest are
complete and only when the job stayed within ``error_threshold``: a partial or failed output is
never what a reader of ``latest`` gets.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from batchpoint.errors import NotFoundError
from batchpoint.outputs.layout import MANIFEST_FILE, OutputLayout
from batchpoint.outputs.manifest import Manifest
from batchpoint.storage.port import ObjectStore


@dataclass(frozen=True)
class LatestPointer:
    """What ``latest.json`` holds."""

    version_id: str
    job_id: str
    manifest_uri: str
    output_uri: str
    updated_at: str

    def to_json(self) -> bytes:
        """The file content."""
        return json.dumps(asdict(self), indent=2).encode()

    @classmethod
    def from_json(cls, data: bytes) -> LatestPointer:
        """Parse the file content."""
        raw = json.loads(data)
        return cls(**{k: str(raw[k]) for k in ("version_id", "job_id", "manifest_uri", "output_uri", "updated_at")})


def within_threshold(failed_files: int, error_threshold: int) -> bool:
    """Azure's rule: at most ``error_threshold`` failed files, any number when it is -1."""
    return error_threshold == -1 or failed_files <= error_threshold


def read_latest(store: ObjectStore, layout: OutputLayout) -> LatestPointer | None:
    """The current ``latest`` pointer, or ``None`` before any job succeeded."""
    try:
        return LatestPointer.from_json(store.get_bytes(layout.bucket, layout.latest_key))
    except NotFoundError:
        return None


def move_latest(store: ObjectStore, layout: OutputLayout, pointer: LatestPointer, *, force: bool = False) -> bool:
    """Point ``latest`` at ``pointer`` unless it already points at a newer version; True if moved.

    Version ids sort by start time, so a re-run that started earlier but finished later does not
    hide the newer output. (Check-then-write, not atomic: two jobs finishing in the same instant on
    one partition could still race; the orchestrator runs one job per partition at a time.)
    ``force`` moves it anyway: a rollback to an older version is a person's decision, not a race.
    """
    current = read_latest(store, layout)
    if not force and current is not None and current.version_id > pointer.version_id:
        return False
    store.put_bytes(layout.bucket, layout.latest_key, pointer.to_json(), "application/json")
    return True


def list_versions(store: ObjectStore, layout: OutputLayout) -> list[str]:
    """Ids of the versions with a manifest (complete, successful or not), oldest first."""
    suffix = "/" + MANIFEST_FILE
    depth = layout.versions_prefix.count("/") + 1
    try:
        objects = list(store.list(layout.bucket, layout.versions_prefix))
    except NotFoundError:
        return []
    ids = {
        obj.key[len(layout.versions_prefix) : -len(suffix)]
        for obj in objects
        if obj.key.endswith(suffix) and obj.key.count("/") == depth
    }
    return sorted(ids)


def read_manifest(store: ObjectStore, layout: OutputLayout, version_id: str) -> dict[str, Any]:
    """A version's ``manifest.json`` as stored (the public document); ``NotFoundError`` if it has none."""
    data: dict[str, Any] = json.loads(store.get_bytes(layout.bucket, layout.manifest_key(version_id)))
    return data


def load_manifest(store: ObjectStore, layout: OutputLayout, version_id: str) -> Manifest:
    """A version's manifest, typed (``Manifest.from_dict``: any version's manifest reads).

    ``NotFoundError`` if that version has none, ``ValueError`` if it is not JSON.
    """
    return Manifest.from_dict(read_manifest(store, layout, version_id))
