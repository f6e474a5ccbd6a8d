"""What scoring returns: one ``FileResult`` per input file, one ``MiniBatchResult`` per mini-batch."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from batchpoint.scoring.failure_causes import FailureCause


@dataclass(frozen=True)
class FileResult:
    """The outcome of one input file: rows scored, or the problem that stopped it."""

    bucket: str
    key: str
    etag: str
    size: int
    rows: int | None
    """Rows predicted for this file; ``None`` when a scoring script's rows are counted per mini-batch."""
    error: str | None
    seconds: float
    reused_from: str | None = None
    """The version whose rows were reused for this unchanged file (incremental runs)."""
    cause: FailureCause = FailureCause.CONTENT
    """What a failure is attributed to (``failure_causes.py``); only meaningful when ``error`` is set."""

    @property
    def counted(self) -> bool:
        """True when the file is a failed item ``error_threshold`` counts: it failed for its content."""
        return self.error is not None and self.cause is FailureCause.CONTENT

    @property
    def ok(self) -> bool:
        """True when the file was scored."""
        return self.error is None

    @property
    def name(self) -> str:
        """The file name, as written next to each prediction."""
        return self.key.rsplit("/", 1)[-1]

    @property
    def uri(self) -> str:
        """``s3://bucket/key``."""
        return f"s3://{self.bucket}/{self.key}"

    def to_dict(self) -> dict[str, Any]:
        """JSON form for the manifest."""
        return {
            "uri": self.uri,
            "etag": self.etag,
            "size": self.size,
            "status": "succeeded" if self.ok else "failed",
            "rows": self.rows,
            "error": self.error,
            **({"cause": self.cause.value} if self.error is not None else {}),
            "seconds": round(self.seconds, 6),
            **({"reused_from": self.reused_from} if self.reused_from else {}),
        }


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
