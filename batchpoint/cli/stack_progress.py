"""What ``batchpoint up`` shows while services start: a line per healthy service with its time.

On a terminal a spinner under those lines names the services still starting and the seconds
since the start; piped (``up --detach`` writes to ``logs/launcher.log``) only the lines.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import click
from rich.console import Console
from rich.status import Status

from batchpoint.sdk.progress import terminal_console


class StartReport:
    """``healthy`` and ``event`` are ``Stack``'s callbacks; ``starting`` wraps the start."""

    def __init__(self, console: Console | None) -> None:
        self._console = console
        self._pending: list[str] = []
        self._status: Status | None = None
        self._began = time.monotonic()
        self._lock = threading.Lock()

    @classmethod
    def for_stdout(cls) -> StartReport:
        """A spinner on a terminal stdout, lines only otherwise."""
        return cls(terminal_console(sys.stdout, show_progress=True))

    @contextmanager
    def starting(self, services: Sequence[str]) -> Iterator[None]:
        """While the stack starts ``services``: the spinner, if any."""
        self._pending, self._began = list(services), time.monotonic()
        if self._console is None:
            yield
            return
        with self._console.status(self._waiting_text()) as status:
            self._status = status
            try:
                yield
            finally:
                self._status = None

    def healthy(self, service: str, url: str, seconds: float) -> None:
        """``service`` answers at ``url``, ``seconds`` after it was started."""
        with self._lock:
            if service in self._pending:
                self._pending.remove(service)
            self._say(f"  {service:<10} {url}   (healthy in {seconds:.1f} s)")
            if self._status is not None:
                self._status.update(self._waiting_text())

    def event(self, message: str) -> None:
        """A supervision event (a restart, a service that stopped), time-stamped."""
        with self._lock:
            self._say(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {message}")

    def _waiting_text(self) -> str:
        waiting = ", ".join(self._pending) or "the last checks"
        return f"starting: waiting for {waiting} ({time.monotonic() - self._began:.0f} s)"

    def _say(self, line: str) -> None:
        if self._console is not None and self._status is not None:
            self._console.print(line, markup=False, highlight=False)
        else:
            click.echo(line)
