"""``ObjectStore`` over any S3 API (SeaweedFS, MinIO, AWS) with boto3; errors translated here."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from batchpoint.errors import NotFoundError, StorageError, StoreRequestRefusedError
from batchpoint.storage.port import ObjectInfo

_MISSING = {"404", "NoSuchKey", "NotFound", "NoSuchBucket"}
# 4xx answers that a later attempt may not get: a timeout, throttling, a conflicting operation in flight.
_TRANSIENT_CLIENT_STATUS = {408, 409, 429}
_TRANSIENT_CLIENT_CODES = {"RequestTimeout", "SlowDown", "Throttling", "ThrottlingException", "OperationAborted"}


def _etag(raw: str) -> str:
    return raw.strip('"')


def refused(status: int, code: str) -> bool:
    """True when an S3 error answer is a refusal that retrying cannot change (most 4xx)."""
    return 400 <= status < 500 and status not in _TRANSIENT_CLIENT_STATUS and code not in _TRANSIENT_CLIENT_CODES


class S3Store:
    """An ``ObjectStore`` backed by boto3."""

    def __init__(self, endpoint_url: str, access_key: str, secret_key: str, region: str = "us-east-1") -> None:
        self.endpoint_url = endpoint_url
        self._client: Any = boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            region_name=region,
            config=Config(
                s3={"addressing_style": "path"},
                retries={"max_attempts": 3, "mode": "standard"},
                max_pool_connections=16,
            ),
        )

    def _fail(self, exc: Exception, what: str, bucket: str, key: str = "") -> Exception:
        if isinstance(exc, ClientError):
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in _MISSING:
                return NotFoundError("object", f"s3://{bucket}/{key}" if key else f"s3://{bucket}")
            status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
            if refused(status, code):
                return StoreRequestRefusedError(f"{what} s3://{bucket}/{key} at {self.endpoint_url} was refused: {exc}")
        return StorageError(f"{what} s3://{bucket}/{key} at {self.endpoint_url} failed: {exc}")

    def ensure_bucket(self, bucket: str) -> None:
        try:
            self._client.head_bucket(Bucket=bucket)
            return
        except ClientError:
            pass
        except BotoCoreError as exc:
            raise self._fail(exc, "checking bucket", bucket) from exc
        try:
            self._client.create_bucket(Bucket=bucket)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code not in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}:
                raise self._fail(exc, "creating bucket", bucket) from exc

    def list(self, bucket: str, prefix: str) -> Iterator[ObjectInfo]:
        paginator = self._client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
                for item in page.get("Contents", []):
                    yield ObjectInfo(
                        bucket,
                        item["Key"],
                        _etag(item.get("ETag", "")),
                        int(item.get("Size", 0)),
                        item.get("LastModified"),
                    )
        except (ClientError, BotoCoreError) as exc:
            raise self._fail(exc, "listing", bucket, prefix) from exc

    def head(self, bucket: str, key: str) -> ObjectInfo:
        try:
            resp = self._client.head_object(Bucket=bucket, Key=key)
        except (ClientError, BotoCoreError) as exc:
            raise self._fail(exc, "reading metadata of", bucket, key) from exc
        return ObjectInfo(
            bucket, key, _etag(resp.get("ETag", "")), int(resp.get("ContentLength", 0)), resp.get("LastModified")
        )

    def get_bytes(self, bucket: str, key: str) -> bytes:
        try:
            body: bytes = self._client.get_object(Bucket=bucket, Key=key)["Body"].read()
        except (ClientError, BotoCoreError) as exc:
            raise self._fail(exc, "reading", bucket, key) from exc
        return body

    def put_bytes(self, bucket: str, key: str, data: bytes, content_type: str = "") -> ObjectInfo:
        extra = {"ContentType": content_type} if content_type else {}
        try:
            resp = self._client.put_object(Bucket=bucket, Key=key, Body=data, **extra)
        except (ClientError, BotoCoreError) as exc:
            raise self._fail(exc, "writing", bucket, key) from exc
        return ObjectInfo(bucket, key, _etag(resp.get("ETag", "")), len(data))

    def download(self, bucket: str, key: str, path: Path) -> ObjectInfo:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            resp = self._client.get_object(Bucket=bucket, Key=key)
            with path.open("wb") as out:
                for chunk in resp["Body"].iter_chunks(1 << 20):
                    out.write(chunk)
        except (ClientError, BotoCoreError) as exc:
            raise self._fail(exc, "downloading", bucket, key) from exc
        return ObjectInfo(bucket, key, _etag(resp.get("ETag", "")), int(resp.get("ContentLength", 0)))

    def upload(self, path: Path, bucket: str, key: str) -> ObjectInfo:
        try:
            self._client.upload_file(str(path), bucket, key)
        except (ClientError, BotoCoreError) as exc:
            raise self._fail(exc, "uploading", bucket, key) from exc
        return self.head(bucket, key)

    def upload_stream(self, stream: BinaryIO, bucket: str, key: str) -> ObjectInfo:
        try:
            # boto3's managed transfer: multipart in 8 MB parts, so memory stays bounded.
            self._client.upload_fileobj(stream, bucket, key)
        except (ClientError, BotoCoreError) as exc:
            raise self._fail(exc, "uploading", bucket, key) from exc
        return self.head(bucket, key)

    def delete(self, bucket: str, key: str) -> None:
        try:
            self._client.delete_object(Bucket=bucket, Key=key)
        except (ClientError, BotoCoreError) as exc:
            raise self._fail(exc, "deleting", bucket, key) from exc
