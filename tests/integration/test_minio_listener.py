"""The MinIO notification listener (``kafka_edge/minio_listener.py``) with what can run here.

No MinIO server runs on our machines (its binary is no PyPI package), so the stream itself is not
exercised: these tests run what is ours around it. The events MinIO's stream yields (its event
JSON, as in MinIO's documentation) go through ``publish_events`` onto the real broker and are read
back as the sensors read them; and against the embedded SeaweedFS S3 the listener refuses to start,
saying what to run instead. docs/docker-compose.md says what has not run.
"""

from __future__ import annotations

import copy
import dataclasses
import threading

import pytest

from batchpoint.config import Settings
from batchpoint.errors import EventError
from kafka_edge.events import ObjectCreated
from kafka_edge.kafka_io import ensure_topics, make_producer, read_from
from kafka_edge.minio_listener import listen, publish_events
from kafka_edge.s3_event_json import decode, message_key
from tests.unit.test_consumer_s3_event_json import MINIO_SAMPLE

pytestmark = pytest.mark.integration


def _created(key: str, etag: str, bucket: str = "landing", name: str = "s3:ObjectCreated:Put") -> dict[str, object]:
    document = copy.deepcopy(MINIO_SAMPLE)
    record = document["Records"][0]  # type: ignore[index]
    record["eventName"] = name
    record["s3"]["bucket"]["name"] = bucket
    record["s3"]["object"].update(key=key.replace("/", "%2F"), eTag=etag)
    document["EventName"], document["Key"] = name, f"{bucket}/{key}"
    return document


def test_minio_events_reach_the_topic_as_the_sensors_read_them(store_and_broker: Settings, unique_name: str) -> None:
    bootstrap, topic = store_and_broker.bootstrap, f"{unique_name}-events"
    ensure_topics(bootstrap, [topic])
    documents = [
        _created("sales/2026-11/part-001.csv", "etag-1"),
        _created("sales/2026-11/part-002.csv", "etag-2", name="s3:ObjectCreated:CompleteMultipartUpload"),
        _created("sales/2026-11/gone.csv", "etag-3", name="s3:ObjectRemoved:Delete"),  # not a creation
        _created("other/x.csv", "etag-4", bucket="elsewhere"),  # not the landing bucket
    ]
    producer = make_producer(bootstrap)
    try:
        sent = publish_events(documents, producer, topic, "landing", store_and_broker.region)
    finally:
        producer.close(timeout=5)
    assert sent == 2

    messages = read_from(bootstrap, topic, None, max_records=10, timeout_s=5.0).messages
    events = [event for message in messages for event in decode(message.value)]
    assert [(e.bucket, e.key, e.etag, e.event_name) for e in events] == [
        ("landing", "sales/2026-11/part-001.csv", "etag-1", "s3:ObjectCreated:Put"),
        ("landing", "sales/2026-11/part-002.csv", "etag-2", "s3:ObjectCreated:CompleteMultipartUpload"),
    ]
    assert [m.key for m in messages] == [message_key(e) for e in events]
    assert all(isinstance(e, ObjectCreated) and e.sequencer == "1874E2C4A8B1C2D3" for e in events)


def test_a_server_that_is_not_minio_is_refused_with_what_to_run_instead(store_and_broker: Settings) -> None:
    stop = threading.Event()
    with pytest.raises(EventError) as refused:
        listen(dataclasses.replace(store_and_broker, events_topic="never-created"), stop)
    assert "is not MinIO" in str(refused.value)
    assert "python -m kafka_edge.publisher" in str(refused.value)
