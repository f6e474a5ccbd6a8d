"""The S3 adapter (``batchpoint/storage/s3.py``, MinIO client) against the embedded SeaweedFS S3.

Every method of the ``ObjectStore`` port, the multipart stream, resumed listings and the error
translation at the edge: missing, refused and unreachable.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest

from batchpoint.config import Settings
from batchpoint.errors import NotFoundError, StorageError, StoreRequestRefusedError
from batchpoint.storage.datastore import open_datastore
from batchpoint.storage.s3 import PART_SIZE, S3Store

pytestmark = pytest.mark.integration


class _OneWay(io.RawIOBase):
    """A stream that can only be read forward (no seek, no length), like a pipe."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        chunk = self._data.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


def test_every_port_method_round_trips(store_and_broker: Settings, unique_name: str, tmp_path: Path) -> None:
    store = open_datastore(store_and_broker)
    store.ensure_bucket(unique_name)
    store.ensure_bucket(unique_name)  # a second time is fine
    written = store.put_bytes(unique_name, "a/one.csv", b"x,y\n1,2\n", content_type="text/csv")
    assert written.etag == hashlib.md5(b"x,y\n1,2\n").hexdigest()  # S3's single-part ETag
    assert store.get_bytes(unique_name, "a/one.csv") == b"x,y\n1,2\n"
    head = store.head(unique_name, "a/one.csv")
    assert (head.etag, head.size) == (written.etag, 8) and head.last_modified is not None

    local = tmp_path / "two.bin"
    local.write_bytes(b"\0" * 1000)
    uploaded = store.upload(local, unique_name, "a/two.bin")
    assert uploaded.size == 1000
    downloaded = store.download(unique_name, "a/two.bin", tmp_path / "back" / "two.bin")
    assert (tmp_path / "back" / "two.bin").read_bytes() == local.read_bytes()
    assert (downloaded.etag, downloaded.size) == (uploaded.etag, 1000)

    listed = list(store.list(unique_name, "a/"))
    assert [(o.key, o.etag, o.size) for o in listed] == [
        ("a/one.csv", written.etag, 8),
        ("a/two.bin", uploaded.etag, 1000),
    ]
    store.delete(unique_name, "a/one.csv")
    store.delete(unique_name, "a/one.csv")  # absent is fine
    assert [o.key for o in store.list(unique_name, "a/")] == ["a/two.bin"]


def test_a_stream_of_unknown_length_goes_up_in_parts(store_and_broker: Settings, unique_name: str) -> None:
    store = open_datastore(store_and_broker)
    store.ensure_bucket(unique_name)
    data = bytes(range(256)) * (PART_SIZE * 2 // 256 + 1000)  # two full parts and a short third
    info = store.upload_stream(_OneWay(data), unique_name, "big/predictions.csv")  # type: ignore[arg-type]
    assert info.size == len(data)
    assert info.etag.endswith("-3")  # a multipart upload's ETag counts its parts
    assert store.get_bytes(unique_name, "big/predictions.csv") == data


def test_listings_page_past_a_thousand_keys_and_resume_after_a_key(
    store_and_broker: Settings, unique_name: str
) -> None:
    store = open_datastore(store_and_broker)
    store.ensure_bucket(unique_name)
    keys = [f"many/part-{i:04d}.csv" for i in range(1005)]  # ListObjectsV2 pages hold 1,000
    for key in keys:
        store.put_bytes(unique_name, key, b"1\n")
    assert [o.key for o in store.list(unique_name, "many/")] == keys
    assert [o.key for o in store.list(unique_name, "many/", start_after=keys[999])] == keys[1000:]
    assert list(store.list(unique_name, "many/", start_after=keys[-1])) == []


def test_failures_leave_the_edge_as_batchpoint_errors(store_and_broker: Settings, unique_name: str) -> None:
    store = open_datastore(store_and_broker)
    store.ensure_bucket(unique_name)
    with pytest.raises(NotFoundError):
        store.head(unique_name, "nothing/here.csv")
    with pytest.raises(NotFoundError):
        store.get_bytes(unique_name, "nothing/here.csv")
    with pytest.raises(NotFoundError):
        store.get_bytes(f"{unique_name}-absent", "x.csv")

    s = store_and_broker
    wrong_secret = S3Store(s.s3_url, s.access_key, "not-the-secret")
    with pytest.raises(StoreRequestRefusedError) as refused:
        wrong_secret.put_bytes(unique_name, "x.csv", b"1")
    assert "was refused" in str(refused.value) and not refused.value.retriable

    unreachable = S3Store("http://127.0.0.1:1", s.access_key, s.secret_key)
    with pytest.raises(StorageError) as down:
        unreachable.head(unique_name, "x.csv")
    assert down.value.retriable and "127.0.0.1:1" in str(down.value)


def test_an_endpoint_that_is_no_http_url_is_refused_with_its_form() -> None:
    with pytest.raises(ValueError, match=r"http\(s\)://host\[:port\]"):
        S3Store("127.0.0.1:9000", "key", "secret")
