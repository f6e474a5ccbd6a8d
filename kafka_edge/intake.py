"""Intake: read a topic from explicit offsets, decode, route, and dead-letter what cannot be used.

Both sensors call ``take``: the arrival sensor with ``object_created_events`` and its endpoint
router, the invocation sensor with ``invocation_messages`` and ``accept``. The caller keeps
``next_offsets`` in its cursor. Dead letters are on the broker before ``take`` returns, so
advancing the cursor past them loses nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from batchpoint.errors import EventError
from batchpoint.specs.job import InvocationMessage
from kafka_edge import invocation_json, s3_event_json
from kafka_edge.dead_letter import DeadLetter, send_dead_letters
from kafka_edge.events import ObjectCreated
from kafka_edge.kafka_io import Message, make_producer, read_from

log = logging.getLogger(__name__)

D = TypeVar("D")
R = TypeVar("R")


@dataclass(frozen=True)
class Intake(Generic[R, D]):
    """What one ``take`` produced: (route, decoded item, message) triples, dead letters, where to resume."""

    routed: list[tuple[R, D, Message]] = field(default_factory=list)
    dead_lettered: list[tuple[Message, str]] = field(default_factory=list)
    next_offsets: dict[int, int] = field(default_factory=dict)


def object_created_events(message: Message) -> list[ObjectCreated]:
    """The object-created events of one store notification (MinIO/S3 event JSON)."""
    return s3_event_json.decode(message.value)


def no_endpoint_watches(event: ObjectCreated) -> str:
    """The dead letter's reason for an object-created event that no endpoint's landing folder holds."""
    return f"no endpoint watches {event.uri}"


def invocation_messages(message: Message) -> list[InvocationMessage]:
    """The one invocation a message of the invocations topic carries (its key is the job name)."""
    return [invocation_json.decode(message.value, message.key)]


def accept(item: D) -> D:
    """The route of a topic whose every decoded item is wanted as it is."""
    return item


def take(
    bootstrap: str,
    topic: str,
    dead_letter_topic: str,
    offsets: dict[int, int] | None,
    decode: Callable[[Message], Sequence[D]],
    route: Callable[[D], R | None],
    *,
    unrouted: Callable[[D], str] = lambda item: f"nothing is routed {item!r}",
    max_records: int = 500,
    timeout_s: float = 1.0,
    wait_s: float = 0.0,
) -> Intake[R, D]:
    """Read up to ``max_records`` from ``offsets``; decode each message and route each item.

    With nothing pending, waits up to ``wait_s`` for the first message (``kafka_io.read_from``).

    ``decode`` and ``route`` raise ``EventError`` for what cannot be used; ``route`` returns what
    the item means to the caller (e.g. an endpoint), or ``None`` when nothing wants it
    (``unrouted`` says why in the dead letter). Bad messages never raise here; only failing to
    read the topic or to write the dead letters does (then the caller must not advance).
    """
    batch = read_from(bootstrap, topic, offsets, max_records=max_records, timeout_s=timeout_s, wait_s=wait_s)
    routed: list[tuple[R, D, Message]] = []
    dead: list[tuple[Message, str]] = []
    for message in batch.messages:
        reasons = _route_message(message, decode, route, unrouted, routed)
        if reasons:
            dead.append((message, "; ".join(reasons)))
    if dead:
        letters = [DeadLetter.of(message, topic, reason) for message, reason in dead]
        producer = make_producer(bootstrap, client_id=f"batchpoint-intake-{topic}")
        try:
            send_dead_letters(producer, dead_letter_topic, letters)
        finally:
            producer.close(timeout=5)
        for message, reason in dead:
            log.warning("dead-lettered %s[%d]@%d: %s", topic, message.partition, message.offset, reason)
    return Intake(routed, dead, batch.next_offsets)


def _route_message(
    message: Message,
    decode: Callable[[Message], Sequence[D]],
    route: Callable[[D], R | None],
    unrouted: Callable[[D], str],
    routed: list[tuple[R, D, Message]],
) -> list[str]:
    """Route every item of ``message`` into ``routed``; the reasons of those that failed."""
    try:
        items = decode(message)
    except EventError as exc:
        return [str(exc)]
    reasons: list[str] = []
    for item in items:
        try:
            target = route(item)
        except EventError as exc:
            reasons.append(str(exc))
            continue
        if target is None:
            reasons.append(unrouted(item))
        else:
            routed.append((target, item, message))
    return reasons
