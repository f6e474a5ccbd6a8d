"""``BackfillPoller``: what ``begin_backfill`` returns; ``result()`` waits until every month's run ended."""

from __future__ import annotations

import time
from collections.abc import Callable

from batchpoint.sdk.entities.backfill import Backfill
from batchpoint.sdk.poller import LROPoller

POLL_INTERVAL_S = 2.0
# Azure's long-running-operation status words.
_LRO_STATUS = {"Running": "InProgress", "Completed": "Succeeded", "Failed": "Failed", "Canceled": "Canceled"}


class BackfillPoller(LROPoller[Backfill]):
    """Polls the backfill through ``refresh`` (``GET /v1/backfills/{id}``) while it runs."""

    def __init__(
        self, started: Backfill, refresh: Callable[[str], Backfill], *, poll_interval: float | None = None
    ) -> None:
        super().__init__(started)
        self._refresh = refresh
        self._poll_interval = POLL_INTERVAL_S if poll_interval is None else poll_interval

    @property
    def backfill(self) -> Backfill:
        """The backfill as last read (no call)."""
        return self._value

    def poll(self) -> Backfill:
        """Read the backfill once more (no call once it ended)."""
        if not self._value.done:
            self._value = self._refresh(self._value.name)
        return self._value

    def result(self, timeout: float | None = None) -> Backfill:
        """The backfill once every month's run ended; after ``timeout`` seconds, as it is then (Azure's rule)."""
        self.wait(timeout)
        return self._value

    def wait(self, timeout: float | None = None) -> None:
        """Poll until the backfill ended or ``timeout`` seconds passed."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.poll().done:
            if deadline is not None and time.monotonic() >= deadline:
                return
            time.sleep(self._poll_interval)

    def done(self) -> bool:
        """Whether the backfill ended (reads it once)."""
        return self.poll().done

    def status(self) -> str:
        """``InProgress``, ``Succeeded``, ``Failed`` or ``Canceled``."""
        return _LRO_STATUS.get(self._value.status, "InProgress")
