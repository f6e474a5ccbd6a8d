"""encode/decode of S3 event-notification JSON: MinIO's shape, AWS's shape and malformed input."""

from __future__ import annotations

import json

import pytest

from batchpoint.errors import EventError
from kafka_edge.events import ObjectCreated
from kafka_edge.s3_event_json import decode, encode, message_key

# What MinIO's Kafka target sent for `mc cp` of "part 007.csv" (keys with a space are form-encoded).
MINIO_SAMPLE = {
    "EventName": "s3:ObjectCreated:Put",
    "Key": "landing/sales/2026-11/part 007.csv",
    "Records": [
        {
            "eventVersion": "2.0",
            "eventSource": "minio:s3",
            "awsRegion": "",
            "eventTime": "2026-11-03T10:15:02.123Z",
            "eventName": "s3:ObjectCreated:Put",
            "userIdentity": {"principalId": "minioadmin"},
            "requestParameters": {"principalId": "minioadmin", "region": "", "sourceIPAddress": "172.18.0.1"},
            "responseElements": {
                "x-amz-id-2": "dd9025bab4ad464b049177c95eb6ebf374d3b3fd1af9251148b658df7ac2e3e8",
                "x-amz-request-id": "1874E2C4A8A6D5B7",
                "x-minio-deployment-id": "1c1e9c8e-5ed5-4e5f-9d4e-8b1a7a3e4e11",
                "x-minio-origin-endpoint": "http://172.18.0.2:9000",
            },
            "s3": {
                "s3SchemaVersion": "1.0",
                "configurationId": "Config",
                "bucket": {
                    "name": "landing",
                    "ownerIdentity": {"principalId": "minioadmin"},
                    "arn": "arn:aws:s3:::landing",
                },
                "object": {
                    "key": "sales%2F2026-11%2Fpart+007.csv",
                    "size": 1024,
                    "eTag": "e5ebd4c02cefbe7955977c67ada242b7",
                    "contentType": "text/csv",
                    "userMetadata": {"content-type": "text/csv"},
                    "sequencer": "1874E2C4A8B1C2D3",
                },
            },
            "source": {"host": "172.18.0.1", "port": "", "userAgent": "MinIO (linux; amd64) minio-go/v7.0.70"},
        }
    ],
}

AWS_SAMPLE = {
    "Records": [
        {
            "eventVersion": "2.1",
            "eventSource": "aws:s3",
            "awsRegion": "us-west-2",
            "eventTime": "2026-11-03T10:15:02.123Z",
            "eventName": "ObjectCreated:CompleteMultipartUpload",
            "userIdentity": {"principalId": "AWS:AIDAEXAMPLE"},
            "requestParameters": {"sourceIPAddress": "203.0.113.7"},
            "responseElements": {
                "x-amz-request-id": "C3D13FE58DE4C810",
                "x-amz-id-2": "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V",
            },
            "s3": {
                "s3SchemaVersion": "1.0",
                "configurationId": "landing-created",
                "bucket": {
                    "name": "landing",
                    "ownerIdentity": {"principalId": "A3NL1KOZZKExample"},
                    "arn": "arn:aws:s3:::landing",
                },
                "object": {
                    "key": "sales/2026-11/big+file%C3%A9.parquet",
                    "size": 10485760,
                    "eTag": '"953b19a4b7e9f70c12003fad4b0b80a0-2"',
                    "versionId": "096fKKXTRTtl3on89fVO.nfljtsv6qko",
                    "sequencer": "0055AED6DCD90281E5",
                },
            },
        }
    ],
}


def _raw(document: object) -> bytes:
    return json.dumps(document).encode()


def _without(path: str) -> bytes:
    document = json.loads(json.dumps(MINIO_SAMPLE))
    *parents, last = path.split(".")
    node = document
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    del node[last]
    return _raw(document)


def test_decodes_minio_sample_with_url_encoded_key() -> None:
    [event] = decode(_raw(MINIO_SAMPLE))
    assert event == ObjectCreated(
        bucket="landing",
        key="sales/2026-11/part 007.csv",
        etag="e5ebd4c02cefbe7955977c67ada242b7",
        size=1024,
        event_time="2026-11-03T10:15:02.123Z",
        event_name="s3:ObjectCreated:Put",
        sequencer="1874E2C4A8B1C2D3",
    )


def test_decodes_aws_shape_strips_etag_quotes_and_names_event_like_minio() -> None:
    [event] = decode(_raw(AWS_SAMPLE))
    assert event.key == "sales/2026-11/big fileé.parquet"
    assert event.etag == "953b19a4b7e9f70c12003fad4b0b80a0-2"
    assert event.event_name == "s3:ObjectCreated:CompleteMultipartUpload"
    assert event.size == 10485760


@pytest.mark.parametrize(
    "key",
    ["sales/2026-11/part-007.csv", "sales/2026-11/part 007.csv", "a+b/ü %/x?y=z&#.csv", "top.csv"],
)
def test_encode_decode_round_trip(key: str) -> None:
    event = ObjectCreated("landing", key, "0123abcd", 42, "2026-11-03T10:15:02.123Z", sequencer="18F0A1B2C3D4E5F6")
    assert decode(encode(event)) == [event]


def test_encode_matches_minio_shape() -> None:
    event = ObjectCreated(
        "landing", "sales/2026-11/part 007.csv", "e5eb", 8, "2026-11-03T10:15:02.123Z", sequencer="1A"
    )
    document = json.loads(encode(event, region="us-east-1"))
    assert list(document) == ["EventName", "Key", "Records"]
    assert document["EventName"] == "s3:ObjectCreated:Put"
    assert document["Key"] == "landing/sales/2026-11/part 007.csv"
    record = document["Records"][0]
    assert list(record) == list(MINIO_SAMPLE["Records"][0])  # type: ignore[index]
    assert record["eventSource"] == "minio:s3"
    assert record["eventVersion"] == "2.0"
    assert record["awsRegion"] == "us-east-1"
    assert record["s3"]["s3SchemaVersion"] == "1.0"
    assert record["s3"]["configurationId"] == "Config"
    assert record["s3"]["bucket"] == {
        "name": "landing",
        "ownerIdentity": {"principalId": ""},
        "arn": "arn:aws:s3:::landing",
    }
    obj = record["s3"]["object"]
    assert obj["key"] == MINIO_SAMPLE["Records"][0]["s3"]["object"]["key"]  # type: ignore[index]
    assert (obj["size"], obj["eTag"], obj["sequencer"]) == (8, "e5eb", "1A")
    assert set(obj) >= {"contentType", "userMetadata"}
    assert message_key(event) == b"landing/sales/2026-11/part 007.csv"


def _removed() -> bytes:
    document = json.loads(json.dumps(MINIO_SAMPLE))
    document["Records"][0]["eventName"] = "s3:ObjectRemoved:Delete"
    return _raw(document)


def _size(value: object) -> bytes:
    document = json.loads(json.dumps(MINIO_SAMPLE))
    document["Records"][0]["s3"]["object"]["size"] = value
    return _raw(document)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"\x00\xffnot json", "not JSON: "),
        (b'{"Records": [', "not JSON: "),
        (b"[1, 2]", "not a JSON object: got list"),
        (b"{}", "no Records"),
        (b'{"Records": []}', "no Records"),
        (b'{"Records": "x"}', "no Records"),
        (b'{"Records": [7]}', "Records[0] is not a JSON object"),
        (_removed(), "event s3:ObjectRemoved:Delete is not an object-created event"),
        (_without("Records.0.eventName"), "Records[0].eventName missing"),
        (_without("Records.0.s3"), "Records[0].s3 missing"),
        (_without("Records.0.s3.bucket.name"), "Records[0].s3.bucket.name missing"),
        (_without("Records.0.s3.object.key"), "Records[0].s3.object.key missing"),
        (_without("Records.0.s3.object.eTag"), "Records[0].s3.object.eTag missing"),
        (_without("Records.0.eventTime"), "Records[0].eventTime missing"),
        (_size(-1), "Records[0].s3.object.size must be a non-negative integer, got -1"),
        (_size("12"), "Records[0].s3.object.size must be a non-negative integer, got '12'"),
    ],
)
def test_malformed_messages_name_the_reason(raw: bytes, reason: str) -> None:
    with pytest.raises(EventError) as caught:
        decode(raw)
    assert str(caught.value).startswith(reason)
