"""The transactional outbox: rows written with the state they announce, published later by a relay.

``kafka_edge/outbox_relay.py`` reads ``pending`` rows in id order, publishes them to Kafka, then
``mark_sent``; a crash between the two re-publishes (at-least-once), so readers deduplicate by key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from batchpoint.registry.tables import outbox
from batchpoint.registry.timestamps import aware, utc_now


@dataclass(frozen=True)
class OutboxMessage:
    """One message waiting to be published."""

    id: int
    topic: str
    key: str | None
    payload: str
    created_at: datetime


def add_message(conn: sa.Connection, topic: str, key: str | None, payload: str) -> None:
    """Queue a message inside the caller's transaction."""
    conn.execute(outbox.insert().values(topic=topic, key=key, payload=payload, created_at=utc_now()))


def pending(engine: sa.Engine, limit: int = 100) -> list[OutboxMessage]:
    """Unsent messages, oldest first."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(outbox.c.id, outbox.c.topic, outbox.c.key, outbox.c.payload, outbox.c.created_at)
            .where(outbox.c.sent_at.is_(None))
            .order_by(outbox.c.id)
            .limit(limit)
        ).all()
    return [OutboxMessage(r.id, r.topic, r.key, r.payload, aware(r.created_at) or utc_now()) for r in rows]


def mark_sent(engine: sa.Engine, ids: list[int]) -> None:
    """Record that these messages were published."""
    if ids:
        with engine.begin() as conn:
            conn.execute(outbox.update().where(outbox.c.id.in_(ids)).values(sent_at=utc_now()))
