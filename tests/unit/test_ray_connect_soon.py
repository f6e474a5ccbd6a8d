"""``connect_soon``: the cluster is joined in a thread while the job does other work; the job's
first host waits for it and gets its error, as when it joined itself."""

from __future__ import annotations

import threading

import pytest

from batchpoint.ray_compute import hosts


def test_joining_runs_in_a_thread_and_its_error_reaches_whoever_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    started, release = threading.Event(), threading.Event()
    callers: list[str] = []

    def fake_connect(address: str | None) -> None:
        callers.append(threading.current_thread().name)
        started.set()
        release.wait(10)
        raise ConnectionError(f"no cluster at {address}")

    monkeypatch.setattr(hosts, "connect", fake_connect)
    joined = hosts.connect_soon("127.0.0.1:1")
    assert started.wait(10)  # under way before anyone waits: the caller goes on meanwhile
    release.set()
    with pytest.raises(ConnectionError, match=r"no cluster at 127\.0\.0\.1:1"):
        joined()
    assert callers == ["ray-connect"]
