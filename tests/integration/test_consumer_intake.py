"""Intake on the real broker: explicit offsets, dead letters with reasons, resuming where it stopped."""

from __future__ import annotations

import json
import threading

import pytest

from batchpoint.config import Settings
from batchpoint.errors import EventError
from kafka_edge.events import ObjectCreated
from kafka_edge.intake import Intake, no_endpoint_watches, object_created_events, take
from kafka_edge.kafka_io import ensure_topics, make_producer, read_from
from kafka_edge.s3_event_json import encode, message_key

pytestmark = pytest.mark.integration


def _event(prefix: str, name: str) -> ObjectCreated:
    return ObjectCreated("landing", f"{prefix}/{name}", f"etag-{name}", 10, "2026-11-03T10:15:02.123Z")


def _route(event: ObjectCreated) -> str | None:
    if "/forbidden" in event.key:
        raise EventError(f"{event.uri} is outside every endpoint's input folder")
    return "sales-endpoint" if "/sales/" in event.key else None


def _take(
    bootstrap: str, topic: str, dlq: str, offsets: dict[int, int] | None, max_records: int = 500
) -> Intake[str, ObjectCreated]:
    """``take`` as the arrival sensor calls it, with this test's router."""
    return take(
        bootstrap,
        topic,
        dlq,
        offsets,
        object_created_events,
        _route,
        unrouted=no_endpoint_watches,
        max_records=max_records,
    )


def test_take_routes_dead_letters_and_resumes(store_and_broker: Settings, unique_name: str) -> None:
    bootstrap = store_and_broker.bootstrap
    topic, dlq, prefix = f"{unique_name}-events", f"{unique_name}-dlq", unique_name
    ensure_topics(bootstrap, [topic, dlq])
    good = [_event(prefix, f"sales/p{i}.csv") for i in range(4)]
    producer = make_producer(bootstrap)
    payloads = [
        encode(good[0]),
        encode(good[1]),
        b"this is not json",
        encode(_event(prefix, "unwatched/x.csv")),
        encode(_event(prefix, "forbidden/y.csv")),
        encode(good[2]),
    ]
    for payload in payloads:
        producer.send(topic, value=payload)
    producer.flush()

    first = _take(bootstrap, topic, dlq, None, max_records=3)
    assert [(r, e) for r, e, _ in first.routed] == [("sales-endpoint", good[0]), ("sales-endpoint", good[1])]
    assert [(m.offset, reason.split(":")[0]) for m, reason in first.dead_lettered] == [(2, "not JSON")]
    assert first.next_offsets == {0: 3}

    second = _take(bootstrap, topic, dlq, first.next_offsets)
    assert [e for _, e, _ in second.routed] == [good[2]]
    assert [m.offset for _, _, m in second.routed] == [5]
    assert [(m.offset, reason) for m, reason in second.dead_lettered] == [
        (3, f"no endpoint watches s3://landing/{prefix}/unwatched/x.csv"),
        (4, f"s3://landing/{prefix}/forbidden/y.csv is outside every endpoint's input folder"),
    ]
    assert second.next_offsets == {0: 6}

    # Caught up: nothing new, offsets unchanged; a later event is read from there.
    assert _take(bootstrap, topic, dlq, second.next_offsets).next_offsets == {0: 6}
    producer.send(topic, key=message_key(good[3]), value=encode(good[3]))
    producer.flush()
    producer.close()
    third = _take(bootstrap, topic, dlq, second.next_offsets)
    assert [(e, m.key) for _, e, m in third.routed] == [(good[3], message_key(good[3]))]
    assert third.next_offsets == {0: 7}

    # The dead letters are on their topic, in order, with the reason and the untouched payload.
    letters = [json.loads(m.value) for m in read_from(bootstrap, dlq, None, 10, 5.0).messages]
    assert [(d["source"]["offset"], d["source"]["topic"]) for d in letters] == [(2, topic), (3, topic), (4, topic)]
    assert letters[0]["reason"].startswith("not JSON: ")
    assert letters[0]["payload"] == "this is not json"
    assert letters[1]["reason"] == f"no endpoint watches s3://landing/{prefix}/unwatched/x.csv"


def test_read_from_empty_and_missing_topics(store_and_broker: Settings, unique_name: str) -> None:
    bootstrap = store_and_broker.bootstrap
    ensure_topics(bootstrap, [unique_name])
    empty = read_from(bootstrap, unique_name, None, 10, 5.0)
    assert (empty.messages, empty.next_offsets) == ([], {0: 0})
    assert read_from(bootstrap, f"{unique_name}-missing", {0: 4}, 10, 1.0).next_offsets == {0: 4}


def test_a_waiting_read_returns_the_event_published_while_it_waits(
    store_and_broker: Settings, unique_name: str
) -> None:
    bootstrap = store_and_broker.bootstrap
    ensure_topics(bootstrap, [unique_name])
    caught_up = read_from(bootstrap, unique_name, None, 10, 1.0).next_offsets
    producer = make_producer(bootstrap)
    # Published while the read below waits (the wait is long enough to surely cover it): without
    # the wait the read would return empty, caught up.
    later = threading.Timer(1.0, lambda: (producer.send(unique_name, value=b"landed"), producer.flush()))
    later.start()
    try:
        batch = read_from(bootstrap, unique_name, caught_up, 10, 5.0, wait_s=120.0)
    finally:
        later.join()
        producer.close()
    assert ([m.value for m in batch.messages], batch.next_offsets) == ([b"landed"], {0: 1})


def test_a_read_takes_every_pending_event_beyond_one_fetch(store_and_broker: Settings, unique_name: str) -> None:
    bootstrap = store_and_broker.bootstrap
    ensure_topics(bootstrap, [unique_name])
    producer = make_producer(bootstrap)
    for i in range(1500):  # more than the 500 a sensor tick used to read
        producer.send(unique_name, value=f"{i:04d}".encode() * 300)  # ~1.8 MB: several fetches
    producer.flush()
    producer.close()
    batch = read_from(bootstrap, unique_name, None, 50_000, 60.0, wait_s=5.0)
    assert [m.offset for m in batch.messages] == list(range(1500))
    assert batch.next_offsets == {0: 1500}
