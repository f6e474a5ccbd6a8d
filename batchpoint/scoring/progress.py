"""Progress of a running job, reported after every mini-batch."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class JobProgress:
    """Counts so far; ``str()`` is the line written to ``job_progress_overview.txt``.

    ``failed_files`` counts failed items (Azure's unit for ``error_threshold``): a failed file, or
    one missing from what ``run()`` returned.
    """

    job_id: str
    mini_batches_done: int
    mini_batches: int
    files_done: int
    files: int
    failed_files: int
    rows: int
    elapsed_seconds: float
    failed_mini_batches: int = 0

    @property
    def fraction(self) -> float:
        """Share of mini-batches processed, 0..1."""
        return self.mini_batches_done / self.mini_batches if self.mini_batches else 1.0

    def __str__(self) -> str:
        return (
            f"mini-batches {self.mini_batches_done}/{self.mini_batches} ({self.fraction:.0%}, "
            f"{self.failed_mini_batches} failed), files {self.files_done}/{self.files} "
            f"({self.failed_files} failed items), rows {self.rows}, {self.elapsed_seconds:.1f} s"
        )
