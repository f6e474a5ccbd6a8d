"""The challenger report of a compare run: its version diffed against the month's ``latest`` before publishing.

A compare run (``batchpoint batch-endpoint compare``) scores a month with a non-default deployment
without promoting it. Its version then holds ``compare/report.json`` and ``compare/report.txt``
(``checks/challenger_diff.py``), and its manifest the same JSON under ``compare``. Both sides must
carry per-row lineage (the built-in MLflow scorer's): otherwise the report says why there is no
diff, and the run is not failed for it.
"""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from batchpoint.checks.challenger_diff import KEYS, diff_predictions
from batchpoint.errors import BatchpointError
from batchpoint.outputs.layout import OutputLayout
from batchpoint.outputs.lineage import LINEAGE_COLUMNS
from batchpoint.outputs.scored_job import ScoredJob
from batchpoint.outputs.versions import load_manifest, read_latest
from batchpoint.storage.port import ObjectStore

REPORT_JSON = "compare/report.json"
REPORT_TEXT = "compare/report.txt"
_NOT_PREDICTIONS = {*LINEAGE_COLUMNS, "file"}


def challenger_report(
    store: ObjectStore, layout: OutputLayout, scored: ScoredJob, into: Path, log: logging.Logger
) -> tuple[dict[str, Any], dict[str, Path]]:
    """The report (the manifest's ``compare``) and its two files, written under ``into``, by name in the version."""
    report = _report(store, layout, scored, log)
    into.mkdir(parents=True, exist_ok=True)
    as_json, as_text = into / "report.json", into / "report.txt"
    as_json.write_text(json.dumps(report, indent=2, default=str) + "\n")
    as_text.write_text(str(report.get("text") or report.get("note", "")))
    return report, {REPORT_JSON: as_json, REPORT_TEXT: as_text}


def _report(store: ObjectStore, layout: OutputLayout, scored: ScoredJob, log: logging.Logger) -> dict[str, Any]:
    lineage = scored.extra_files.get(scored.lineage_name) if scored.lineage_name else None
    if lineage is None or not lineage.exists():
        return {"note": "nothing to compare: the challenger's output has no per-row lineage (a scoring script's)\n"}
    pointer = read_latest(store, layout)
    if pointer is None:
        return {"note": f"nothing to compare: {layout.partition} has no latest version yet\n"}
    try:
        manifest = load_manifest(store, layout, pointer.version_id)
        if not manifest.lineage_uri:
            return {"note": f"nothing to compare: latest {pointer.version_id} has no per-row lineage\n"}
        bucket, _, key = manifest.lineage_uri.removeprefix("s3://").partition("/")
        champion = pq.read_table(io.BytesIO(store.get_bytes(bucket, key)))
    except (BatchpointError, ValueError, pa.ArrowException) as exc:
        log.warning(f"compare: could not read latest {pointer.version_id}: {exc}")
        return {"note": f"nothing to compare: latest {pointer.version_id} could not be read ({exc})\n"}
    challenger = pq.read_table(lineage)
    if not all(k in t.column_names for k in KEYS for t in (champion, challenger)):
        return {"note": "nothing to compare: a side lacks input_uri and row_index\n"}
    columns = [c for c in challenger.column_names if c not in _NOT_PREDICTIONS]
    diff = diff_predictions(champion, challenger, columns, versions=(pointer.version_id, scored.version_id))
    log.info(f"compare: {diff.text().strip()}")
    return diff.to_dict() | {"text": diff.text()}
