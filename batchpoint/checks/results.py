"""What one check found: its status, whether it blocks promotion, a sentence, and its figures."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

Figure = int | float | str


class CheckStatus(StrEnum):
    """A check passed, failed, or could not be evaluated (e.g. drift in a first month: no baseline)."""

    PASSED = "passed"
    FAILED = "failed"
    NOT_EVALUATED = "not_evaluated"


@dataclass(frozen=True)
class CheckResult:
    """One check of one version, as the manifest's ``checks`` section and Dagster's checks tab show it."""

    name: str
    status: CheckStatus
    blocking: bool
    summary: str
    """One sentence a person reads: what was found, with the figure that decided it."""
    figures: Mapping[str, Figure] = field(default_factory=dict)
    per_column: Mapping[str, Mapping[str, Figure]] = field(default_factory=dict)
    """Figures per prediction column (drift: PSI, class shares)."""

    @property
    def failed(self) -> bool:
        """True when the check ran and found a problem."""
        return self.status is CheckStatus.FAILED

    def to_dict(self) -> dict[str, Any]:
        """The manifest's form."""
        return {
            "name": self.name,
            "status": str(self.status),
            "blocking": self.blocking,
            "summary": self.summary,
            "figures": dict(self.figures),
            "per_column": {k: dict(v) for k, v in self.per_column.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CheckResult:
        """Read back what ``to_dict`` wrote."""
        return cls(
            name=str(data["name"]),
            status=CheckStatus(data["status"]),
            blocking=bool(data.get("blocking", False)),
            summary=str(data.get("summary", "")),
            figures=dict(data.get("figures") or {}),
            per_column={str(k): dict(v) for k, v in (data.get("per_column") or {}).items()},
        )
