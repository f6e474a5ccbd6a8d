"""The invocation sensor's cursor: offsets and requested job names move together; a pending endpoint's
invocations run at once, marked pending (the new-endpoint job runs them)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from batchpoint.specs.job import InvocationMessage
from batchpoint.triggers.invocation_cursor import EndpointState, InvocationCursor, Received


def _message(job: str, endpoint: str = "sales") -> InvocationMessage:
    return InvocationMessage.model_validate(
        {
            "job_name": job,
            "endpoint_name": endpoint,
            "deployment_name": "blue",
            "inputs": {"input": {"type": "uri_folder", "path": "s3://landing/in/"}},
            "output_path": f"s3://batchpoint/{endpoint}/jobs/{job}/",
        }
    )


def _states(
    pending: frozenset[str] = frozenset(), gone: frozenset[str] = frozenset()
) -> Callable[[str], EndpointState]:
    def state(endpoint: str) -> EndpointState:
        if endpoint in pending:
            return EndpointState.PENDING
        return EndpointState.GONE if endpoint in gone else EndpointState.LOADED

    return state


def test_new_invocations_are_requested_and_offsets_advance() -> None:
    cursor = InvocationCursor()
    received = [Received(0, 5, _message("batchjob-a")), Received(0, 6, _message("batchjob-b"))]
    plan = cursor.plan(received, {0: 7}, _states())
    assert [m.job_name for m in plan.requests] == ["batchjob-a", "batchjob-b"]
    assert plan.next_offsets == {0: 7}
    cursor.advance(plan)
    assert cursor.offsets == {0: 7}
    assert cursor.requested == ["batchjob-a", "batchjob-b"]


def test_a_redelivered_invocation_is_requested_once() -> None:
    cursor = InvocationCursor(offsets={0: 1}, requested=["batchjob-a"])
    received = [
        Received(0, 1, _message("batchjob-a")),
        Received(0, 2, _message("batchjob-b")),
        Received(0, 3, _message("batchjob-b")),
    ]
    plan = cursor.plan(received, {0: 4}, _states())
    assert [m.job_name for m in plan.requests] == ["batchjob-b"]
    assert [m.job_name for m in plan.duplicates] == ["batchjob-a", "batchjob-b"]
    cursor.advance(plan)
    assert cursor.requested == ["batchjob-a", "batchjob-b"]


def test_an_endpoint_not_loaded_yet_is_requested_at_once_and_marked_pending() -> None:
    cursor = InvocationCursor(offsets={0: 10, 1: 3})
    received = [
        Received(0, 10, _message("batchjob-a")),
        Received(0, 11, _message("batchjob-new", endpoint="fresh")),
        Received(0, 12, _message("batchjob-c")),
        Received(1, 3, _message("batchjob-d")),
    ]
    plan = cursor.plan(received, {0: 13, 1: 4}, _states(pending=frozenset({"fresh"})))
    assert [m.job_name for m in plan.requests] == ["batchjob-a", "batchjob-new", "batchjob-c", "batchjob-d"]
    assert plan.pending == {"batchjob-new"}
    assert plan.next_offsets == {0: 13, 1: 4}
    cursor.advance(plan)
    # Read again (redelivered), it is a duplicate: nothing is requested twice.
    again = cursor.plan(received[1:3], {0: 13}, _states())
    assert (again.requests, len(again.duplicates)) == ([], 2)


def test_an_invocation_of_a_deleted_endpoint_is_gone_and_not_seen_again() -> None:
    cursor = InvocationCursor()
    plan = cursor.plan(
        [Received(0, 0, _message("batchjob-x", endpoint="deleted"))], {0: 1}, _states(gone=frozenset({"deleted"}))
    )
    assert ([m.job_name for m in plan.gone], plan.requests) == (["batchjob-x"], [])
    cursor.advance(plan)
    assert cursor.plan([Received(0, 0, _message("batchjob-x", endpoint="deleted"))], {0: 1}, _states()).duplicates


@pytest.mark.parametrize("raw", [None, ""])
def test_empty_cursor_reads_from_the_beginning(raw: str | None) -> None:
    assert InvocationCursor.from_cursor(raw) == InvocationCursor()


def test_cursor_round_trips_and_keeps_only_the_latest_names(monkeypatch: pytest.MonkeyPatch) -> None:
    cursor = InvocationCursor(offsets={0: 12, 2: 7}, requested=["batchjob-a"])
    assert InvocationCursor.from_cursor(cursor.to_cursor()) == cursor
    monkeypatch.setattr("batchpoint.triggers.invocation_cursor.REQUESTED_LIMIT", 2)
    plan = cursor.plan(
        [Received(0, 12, _message("batchjob-b")), Received(0, 13, _message("batchjob-c"))], {0: 14}, _states()
    )
    cursor.advance(plan)
    assert cursor.requested == ["batchjob-b", "batchjob-c"]
