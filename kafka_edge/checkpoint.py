"""The publisher's checkpoint: the filer time up to which every change is on the topic."""

from __future__ import annotations

import json
import os
from pathlib import Path

from batchpoint.errors import EventError


class Checkpoint:
    """A nanosecond timestamp kept in a small JSON file, replaced atomically on every save."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> int | None:
        """The saved timestamp, or ``None`` before the first save."""
        if not self.path.exists():
            return None
        try:
            return int(json.loads(self.path.read_text())["ts_ns"])
        except (ValueError, KeyError, TypeError) as exc:
            raise EventError(
                f'publisher checkpoint {self.path} is unreadable ({exc!r}); expected {{"ts_ns": <int>}}. '
                "Delete it to replay every change the filer still has (duplicates are deduped downstream)."
            ) from exc

    def save(self, ts_ns: int) -> None:
        """Persist ``ts_ns``; a crash leaves either the old or the new file, never half of one."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        with tmp.open("w") as out:
            json.dump({"ts_ns": ts_ns}, out)
            out.flush()
            os.fsync(out.fileno())
        tmp.replace(self.path)
