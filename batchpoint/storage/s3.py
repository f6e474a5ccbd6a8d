"""``ObjectStore`` over any S3 API (SeaweedFS, MinIO, AWS) with the MinIO client; errors translated here.

The ``minio`` package (the design card's client): uploads of unknown length stream as multipart
in ``PART_SIZE`` parts, so memory stays bounded; listings are ``ListObjectsV2`` pages, resumable
with ``start_after``; ETags come back without quotes. Every failure leaves this module as a
``batchpoint.errors`` type: ``NotFoundError`` for a missing object or bucket,
``StoreRequestRefusedError`` for a refusal retrying cannot change (most 4xx), ``StorageError``
(retriable) for the rest. boto3 remains only where MLflow itself needs it (its artifact store).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit

import urllib3
from minio import Minio
from minio.error import MinioException, S3Error

from batchpoint.errors import NotFoundError, StorageError, StoreRequestRefusedError
from batchpoint.storage.port import ObjectInfo

_MISSING = {"NoSuchKey", "NotFound", "NoSuchBucket", "ResourceNotFound", "NoSuchObject"}
# 4xx answers that a later attempt may not get: a timeout, throttling, a conflicting operation in flight.
_TRANSIENT_CLIENT_STATUS = {408, 409, 429}
_TRANSIENT_CLIENT_CODES = {"RequestTimeout", "SlowDown", "Throttling", "ThrottlingException", "OperationAborted"}
_EXISTING_BUCKET = {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}
PART_SIZE = 8 * 1024 * 1024
"""Multipart part size of streamed uploads (S3's minimum is 5 MiB)."""
DOWNLOAD_CHUNK = 1 << 20
# A few quick attempts inside one call; outages longer than that are the RetryingStore's to outlast
# (storage/retrying.py), with its own deadline.
_RETRIES = urllib3.Retry(total=3, backoff_factor=0.2, status_forcelist=(500, 502, 503, 504))
_TIMEOUT = urllib3.Timeout(connect=10.0, read=60.0)

# What the client raises: S3 error answers, 5xx and malformed answers, and the transport's own.
_FAILURES = (MinioException, urllib3.exceptions.HTTPError, OSError)


def _etag(raw: str | None) -> str:
    return (raw or "").strip('"')


def refused(status: int, code: str) -> bool:
    """True when an S3 error answer is a refusal that retrying cannot change (most 4xx)."""
    return 400 <= status < 500 and status not in _TRANSIENT_CLIENT_STATUS and code not in _TRANSIENT_CLIENT_CODES


class S3Store:
    """An ``ObjectStore`` backed by the MinIO client."""

    def __init__(self, endpoint_url: str, access_key: str, secret_key: str, region: str = "us-east-1") -> None:
        self.endpoint_url = endpoint_url
        parts = urlsplit(endpoint_url)
        if parts.scheme not in {"http", "https"} or not parts.netloc or parts.path.strip("/"):
            raise ValueError(f"an S3 endpoint must be http(s)://host[:port], got {endpoint_url!r}")
        http = urllib3.PoolManager(maxsize=16, timeout=_TIMEOUT, retries=_RETRIES)
        self._http = http
        self._client = Minio(
            parts.netloc,
            access_key=access_key,
            secret_key=secret_key,
            secure=parts.scheme == "https",
            region=region,  # known up front: no GetBucketLocation before the first call
            http_client=http,
        )

    def _fail(self, exc: Exception, what: str, bucket: str, key: str = "") -> Exception:
        where = f"s3://{bucket}/{key}" if key else f"s3://{bucket}"
        if isinstance(exc, S3Error):
            if exc.code in _MISSING:
                return NotFoundError("object", where)
            status = exc.response.status if exc.response is not None else 0
            if refused(status, exc.code or ""):
                return StoreRequestRefusedError(f"{what} {where} at {self.endpoint_url} was refused: {exc}")
        return StorageError(f"{what} {where} at {self.endpoint_url} failed: {exc}")

    def ensure_bucket(self, bucket: str) -> None:
        try:
            if self._client.bucket_exists(bucket):
                return
        except _FAILURES as exc:
            raise self._fail(exc, "checking bucket", bucket) from exc
        try:
            self._client.make_bucket(bucket)
        except S3Error as exc:
            if exc.code not in _EXISTING_BUCKET:
                raise self._fail(exc, "creating bucket", bucket) from exc
        except _FAILURES as exc:
            raise self._fail(exc, "creating bucket", bucket) from exc

    def list(self, bucket: str, prefix: str, start_after: str = "") -> Iterator[ObjectInfo]:
        try:
            listed = self._client.list_objects(bucket, prefix=prefix, recursive=True, start_after=start_after or None)
            for item in listed:
                if item.is_dir or item.object_name is None:
                    continue
                yield ObjectInfo(bucket, item.object_name, _etag(item.etag), int(item.size or 0), item.last_modified)
        except _FAILURES as exc:
            raise self._fail(exc, "listing", bucket, prefix) from exc

    def head(self, bucket: str, key: str) -> ObjectInfo:
        try:
            stat = self._client.stat_object(bucket, key)
        except _FAILURES as exc:
            raise self._fail(exc, "reading metadata of", bucket, key) from exc
        return ObjectInfo(bucket, key, _etag(stat.etag), int(stat.size or 0), stat.last_modified)

    def get_bytes(self, bucket: str, key: str) -> bytes:
        try:
            response = self._client.get_object(bucket, key)
            try:
                return bytes(response.read())
            finally:
                response.close()
                response.release_conn()
        except _FAILURES as exc:
            raise self._fail(exc, "reading", bucket, key) from exc

    def put_bytes(self, bucket: str, key: str, data: bytes, content_type: str = "") -> ObjectInfo:
        try:
            result = self._client.put_object(
                bucket, key, io.BytesIO(data), len(data), content_type=content_type or "application/octet-stream"
            )
        except _FAILURES as exc:
            raise self._fail(exc, "writing", bucket, key) from exc
        return ObjectInfo(bucket, key, _etag(result.etag), len(data))

    def download(self, bucket: str, key: str, path: Path) -> ObjectInfo:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            response = self._client.get_object(bucket, key)
            try:
                with path.open("wb") as out:
                    for chunk in response.stream(DOWNLOAD_CHUNK):
                        out.write(chunk)
                headers = response.headers
            finally:
                response.close()
                response.release_conn()
        except _FAILURES as exc:
            raise self._fail(exc, "downloading", bucket, key) from exc
        return ObjectInfo(bucket, key, _etag(headers.get("ETag")), int(headers.get("Content-Length") or 0))

    def upload(self, path: Path, bucket: str, key: str) -> ObjectInfo:
        try:
            self._client.fput_object(bucket, key, str(path), part_size=PART_SIZE)
        except _FAILURES as exc:
            raise self._fail(exc, "uploading", bucket, key) from exc
        return self.head(bucket, key)

    def upload_stream(self, stream: BinaryIO, bucket: str, key: str) -> ObjectInfo:
        try:
            # Length unknown: multipart in PART_SIZE parts, read one part at a time.
            self._client.put_object(bucket, key, stream, -1, part_size=PART_SIZE)
        except _FAILURES as exc:
            raise self._fail(exc, "uploading", bucket, key) from exc
        return self.head(bucket, key)

    def offers_notification_listening(self) -> bool:
        """Whether the server is MinIO, whose ``ListenBucketNotification`` extension ``listen_created`` uses.

        Asked of MinIO's unauthenticated liveness endpoint; other S3 servers (SeaweedFS, AWS) do
        not answer it, and would take the listening request for something else.
        """
        try:
            answer = self._http.request("GET", f"{self.endpoint_url.rstrip('/')}/minio/health/live", retries=False)
        except urllib3.exceptions.HTTPError:
            return False
        return answer.status == 200

    def listen_created(self, bucket: str) -> Iterator[dict[str, object]]:
        """MinIO's notifications of objects created in ``bucket``, as its event JSON documents, until closed.

        A stream with no replay: what is created while nobody listens is never sent (the
        reconciliation sensor finds it). ``StorageError`` when the stream cannot be opened.
        """
        try:
            with self._client.listen_bucket_notification(bucket, events=("s3:ObjectCreated:*",)) as events:
                for document in events:
                    yield dict(document)
        except _FAILURES as exc:
            raise self._fail(exc, "listening to notifications of", bucket) from exc

    def delete(self, bucket: str, key: str) -> None:
        try:
            self._client.remove_object(bucket, key)
        except S3Error as exc:
            if exc.code not in _MISSING:  # absent is fine, as the port says
                raise self._fail(exc, "deleting", bucket, key) from exc
        except _FAILURES as exc:
            raise self._fail(exc, "deleting", bucket, key) from exc
