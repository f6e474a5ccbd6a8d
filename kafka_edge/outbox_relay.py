"""Outbox relay: rows of ``bp_outbox`` that are not sent yet become Kafka records, then are marked sent.

``Workspace.jobs.invoke`` writes the job row and its outbox row in one transaction; this process
delivers the outbox row to its topic (``invocations``). It reads ``sent_at IS NULL`` rows in id
order every ``POLL_SECONDS``, produces them with their key, flushes, and marks sent only what the
broker acknowledged: at-least-once (the invocation sensor dedupes by job name). A broker outage
makes it back off and retry; a row the broker keeps refusing while others go through is parked
(logged, retried after a restart) so it never blocks the rows behind it. See docs/ARCHITECTURE.md.

Run: ``python -m kafka_edge.outbox_relay`` (settings from ``BATCHPOINT_*``); SIGTERM/SIGINT stop it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa

from batchpoint.config import Settings
from batchpoint.errors import EventError
from batchpoint.registry import outbox as registry_outbox
from batchpoint.registry.outbox import OutboxMessage
from batchpoint.registry.tables import metadata, outbox
from kafka_edge.kafka_io import FutureRecordMetadata, KafkaError, KafkaProducer, ensure_topics, make_producer
from kafka_edge.process_lifecycle import start_service

log = logging.getLogger("kafka_edge.outbox_relay")

POLL_SECONDS = 0.3
BATCH_ROWS = 100
SEND_TIMEOUT_SECONDS = 30.0
MAX_ROW_ATTEMPTS = 5


def record(message: OutboxMessage) -> tuple[str, bytes | None, bytes]:
    """``(topic, key, value)`` as produced to Kafka: key and payload UTF-8 encoded, unchanged."""
    key = message.key.encode() if message.key is not None else None
    return message.topic, key, message.payload.encode()


@dataclass
class Backoff:
    """Delay before the next attempt after consecutive failures: doubles up to ``cap``."""

    initial: float = POLL_SECONDS
    cap: float = 10.0
    failures: int = 0

    def failed(self) -> float:
        """Count one failure; the seconds to wait before trying again."""
        self.failures += 1
        return min(self.initial * 2.0 ** (self.failures - 1), self.cap)

    def succeeded(self) -> None:
        """Back to the normal poll interval."""
        self.failures = 0


@dataclass(frozen=True)
class SendOutcome:
    """Which rows of one batch the broker acknowledged and which failed (with the reason)."""

    sent: tuple[int, ...]
    failed: tuple[tuple[int, str], ...]

    @property
    def outage(self) -> bool:
        """Nothing went through: the broker (not a row) is the problem."""
        return not self.sent and bool(self.failed)


@dataclass
class Parking:
    """Rows that keep failing while other rows go through, set aside so they block nothing.

    Failures during an outage (no row of the batch went through) are not counted against a row.
    """

    max_attempts: int = MAX_ROW_ATTEMPTS
    attempts: dict[int, int] = field(default_factory=dict)
    parked: dict[int, str] = field(default_factory=dict)

    def record(self, outcome: SendOutcome) -> list[tuple[int, str]]:
        """Account for ``outcome``; the rows parked by it, with their last error."""
        for row_id in outcome.sent:
            self.attempts.pop(row_id, None)
        if outcome.outage:
            return []
        newly: list[tuple[int, str]] = []
        for row_id, reason in outcome.failed:
            self.attempts[row_id] = self.attempts.get(row_id, 0) + 1
            if self.attempts[row_id] >= self.max_attempts:
                del self.attempts[row_id]
                self.parked[row_id] = reason
                newly.append((row_id, reason))
        return newly


class OutboxTable:
    """The outbox rows in the registry database (sqlite or Postgres), via ``batchpoint.registry.outbox``."""

    def __init__(self, url: str) -> None:
        connect_args: dict[str, object] = {"timeout": 30} if url.startswith("sqlite") else {}
        self._engine = sa.create_engine(url, connect_args=connect_args, pool_pre_ping=True)
        # The relay may start before anything else touched the registry.
        metadata.create_all(self._engine, tables=[outbox])

    def pending(self, limit: int = BATCH_ROWS, skip: Collection[int] = ()) -> list[OutboxMessage]:
        """Unsent rows in id (= invoke) order, leaving out ``skip``."""
        rows = registry_outbox.pending(self._engine, limit=limit + len(skip))
        return [row for row in rows if row.id not in skip][:limit]

    def mark_sent(self, ids: Sequence[int]) -> None:
        """Stamp ``sent_at`` on ``ids``."""
        registry_outbox.mark_sent(self._engine, list(ids))

    def close(self) -> None:
        """Release the database connections."""
        self._engine.dispose()


def send_rows(producer: KafkaProducer, rows: Sequence[OutboxMessage]) -> SendOutcome:
    """Produce ``rows``, flush, and report per row whether the broker acknowledged it."""
    futures: list[tuple[int, FutureRecordMetadata | None, str]] = []
    for row in rows:
        topic, key, value = record(row)
        try:
            futures.append((row.id, producer.send(topic, key=key, value=value), ""))
        except KafkaError as exc:
            if not exc.retriable:  # e.g. a record too large: this row's problem
                futures.append((row.id, None, f"{type(exc).__name__}: {exc}"))
                continue
            # E.g. no metadata within max_block_ms: the broker's problem, not this row's. The rest
            # waits for the next poll instead of blocking once per row.
            if not futures:
                raise EventError(f"producing to {topic} failed: {type(exc).__name__}: {exc}") from exc
            break
        except (ValueError, TypeError) as exc:
            futures.append((row.id, None, f"{type(exc).__name__}: {exc}"))
    producer.flush(timeout=SEND_TIMEOUT_SECONDS)
    sent: list[int] = []
    failed: list[tuple[int, str]] = []
    for row_id, future, error in futures:
        if future is None:
            failed.append((row_id, error))
            continue
        try:
            # flush() does not raise for failed sends; the future does.
            future.get(timeout=0)
        except KafkaError as exc:
            failed.append((row_id, f"{type(exc).__name__}: {exc}"))
        else:
            sent.append(row_id)
    return SendOutcome(tuple(sent), tuple(failed))


class OutboxRelay:
    """Moves outbox rows to Kafka until stopped."""

    def __init__(self, settings: Settings, table: OutboxTable | None = None) -> None:
        self.settings = settings
        self.table = table or OutboxTable(settings.registry)
        self.backoff = Backoff()
        self.parking = Parking()
        self.relayed = 0
        self._producer: KafkaProducer | None = None
        self._topics: set[str] = set()

    def run(self, stop: threading.Event, *, grace_seconds: float = 5.0) -> None:
        """Relay until ``stop`` is set; every failure is logged and retried, never raised.

        The polling runs in a worker thread: a Kafka client can block for tens of seconds while
        it bootstraps against an unreachable broker, and a stop must not wait for that. A row in
        flight when the process exits is not marked sent, so the next start sends it again.
        """
        log.info(
            "relaying %s to Kafka at %s every %.1f s",
            _safe_url(self.settings.registry),
            self.settings.bootstrap,
            POLL_SECONDS,
        )
        worker = threading.Thread(target=self._loop, args=(stop,), name="outbox-relay", daemon=True)
        worker.start()
        while worker.is_alive() and not stop.wait(0.5):
            pass
        worker.join(timeout=grace_seconds)
        if worker.is_alive():
            log.warning(
                "a Kafka call is still blocked after %.0f s; leaving it (unsent rows go next start)", grace_seconds
            )

    def _loop(self, stop: threading.Event) -> None:
        try:
            while not stop.is_set():
                stop.wait(self.step())
        finally:
            self._close_producer()
            self.table.close()

    def step(self) -> float:
        """One poll: relay what is pending; the seconds to wait before the next poll."""
        try:
            rows = self.table.pending(skip=set(self.parking.parked))
        except sa.exc.SQLAlchemyError as exc:
            delay = self.backoff.failed()
            log.error("reading the outbox failed (retrying in %.1f s): %s", delay, exc)
            return delay
        if not rows:
            self.backoff.succeeded()
            return POLL_SECONDS
        try:
            outcome = self._send(rows)
        except EventError as exc:
            self._close_producer()
            delay = self.backoff.failed()
            log.error("Kafka unavailable; %d row(s) wait (retrying in %.1f s): %s", len(rows), delay, exc)
            return delay
        try:
            self.table.mark_sent(outcome.sent)
        except sa.exc.SQLAlchemyError as exc:
            # They will be sent again: at-least-once, the sensor dedupes by job name.
            delay = self.backoff.failed()
            log.error("marking %d row(s) sent failed (retrying in %.1f s): %s", len(outcome.sent), delay, exc)
            return delay
        self.relayed += len(outcome.sent)
        for row in rows:
            if row.id in outcome.sent:
                log.info("relayed outbox row %d to %s key=%s", row.id, row.topic, row.key)
        for row_id, reason in self.parking.record(outcome):
            log.error(
                "outbox row %d parked after %d attempts (retried after a restart): %s",
                row_id,
                self.parking.max_attempts,
                reason,
            )
        if outcome.outage:
            self._close_producer()
            delay = self.backoff.failed()
            log.error("no row of %d went through (retrying in %.1f s): %s", len(rows), delay, outcome.failed[0][1])
            return delay
        self.backoff.succeeded()
        # More may be waiting behind a full batch: go again at once.
        return 0.0 if len(rows) == BATCH_ROWS else POLL_SECONDS

    def _send(self, rows: Sequence[OutboxMessage]) -> SendOutcome:
        topics = {row.topic for row in rows} - self._topics
        if topics:
            ensure_topics(self.settings.bootstrap, topics)
            self._topics |= topics
        if self._producer is None:
            self._producer = make_producer(self.settings.bootstrap, client_id="batchpoint-outbox-relay")
        try:
            return send_rows(self._producer, rows)
        except KafkaError as exc:
            raise EventError(f"producing {len(rows)} outbox row(s) failed: {exc}") from exc

    def _close_producer(self) -> None:
        if self._producer is not None:
            try:
                self._producer.close(timeout=5)
            except KafkaError as exc:
                log.warning("closing the producer failed: %s", exc)
            self._producer = None


def _safe_url(url: str) -> str:
    """The registry URL without its password, for logs."""
    return sa.engine.make_url(url).render_as_string(hide_password=True)


def main() -> None:
    """Entry point of ``python -m kafka_edge.outbox_relay``."""
    stop = start_service(kafka_log_level=logging.CRITICAL)
    settings = Settings.from_env()
    relay = OutboxRelay(settings)
    relay.run(stop)
    log.info("stopped after relaying %d row(s)", relay.relayed)


if __name__ == "__main__":
    main()
