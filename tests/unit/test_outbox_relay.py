"""The outbox relay's pure parts: records, back-off, parking of rows that keep failing; the outbox table."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from batchpoint.registry.outbox import OutboxMessage
from batchpoint.registry.tables import outbox
from kafka_edge.outbox_relay import Backoff, OutboxTable, Parking, SendOutcome, record


@pytest.mark.parametrize(
    ("key", "payload", "expected"),
    [
        ("batchjob-abc", '{"job": "batchjob-abc"}', ("invocations", b"batchjob-abc", b'{"job": "batchjob-abc"}')),
        (None, "{}", ("invocations", None, b"{}")),
        ("ключ", '{"é": 1}', ("invocations", "ключ".encode(), '{"é": 1}'.encode())),
    ],
)
def test_row_becomes_the_record_unchanged(key: str | None, payload: str, expected: tuple[object, ...]) -> None:
    assert record(OutboxMessage(1, "invocations", key, payload, datetime.now(UTC))) == expected


def test_backoff_doubles_up_to_its_cap_and_resets() -> None:
    backoff = Backoff(initial=0.5, cap=3.0)
    assert [backoff.failed() for _ in range(5)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    backoff.succeeded()
    assert backoff.failed() == 0.5


@pytest.mark.parametrize(
    ("sent", "failed", "outage"),
    [((), (), False), ((1,), (), False), ((), ((1, "timeout"),), True), ((1,), ((2, "too large"),), False)],
)
def test_outage_means_nothing_went_through(
    sent: tuple[int, ...], failed: tuple[tuple[int, str], ...], outage: bool
) -> None:
    assert SendOutcome(sent, failed).outage is outage


def test_a_row_failing_while_others_go_through_is_parked_after_max_attempts() -> None:
    parking = Parking(max_attempts=3)
    assert parking.record(SendOutcome((1,), ((2, "too large"),))) == []
    assert parking.record(SendOutcome((3,), ((2, "too large"),))) == []
    assert parking.record(SendOutcome((4,), ((2, "still too large"),))) == [(2, "still too large")]
    assert parking.parked == {2: "still too large"}
    assert parking.attempts == {}


def test_an_outage_counts_against_no_row() -> None:
    parking = Parking(max_attempts=2)
    for _ in range(5):
        assert parking.record(SendOutcome((), ((1, "broker down"), (2, "broker down")))) == []
    assert parking.parked == {}
    assert parking.attempts == {}


def test_a_row_that_goes_through_starts_counting_afresh() -> None:
    parking = Parking(max_attempts=2)
    parking.record(SendOutcome((9,), ((1, "flaky"),)))
    parking.record(SendOutcome((1,), ()))
    assert parking.record(SendOutcome((9,), ((1, "flaky"),))) == []
    assert parking.parked == {}


def _insert(url: str, *rows: tuple[str, str | None, str]) -> list[int]:
    engine = sa.create_engine(url)
    ids: list[int] = []
    with engine.begin() as conn:
        for topic, key, payload in rows:
            result = conn.execute(
                outbox.insert().values(topic=topic, key=key, payload=payload, created_at=datetime.now(UTC))
            )
            assert result.inserted_primary_key is not None
            ids.append(int(result.inserted_primary_key[0]))
    engine.dispose()
    return ids


def test_outbox_table_lists_unsent_rows_in_order_and_marks_them_sent(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'registry.db'}"
    table = OutboxTable(url)
    try:
        first, second, third = _insert(
            url, ("invocations", "a", "{}"), ("invocations", "b", "{}"), ("other", None, "x")
        )
        assert [r.id for r in table.pending()] == [first, second, third]
        assert [r.id for r in table.pending(limit=2)] == [first, second]
        assert [r.id for r in table.pending(skip=[second])] == [first, third]
        table.mark_sent([first, third])
        assert [(r.id, r.topic, r.key, r.payload) for r in table.pending()] == [(second, "invocations", "b", "{}")]
        table.mark_sent([])
        assert len(table.pending()) == 1
    finally:
        table.close()
