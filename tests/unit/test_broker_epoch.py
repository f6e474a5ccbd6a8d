"""The embedded broker's epoch and the cursors that remember it."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from batchpoint.config import Settings
from batchpoint.storage.memory import MemoryStore
from batchpoint.triggers.arrival_batching import ArrivalState
from batchpoint.triggers.broker_epoch import MARKER_KEY, current_epoch, log_epoch
from batchpoint.triggers.invocation_cursor import InvocationCursor


def test_the_epoch_belongs_to_the_log_not_to_a_broker_start(tmp_path: Path) -> None:
    settings = dataclasses.replace(Settings(), data_dir=tmp_path)
    store = MemoryStore()
    store.ensure_bucket(settings.broker_bucket)
    assert current_epoch(settings) == ""  # compose / production: a broker the stack did not start
    first = log_epoch(settings, store)  # an empty log: a new epoch, kept beside it
    assert current_epoch(settings) == first
    assert store.get_bytes(settings.broker_bucket, MARKER_KEY) == first.encode()
    assert log_epoch(settings, store) == first  # a restart of the durable broker: same log, same offsets
    store.delete(settings.broker_bucket, MARKER_KEY)  # the bucket was emptied: the log begins again
    second = log_epoch(settings, store)
    assert second != first
    assert current_epoch(settings) == second


def test_cursors_keep_the_epoch_beside_their_offsets() -> None:
    state = ArrivalState(offsets={0: 12}, epoch="abc")
    assert ArrivalState.from_cursor(state.to_cursor()).epoch == "abc"
    assert ArrivalState.from_cursor('{"offsets": {"0": 3}}').epoch == ""  # cursors written before epochs
    cursor = InvocationCursor(offsets={0: 4}, requested=["job-1"], epoch="abc")
    again = InvocationCursor.from_cursor(cursor.to_cursor())
    assert (again.offsets, again.requested, again.epoch) == ({0: 4}, ["job-1"], "abc")
