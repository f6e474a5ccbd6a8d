"""A service's heartbeat: a small file it rewrites while its main loop turns.

A live pid says nothing about a process stuck in a wait; a heartbeat does. The publisher beats;
the stack supervisor restarts it when the beat is older than
``Settings.service_heartbeat_timeout_seconds`` and ``batchpoint status`` reports it as hung.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from batchpoint.config import Settings

# Services whose main loop writes a heartbeat.
HEARTBEAT_SERVICES: tuple[str, ...] = ("publisher",)


def heartbeat_path(settings: Settings, service: str) -> Path:
    """Where ``service`` writes its heartbeat."""
    return settings.data_dir.resolve() / "heartbeats" / f"{service}.json"


class Heartbeat:
    """Writes ``{"time": <epoch s>, "pid": ..., **detail}`` at most every ``every_s`` seconds."""

    def __init__(self, path: Path, every_s: float = 2.0) -> None:
        self.path = path
        self.every_s = every_s
        self._last = 0.0

    def beat(self, **detail: object) -> None:
        """Record that the loop is turning (cheap when called more often than ``every_s``)."""
        now = time.time()
        if now - self._last < self.every_s:
            return
        self._last = now
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"time": now, "pid": os.getpid(), **detail}))
        tmp.replace(self.path)


def heartbeat_age(path: Path, pid: int | None = None, now: float | None = None) -> float | None:
    """Seconds since the last beat; ``None`` when there is none (from ``pid``, when given)."""
    try:
        raw = json.loads(path.read_text())
        beat, writer = float(raw["time"]), int(raw["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if pid is not None and writer != pid:
        return None
    return (time.time() if now is None else now) - beat
