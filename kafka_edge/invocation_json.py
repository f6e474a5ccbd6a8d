"""The invocation JSON the outbox relay puts on the ``invocations`` topic, decoded and checked.

``kafka_edge.intake.take`` reads the topic with it (``invocation_messages``) and dead-letters what
``decode`` refuses, with its reason.
"""

from __future__ import annotations

import json

from pydantic import ValidationError

from batchpoint.errors import EventError
from batchpoint.specs.job import InvocationMessage


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
