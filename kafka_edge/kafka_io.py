"""kafka-python producer/consumer factories and the explicit-offset read the sensors use.

Settings are chosen to work the same against the embedded ``tansu`` broker and real Kafka:
no consumer group (explicit assignment; the caller keeps offsets, e.g. in a sensor cursor), no
auto commit, and producers that wait for every in-sync replica.
"""

from __future__ import annotations

import contextlib
import logging
import time
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field

from batchpoint.errors import EventError

with warnings.catch_warnings():
    # kafka-python 3.0.12 loads its protocol schemas with the deprecated importlib.resources.read_text
    # at import time; that is its business, and must not fail processes that run with -W error.
    warnings.simplefilter("ignore", DeprecationWarning)
    from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
    from kafka.errors import KafkaError, TopicAlreadyExistsError
    from kafka.producer.future import FutureRecordMetadata

__all__ = [
    "FutureRecordMetadata",
    "KafkaError",
    "KafkaProducer",
    "Message",
    "ReadBatch",
    "ensure_topics",
    "make_consumer",
    "make_producer",
    "read_from",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Message:
    """One record read from a topic partition."""

    partition: int
    offset: int
    key: bytes | None
    value: bytes
    timestamp_ms: int


@dataclass(frozen=True)
class ReadBatch:
    """Messages read, and per partition the offset to read from next time."""

    messages: list[Message] = field(default_factory=list)
    next_offsets: dict[int, int] = field(default_factory=dict)


def make_producer(bootstrap: str, client_id: str = "batchpoint") -> KafkaProducer:
    """A producer that waits for the broker to acknowledge every record (``flush`` before trusting)."""
    try:
        return KafkaProducer(
            bootstrap_servers=bootstrap,
            client_id=client_id,
            acks="all",
            # Idempotence needs InitProducerId, which not every Kafka-protocol broker serves;
            # duplicates are harmless (downstream dedupes by key + ETag).
            enable_idempotence=False,
            linger_ms=5,
            retries=5,
            max_block_ms=10_000,
            request_timeout_ms=10_000,
        )
    except KafkaError as exc:
        raise EventError(f"cannot connect a Kafka producer to {bootstrap}: {exc}") from exc


def make_consumer(bootstrap: str, client_id: str = "batchpoint", fetch_max_wait_ms: int = 50) -> KafkaConsumer:
    """A group-less consumer for explicit assignment: nothing is committed to the broker.

    ``fetch_max_wait_ms``: how long the broker may hold a fetch that finds nothing new (it answers
    as soon as a record arrives): short to tell "caught up" soon, longer to wait cheaply.
    """
    try:
        return KafkaConsumer(
            bootstrap_servers=bootstrap,
            client_id=client_id,
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            request_timeout_ms=10_000,
            fetch_max_wait_ms=fetch_max_wait_ms,
        )
    except KafkaError as exc:
        raise EventError(f"cannot connect a Kafka consumer to {bootstrap}: {exc}") from exc


def ensure_topics(bootstrap: str, names: Iterable[str], partitions: int = 1) -> None:
    """Create the topics that do not exist yet (existing ones are left as they are)."""
    wanted = sorted(set(names))
    try:
        admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="batchpoint-admin", request_timeout_ms=10_000)
    except KafkaError as exc:
        raise EventError(f"cannot reach Kafka at {bootstrap} to create topics {wanted}: {exc}") from exc
    try:
        missing = [name for name in wanted if name not in set(admin.list_topics())]
        for name in missing:
            # Created concurrently by another process: what we wanted.
            with contextlib.suppress(TopicAlreadyExistsError):
                admin.create_topics({name: {"num_partitions": partitions, "replication_factor": 1}})
    except KafkaError as exc:
        raise EventError(f"creating topics {missing} at {bootstrap} failed: {exc}") from exc
    finally:
        admin.close()


def read_from(
    bootstrap: str,
    topic: str,
    offsets: dict[int, int] | None,
    max_records: int = 500,
    timeout_s: float = 1.0,
    wait_s: float = 0.0,
) -> ReadBatch:
    """Up to ``max_records`` messages of ``topic`` starting at ``offsets`` (partition -> offset).

    ``None`` (or a partition missing from ``offsets``) reads from the beginning. When nothing is
    pending, waits up to ``wait_s`` for the first message. Returns as soon as every partition is
    read to its end (with at least one message, or once ``wait_s`` has passed), ``max_records``
    are in hand, or ``wait_s + timeout_s`` has passed.
    """
    # A waiting read holds each empty fetch at the broker for up to 500 ms (Kafka's default; the
    # broker answers as soon as a record arrives) instead of asking 20 times a second.
    consumer = make_consumer(bootstrap, client_id="batchpoint-reader", fetch_max_wait_ms=500 if wait_s > 0 else 50)
    try:
        partitions = consumer.partitions_for_topic(topic)
        if not partitions:
            log.warning("topic %s does not exist at %s yet; nothing to read", topic, bootstrap)
            return ReadBatch([], dict(offsets or {}))
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        consumer.assign(tps)
        start = dict(offsets or {})
        for tp in tps:
            if tp.partition in start:
                consumer.seek(tp, start[tp.partition])
            else:
                consumer.seek_to_beginning(tp)
        began = time.monotonic()
        messages = _poll(consumer, tps, max_records, began + wait_s, began + wait_s + timeout_s)
        next_offsets = {tp.partition: int(consumer.position(tp)) for tp in tps}
        for message in messages:
            # position() may run ahead of what we return when a fetch held more than we took.
            next_offsets[message.partition] = message.offset + 1
        return ReadBatch(messages, next_offsets)
    except KafkaError as exc:
        raise EventError(f"reading {topic} at {bootstrap} from offsets {offsets} failed: {exc}") from exc
    finally:
        consumer.close()


def _poll(
    consumer: KafkaConsumer,
    tps: list[TopicPartition],
    max_records: int,
    wait_until: float,
    deadline: float,
) -> list[Message]:
    messages: list[Message] = []
    while len(messages) < max_records:
        now = time.monotonic()
        remaining = deadline - now
        if remaining <= 0:
            break
        if _caught_up(consumer, tps):
            if messages or now >= wait_until:
                break
            # Nothing yet: one long poll, which returns as soon as a record arrives.
            wait_ms = max(1, int(min(wait_until, deadline) * 1000 - now * 1000))
        else:
            # Short polls so we notice "caught up" soon after the fetch that reaches the end.
            wait_ms = max(1, min(int(remaining * 1000), 50))
        polled = consumer.poll(timeout_ms=wait_ms, max_records=max_records - len(messages))
        for records in polled.values():
            messages.extend(
                Message(r.partition, r.offset, r.key, r.value if r.value is not None else b"", r.timestamp)
                for r in records
            )
    messages.sort(key=lambda m: (m.partition, m.offset))
    return messages


def _caught_up(consumer: KafkaConsumer, tps: list[TopicPartition]) -> bool:
    # The high watermark of the last fetch, not ListOffsets: tansu answers ListOffsets(latest) with
    # the last batch's base offset + 1, which stops a read early when a batch held several records.
    for tp in tps:
        highwater = consumer.highwater(tp)
        if highwater is None or consumer.position(tp) < highwater:
            return False
    return True
