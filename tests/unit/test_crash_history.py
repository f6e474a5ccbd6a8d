"""The restart policy of supervised processes: backoff doubling, giving up after a burst of crashes."""

from __future__ import annotations

import dataclasses

from batchpoint.config import Settings
from batchpoint.crash_history import CrashHistory


def test_the_delay_doubles_with_recent_crashes_up_to_the_max() -> None:
    history = CrashHistory(limit=0, window_s=60, base_s=1, max_s=5)
    delays = []
    for t in range(5):
        history.record(float(t))
        delays.append(history.delay())
    assert delays == [1, 2, 4, 5, 5]
    assert not history.exhausted  # limit 0: restart forever


def test_crashes_outside_the_window_are_forgotten() -> None:
    history = CrashHistory(limit=3, window_s=60, base_s=1, max_s=30)
    assert history.record(0.0) == 1
    assert history.record(10.0) == 2
    assert history.record(100.0) == 1  # both earlier crashes are over a minute old
    assert history.delay() == 1
    assert not history.exhausted


def test_the_limit_within_the_window_exhausts_it() -> None:
    settings = dataclasses.replace(Settings(), service_crash_limit=3, service_crash_window_seconds=60.0)
    history = CrashHistory.from_settings(settings)
    for t in (0.0, 5.0):
        history.record(t)
        assert not history.exhausted
    history.record(30.0)
    assert history.exhausted
    assert CrashHistory.from_settings(settings, give_up=False).limit == 0
