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


@dataclass(frozen=True)
class CheckReport:
    """Every check of one version, the baseline drift was measured against, and the time they took.

    The manifest's ``checks`` section. ``baseline_partition``/``baseline_version`` name the
    previous month's ``latest`` (``None`` when there was none).
    """

    results: tuple[CheckResult, ...]
    baseline_partition: str | None = None
    baseline_version: str | None = None
    seconds: float = 0.0
    pictures: Mapping[str, str] = field(default_factory=dict)
    """Each picture's URI by what it shows (``drift[<column>]``: the histograms, SVG)."""
    step_seconds: Mapping[str, float] = field(default_factory=dict)
    """Where ``seconds`` went: reading the predictions, the baseline, each check, the pictures."""

    @property
    def blocked_by(self) -> list[CheckResult]:
        """The failed checks marked blocking: any of them keeps ``latest`` where it is."""
        return [r for r in self.results if r.blocking and r.failed]  # not evaluated blocks nothing

    def blocking_note(self) -> str:
        """Why ``latest`` stays, in one line (empty when nothing blocks)."""
        return "; ".join(f"check {r.name} failed: {r.summary}" for r in self.blocked_by)

    def by_name(self, name: str) -> CheckResult | None:
        """The result of check ``name``, if it was evaluated."""
        return next((r for r in self.results if r.name == name), None)

    def to_dict(self) -> dict[str, Any]:
        """The manifest's form."""
        return {
            "results": [r.to_dict() for r in self.results],
            "baseline": {"partition": self.baseline_partition, "version_id": self.baseline_version},
            "blocked": bool(self.blocked_by),
            "seconds": round(self.seconds, 3),
            "step_seconds": {k: round(v, 3) for k, v in self.step_seconds.items()},
            "pictures": dict(self.pictures),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CheckReport:
        """Read back what ``to_dict`` wrote."""
        baseline = data.get("baseline") or {}
        return cls(
            results=tuple(CheckResult.from_dict(r) for r in data.get("results") or ()),
            baseline_partition=baseline.get("partition"),
            baseline_version=baseline.get("version_id"),
            seconds=float(data.get("seconds") or 0.0),
            pictures={str(k): str(v) for k, v in (data.get("pictures") or {}).items()},
            step_seconds={str(k): float(v) for k, v in (data.get("step_seconds") or {}).items()},
        )
