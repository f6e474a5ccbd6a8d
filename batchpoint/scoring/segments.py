"""A scoring script's output segments: which mini-batch's rows are where, carried over or newly scored.

The job writes the reused segments first, in the earlier version's order, then the mini-batches it
scores, in plan order; every segment's place in the new output goes to the manifest's
``reuse_index`` (``outputs/reuse_index.py``) for the next run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pyarrow.parquet as pq

from batchpoint.errors import ScoringError
from batchpoint.outputs.merged_output import MergedOutput
from batchpoint.outputs.reuse_index import OutputSegment, SegmentUnit
from batchpoint.scoring.mini_batch_record import MiniBatchRecord
from batchpoint.scoring.reuse import Reused
from batchpoint.scoring.runtime import WorkerRuntime
from batchpoint.specs.deployment import BatchDeployment, BatchDeploymentOutputAction


def segment_unit(deployment: BatchDeployment, runtime: WorkerRuntime) -> SegmentUnit | None:
    """How a job's output is cut into mini-batch segments; ``None`` when it is not.

    Not for the built-in scorer (its lineage attributes rows to files) nor for ``summary_only``
    (the script writes its own files, which batchpoint cannot attribute to mini-batches).
    """
    if runtime.builtin or deployment.settings.output_action is BatchDeploymentOutputAction.SUMMARY_ONLY:
        return None
    return "rows" if deployment.settings.output_file_name.lower().endswith(".parquet") else "bytes"


def copy_reused_segments(out: MergedOutput, reused: Reused | None, result_format: str) -> list[OutputSegment]:
    """Append the reused segments' rows to ``out``; their places in it."""
    if reused is None or reused.source is None or not reused.segments:
        return []
    placed: list[OutputSegment] = []
    table = pq.read_table(reused.source, memory_map=True) if result_format == "parquet" else None
    for segment in reused.segments:
        start = out.position
        if table is not None:
            if segment.start + segment.length > table.num_rows:
                raise ScoringError(f"{reused.source.name} ends before row {segment.start + segment.length}")
            out.add_reused_table(table.slice(segment.start, segment.length))
        else:
            out.add_reused_bytes(reused.source, segment.start, segment.length, segment.rows)
        placed.append(OutputSegment(segment.files, segment.rows, start, out.position - start))
    return placed


def scored_segments(records: Sequence[MiniBatchRecord], spans: Mapping[int, tuple[int, int]]) -> list[OutputSegment]:
    """The segments of the mini-batches this job scored without a failed item, in mini-batch order.

    A mini-batch with a failed item is left out: its files are scored again next time.
    """
    segments = []
    for record in records:
        if record.failed_items or not all(f.ok for f in record.files) or record.index not in spans:
            continue
        start, length = spans[record.index]
        segments.append(OutputSegment(tuple((f.uri, f.etag) for f in record.files), record.rows, start, length))
    return segments
