"""A scored version's checks, evaluated before it is published: completeness, validity, drift (issue 14).

The checks themselves are pure (``batchpoint/checks/``); this module finds what they read:

- **this version's predictions**, from the job's local files: the built-in MLflow scorer's typed
  lineage Parquet (its prediction columns, ``input_uri`` and ``row_index`` per row), a scoring
  script's Parquet output, or a script's text rows read as space-separated columns (typed by
  Arrow's inference; rows that do not parse leave validity and drift not evaluated);
- **the baseline**, the previous month's ``latest`` of the same endpoint, read the same way from
  the store. An invoked job's output has no month: drift says so.

Completeness for the built-in scorer counts each input file's rows in the predictions (and the
distinct row indices, so a file's rows written twice are found) against the rows its worker read,
reused files' rows included. A scoring script returns rows per mini-batch, not per file, so for a
script it accounts for files: every input that did not fail is in exactly one succeeded
mini-batch or was reused.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from batchpoint.checks.completeness import completeness, files_accounted
from batchpoint.checks.drift import MAX_CLASSES, drift, numbers
from batchpoint.checks.drift import NAME as DRIFT
from batchpoint.checks.histograms import histogram_svg
from batchpoint.checks.results import CheckReport, CheckResult, CheckStatus
from batchpoint.checks.validity import validity
from batchpoint.errors import BatchpointError
from batchpoint.outputs.layout import OutputLayout
from batchpoint.outputs.lineage import LINEAGE_COLUMNS
from batchpoint.outputs.scored_job import ScoredJob
from batchpoint.outputs.versions import load_manifest, read_latest
from batchpoint.specs.prediction_checks import PredictionChecks
from batchpoint.storage.port import ObjectStore

FILE_COLUMN = "file"
"""The built-in scorer's column naming each row's input file (Azure's MLflow output): not a prediction."""


@dataclass(frozen=True)
class Baseline:
    """The version drift is measured against: the previous month's ``latest``."""

    partition: str
    version_id: str | None
    table: pa.Table | None
    """Its prediction columns; ``None`` when there is no such version or its rows cannot be read."""
    why_none: str = ""
    """Why there is no table to compare with, as the end of "no baseline: ..."."""

    @property
    def name(self) -> str:
        """How the checks' sentences name it."""
        if self.version_id is None:
            return f"the previous month ({self.partition})" if self.partition else "a previous month"
        return f"{self.partition}'s latest ({self.version_id})"


def check_version(
    store: ObjectStore,
    layout: OutputLayout,
    scored: ScoredJob,
    spec: PredictionChecks,
    log: logging.Logger,
    pictures_into: Path,
) -> tuple[CheckReport, dict[str, Path]]:
    """Evaluate ``spec``'s checks on ``scored`` (its files still local) against the previous month's ``latest``."""
    clock = _StepClock()
    current = clock.step("predictions", _predictions_of(scored))
    columns = [c for c in current.column_names if c not in (*LINEAGE_COLUMNS, FILE_COLUMN)] if current else []
    results: list[CheckResult] = [clock.step("completeness", _completeness(scored, current, spec))]
    if scored.summary_only:
        baseline = None
        why = "summary_only writes no predictions to check"
        results += [
            CheckResult("validity", CheckStatus.NOT_EVALUATED, spec.validity.blocking, why),
            CheckResult("drift", CheckStatus.NOT_EVALUATED, spec.drift.blocking, why),
        ]
    else:
        baseline = clock.step("baseline", _baseline(store, layout, scored, log))
        base = baseline.table
        results.append(
            clock.step(
                "validity",
                validity(
                    current if current is not None else pa.table({}),
                    columns,
                    signature_types=scored.model.output_types if scored.lineage_name else None,
                    classes=_classes(base, columns) if base is not None else None,
                    allow_nulls=spec.validity.allow_nulls,
                    blocking=spec.validity.blocking,
                )
                if current is not None
                else _not_readable("validity", spec.validity.blocking),
            )
        )
        results.append(
            clock.step(
                "drift",
                drift(
                    current if current is not None else pa.table({}),
                    base,
                    columns,
                    psi_threshold=spec.drift.psi_threshold,
                    class_share_threshold=spec.drift.class_share_threshold,
                    baseline_name=baseline.name,
                    missing=baseline.why_none or None,
                    blocking=spec.drift.blocking,
                )
                if current is not None
                else _not_readable("drift", spec.drift.blocking),
            )
        )
    if baseline is None:
        return CheckReport(tuple(results), seconds=clock.total, step_seconds=clock.steps), {}
    report = CheckReport(tuple(results), baseline.partition or None, baseline.version_id)
    pictures = clock.step("pictures", drift_pictures(scored, report, current, baseline.table, pictures_into))
    uris = {
        f"drift[{Path(n).stem.removeprefix('drift-')}]": layout.uri(layout.key(scored.version_id, n)) for n in pictures
    }
    return dataclasses.replace(report, pictures=uris, seconds=clock.total, step_seconds=clock.steps), pictures


_T = TypeVar("_T")


class _StepClock:
    """Seconds per step of the checks, each step timed from the end of the one before."""

    def __init__(self) -> None:
        self._started = self._last = time.perf_counter()
        self.steps: dict[str, float] = {}

    def step(self, name: str, value: _T) -> _T:
        """Record that step ``name``, whose result is ``value``, ended now."""
        now = time.perf_counter()
        self.steps[name] = now - self._last
        self._last = now
        return value

    @property
    def total(self) -> float:
        """Seconds from the clock's start to the end of its last step."""
        return self._last - self._started


def drift_pictures(
    scored: ScoredJob, report: CheckReport, current: pa.Table | None, baseline: pa.Table | None, into: Path
) -> dict[str, Path]:
    """One SVG per numeric column drift measured (this month's histogram over the baseline's), by name in the version.

    Written under ``into``, from the tables the checks read.
    """
    drift = report.by_name(DRIFT)
    if drift is None or report.baseline_version is None or not drift.per_column:
        return {}
    if current is None or baseline is None:
        return {}
    pictures: dict[str, Path] = {}
    for column, figures in drift.per_column.items():
        if "psi" not in figures or column not in baseline.column_names:
            continue
        a, b = numbers(current.column(column)), numbers(baseline.column(column))
        labels = (scored.partition, f"{report.baseline_partition}'s latest")
        name = f"checks/drift-{_safe(column)}.svg"
        path = into / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(histogram_svg(column, a, b, labels))
        pictures[name] = path
    return pictures


def _safe(column: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in column)[:60] or "column"


def _completeness(scored: ScoredJob, current: pa.Table | None, spec: PredictionChecks) -> CheckResult:
    blocking = spec.completeness.blocking
    if scored.lineage_name and current is not None and "input_uri" in current.column_names:
        expected = {f.uri: (f.rows or 0) if f.ok else 0 for f in scored.files}
        rows, twice = rows_per_file(current)
        return completeness(expected, rows, {}, times_seen=twice, blocking=blocking)
    appearances: Counter[str] = Counter()
    for record in scored.mini_batches:  # one final record per mini-batch scored, short returns included
        appearances.update(f.uri for f in record.files)
    appearances.update(f.uri for f in scored.files if f.reused_from)
    ok = [f.uri for f in scored.files if f.ok]
    return files_accounted(ok, appearances, inputs=[f.uri for f in scored.files], blocking=blocking)


def rows_per_file(lineage: pa.Table) -> tuple[dict[str, int], dict[str, int]]:
    """Rows per ``input_uri`` of a lineage table, and the files some of whose rows appear twice.

    Each file's ``row_index`` values should be 0 .. rows - 1, once each: counted by one pass over
    the (file, row) slots (~0.02 s per 2,000,000 rows). Only when they are not is Arrow's group-by
    asked for the distinct counts (0.2-0.8 s per 2,000,000 rows, most of the checks' time).
    """
    column = lineage.column("input_uri")
    dictionaries = [c.dictionary for c in column.chunks] if pa.types.is_dictionary(column.type) else []
    if not all(d.equals(dictionaries[0]) for d in dictionaries):
        lineage = lineage.unify_dictionaries()  # one dictionary, so a code means one file (the group-by needs it too)
        column = lineage.column("input_uri")
    row_index = lineage.column("row_index")
    if pa.types.is_dictionary(column.type) and column.num_chunks and column.null_count == row_index.null_count == 0:
        dictionary = column.chunk(0).dictionary
        codes = np.concatenate([c.indices.to_numpy(zero_copy_only=False) for c in column.chunks]).astype(np.int64)
        index = row_index.to_numpy(zero_copy_only=False)
        per_file = np.bincount(codes, minlength=len(dictionary))
        if index.size == 0 or (index.min() >= 0 and not np.any(index >= per_file[codes])):
            starts = np.concatenate(([0], np.cumsum(per_file)[:-1]))
            if np.bincount(starts[codes] + index, minlength=int(per_file.sum())).max(initial=0) <= 1:
                return {u: int(n) for u, n in zip(dictionary.to_pylist(), per_file.tolist(), strict=True) if n}, {}
    counted = lineage.group_by("input_uri").aggregate([("row_index", "count"), ("row_index", "count_distinct")])
    uris = counted.column("input_uri").to_pylist()
    rows = dict(zip(uris, counted.column("row_index_count").to_pylist(), strict=True))
    distinct = dict(zip(uris, counted.column("row_index_count_distinct").to_pylist(), strict=True))
    return rows, {uri: 2 for uri in uris if distinct[uri] < rows[uri]}


def _predictions_of(scored: ScoredJob) -> pa.Table | None:
    """This version's rows as a table: the lineage Parquet, a Parquet output, or text rows parsed."""
    if scored.summary_only:
        return None
    lineage = scored.extra_files.get(scored.lineage_name) if scored.lineage_name else None
    if lineage is not None and lineage.exists():
        return read_lineage_for_checks(lineage)
    return read_rows(scored.predictions_path, scored.output_format)


UNCHECKED_LINEAGE = (FILE_COLUMN, *(c for c in LINEAGE_COLUMNS if c not in ("input_uri", "row_index")))
"""Lineage columns no check reads: the input's name, and those with one value for a job's rows."""


def read_lineage_for_checks(path: Path) -> pa.Table:
    """The prediction columns, ``input_uri`` (dictionary-encoded) and ``row_index`` of a lineage
    Parquet: the whole file took ~0.11 s to read per 200,000 rows, these columns ~0.01 s."""
    parquet = pq.ParquetFile(path, read_dictionary=["input_uri"])  # the footer read once
    names = [n for n in parquet.schema_arrow.names if n not in UNCHECKED_LINEAGE]
    return parquet.read(columns=names).unify_dictionaries()


def read_rows(path: Path, output_format: str | None) -> pa.Table | None:
    """A predictions file's rows as columns; ``None`` when they cannot be read as a table."""
    if not path.exists() or path.stat().st_size == 0:
        return None
    try:
        if output_format == "parquet" or path.suffix.lower() == ".parquet":
            return pq.read_table(path)
        # A script's text rows: space-separated values, no header (Azure's append_row form).
        return pa_csv.read_csv(
            path,
            read_options=pa_csv.ReadOptions(autogenerate_column_names=True),
            parse_options=pa_csv.ParseOptions(delimiter=" "),
        )
    except (pa.ArrowInvalid, OSError):
        return None


def _baseline(store: ObjectStore, layout: OutputLayout, scored: ScoredJob, log: logging.Logger) -> Baseline:
    month = previous_month(layout.partition) if layout.folder is None else None
    if month is None:
        return Baseline("", None, None, "an invoked job's output has no previous month")
    before = OutputLayout(layout.bucket, layout.endpoint, month)
    try:
        pointer = read_latest(store, before)
        if pointer is None:
            return Baseline(month, None, None, f"the previous month ({month}) has no latest version yet")
        manifest = load_manifest(store, before, pointer.version_id)
        uri = manifest.lineage_uri or manifest.output.uri
        if not uri:
            return Baseline(month, pointer.version_id, None, f"{month}'s latest wrote no predictions")
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        local = _baseline_dir(scored) / key.rsplit("/", 1)[-1]
        local.parent.mkdir(parents=True, exist_ok=True)
        local.write_bytes(store.get_bytes(bucket, key))
    except (BatchpointError, ValueError) as exc:
        log.warning(f"drift: could not read the baseline {month}'s latest: {exc}")
        return Baseline(month, None, None, f"{month}'s latest could not be read ({exc})")
    fmt = "parquet" if manifest.lineage_uri else manifest.output.format
    table = read_rows(local, fmt)
    if table is None:
        return Baseline(month, pointer.version_id, None, f"{month}'s latest rows cannot be read as columns")
    table = table.drop_columns([c for c in (*LINEAGE_COLUMNS, FILE_COLUMN) if c in table.column_names])
    return Baseline(month, pointer.version_id, table)


def _baseline_dir(scored: ScoredJob) -> Path:
    return scored.predictions_path.parent.parent / "baseline"


def previous_month(partition: str) -> str | None:
    """``YYYY-MM`` of the month before ``partition``; ``None`` when it is not a month."""
    year, dash, month = partition.partition("-")
    if not dash or not (year.isdigit() and month.isdigit() and len(year) == 4 and len(month) == 2):
        return None
    y, m = int(year), int(month)
    if not 1 <= m <= 12:
        return None
    return f"{y - 1}-12" if m == 1 else f"{y}-{m - 1:02d}"


def _classes(baseline: pa.Table, columns: list[str]) -> Mapping[str, set[object]]:
    """The classes seen in the baseline, per class column (not floating, at most ``MAX_CLASSES`` values)."""
    seen: dict[str, set[object]] = {}
    for name in columns:
        if name not in baseline.column_names or pa.types.is_floating(baseline.column(name).type):
            continue
        values = set(pc.unique(baseline.column(name).drop_null()).to_pylist())
        if len(values) <= MAX_CLASSES:
            seen[name] = values
    return seen


def _not_readable(name: str, blocking: bool) -> CheckResult:
    return CheckResult(name, CheckStatus.NOT_EVALUATED, blocking, "the predictions could not be read as columns")
