"""What scoring returns per mini-batch: a ``MiniBatchResult`` (its files' ``FileResult``, ``job_records``)."""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from batchpoint.job_records.file_result import FileResult


@dataclass(frozen=True)
class MiniBatchResult:
    """One mini-batch: its files' outcomes and the predictions of the files that succeeded.

    ``predictions`` holds the prediction column(s) then ``file``; ``None`` when no file produced rows.
    """

    index: int
    files: tuple[FileResult, ...]
    predictions: pa.Table | None
    seconds: float
    worker: int

    @property
    def rows(self) -> int:
        """Prediction rows."""
        return 0 if self.predictions is None else self.predictions.num_rows

    @property
    def failed(self) -> tuple[FileResult, ...]:
        """Files that could not be scored."""
        return tuple(f for f in self.files if not f.ok)
