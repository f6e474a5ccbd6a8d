"""``EnvironmentLog``: the lines that say how a job's environment was chosen and built, kept for its user log.

Choosing and building the environment (``runtime_environment.py``) says each step in a logger.
Azure users read the job's ``logs/user/`` files, not the run's log, so the job keeps those lines and
writes them first in ``job_progress_overview.txt``, whether scoring then runs or the build fails.
"""

from __future__ import annotations

import logging
import time

_LEVELS = {logging.WARNING: "WARNING ", logging.ERROR: "ERROR ", logging.CRITICAL: "ERROR "}


def environment_line(created: float, level: int, message: str) -> str:
    """One line of the user log: ``<local time> [WARNING |ERROR ]<message>``, as progress lines are dated."""
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(created))
    return f"{stamp} {_LEVELS.get(level, '')}{message}"


class EnvironmentLog(logging.Handler):
    """Keeps every line logged through ``logger`` and passes each on to ``forward`` (the run's log)."""

    def __init__(self, forward: logging.Logger | None = None) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []
        self._forward = forward
        # A logger of its own, outside logging's registry: nothing else writes to it, nothing propagates.
        self.logger = logging.Logger("batchpoint.environment", logging.INFO)
        self.logger.propagate = False
        self.logger.addHandler(self)

    def emit(self, record: logging.LogRecord) -> None:
        """Keep the line; say it in the forwarded log too."""
        message = record.getMessage()
        self.lines.append(environment_line(record.created, record.levelno, message))
        if self._forward is not None:
            self._forward.log(record.levelno, message)
