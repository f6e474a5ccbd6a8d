"""Intake: read events from explicit offsets, decode, route, and dead-letter what cannot be used.

The caller (a Dagster sensor) keeps ``next_offsets`` in its cursor. Dead letters are on the broker
before ``take`` returns, so advancing the cursor past them loses nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from batchpoint.errors import EventError
from consumers.dead_letter import DeadLetter, send_dead_letters
from consumers.events import ObjectCreated
from consumers.kafka_io import Message, make_producer, read_from
from consumers.s3_event_json import decode

log = logging.getLogger(__name__)

R = TypeVar("R")


@dataclass(frozen=True)
class Intake(Generic[R]):
    """What one ``take`` produced: routed events, dead-lettered messages and where to resume."""

    routed: list[tuple[R, ObjectCreated, Message]] = field(default_factory=list)
    dead_lettered: list[tuple[Message, str]] = field(default_factory=list)
    next_offsets: dict[int, int] = field(default_factory=dict)


def take(
    bootstrap: str,
    topic: str,
    dead_letter_topic: str,
    offsets: dict[int, int] | None,
    route: Callable[[ObjectCreated], R | None],
    *,
    max_records: int = 500,
    timeout_s: float = 1.0,
    wait_s: float = 0.0,
) -> Intake[R]:
    """Read up to ``max_records`` from ``offsets`` and route each object-created event.

    With nothing pending, waits up to ``wait_s`` for the first event (``kafka_io.read_from``).

    ``route`` returns what the event means to the caller (e.g. an endpoint), ``None`` when nothing
    watches the object, or raises ``EventError``. Bad messages never raise here; only failing to
    read the topic or to write the dead letters does (then the caller must not advance).
    """
    batch = read_from(bootstrap, topic, offsets, max_records=max_records, timeout_s=timeout_s, wait_s=wait_s)
    routed: list[tuple[R, ObjectCreated, Message]] = []
    dead: list[tuple[Message, str]] = []
    for message in batch.messages:
        reasons = _route_message(message, route, routed)
        if reasons:
            dead.append((message, "; ".join(reasons)))
    if dead:
        letters = [DeadLetter.of(message, topic, reason) for message, reason in dead]
        producer = make_producer(bootstrap, client_id="batchpoint-intake")
        try:
            send_dead_letters(producer, dead_letter_topic, letters)
        finally:
            producer.close(timeout=5)
        for message, reason in dead:
            log.warning("dead-lettered %s[%d]@%d: %s", topic, message.partition, message.offset, reason)
    return Intake(routed, dead, batch.next_offsets)


def _route_message(
    message: Message,
    route: Callable[[ObjectCreated], R | None],
    routed: list[tuple[R, ObjectCreated, Message]],
) -> list[str]:
    """Route every event of ``message`` into ``routed``; the reasons of those that failed."""
    try:
        events = decode(message.value)
    except EventError as exc:
        return [str(exc)]
    reasons: list[str] = []
    for event in events:
        try:
            target = route(event)
        except EventError as exc:
            reasons.append(str(exc))
            continue
        if target is None:
            reasons.append(f"no endpoint watches {event.uri}")
        else:
            routed.append((target, event, message))
    return reasons
