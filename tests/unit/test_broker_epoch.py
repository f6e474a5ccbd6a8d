"""The embedded broker's epoch and the cursors that remember it."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from batchpoint.arrival_batching import ArrivalState
from batchpoint.broker_epoch import current_epoch, new_epoch
from batchpoint.config import Settings
from dagster_project.invocation_cursor import InvocationCursor


def test_each_broker_start_has_a_new_epoch_and_none_means_persistent(tmp_path: Path) -> None:
    settings = dataclasses.replace(Settings(), data_dir=tmp_path)
    assert current_epoch(settings) == ""  # compose / production: a broker the stack did not start
    first = new_epoch(settings)
    assert current_epoch(settings) == first
    second = new_epoch(settings)
    assert second != first
    assert current_epoch(settings) == second


def test_cursors_keep_the_epoch_beside_their_offsets() -> None:
    state = ArrivalState(offsets={0: 12}, epoch="abc")
    assert ArrivalState.from_cursor(state.to_cursor()).epoch == "abc"
    assert ArrivalState.from_cursor('{"offsets": {"0": 3}}').epoch == ""  # cursors written before epochs
    cursor = InvocationCursor(offsets={0: 4}, requested=["job-1"], epoch="abc")
    again = InvocationCursor.from_cursor(cursor.to_cursor())
    assert (again.offsets, again.requested, again.epoch) == ({0: 4}, ["job-1"], "abc")
