"""Uploading a finished version, in the order that keeps ``latest`` honest.

The predictions, the version's other files and its logs first (side by side: a version has ten or
so objects, and one after another their round trips were a tenth of a 200,000-row job's
publishing; the predictions start while the job's checks run, ``VersionUploads``), then the
manifest once every one of them is written (its presence marks a complete version), and only
then, if the job may be published, the ``latest`` pointer.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
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
    uploads: VersionUploads | None = None,
) -> bool:
    """Upload one version; move ``latest`` to it when ``make_latest``. True if ``latest`` moved.

    ``logs`` maps a path inside the version (``logs/user/job_error.txt``) to its text; ``files`` maps
    a path inside the version to a local file (a ``summary_only`` script's own outputs, worker logs).
    ``predictions`` is ``None`` when the job writes no predictions file (``summary_only``).
    ``uploads``: where some of these files were started already (``VersionUploads``); the rest
    join them, and the manifest waits for all.
    """
    with uploads or VersionUploads(store, layout, version_id) as started:
        output_key = started.file(output_file_name, predictions) if predictions is not None else None
        for relative, path in (files or {}).items():
            started.file(relative, path)
        for relative, text in logs.items():
            started.text(relative, text)
        started.wait()
    manifest_key = layout.manifest_key(version_id)
    store.put_bytes(layout.bucket, manifest_key, manifest_json(manifest), "application/json")
    if not make_latest:
        return False
    pointer = LatestPointer(
        version_id=version_id,
        job_id=job_id,
        manifest_uri=layout.uri(manifest_key),
        output_uri=layout.uri(output_key if output_key is not None else layout.version_prefix(version_id)),
        updated_at=datetime.now(UTC).isoformat(),
    )
    return move_latest(store, layout, pointer)


UPLOADS_AT_ONCE = 4


class VersionUploads:
    """A version's objects, each uploaded as soon as it is given, a few at once.

    A job gives its predictions and lineage as soon as scoring ends, so they upload while its
    checks run; ``wait`` raises the first failed upload's error once all have ended. Leaving the
    ``with`` block waits too (without raising: an error already on its way wins).
    """

    def __init__(self, store: ObjectStore, layout: OutputLayout, version_id: str) -> None:
        self._store = store
        self._layout = layout
        self._version_id = version_id
        self._pool = ThreadPoolExecutor(max_workers=UPLOADS_AT_ONCE, thread_name_prefix="publish")
        self._futures: dict[str, Future[object]] = {}

    def file(self, relative: str, path: Path) -> str:
        """Upload the local ``path`` as ``relative`` in the version (once: a name given again is
        already on its way); its key."""
        key = self._layout.key(self._version_id, relative)
        if relative not in self._futures:
            self._futures[relative] = self._pool.submit(self._store.upload, path, self._layout.bucket, key)
        return key

    def text(self, relative: str, text: str) -> None:
        """Write ``text`` as ``relative`` in the version."""
        key = self._layout.key(self._version_id, relative)
        put = partial(self._store.put_bytes, self._layout.bucket, key, text.encode(), "text/plain")
        self._futures[relative] = self._pool.submit(put)

    def wait(self) -> None:
        """Until every upload has ended; then the first failure's error, if any failed."""
        self._pool.shutdown(wait=True)
        for future in self._futures.values():
            future.result()

    def __enter__(self) -> VersionUploads:
        return self

    def __exit__(self, *exc: object) -> None:
        self._pool.shutdown(wait=True)
