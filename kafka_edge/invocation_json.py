"""Invocation intake: read ``invocations`` from explicit offsets, decode, dead-letter what cannot be used.

Like ``consumers.intake`` for data arrival: the caller (the invocation sensor) keeps
``next_offsets`` in its cursor, and dead letters are on the broker before ``take_invocations``
returns, so advancing past them loses nothing.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field

from pydantic import ValidationError

from batchpoint.errors import EventError
from batchpoint.specs.job import InvocationMessage
from consumers.dead_letter import DeadLetter, send_dead_letters
from consumers.kafka_io import Message, make_producer, read_from

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class InvocationIntake:
    """What one read produced: decoded invocations, dead-lettered messages, and where to resume."""

    received: list[tuple[InvocationMessage, Message]] = field(default_factory=list)
    dead_lettered: list[tuple[Message, str]] = field(default_factory=list)
    next_offsets: dict[int, int] = field(default_factory=dict)


def decode(raw: bytes, key: bytes | None = None) -> InvocationMessage:
    """The invocation a message carries; ``EventError`` saying why when it carries none.

    The key, when present, must be the job name (the relay keys every message by it).
    """
    try:
        document = json.loads(raw)
    except (UnicodeDecodeError, ValueError) as exc:
        raise EventError(f"invocation is not JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise EventError(f"invocation must be a JSON object, got {type(document).__name__}")
    try:
        message = InvocationMessage.model_validate(document)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '(root)'}: {e['msg']}" for e in exc.errors())
        raise EventError(f"invalid invocation: {problems}") from exc
    if not message.inputs:
        raise EventError(f"invocation {message.job_name!r} has no inputs: nothing to score")
    if key is not None and key.decode("utf-8", "replace") != message.job_name:
        raise EventError(f"message key {key!r} is not the job name {message.job_name!r}")
    return message


def take_invocations(
    bootstrap: str,
    topic: str,
    dead_letter_topic: str,
    offsets: dict[int, int] | None,
    *,
    max_records: int = 500,
    timeout_s: float = 1.0,
) -> InvocationIntake:
    """Read up to ``max_records`` from ``offsets``; decode each, dead-letter the rest.

    Only failing to read the topic or to write the dead letters raises (then the caller must not
    advance its offsets).
    """
    batch = read_from(bootstrap, topic, offsets, max_records=max_records, timeout_s=timeout_s)
    received: list[tuple[InvocationMessage, Message]] = []
    dead: list[tuple[Message, str]] = []
    for message in batch.messages:
        try:
            received.append((decode(message.value, message.key), message))
        except EventError as exc:
            dead.append((message, str(exc)))
    if dead:
        letters = [DeadLetter.of(message, topic, reason) for message, reason in dead]
        producer = make_producer(bootstrap, client_id="batchpoint-invocations")
        try:
            send_dead_letters(producer, dead_letter_topic, letters)
        finally:
            producer.close(timeout=5)
        for message, reason in dead:
            log.warning("dead-lettered %s[%d]@%d: %s", topic, message.partition, message.offset, reason)
    return InvocationIntake(received, dead, batch.next_offsets)
