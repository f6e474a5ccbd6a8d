"""The manifest's figures: totals, plan, timings and the output written.

Frozen sections with ``to_dict`` / ``from_dict`` as in ``manifest_sections.py``. A job that failed
before scoring writes shorter ones (``failed_version.py``): no input bytes or threshold in its
totals, no worker or scoring times in its timings, no columns in its output. Those fields are
``None`` there and left out of the JSON, as they always were.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from batchpoint.outputs.json_fields import entries, flag, integer, number, text, texts


@dataclass(frozen=True)
class TotalsSection:
    """What the job counted. Every field is ``None`` when the manifest read does not say."""

    files: int | None = None
    succeeded_files: int | None = None
    failed_files: int | None = None
    failed_items: int | None = None
    """What ``error_threshold`` counts; older manifests had only ``failed_files`` and read it here."""
    rows: int | None = None
    mini_batches: int | None = None
    input_bytes: int | None = None
    error_threshold: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "files": self.files,
            "succeeded_files": self.succeeded_files,
            "failed_files": self.failed_files,
            "failed_items": self.failed_items,
            "rows": self.rows,
            "mini_batches": self.mini_batches,
            **({"input_bytes": self.input_bytes} if self.input_bytes is not None else {}),
            **({"error_threshold": self.error_threshold} if self.error_threshold is not None else {}),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TotalsSection:
        """Read the section back."""
        failed_items = integer(data, "failed_items")
        return cls(
            files=integer(data, "files"),
            succeeded_files=integer(data, "succeeded_files"),
            failed_files=integer(data, "failed_files"),
            failed_items=failed_items if failed_items is not None else integer(data, "failed_files"),
            rows=integer(data, "rows"),
            mini_batches=integer(data, "mini_batches"),
            input_bytes=integer(data, "input_bytes"),
            error_threshold=integer(data, "error_threshold"),
        )


@dataclass(frozen=True)
class ShardSection:
    """One shard of the plan: the mini-batches and files one instance scores."""

    index: int
    mini_batches: int
    files: int

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"index": self.index, "mini_batches": self.mini_batches, "files": self.files}


@dataclass(frozen=True)
class PlanSection:
    """How every input (reused ones included) was cut into mini-batches and shards."""

    mini_batch_size: int
    shards: tuple[ShardSection, ...] = ()

    @property
    def mini_batch_count(self) -> int:
        """Mini-batches planned: every one is in exactly one shard."""
        return sum(s.mini_batches for s in self.shards)

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"mini_batch_size": self.mini_batch_size, "shards": [s.to_dict() for s in self.shards]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PlanSection:
        """Read the section back."""
        shards = tuple(
            ShardSection(integer(s, "index") or 0, integer(s, "mini_batches") or 0, integer(s, "files") or 0)
            for s in entries(data, "shards")
        )
        return cls(integer(data, "mini_batch_size") or 0, shards)


@dataclass(frozen=True)
class TimingsSection:
    """When the job ran and how fast: ISO times, seconds rounded as written."""

    started_at: str | None = None
    finished_at: str | None = None
    seconds: float | None = None
    worker_startup_seconds: float | None = None
    scoring_seconds: float | None = None
    """``None`` for a job that never scored; then the three scoring figures are left out."""
    rows_per_second: float | None = None

    @classmethod
    def of(
        cls,
        started_at: datetime,
        finished_at: datetime,
        worker_startup_seconds: float,
        scoring_seconds: float,
        rows: int,
    ) -> TimingsSection:
        """The timings of a scored job; the rate is of warm workers (start-up is reported on its own)."""
        return cls(
            started_at=started_at.isoformat(),
            finished_at=finished_at.isoformat(),
            seconds=round((finished_at - started_at).total_seconds(), 3),
            worker_startup_seconds=round(worker_startup_seconds, 3),
            scoring_seconds=round(scoring_seconds, 3),
            rows_per_second=round(rows / scoring_seconds, 1) if scoring_seconds > 0 else None,
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        scoring = {
            "worker_startup_seconds": self.worker_startup_seconds,
            "scoring_seconds": self.scoring_seconds,
            "rows_per_second": self.rows_per_second,
        }
        times = {"started_at": self.started_at, "finished_at": self.finished_at, "seconds": self.seconds}
        return times | (scoring if self.scoring_seconds is not None else {})

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TimingsSection:
        """Read the section back."""
        return cls(
            text(data, "started_at"),
            text(data, "finished_at"),
            number(data, "seconds"),
            number(data, "worker_startup_seconds"),
            number(data, "scoring_seconds"),
            number(data, "rows_per_second"),
        )


@dataclass(frozen=True)
class OutputSection:
    """Where the predictions are and how to read them, and the other files the job wrote.

    ``columns`` is ``None`` for a job that failed before scoring; then ``delimiter`` and ``header``
    are left out with it.
    """

    uri: str | None = None
    format: str | None = None
    """``csv``, ``rows`` (a script's space-separated rows), ``parquet`` or ``summary_only``."""
    delimiter: str | None = None
    header: bool | None = None
    columns: tuple[str, ...] | None = None
    files: tuple[str, ...] = ()
    """URIs of the other files written (a ``summary_only`` script's own outputs, the lineage Parquet)."""

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        columns = (
            {"delimiter": self.delimiter, "header": self.header, "columns": list(self.columns)}
            if self.columns is not None
            else {}
        )
        return {"uri": self.uri, "format": self.format} | columns | {"files": list(self.files)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> OutputSection:
        """Read the section back."""
        columns = data.get("columns")
        return cls(
            uri=text(data, "uri"),
            format=text(data, "format"),
            delimiter=text(data, "delimiter"),
            header=flag(data, "header"),
            columns=texts(data, "columns") if isinstance(columns, list) else None,
            files=texts(data, "files"),
        )
