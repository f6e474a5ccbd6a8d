"""``MiniBatchSummary``: one finished mini-batch in plain form, for the manifest and the job logs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from batchpoint.job_records.file_result import FileResult
from batchpoint.text_excerpts import excerpt


@dataclass(frozen=True)
class MiniBatchSummary:
    """What a mini-batch counted for, and what its failed attempts said (already written out)."""

    index: int
    files: tuple[FileResult, ...]
    rows: int
    failed_items: int
    worker: str | None
    attempts: int
    """Attempts made: failed ones plus the one that answered."""
    note: str | None
    """Why items failed, when it is not one file's own error (short return, no answer, not run)."""
    attempt_reports: tuple[str, ...] = ()
    """``job_result.txt`` entries: every failed attempt with its traceback or the worker's log tail."""
    node: str | None = None
    """Where the last attempt ran: ``local``, or the Ray node's id."""

    @property
    def failed(self) -> bool:
        """True when the mini-batch counted any failed item."""
        return self.failed_items > 0

    def error_lines(self) -> list[str]:
        """``job_error.txt`` lines: the mini-batch's reason, then each failed file."""
        return error_lines(self.index, self.files, self.note)

    def to_dict(self) -> dict[str, object]:
        """JSON form for the manifest."""
        return {
            "index": self.index,
            "files": [f.uri for f in self.files],
            "rows": self.rows,
            "failed_items": self.failed_items,
            "worker": self.worker,
            "attempts": self.attempts,
            "note": self.note,
            "node": self.node,
        }


def file_names(files: Sequence[FileResult]) -> str:
    """``a.csv, b.csv``."""
    return ", ".join(f.name for f in files)


def error_lines(index: int, files: Sequence[FileResult], note: str | None) -> list[str]:
    """``job_error.txt`` lines of mini-batch ``index``: its ``note``, then each failed file."""
    lines: list[str] = []
    if note:
        lines.append(f"mini-batch {index} ({file_names(files)}): {excerpt(note)}")
    lines += [f"  {f.uri}: {excerpt(f.error)}" for f in files if f.error is not None]
    return lines
