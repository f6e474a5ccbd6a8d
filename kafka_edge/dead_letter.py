"""Dead letters: a message that cannot be decoded or routed, with the reason, on its own topic."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from batchpoint.errors import EventError
from kafka_edge.kafka_io import KafkaError, KafkaProducer, Message


@dataclass(frozen=True)
class DeadLetter:
    """Why one message was set aside, where it came from, and its payload unchanged."""

    reason: str
    topic: str
    partition: int
    offset: int
    timestamp_ms: int
    payload: bytes
    key: bytes | None = None
    dead_lettered_at: str = ""

    @classmethod
    def of(cls, message: Message, topic: str, reason: str) -> DeadLetter:
        """The dead letter of ``message`` read from ``topic``, stamped now."""
        now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        return cls(
            reason, topic, message.partition, message.offset, message.timestamp_ms, message.value, message.key, now
        )

    def to_json(self) -> bytes:
        """The record written to the dead-letter topic: payload as text when UTF-8, else base64."""
        try:
            payload, encoding = self.payload.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            payload, encoding = base64.b64encode(self.payload).decode("ascii"), "base64"
        document = {
            "reason": self.reason,
            "source": {"topic": self.topic, "partition": self.partition, "offset": self.offset},
            "timestamp_ms": self.timestamp_ms,
            "dead_lettered_at": self.dead_lettered_at,
            "key": self.key.decode("utf-8", "replace") if self.key is not None else None,
            "payload": payload,
            "payload_encoding": encoding,
        }
        return json.dumps(document).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> DeadLetter:
        """Read a record written by ``to_json`` (for tools that replay or inspect dead letters)."""
        try:
            doc = json.loads(raw)
            source = doc["source"]
            text = doc["payload"]
            payload = base64.b64decode(text) if doc["payload_encoding"] == "base64" else text.encode("utf-8")
            key = doc.get("key")
            return cls(
                reason=doc["reason"],
                topic=source["topic"],
                partition=int(source["partition"]),
                offset=int(source["offset"]),
                timestamp_ms=int(doc["timestamp_ms"]),
                payload=payload,
                key=key.encode("utf-8") if key is not None else None,
                dead_lettered_at=doc.get("dead_lettered_at", ""),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise EventError(f"not a dead-letter record: {exc!r}") from exc


def send_dead_letters(producer: KafkaProducer, topic: str, letters: Sequence[DeadLetter]) -> None:
    """Write ``letters`` to ``topic`` and wait until the broker has them all."""
    try:
        futures = [producer.send(topic, key=letter.key, value=letter.to_json()) for letter in letters]
        producer.flush(timeout=30)
        for future in futures:
            # flush() does not raise for failed sends; the future does.
            future.get(timeout=0)
    except KafkaError as exc:
        raise EventError(f"writing {len(letters)} dead letter(s) to {topic} failed: {exc}") from exc
