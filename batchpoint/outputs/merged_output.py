"""The job's ``output_file_name``, built by appending each mini-batch's result file in mini-batch order.

Three result forms arrive from the workers (``docs/scoring-runtime.md``):

- ``arrow``: the built-in MLflow scorer's table (predictions, then ``file``), written in Azure's
  MLflow no-code form (``outputs/predictions_file.py``): no header, comma-separated, the row's
  index within its input file, the prediction, the file name. The index comes from the per-file
  row counts the pool reports for each mini-batch, in the order the rows were written;
- ``rows``: a scoring script's rows already in Azure's custom-script text form (space-separated,
  no header, no index), appended byte for byte;
- ``parquet``: a scoring script's DataFrame as Parquet (``output_file_name`` ends in ``.parquet``),
  appended as row groups of one typed Parquet file. A mini-batch whose columns cannot be cast to
  the first mini-batch's schema is refused with ``ScoringError`` naming both schemas.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.ipc as pa_ipc
import pyarrow.parquet as pq

from batchpoint.errors import ScoringError
from batchpoint.outputs.lineage import LineageConstants, LineageWriter, assemble, predictions_part, with_lineage
from batchpoint.outputs.predictions_file import PredictionsFile, row_positions

PREVIEW_ROWS = 10


class MergedOutput:
    """Appends result files to one local output file; counts rows and keeps a small preview.

    With ``lineage_path`` and ``constants``, Arrow results also go to the typed lineage Parquet
    (``outputs/lineage.py``). With ``deferred``, Arrow results go only to a partial lineage file and
    ``finish_with`` writes both files at the end, with rows reused from an earlier version woven in.
    """

    def __init__(
        self,
        path: Path,
        *,
        lineage_path: Path | None = None,
        constants: LineageConstants | None = None,
        deferred: bool = False,
    ) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.rows = 0
        self.columns: tuple[str, ...] = ()
        self.format: str | None = None
        self.preview: list[dict[str, Any]] = []
        self.lineage_path = lineage_path if constants is not None else None
        self._constants = constants
        self._deferred = deferred and self.lineage_path is not None
        self._lineage: LineageWriter | None = None
        if self.lineage_path is not None:
            target = self.lineage_path.with_name(self.lineage_path.name + ".partial") if self._deferred else None
            self._lineage = LineageWriter(target or self.lineage_path)
        self._csv: PredictionsFile | None = None
        self._parquet: pq.ParquetWriter | None = None
        self._schema: pa.Schema | None = None
        self._bytes = 0
        self.spans: dict[int, tuple[int, int]] = {}
        """``(start, length)`` of each merged mini-batch's rows by its index (``position`` units)."""
        path.touch()

    @property
    def position(self) -> int:
        """Where the next rows go: bytes written for Azure's text rows, rows for the other forms."""
        return self._bytes if self.format == "rows" else self.rows

    @property
    def has_lineage(self) -> bool:
        """True when a lineage Parquet file was written (or will be, for a deferred output)."""
        return self._lineage is not None and (self._lineage.exists or self._deferred)

    def add(self, result: Path | None, result_format: str, items: int, files: Sequence[tuple[str, int]] = ()) -> int:
        """Append ``result`` (``items`` rows for the ``rows`` form); return the rows appended.

        ``files`` (``(input_uri, rows)`` in row order) feeds the lineage columns of Arrow results.
        """
        if result is None or not result.exists():
            return 0
        if result_format == "arrow":
            added = self._add_arrow(result, files)
        elif result_format == "rows":
            added = self._add_rows(result, items)
        elif result_format == "parquet":
            added = self._add_parquet(result)
        else:
            raise ScoringError(f"unknown result format {result_format!r}; expected arrow, rows or parquet")
        self.format = self.format or result_format
        self.rows += added
        return added

    def _add_arrow(self, result: Path, files: Sequence[tuple[str, int]]) -> int:
        with pa_ipc.open_stream(result) as reader:
            table = reader.read_all()
        if self._lineage is not None and self._constants is not None:
            try:
                self._lineage.write(with_lineage(table, files, self._constants, datetime.now(UTC)))
            except ValueError as exc:
                raise ScoringError(f"cannot attribute the predictions to their input files: {exc}") from exc
        if not self._deferred:
            counts = [rows for _, rows in files]
            if sum(counts) != table.num_rows:
                raise ScoringError(
                    f"cannot give each prediction its row in its file: {table.num_rows} prediction rows, "
                    f"but the files account for {sum(counts)}"
                )
            self._write_csv(table, row_positions(counts))
        self._keep_preview(table)
        return int(table.num_rows)

    def _write_csv(self, table: pa.Table, row_index: pa.Array | np.ndarray[Any, Any]) -> None:
        if self._csv is None:
            self._csv = PredictionsFile(self.path)
        try:
            self._csv.append(table, row_index)
        except ValueError as exc:
            raise ScoringError(f"cannot write the predictions in Azure's form: {exc}") from exc
        self.columns = self._csv.columns

    def lead_with(self, table: pa.Table | None) -> None:
        """Write an earlier version's lineage rows (in full-run order) before any new row: for reused
        files that all come before the files this job scores (``scoring/job.py`` ``rows_lead``)."""
        if table is None or not table.num_rows or self._lineage is None or self._deferred:
            return
        self.rows += self._write_lineage_rows(self._lineage, table)

    def finish_with(self, reused: pa.Table | None, file_order: Mapping[str, int]) -> None:
        """Deferred output: write the CSV and lineage Parquet from the new rows and ``reused`` rows,
        in the order a full run writes them (``file_order`` of ``input_uri``)."""
        if not self._deferred or self._lineage is None or self.lineage_path is None:
            return
        self._lineage.close()
        partial = self._lineage.path
        tables = [pq.read_table(partial)] if self._lineage.exists else []
        partial.unlink(missing_ok=True)
        tables += [reused] if reused is not None else []
        table = assemble(tables, file_order)
        self._lineage = LineageWriter(self.lineage_path)
        self.preview = []
        if table is None:
            return
        self.rows = self._write_lineage_rows(self._lineage, table)

    def _write_lineage_rows(self, lineage: LineageWriter, table: pa.Table) -> int:
        """Write rows that carry their lineage to the lineage file and, in Azure's form, the CSV."""
        lineage.write(table)
        self._write_csv(predictions_part(table), table["row_index"].combine_chunks())
        self._keep_preview(predictions_part(table))
        return int(table.num_rows)

    def add_reused_bytes(self, source: Path, start: int, length: int, items: int) -> int:
        """Append ``length`` bytes of ``source`` from ``start``: ``items`` rows in Azure's text form that an
        earlier version's output holds for one mini-batch (``scoring/segment_reuse.py``)."""
        with source.open("rb") as data, self.path.open("ab") as out:
            data.seek(start)
            chunk = data.read(length)
            if len(chunk) != length:
                raise ScoringError(f"{source.name} ends before byte {start + length}: cannot reuse its rows")
            out.write(chunk)
        self._bytes += length
        self._keep_lines(chunk.decode("utf-8", errors="replace").splitlines())
        self.format = self.format or "rows"
        self.rows += items
        return items

    def add_reused_table(self, table: pa.Table) -> int:
        """Append the Parquet rows an earlier version's output holds for one mini-batch."""
        added = self._write_parquet(table)
        self.format = self.format or "parquet"
        self.rows += added
        return added

    def _add_rows(self, result: Path, items: int) -> int:
        with result.open("rb") as source, self.path.open("ab") as out:
            shutil.copyfileobj(source, out)
        self._bytes += result.stat().st_size
        if len(self.preview) < PREVIEW_ROWS:
            with result.open(encoding="utf-8", errors="replace") as lines:
                for line in lines:
                    if len(self.preview) >= PREVIEW_ROWS:
                        break
                    self.preview.append({"row": line.rstrip("\n")})
        return items

    def _keep_lines(self, lines: Sequence[str]) -> None:
        for line in lines[: max(PREVIEW_ROWS - len(self.preview), 0)]:
            self.preview.append({"row": line})

    def _add_parquet(self, result: Path) -> int:
        return self._write_parquet(pq.read_table(result))

    def _write_parquet(self, table: pa.Table) -> int:
        if self._parquet is None or self._schema is None:
            self._schema = table.schema.remove_metadata()
            self._parquet = pq.ParquetWriter(self.path, self._schema)
            self.columns = tuple(self._schema.names)
        try:
            table = table.select(list(self._schema.names)).cast(self._schema)
        except (KeyError, ValueError, pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise ScoringError(
                f"run() returned columns {table.schema.to_string(show_schema_metadata=False)!s} where earlier "
                f"mini-batches returned {self._schema.to_string(show_schema_metadata=False)!s}: {exc}"
            ) from exc
        self._parquet.write_table(table)
        self._keep_preview(table)
        return int(table.num_rows)

    def _keep_preview(self, table: pa.Table) -> None:
        if len(self.preview) < PREVIEW_ROWS:
            self.preview += table.slice(0, PREVIEW_ROWS - len(self.preview)).to_pylist()

    def close(self) -> None:
        """Finish the files (a Parquet footer needs writing)."""
        if self._lineage is not None:
            self._lineage.close()
        if self._csv is not None:
            self._csv.close()
        if self._parquet is not None:
            self._parquet.close()

    def __enter__(self) -> MergedOutput:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
