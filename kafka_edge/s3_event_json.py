"""S3 event-notification JSON: ``encode`` as MinIO sends it to Kafka, ``decode`` MinIO's or AWS's shape.

MinIO's Kafka target (``internal/event/target/kafka.go``) publishes
``{"EventName": ..., "Key": "<bucket>/<key>", "Records": [event]}`` with the Kafka message key set
to the same ``<bucket>/<key>``; the record's ``s3.object.key`` is Go's ``url.QueryEscape`` of the
key (space -> ``+``, ``/`` -> ``%2F``). AWS sends only ``{"Records": [...]}`` with the key
form-encoded the same way. Both carry the ETag unquoted, but some senders quote it.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote_plus, unquote_plus

from batchpoint.errors import EventError
from kafka_edge.events import ObjectCreated

_CREATED_PREFIXES = ("s3:ObjectCreated:", "ObjectCreated:")


def message_key(obj: ObjectCreated) -> bytes:
    """The Kafka message key MinIO uses: ``<bucket>/<key>`` (so one object's events stay in order)."""
    return f"{obj.bucket}/{obj.key}".encode()


def encode(obj: ObjectCreated, region: str = "", principal: str = "", origin: str = "") -> bytes:
    """The notification MinIO would publish for ``obj``, as UTF-8 JSON."""
    record = {
        "eventVersion": "2.0",
        "eventSource": "minio:s3",
        "awsRegion": region,
        "eventTime": obj.event_time,
        "eventName": obj.event_name,
        "userIdentity": {"principalId": principal},
        "requestParameters": {"principalId": principal, "region": region, "sourceIPAddress": ""},
        "responseElements": {"x-amz-request-id": obj.sequencer, "x-minio-origin-endpoint": origin},
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "Config",
            "bucket": {
                "name": obj.bucket,
                "ownerIdentity": {"principalId": principal},
                "arn": f"arn:aws:s3:::{obj.bucket}",
            },
            "object": {
                # quote_plus with no safe characters is Go's url.QueryEscape.
                "key": quote_plus(obj.key, safe=""),
                "size": obj.size,
                "eTag": obj.etag,
                "contentType": "",
                "userMetadata": {},
                "sequencer": obj.sequencer,
            },
        },
        "source": {"host": "", "port": "", "userAgent": "batchpoint-publisher"},
    }
    document = {"EventName": obj.event_name, "Key": f"{obj.bucket}/{obj.key}", "Records": [record]}
    return json.dumps(document, separators=(",", ":")).encode()


def decode(raw: bytes) -> list[ObjectCreated]:
    """The object-created events in one notification; ``EventError`` names what is wrong."""
    try:
        document = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EventError(f"not JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise EventError(f"not a JSON object: got {type(document).__name__}")
    records = document.get("Records")
    if not isinstance(records, list) or not records:
        raise EventError("no Records")
    return [_record(record, index) for index, record in enumerate(records)]


def _record(record: Any, index: int) -> ObjectCreated:
    where = f"Records[{index}]"
    if not isinstance(record, dict):
        raise EventError(f"{where} is not a JSON object")
    event_name = _text(record, "eventName", where)
    if not event_name.startswith(_CREATED_PREFIXES):
        raise EventError(f"event {event_name} is not an object-created event")
    if not event_name.startswith("s3:"):
        # AWS omits the "s3:" prefix; one spelling downstream.
        event_name = "s3:" + event_name
    s3 = _section(record, "s3", where)
    bucket = _text(_section(s3, "bucket", f"{where}.s3"), "name", f"{where}.s3.bucket")
    obj = _section(s3, "object", f"{where}.s3")
    key = unquote_plus(_text(obj, "key", f"{where}.s3.object"))
    if not key:
        raise EventError(f"{where}.s3.object.key is empty")
    etag = obj.get("eTag", obj.get("etag"))
    if not isinstance(etag, str) or not etag.strip('"'):
        raise EventError(f"{where}.s3.object.eTag missing")
    size = obj.get("size", 0)
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise EventError(f"{where}.s3.object.size must be a non-negative integer, got {size!r}")
    return ObjectCreated(
        bucket=bucket,
        key=key,
        etag=etag.strip('"'),
        size=size,
        event_time=_text(record, "eventTime", where),
        event_name=event_name,
        sequencer=str(obj.get("sequencer", "")),
    )


def _section(parent: dict[str, Any], name: str, where: str) -> dict[str, Any]:
    value = parent.get(name)
    if value is None:
        raise EventError(f"{where}.{name} missing")
    if not isinstance(value, dict):
        raise EventError(f"{where}.{name} must be a JSON object, got {type(value).__name__}")
    return value


def _text(parent: dict[str, Any], name: str, where: str) -> str:
    value = parent.get(name)
    if value is None:
        raise EventError(f"{where}.{name} missing")
    if not isinstance(value, str):
        raise EventError(f"{where}.{name} must be a string, got {type(value).__name__}")
    return value
