"""``ResolvedModel``: one concrete registered model version, with its artifacts on local disk."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from batchpoint.scoring.signature import InputSignature


@dataclass(frozen=True)
class ResolvedModel:
    """A model reference pinned to a version: what a job scores with and records in its manifest."""

    name: str
    version: str
    uri: str
    run_id: str | None
    signature: InputSignature | None
    local_path: Path
    requested: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON form for manifests and asset metadata."""
        return {
            "name": self.name,
            "version": self.version,
            "uri": self.uri,
            "run_id": self.run_id,
            "requested": self.requested or self.uri,
            "signature": self.signature.to_dict() if self.signature else None,
        }
