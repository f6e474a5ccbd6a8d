"""Reusing a scoring script's rows per mini-batch: the segments of an earlier version whose files are all unchanged.

A script's ``run(mini_batch)`` returns rows for the mini-batch as a whole, not per file, so the unit
of reuse is the mini-batch (``outputs/reuse_index.py``). An earlier segment is reused when every
one of its files is still an input with the same ETag, and no other reused segment claimed one of
them; its rows are copied from that version's output file. The files of every other segment (a
file changed, removed or new) are planned into new mini-batches (``planning.py``), so the segments
reused keep their membership from run to run, and only mini-batches touching a change are scored.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

from batchpoint.errors import BatchpointError
from batchpoint.outputs.layout import OutputLayout
from batchpoint.outputs.reuse_index import OutputSegment, SegmentUnit
from batchpoint.scoring.reuse import Reused, ReuseMode, reusable_manifest, unchanged_files
from batchpoint.storage.port import ObjectInfo, ObjectStore


def unchanged_segments(segments: Sequence[OutputSegment], inputs: Mapping[str, str]) -> tuple[OutputSegment, ...]:
    """The ``segments`` whose every file is in ``inputs`` (input URI → ETag) with the same ETag.

    A file claimed by an earlier segment makes a later one holding it too unusable (its rows would
    appear twice); a segment with no files is never reused.
    """
    claimed: set[str] = set()
    kept: list[OutputSegment] = []
    for segment in segments:
        uris = [uri for uri, _ in segment.files]
        if (
            segment.files
            and all(inputs.get(uri) == etag for uri, etag in segment.files)
            and not claimed.intersection(uris)
            and len(set(uris)) == len(uris)
        ):
            kept.append(segment)
            claimed.update(uris)
    return tuple(kept)


def find_reusable_segments(
    store: ObjectStore,
    layout: OutputLayout,
    mode: ReuseMode,
    inputs: list[ObjectInfo],
    log: logging.Logger,
    *,
    key: str,
    unit: SegmentUnit,
    work: Path,
) -> Reused | None:
    """What a scoring script's job can carry over: unchanged mini-batches and their rows; ``None`` when nothing.

    The earlier output file is downloaded to ``work`` (``Reused.source``), for the rows to be copied.
    """
    manifest = reusable_manifest(store, layout, mode, key, log)
    if manifest is None:
        return None
    version_id, index = manifest.version_id, manifest.reuse_index
    if index is None or index.unit != unit or not manifest.output.uri:
        log.info(f"{mode}: version {version_id} holds no mini-batch rows of this form; scoring every file")
        return None
    current = {f"s3://{i.bucket}/{i.key}": i.etag for i in inputs}
    segments = unchanged_segments(index.segments, current)
    good = unchanged_files(manifest, inputs)
    in_segments = {uri for s in segments for uri, _ in s.files}
    files = {k: f for k, f in good.items() if f.uri in in_segments}
    if len(files) != len(in_segments):
        log.warning(f"{mode}: version {version_id}'s segments do not match its inputs; scoring every file")
        return None
    if not segments:
        log.info(f"{mode}: no mini-batch of version {version_id} is unchanged; scoring every file")
        return None
    source = work / "reused" / manifest.output.uri.rsplit("/", 1)[-1]
    source.parent.mkdir(parents=True, exist_ok=True)
    try:
        store.download(layout.bucket, manifest.output.uri.removeprefix(f"s3://{layout.bucket}/"), source)
    except (BatchpointError, OSError) as exc:
        log.warning(f"{mode}: cannot read version {version_id}'s output ({exc}); scoring every file")
        return None
    log.info(
        f"{mode}: reusing {len(segments)} unchanged mini-batches ({len(files)} of {len(inputs)} files) "
        f"from version {version_id}"
    )
    return Reused(version_id, files, segments=segments, source=source)
