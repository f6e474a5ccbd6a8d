"""Crashes of one supervised process: how long to wait before the next restart, when to give up.

Pure (times are passed in), so the policy is unit-tested: the stack supervisor restarts a crashed
service with it, and the publisher its ``weed filer.meta.tail`` child.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from batchpoint.config import Settings


@dataclass
class CrashHistory:
    """Crash times within a sliding window; the restart delay doubles with each recent crash."""

    limit: int
    """Crashes within ``window_s`` that mean "stop restarting"; 0: never give up."""
    window_s: float
    base_s: float
    max_s: float
    times: list[float] = field(default_factory=list)

    @classmethod
    def from_settings(cls, settings: Settings, *, give_up: bool = True) -> CrashHistory:
        """The policy of ``Settings.service_*``; ``give_up=False`` restarts forever (with backoff)."""
        return cls(
            limit=settings.service_crash_limit if give_up else 0,
            window_s=settings.service_crash_window_seconds,
            base_s=settings.service_restart_backoff_seconds,
            max_s=settings.service_restart_backoff_max_seconds,
        )

    def record(self, now: float) -> int:
        """Count a crash at ``now`` (monotonic seconds); the crashes within the window, this one included."""
        self.times = [t for t in self.times if now - t < self.window_s]
        self.times.append(now)
        return len(self.times)

    @property
    def exhausted(self) -> bool:
        """Whether the crashes within the window reached the limit."""
        return self.limit > 0 and len(self.times) >= self.limit

    def delay(self) -> float:
        """Seconds to wait before the next restart: base, doubled for each further recent crash."""
        recent = max(len(self.times), 1)
        return min(self.base_s * 2.0 ** (recent - 1), self.max_s)
