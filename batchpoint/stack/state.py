"""``<data_dir>/stack.json``: which launcher and process groups a running stack consists of.

Written by the launcher as services come up, read by ``batchpoint down`` / ``status`` from
another process, removed when the stack stops.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from batchpoint.errors import StackError
from batchpoint.stack.process import stop_group

STATE_FILE = "stack.json"


@dataclass(frozen=True)
class ProcessRecord:
    """One child process: its name, pid and process group."""

    name: str
    pid: int
    pgid: int
    log: str


@dataclass(frozen=True)
class ServiceRecord:
    """One service: where to reach it and its processes."""

    url: str
    processes: list[ProcessRecord]
    restarts: int = 0
    """How often the supervisor restarted one of its processes after a crash."""


@dataclass(frozen=True)
class StackState:
    """What ``stack.json`` holds."""

    launcher_pid: int
    status: str  # "starting" | "healthy"
    services: dict[str, ServiceRecord] = field(default_factory=dict)

    def to_json(self) -> str:
        """Serialise to JSON text."""
        return json.dumps(asdict(self), indent=2)

    @classmethod
    def from_json(cls, text: str) -> StackState:
        """Parse JSON text written by ``to_json``."""
        raw: dict[str, Any] = json.loads(text)
        services = {
            name: ServiceRecord(svc["url"], [ProcessRecord(**p) for p in svc["processes"]], int(svc.get("restarts", 0)))
            for name, svc in raw["services"].items()
        }
        return cls(int(raw["launcher_pid"]), str(raw["status"]), services)


def state_path(data_dir: Path) -> Path:
    """Where the state file of the stack using ``data_dir`` lives."""
    return data_dir / STATE_FILE


def write_state(data_dir: Path, state: StackState) -> None:
    """Replace the state file atomically, so a concurrent reader never sees half of it."""
    path = state_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(state.to_json())
    tmp.replace(path)


def read_state(data_dir: Path) -> StackState | None:
    """The state file's content, or None when no stack has been started from ``data_dir``."""
    path = state_path(data_dir)
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    try:
        return StackState.from_json(text)
    except (ValueError, KeyError, TypeError) as exc:
        raise StackError(f"{path} is not a stack state file ({exc}); remove it if no stack is running") from exc


def remove_state(data_dir: Path) -> None:
    """Delete the state file if present."""
    state_path(data_dir).unlink(missing_ok=True)


def stop_leftovers(state: StackState) -> list[str]:
    """Stop the process groups ``state`` records that still run; "name (pid N)" of each stopped.

    A launcher that was killed leaves its children running (each leads its own process group), and
    they keep the stack's ports.
    """
    stopped = []
    for record in state.services.values():
        for process in record.processes:
            if stop_group(process.pgid):
                stopped.append(f"{process.name} (pid {process.pid})")
    return stopped
