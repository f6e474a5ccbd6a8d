"""A service's heartbeat file: its age, and whose it is."""

from __future__ import annotations

import os
import time
from pathlib import Path

from batchpoint.heartbeat import Heartbeat, heartbeat_age


def test_age_of_the_last_beat_and_only_from_the_writer_asked_for(tmp_path: Path) -> None:
    path = tmp_path / "heartbeats" / "publisher.json"
    assert heartbeat_age(path) is None  # never beaten
    Heartbeat(path).beat(state="following")
    age = heartbeat_age(path, pid=os.getpid())
    assert age is not None and 0 <= age < 60
    later = heartbeat_age(path, now=time.time() + 100)
    assert later is not None and later > 90
    # A restarted service has a new pid: the old process's beat says nothing about it.
    assert heartbeat_age(path, pid=os.getpid() + 1) is None


def test_beats_closer_than_the_interval_do_not_rewrite_the_file(tmp_path: Path) -> None:
    path = tmp_path / "publisher.json"
    heartbeat = Heartbeat(path, every_s=3600)
    heartbeat.beat(n=1)
    heartbeat.beat(n=2)
    assert '"n": 1' in path.read_text()
    path.write_text("not json")
    assert heartbeat_age(path) is None  # unreadable: no beat, not a crash of the reader
