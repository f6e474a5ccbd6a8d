"""``EnvironmentDecision``: which Python a job's workers run in, and why — the manifest's record of it.

``choice`` is one of:

- ``built``: a uv environment (``environment_key``), built now or reused;
- ``own-interpreter``: batchpoint's own, because it satisfies every requirement (or none was named);
- ``local``: batchpoint's own, forced by the deployment's ``properties.env_manager: local``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from batchpoint.specs.environment import EnvironmentSpec

EnvironmentChoice = Literal["built", "own-interpreter", "local"]


@dataclass(frozen=True)
class EnvironmentDecision:
    """The decision and the facts behind it (JSON-ready through ``to_dict``)."""

    choice: EnvironmentChoice
    reason: str
    source: str | None = None
    python_requested: str | None = None
    python_used: str = ""
    python_warning: str | None = None
    dropped: tuple[str, ...] = ()
    added: tuple[str, ...] = ()
    environment_key: str | None = None
    built_now: bool | None = None
    build_seconds: float | None = None
    built_from: EnvironmentSpec | None = field(default=None, compare=False)
    """For ``built``: the spec it was built from, so that another node can build the same one."""

    def to_dict(self) -> dict[str, Any]:
        """JSON form for the manifest's ``runtime.environment``."""
        return {
            "choice": self.choice,
            "reason": self.reason,
            "source": self.source,
            "python_requested": self.python_requested,
            "python_used": self.python_used,
            "python_warning": self.python_warning,
            "dropped_packages": list(self.dropped),
            "added_packages": list(self.added),
            "environment_key": self.environment_key,
            "built_now": self.built_now,
            "build_seconds": None if self.build_seconds is None else round(self.build_seconds, 3),
        }
