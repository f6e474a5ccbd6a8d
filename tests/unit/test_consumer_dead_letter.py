"""Dead-letter records: JSON with the reason, the source position and the payload."""

from __future__ import annotations

import json

import pytest

from batchpoint.errors import EventError
from kafka_edge.dead_letter import DeadLetter
from kafka_edge.kafka_io import Message


@pytest.mark.parametrize(
    ("payload", "encoding"),
    [(b'{"Records": []}', "utf-8"), ("héllo".encode(), "utf-8"), (b"\x00\xff\xfe", "base64")],
)
def test_record_shape_and_round_trip(payload: bytes, encoding: str) -> None:
    message = Message(partition=2, offset=41, key=b"landing/a.csv", value=payload, timestamp_ms=1795491173082)
    letter = DeadLetter.of(message, "datastore-events", "no Records")
    document = json.loads(letter.to_json())
    assert document["reason"] == "no Records"
    assert document["source"] == {"topic": "datastore-events", "partition": 2, "offset": 41}
    assert document["timestamp_ms"] == 1795491173082
    assert document["payload_encoding"] == encoding
    assert document["dead_lettered_at"].endswith("Z")
    assert DeadLetter.from_json(letter.to_json()) == letter


def test_not_a_dead_letter() -> None:
    with pytest.raises(EventError, match="not a dead-letter record"):
        DeadLetter.from_json(b'{"reason": "x"}')
