"""An in-memory ``ObjectStore`` for unit tests of the pure core."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from batchpoint.errors import NotFoundError
from batchpoint.storage.port import ObjectInfo


class MemoryStore:
    """Objects in a dict; ETags are MD5 hex digests as S3 gives for single-part uploads.

    ``last_modified`` is the time of the write; tests may set it (``set_last_modified``) to age an object.
    """

    def __init__(self) -> None:
        self._buckets: dict[str, dict[str, bytes]] = {}
        self._modified: dict[tuple[str, str], datetime] = {}

    def ensure_bucket(self, bucket: str) -> None:
        self._buckets.setdefault(bucket, {})

    def _bucket(self, bucket: str) -> dict[str, bytes]:
        if bucket not in self._buckets:
            raise NotFoundError("bucket", bucket)
        return self._buckets[bucket]

    def _info(self, bucket: str, key: str, data: bytes) -> ObjectInfo:
        digest = hashlib.md5(data, usedforsecurity=False).hexdigest()
        return ObjectInfo(bucket, key, digest, len(data), self._modified.get((bucket, key)))

    def set_last_modified(self, bucket: str, key: str, when: datetime) -> None:
        """Pretend ``key`` was last written at ``when`` (it must exist)."""
        self.get_bytes(bucket, key)
        self._modified[(bucket, key)] = when

    def list(self, bucket: str, prefix: str, start_after: str = "") -> Iterator[ObjectInfo]:
        objects = self._bucket(bucket)
        for key in sorted(objects):
            if key.startswith(prefix) and key > start_after:
                yield self._info(bucket, key, objects[key])

    def head(self, bucket: str, key: str) -> ObjectInfo:
        return self._info(bucket, key, self.get_bytes(bucket, key))

    def get_bytes(self, bucket: str, key: str) -> bytes:
        objects = self._bucket(bucket)
        if key not in objects:
            raise NotFoundError("object", f"s3://{bucket}/{key}")
        return objects[key]

    def put_bytes(self, bucket: str, key: str, data: bytes, content_type: str = "") -> ObjectInfo:
        self._bucket(bucket)[key] = bytes(data)
        self._modified[(bucket, key)] = datetime.now(UTC)
        return self._info(bucket, key, data)

    def download(self, bucket: str, key: str, path: Path) -> ObjectInfo:
        data = self.get_bytes(bucket, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return self._info(bucket, key, data)

    def upload(self, path: Path, bucket: str, key: str) -> ObjectInfo:
        return self.put_bytes(bucket, key, path.read_bytes())

    def upload_stream(self, stream: BinaryIO, bucket: str, key: str) -> ObjectInfo:
        return self.put_bytes(bucket, key, stream.read())

    def delete(self, bucket: str, key: str) -> None:
        self._bucket(bucket).pop(key, None)
        self._modified.pop((bucket, key), None)
