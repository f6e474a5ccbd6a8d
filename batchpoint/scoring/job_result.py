"""``JobResult``: what a scoring job did, as the orchestrator reports it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from batchpoint.job_records.file_result import FileResult
from batchpoint.outputs.manifest import Manifest
from batchpoint.specs.job import JobStatus
from batchpoint.storage.port import ObjectInfo

__all__ = ["JobResult", "JobStatus"]


@dataclass(frozen=True)
class JobResult:
    """What a scoring job did; ``manifest`` is what ``manifest.json`` next to the predictions holds.

    ``failed_items`` counts what Azure's ``error_threshold`` counts (failed files, missing items).
    """

    status: JobStatus
    job_id: str
    version_id: str
    output_uri: str
    manifest_uri: str
    latest_moved: bool
    files: tuple[FileResult, ...]
    inputs: tuple[ObjectInfo, ...]
    """Every input the job covered: those it was given, then any that landed while it ran."""
    rows: int
    failed_items: int
    mini_batches: int
    seconds: float
    worker_startup_seconds: float
    manifest: Manifest
    preview: tuple[dict[str, Any], ...]
    error: str | None

    def preview_markdown(self) -> str:
        """The first rows of the predictions as a Markdown table."""
        if not self.preview:
            return "_no rows_"
        columns = list(self.preview[0])
        lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
        lines += ["| " + " | ".join(str(row.get(c, "")) for c in columns) + " |" for row in self.preview]
        return "\n".join(lines)
