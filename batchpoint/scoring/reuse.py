"""Reusing an earlier version's rows: incremental runs and re-scoring only the files that failed.

A file is reused when the earlier version scored it successfully from the same object (same key,
same ETag): its rows come from that version's lineage Parquet, so the new version is identical to
a full re-score of the unchanged file. Which earlier version:

- ``incremental``: the one ``latest`` points at (the endpoint's ``outputs.incremental``);
- ``failed-files``: the newest version, whatever its status (a ``--failed-only`` backfill re-scores
  the files that failed there, and any file new or changed since).

Only outputs with per-file rows can be reused: the built-in MLflow scorer's. A scoring script's rows
are not attributed to files, so its runs always score everything.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from typing import Any, Literal

import pyarrow as pa
import pyarrow.parquet as pq

from batchpoint.errors import BatchpointError
from batchpoint.job_records.file_result import FileResult
from batchpoint.outputs.layout import OutputLayout
from batchpoint.outputs.lineage import rows_of_files
from batchpoint.outputs.versions import list_versions, load_manifest, read_latest
from batchpoint.storage.port import ObjectInfo, ObjectStore

ReuseMode = Literal["incremental", "failed-files"]
REUSE_MODES: tuple[ReuseMode, ...] = ("incremental", "failed-files")


@dataclass(frozen=True)
class Reused:
    """Files carried over from ``version_id``: their results and their lineage rows."""

    version_id: str
    files: dict[str, FileResult]
    rows: pa.Table

    def to_dict(self) -> dict[str, Any]:
        """JSON form for the manifest."""
        return {"version_id": self.version_id, "files": len(self.files), "rows": self.rows.num_rows}


def find_reusable(
    store: ObjectStore, layout: OutputLayout, mode: ReuseMode, inputs: list[ObjectInfo], log: logging.Logger
) -> Reused | None:
    """What can be carried over for ``inputs``; ``None`` (and why, in the log) when nothing can."""
    version_id = _source_version(store, layout, mode)
    if version_id is None:
        log.info(f"{mode}: no earlier version of {layout.uri(layout.prefix)}; scoring every file")
        return None
    try:
        manifest = load_manifest(store, layout, version_id)
        lineage_uri = manifest.lineage_uri
        if not lineage_uri:
            log.info(f"{mode}: version {version_id} has no lineage Parquet (not an MLflow output); scoring every file")
            return None
        key = lineage_uri.removeprefix(f"s3://{layout.bucket}/")
        lineage = pq.read_table(io.BytesIO(store.get_bytes(layout.bucket, key)))
    except (BatchpointError, OSError, ValueError, pa.ArrowException) as exc:
        log.warning(f"{mode}: cannot read version {version_id} ({exc}); scoring every file")
        return None
    before = {f.uri: f for f in manifest.inputs}
    files: dict[str, FileResult] = {}
    for info in inputs:
        uri = f"s3://{info.bucket}/{info.key}"
        old = before.get(uri)
        if old is not None and old.ok and old.etag == info.etag:
            rows = old.rows or 0
            files[info.key] = FileResult(info.bucket, info.key, info.etag, info.size, rows, None, 0.0, version_id)
    rows = rows_of_files(lineage, {f.uri for f in files.values()})
    if rows.num_rows != sum(f.rows or 0 for f in files.values()):
        log.warning(f"{mode}: version {version_id}'s lineage does not match its manifest; scoring every file")
        return None
    log.info(f"{mode}: reusing {len(files)} of {len(inputs)} files from version {version_id}")
    return Reused(version_id, files, rows)


def _source_version(store: ObjectStore, layout: OutputLayout, mode: ReuseMode) -> str | None:
    if mode == "incremental":
        latest = read_latest(store, layout)
        return latest.version_id if latest else None
    versions = list_versions(store, layout)
    return versions[-1] if versions else None
