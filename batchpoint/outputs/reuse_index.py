"""What a later run may reuse of a version: the scoring it was made with, and where each mini-batch's rows are.

A manifest's ``reuse_index`` (``docs/decisions/every-file-once.md``):

- ``key``: a hash of what decides the rows (model version, deployment name, runtime, code, output
  settings; ``scoring/reuse_key.py``). A later run reuses nothing from a version with another key,
  or none (an older manifest);
- ``unit`` and ``segments``: for a scoring script's output, one segment per mini-batch whose every
  file was scored without error: its files (URI and ETag), the rows ``run()`` returned, and where
  they are in the version's output file (``start`` and ``length`` in bytes for Azure's text rows,
  ``unit: bytes``; in rows for a Parquet output, ``unit: rows``). The built-in MLflow scorer's rows
  are attributed to files in the lineage Parquet instead, so its index has no segments.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from batchpoint.outputs.json_fields import entries, integer, text, texts

SegmentUnit = Literal["bytes", "rows"]


@dataclass(frozen=True)
class OutputSegment:
    """One mini-batch's rows in a version's output: its files and where the rows are."""

    files: tuple[tuple[str, str], ...]
    """``(input_uri, etag)`` of every file of the mini-batch, in the order ``run()`` got them."""
    rows: int
    start: int
    length: int

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "files": [uri for uri, _ in self.files],
            "etags": [etag for _, etag in self.files],
            "rows": self.rows,
            "start": self.start,
            "length": self.length,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> OutputSegment:
        """Read the segment back; one whose files and ETags do not pair up has no files (never reused)."""
        uris, etags = texts(data, "files"), texts(data, "etags")
        files = tuple(zip(uris, etags, strict=True)) if len(uris) == len(etags) else ()
        return cls(files, integer(data, "rows") or 0, integer(data, "start") or 0, integer(data, "length") or 0)


@dataclass(frozen=True)
class ReuseIndex:
    """The ``reuse_index`` section of a manifest."""

    key: str
    unit: SegmentUnit | None = None
    """``None``: no per-mini-batch segments (the built-in scorer's lineage, or a ``summary_only`` script)."""
    segments: tuple[OutputSegment, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"key": self.key, "unit": self.unit, "segments": [s.to_dict() for s in self.segments]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ReuseIndex:
        """Read the section back."""
        unit = text(data, "unit")
        return cls(
            key=text(data, "key") or "",
            unit="bytes" if unit == "bytes" else "rows" if unit == "rows" else None,
            segments=tuple(OutputSegment.from_dict(e) for e in entries(data, "segments")),
        )
