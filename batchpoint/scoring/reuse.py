"""Reusing an earlier version's rows: incremental runs and re-scoring only the files that failed.

A file is reused when the earlier version scored it successfully from the same object (same key,
same ETag) with the same scoring (the manifests' ``reuse_index.key``, ``scoring/reuse_key.py``):
its rows come from that version's outputs, so the new version holds what a full re-score of the
unchanged file gives. Which earlier version:

- ``incremental``: the one ``latest`` points at (the default of data-arrival runs, the endpoint's
  ``outputs.incremental``);
- ``failed-files``: the newest version, whatever its status (a ``--failed-only`` backfill re-scores
  the files that failed there, and any file new or changed since).

The built-in MLflow scorer's rows are attributed to files (the lineage Parquet), so each unchanged
file is reused on its own. A scoring script's rows are attributed to mini-batches
(``reuse_index.segments``): a mini-batch is reused whole when all its files are unchanged
(``scoring/segment_reuse.py``).
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
import pyarrow.parquet as pq

from batchpoint.errors import BatchpointError
from batchpoint.job_records.file_result import FileResult
from batchpoint.outputs.layout import OutputLayout
from batchpoint.outputs.lineage import rows_of_files
from batchpoint.outputs.manifest import Manifest
from batchpoint.outputs.reuse_index import OutputSegment
from batchpoint.outputs.versions import list_versions, load_manifest, read_latest
from batchpoint.storage.port import ObjectInfo, ObjectStore

ReuseMode = Literal["incremental", "failed-files"]
REUSE_MODES: tuple[ReuseMode, ...] = ("incremental", "failed-files")


@dataclass(frozen=True)
class Reused:
    """Files carried over from ``version_id``: their results, and their rows.

    The built-in scorer's rows are ``rows`` (lineage rows); a script's are ``segments`` of the
    earlier version's output file, downloaded to ``source``, in that version's order.
    """

    version_id: str
    files: dict[str, FileResult]
    rows: pa.Table | None = None
    segments: tuple[OutputSegment, ...] = ()
    source: Path | None = None

    @property
    def row_count(self) -> int:
        """Rows carried over."""
        return self.rows.num_rows if self.rows is not None else sum(s.rows for s in self.segments)

    def to_dict(self) -> dict[str, Any]:
        """JSON form for the manifest."""
        return {"version_id": self.version_id, "files": len(self.files), "rows": self.row_count}


def reusable_manifest(
    store: ObjectStore, layout: OutputLayout, mode: ReuseMode, key: str, log: logging.Logger
) -> Manifest | None:
    """The earlier version ``mode`` reuses from, when it was scored the same way (``key``); else ``None``, logged."""
    version_id = source_version(store, layout, mode)
    if version_id is None:
        log.info(f"{mode}: no earlier version of {layout.uri(layout.prefix)}; scoring every file")
        return None
    try:
        manifest = load_manifest(store, layout, version_id)
    except (BatchpointError, OSError, ValueError) as exc:
        log.warning(f"{mode}: cannot read version {version_id} ({exc}); scoring every file")
        return None
    index = manifest.reuse_index
    if index is None or index.key != key:
        why = "records no reuse key (an older version)" if index is None else "was scored differently"
        log.info(f"{mode}: version {version_id} {why} (model, deployment, code or output settings); scoring every file")
        return None
    return manifest


def find_reusable(
    store: ObjectStore,
    layout: OutputLayout,
    mode: ReuseMode,
    inputs: list[ObjectInfo],
    log: logging.Logger,
    key: str,
) -> Reused | None:
    """What the built-in scorer can carry over for ``inputs``: unchanged files' lineage rows; ``None`` when nothing."""
    manifest = reusable_manifest(store, layout, mode, key, log)
    if manifest is None:
        return None
    version_id = manifest.version_id
    try:
        lineage_uri = manifest.lineage_uri
        if not lineage_uri:
            log.info(f"{mode}: version {version_id} has no lineage Parquet (not an MLflow output); scoring every file")
            return None
        lineage_key = lineage_uri.removeprefix(f"s3://{layout.bucket}/")
        lineage = pq.read_table(io.BytesIO(store.get_bytes(layout.bucket, lineage_key)))
    except (BatchpointError, OSError, ValueError, pa.ArrowException) as exc:
        log.warning(f"{mode}: cannot read version {version_id} ({exc}); scoring every file")
        return None
    files = unchanged_files(manifest, inputs)
    rows = rows_of_files(lineage, {f.uri for f in files.values()})
    if rows.num_rows != sum(f.rows or 0 for f in files.values()):
        log.warning(f"{mode}: version {version_id}'s lineage does not match its manifest; scoring every file")
        return None
    log.info(f"{mode}: reusing {len(files)} of {len(inputs)} files from version {version_id}")
    return Reused(version_id, files, rows)


def unchanged_files(manifest: Manifest, inputs: list[ObjectInfo]) -> dict[str, FileResult]:
    """The ``inputs`` that ``manifest`` scored without error from the same object (key and ETag), by key."""
    before = {f.uri: f for f in manifest.inputs}
    files: dict[str, FileResult] = {}
    for info in inputs:
        old = before.get(f"s3://{info.bucket}/{info.key}")
        if old is not None and old.ok and old.etag == info.etag:
            files[info.key] = FileResult(
                info.bucket, info.key, info.etag, info.size, old.rows, None, 0.0, manifest.version_id
            )
    return files


def source_version(store: ObjectStore, layout: OutputLayout, mode: ReuseMode) -> str | None:
    """The version ``mode`` reuses from: ``latest``'s, or the newest."""
    if mode == "incremental":
        latest = read_latest(store, layout)
        return latest.version_id if latest else None
    versions = list_versions(store, layout)
    return versions[-1] if versions else None
