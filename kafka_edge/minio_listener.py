"""Publisher for a MinIO server with no Kafka notification target: its bucket notifications, listened to.

MinIO publishes object events to Kafka itself when a Kafka target is configured (docker-compose
does that). Where it is not, this process holds MinIO's ``ListenBucketNotification`` stream open
on ``landing_bucket`` (``S3Store.listen_created``) and puts each object-created event on the
events topic as the same MinIO event JSON, keyed as the other publishers key it
(``s3_event_json.message_key``), so the sensors cannot tell the sources apart.

Delivery: the stream has no replay, so an object created while the listener is down or
reconnecting is not announced; the reconciliation sensor scores it (its grace period later).
Events are at least once from the broker on: downstream dedupes by key + ETag.

Run: ``python -m kafka_edge.minio_listener`` (settings from ``BATCHPOINT_*``); SIGTERM/SIGINT stop it.
A server that is not MinIO is refused at start, with what to run instead.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
from collections.abc import Iterable

from batchpoint.config import Settings
from batchpoint.errors import EventError, StorageError
from batchpoint.storage.datastore import open_datastore
from kafka_edge.kafka_io import FutureRecordMetadata, KafkaError, KafkaProducer, ensure_topics, make_producer
from kafka_edge.process_lifecycle import start_service
from kafka_edge.s3_event_json import decode, encode, message_key

log = logging.getLogger("kafka_edge.minio_listener")

NOT_MINIO = (
    "the S3 server at {url} is not MinIO (no answer at /minio/health/live): bucket notification "
    "listening is a MinIO extension. For SeaweedFS run `python -m kafka_edge.publisher`; for MinIO, "
    "a Kafka notification target (docker-compose.yml) needs no publisher at all"
)
RECONNECT_SECONDS = 2.0


def publish_events(
    documents: Iterable[dict[str, object]], producer: KafkaProducer, topic: str, bucket: str, region: str
) -> int:
    """Put every object-created event of ``documents`` in ``bucket`` on ``topic``; how many were sent.

    Each document is MinIO event JSON (``{"EventName", "Key", "Records": [...]}``). A document
    that is not, or an event of another bucket, is logged and skipped: a notification stream has
    nothing to dead-letter it against.
    """
    sent: list[tuple[str, FutureRecordMetadata]] = []
    for document in documents:
        try:
            events = decode(json.dumps(document).encode())
        except EventError as exc:
            log.warning("skipping a notification that is no object-created event: %s", exc)
            continue
        for event in events:
            if event.bucket != bucket:
                log.warning("skipping %s: not in the landing bucket %s", event.uri, bucket)
                continue
            try:
                future = producer.send(topic, key=message_key(event), value=encode(event, region=region))
            except KafkaError as exc:
                raise EventError(f"publishing {event.uri} to {topic} failed: {exc}") from exc
            sent.append((event.uri, future))
    # One flush for the batch, then each acknowledgement (flush() does not raise, the futures do).
    producer.flush(timeout=30)
    for uri, future in sent:
        try:
            future.get(timeout=0)
        except KafkaError as exc:
            raise EventError(f"publishing {uri} to {topic} failed: {exc}") from exc
        log.info("published %s", uri)
    return len(sent)


def listen(settings: Settings, stop: threading.Event) -> int:
    """Listen and publish until ``stop`` is set; the number of events published.

    ``EventError`` when the server is not MinIO, or the broker refuses an event.
    """
    store = open_datastore(settings)
    if not store.offers_notification_listening():
        raise EventError(NOT_MINIO.format(url=store.endpoint_url))
    ensure_topics(settings.bootstrap, [settings.events_topic])
    producer = make_producer(settings.bootstrap, client_id="batchpoint-minio-listener")
    documents: queue.Queue[dict[str, object]] = queue.Queue()

    def follow() -> None:
        # The stream blocks in a read; a thread of its own lets the main loop watch `stop`.
        while not stop.is_set():
            try:
                for document in store.listen_created(settings.landing_bucket):
                    documents.put(document)
            except StorageError as exc:
                log.warning("notification stream closed (%s); listening again in %.0f s", exc, RECONNECT_SECONDS)
            stop.wait(RECONNECT_SECONDS)

    threading.Thread(target=follow, name="minio-notifications", daemon=True).start()
    log.info("listening to MinIO notifications of s3://%s at %s", settings.landing_bucket, store.endpoint_url)
    published = 0
    try:
        while not stop.is_set():
            try:
                first = documents.get(timeout=0.5)
            except queue.Empty:
                continue
            batch = [first]
            while not documents.empty():
                batch.append(documents.get_nowait())
            published += publish_events(
                batch, producer, settings.events_topic, settings.landing_bucket, settings.region
            )
    finally:
        producer.close(timeout=5)
    return published


def main() -> None:
    """Entry point of ``python -m kafka_edge.minio_listener``."""
    stop = start_service(kafka_log_level=logging.WARNING)
    try:
        published = listen(Settings.from_env(), stop)
    except EventError as exc:
        log.error("minio listener stopped: %s", exc)
        raise SystemExit(1) from exc
    log.info("stopped after publishing %d event(s)", published)


if __name__ == "__main__":
    main()
