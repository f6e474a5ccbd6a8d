"""SIGTERM stops a foreground command as Ctrl-C does: ``batchpoint down`` (and a service manager)
sends it to the process that started the stack, which then stops its services itself."""

from __future__ import annotations

import signal
from types import FrameType


class StopRequestedError(Exception):
    """SIGTERM arrived: stop like on Ctrl-C."""


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    raise StopRequestedError


def stop_on_sigterm() -> None:
    """From now on SIGTERM raises ``StopRequestedError`` in the main thread (catch it with ``KeyboardInterrupt``)."""
    signal.signal(signal.SIGTERM, _raise_stop)
