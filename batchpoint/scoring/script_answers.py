"""What a scoring-script driver answers for one mini-batch, and how its failed items are counted.

``run()`` answers carry a count of items (Azure's accounting: fewer items than files means failures);
``batchpoint_run()`` answers (the built-in MLflow scorer) carry one ``FileOutcome`` per input file
(defined beside the scorer, which reports them, in ``builtin/file_scoring.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from batchpoint.scoring.builtin.file_scoring import FileOutcome

__all__ = ["FileOutcome", "ScriptAnswer", "failed_items"]


def failed_items(file_count: int, items: int) -> int:
    """Input files counted as failed when ``run()`` returned ``items`` for ``file_count`` inputs (Azure)."""
    return max(file_count - items, 0)


@dataclass(frozen=True)
class ScriptAnswer:
    """The driver's answer to one mini-batch: items returned, or the error ``run()`` raised.

    ``format`` names what ``result_path`` holds: ``"rows"`` (Azure's text), ``"parquet"`` or ``"arrow"``
    (an Arrow IPC stream, from ``batchpoint_run()``, which also reports ``files``).
    """

    mini_batch: int
    ok: bool
    items: int
    result_path: str | None
    error: str | None
    traceback: str | None
    seconds: float
    format: str = "rows"
    files: tuple[FileOutcome, ...] = ()

    def failed(self, file_count: int) -> int:
        """Failed items among ``file_count`` inputs.

        All of them when the call failed; with per-file outcomes, the files reported with an error
        plus any the script did not report on; otherwise the files ``run()`` returned no item for.
        """
        if not self.ok:
            return file_count
        if self.files:
            return sum(not f.ok for f in self.files) + max(file_count - len(self.files), 0)
        return failed_items(file_count, self.items)

    @classmethod
    def from_json(cls, message: Mapping[str, Any]) -> ScriptAnswer:
        """Parse a driver answer line (already decoded)."""
        ok = bool(message["ok"])
        return cls(
            mini_batch=int(message["mini_batch"]),
            ok=ok,
            items=int(message.get("items", 0)) if ok else 0,
            result_path=message.get("result_path"),
            error=None if ok else str(message.get("error", "run() failed")),
            traceback=None if ok else message.get("traceback"),
            seconds=float(message.get("seconds", 0.0)),
            format=str(message.get("format", "rows")),
            files=tuple(FileOutcome.from_json(f) for f in message.get("files") or ()) if ok else (),
        )
