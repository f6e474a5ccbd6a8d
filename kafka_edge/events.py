"""Event types the Kafka edge hands to the rest of batchpoint."""

from __future__ import annotations

from dataclasses import dataclass

OBJECT_CREATED_PUT = "s3:ObjectCreated:Put"


@dataclass(frozen=True)
class ObjectCreated:
    """An object was created or overwritten in a bucket.

    ``key`` is the plain object key (never URL-encoded), ``etag`` is the S3 ETag without quotes
    (what HEAD and ListObjectsV2 give), ``event_time`` is ISO-8601 UTC, ``event_name`` the S3 event
    type (``s3:ObjectCreated:Put``, ``...:CompleteMultipartUpload``, ...), ``sequencer`` orders
    events of one key (hex, as MinIO and AWS send it).
    """

    bucket: str
    key: str
    etag: str
    size: int
    event_time: str
    event_name: str = OBJECT_CREATED_PUT
    sequencer: str = ""

    @property
    def uri(self) -> str:
        """``s3://bucket/key``."""
        return f"s3://{self.bucket}/{self.key}"

    @property
    def dedupe_key(self) -> str:
        """Identity of the content this event announces: the same key + ETag is the same work."""
        return f"{self.bucket}/{self.key}@{self.etag}"
