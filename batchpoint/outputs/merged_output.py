"""The job's ``output_file_name``, built by appending each mini-batch's result file in mini-batch order.

Three result forms arrive from the workers (``docs/scoring-runtime.md``):

- ``arrow``: the built-in MLflow scorer's table (predictions, then ``file``), written as CSV with
  no header, comma-separated, as Azure's MLflow no-code output;
- ``rows``: a scoring script's rows already in Azure's custom-script text form (space-separated,
  no header, no index), appended byte for byte;
- ``parquet``: a scoring script's DataFrame as Parquet (``output_file_name`` ends in ``.parquet``),
  appended as row groups of one typed Parquet file. A mini-batch whose columns cannot be cast to
  the first mini-batch's schema is refused with ``ScoringError`` naming both schemas.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from types import TracebackType
from typing import Any

import pyarrow as pa
import pyarrow.ipc as pa_ipc
import pyarrow.parquet as pq

from batchpoint.errors import ScoringError
from batchpoint.outputs.predictions_file import PredictionsFile

PREVIEW_ROWS = 10


class MergedOutput:
    """Appends result files to one local output file; counts rows and keeps a small preview."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.rows = 0
        self.columns: tuple[str, ...] = ()
        self.format: str | None = None
        self.preview: list[dict[str, Any]] = []
        self._csv: PredictionsFile | None = None
        self._parquet: pq.ParquetWriter | None = None
        self._schema: pa.Schema | None = None
        path.touch()

    def add(self, result: Path | None, result_format: str, items: int) -> int:
        """Append ``result`` (``items`` rows for the ``rows`` form); return the rows appended."""
        if result is None or not result.exists():
            return 0
        if result_format == "arrow":
            added = self._add_arrow(result)
        elif result_format == "rows":
            added = self._add_rows(result, items)
        elif result_format == "parquet":
            added = self._add_parquet(result)
        else:
            raise ScoringError(f"unknown result format {result_format!r}; expected arrow, rows or parquet")
        self.format = self.format or result_format
        self.rows += added
        return added

    def _add_arrow(self, result: Path) -> int:
        with pa_ipc.open_stream(result) as reader:
            table = reader.read_all()
        if self._csv is None:
            self._csv = PredictionsFile(self.path)
        self._csv.append(table)
        self.columns = self._csv.columns
        self._keep_preview(table)
        return int(table.num_rows)

    def _add_rows(self, result: Path, items: int) -> int:
        with result.open("rb") as source, self.path.open("ab") as out:
            shutil.copyfileobj(source, out)
        if len(self.preview) < PREVIEW_ROWS:
            with result.open(encoding="utf-8", errors="replace") as lines:
                for line in lines:
                    if len(self.preview) >= PREVIEW_ROWS:
                        break
                    self.preview.append({"row": line.rstrip("\n")})
        return items

    def _add_parquet(self, result: Path) -> int:
        table = pq.read_table(result)
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
        """Finish the file (a Parquet footer needs writing)."""
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
