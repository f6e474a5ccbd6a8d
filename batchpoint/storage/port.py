"""The object-store port the core talks to."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, Protocol


@dataclass(frozen=True)
class ObjectInfo:
    """One stored object: where it is and what version of its content it holds (ETag)."""

    bucket: str
    key: str
    etag: str
    size: int
    last_modified: datetime | None = field(default=None, compare=False)
    """When the store last wrote the object (UTC), where the store says; not part of its identity."""

    @property
    def name(self) -> str:
        """The file name (last path segment of the key)."""
        return self.key.rsplit("/", 1)[-1]


class ObjectStore(Protocol):
    """What batchpoint needs of an object store. Errors are ``StorageError`` / ``NotFoundError``."""

    def ensure_bucket(self, bucket: str) -> None:
        """Create ``bucket`` if it does not exist."""

    def list(self, bucket: str, prefix: str, start_after: str = "") -> Iterator[ObjectInfo]:
        """Objects under ``prefix``, in key order; only keys after ``start_after`` when it is given."""

    def head(self, bucket: str, key: str) -> ObjectInfo:
        """One object's info; ``NotFoundError`` if absent."""

    def get_bytes(self, bucket: str, key: str) -> bytes:
        """An object's content; ``NotFoundError`` if absent."""

    def put_bytes(self, bucket: str, key: str, data: bytes, content_type: str = "") -> ObjectInfo:
        """Write an object whole."""

    def download(self, bucket: str, key: str, path: Path) -> ObjectInfo:
        """Write an object's content to a local file."""

    def upload(self, path: Path, bucket: str, key: str) -> ObjectInfo:
        """Write a local file as an object."""

    def upload_stream(self, stream: BinaryIO, bucket: str, key: str) -> ObjectInfo:
        """Write a readable binary stream as an object, in parts: never whole in memory."""

    def delete(self, bucket: str, key: str) -> None:
        """Remove an object (absent is fine)."""
