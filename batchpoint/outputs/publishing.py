"""Uploading a finished version, in the order that keeps ``latest`` honest.

Predictions first, then the logs, then the manifest (its presence marks a complete version), and
only then, if the job may be published, the ``latest`` pointer.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from batchpoint.outputs.layout import OutputLayout
from batchpoint.outputs.manifest import Manifest, manifest_json
from batchpoint.outputs.versions import LatestPointer, move_latest
from batchpoint.storage.port import ObjectStore


def publish_version(
    store: ObjectStore,
    layout: OutputLayout,
    *,
    version_id: str,
    job_id: str,
    predictions: Path | None,
    output_file_name: str,
    logs: Mapping[str, str],
    manifest: Manifest,
    make_latest: bool,
    files: Mapping[str, Path] | None = None,
) -> bool:
    """Upload one version; move ``latest`` to it when ``make_latest``. True if ``latest`` moved.

    ``logs`` maps a path inside the version (``logs/user/job_error.txt``) to its text; ``files`` maps
    a path inside the version to a local file (a ``summary_only`` script's own outputs, worker logs).
    ``predictions`` is ``None`` when the job writes no predictions file (``summary_only``).
    """
    output_key = layout.key(version_id, output_file_name)
    if predictions is not None:
        store.upload(predictions, layout.bucket, output_key)
    for relative, path in (files or {}).items():
        store.upload(path, layout.bucket, layout.key(version_id, relative))
    for relative, text in logs.items():
        store.put_bytes(layout.bucket, layout.key(version_id, relative), text.encode(), "text/plain")
    manifest_key = layout.manifest_key(version_id)
    store.put_bytes(layout.bucket, manifest_key, manifest_json(manifest), "application/json")
    if not make_latest:
        return False
    pointer = LatestPointer(
        version_id=version_id,
        job_id=job_id,
        manifest_uri=layout.uri(manifest_key),
        output_uri=layout.uri(output_key if predictions is not None else layout.version_prefix(version_id)),
        updated_at=datetime.now(UTC).isoformat(),
    )
    return move_latest(store, layout, pointer)
