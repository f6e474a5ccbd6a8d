"""``FileResult``: what became of one input file, as the manifest's ``inputs[]`` records it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from batchpoint.job_records.failure_causes import FailureCause, recorded_cause

_S3 = "s3://"


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
        return f"{_S3}{self.bucket}/{self.key}"

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

    @classmethod
    def from_dict(cls, entry: Mapping[str, Any]) -> FileResult:
        """Read a manifest's ``inputs[]`` entry back, from any manifest format.

        A failed entry without an ``error`` (never written so, but tolerated) fails with ``""``; its
        cause is ``recorded_cause``'s reading (older formats have none).
        """
        bucket, _, key = str(entry.get("uri") or "").removeprefix(_S3).partition("/")
        failed = entry.get("status") == "failed"
        error = entry.get("error")
        rows = entry.get("rows")
        seconds = entry.get("seconds")
        reused_from = entry.get("reused_from")
        return cls(
            bucket=bucket,
            key=key,
            etag=str(entry.get("etag") or ""),
            size=_int(entry.get("size")) or 0,
            rows=_int(rows),
            error=(str(error) if error is not None else "") if failed else None,
            seconds=float(seconds) if isinstance(seconds, int | float) and not isinstance(seconds, bool) else 0.0,
            reused_from=str(reused_from) if reused_from else None,
            cause=recorded_cause(entry) or FailureCause.CONTENT,
        )


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
