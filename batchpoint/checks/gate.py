"""Which checks keep ``latest`` where it is."""

from __future__ import annotations

from collections.abc import Sequence

from batchpoint.checks.results import CheckResult


def blocking_failures(results: Sequence[CheckResult]) -> list[CheckResult]:
    """The failed checks marked blocking: any of them keeps ``latest`` where it is."""
    return [r for r in results if r.blocking and r.failed]


def promotion_allowed(results: Sequence[CheckResult]) -> bool:
    """True when no blocking check failed (not evaluated is no failure: a first month has no baseline)."""
    return not blocking_failures(results)
