"""Uploading a finished version, in the order that keeps ``latest`` honest.

The predictions, the version's other files and its logs first (side by side: a version has ten or
so objects, and one after another their round trips were a tenth of a 200,000-row job's
publishing), then the manifest once every one of them is written (its presence marks a complete
version), and only then, if the job may be published, the ``latest`` pointer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from functools import partial
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
    writes: list[Callable[[], object]] = []
    if predictions is not None:
        writes.append(partial(store.upload, predictions, layout.bucket, output_key))
    for relative, path in (files or {}).items():
        writes.append(partial(store.upload, path, layout.bucket, layout.key(version_id, relative)))
    for relative, text in logs.items():
        key = layout.key(version_id, relative)
        writes.append(partial(store.put_bytes, layout.bucket, key, text.encode(), "text/plain"))
    write_all(writes)
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


UPLOADS_AT_ONCE = 4


def write_all(writes: list[Callable[[], object]]) -> None:
    """Run every write, a few at once; once all have ended, raise the first one's error if any failed."""
    if len(writes) <= 1:
        for write in writes:
            write()
        return
    with ThreadPoolExecutor(max_workers=UPLOADS_AT_ONCE, thread_name_prefix="publish") as pool:
        futures = [pool.submit(write) for write in writes]
    for future in futures:
        future.result()
