"""``RetryingStore``: any ``ObjectStore`` whose calls outlast a short outage of the store.

A call failing with a retriable error (``StorageError``: unreachable, connection reset, timeout,
a 5xx) is tried again after a backoff that doubles from ``Settings.store_retry_backoff_seconds``
(at most ``MAX_BACKOFF_SECONDS``), for ``Settings.store_retry_seconds`` in all; then it raises
``StoreUnreachableError``, naming the call, the attempts and the last error. Errors that are not
retriable (``NotFoundError``, a spec error) are raised at once: trying again cannot help.

Once a call has spent the budget, the store is taken as down: calls made meanwhile or after (the
other download threads, then the failed job writing its version) are tried once each, not for a
budget each, until one succeeds. A job meeting a dead store so fails after one budget, not many.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, TypeVar

from batchpoint.config import Settings
from batchpoint.errors import BatchpointError, StoreUnreachableError
from batchpoint.storage.port import ObjectInfo, ObjectStore

MAX_BACKOFF_SECONDS = 10.0
T = TypeVar("T")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    """How long a store call is retried, and how the waits between attempts grow."""

    budget_seconds: float
    first_backoff_seconds: float
    max_backoff_seconds: float = MAX_BACKOFF_SECONDS

    @classmethod
    def of(cls, settings: Settings) -> RetryPolicy:
        """The policy ``settings`` give (``BATCHPOINT_STORE_RETRY_SECONDS`` / ``..._BACKOFF_SECONDS``)."""
        return cls(settings.store_retry_seconds, settings.store_retry_backoff_seconds)

    def delays(self) -> Iterator[float]:
        """The waits before the second, third, ... attempt: doubling, capped."""
        delay = self.first_backoff_seconds
        while True:
            yield min(delay, self.max_backoff_seconds)
            delay = max(delay * 2, 0.01)


class RetryingStore:
    """An ``ObjectStore`` retrying ``store``'s retriable failures under ``policy``."""

    def __init__(
        self,
        store: ObjectStore,
        policy: RetryPolicy,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.policy = policy
        self._sleep = sleep
        self._clock = clock
        self._down = False

    def ensure_bucket(self, bucket: str) -> None:
        self._call(f"checking bucket s3://{bucket}", lambda: self.store.ensure_bucket(bucket))

    def list(self, bucket: str, prefix: str, start_after: str = "") -> Iterator[ObjectInfo]:
        # Listed whole under the retries: a listing restarted halfway would repeat objects.
        what = f"listing s3://{bucket}/{prefix}"
        yield from self._call(what, lambda: [*self.store.list(bucket, prefix, start_after)])

    def head(self, bucket: str, key: str) -> ObjectInfo:
        return self._call(f"reading metadata of s3://{bucket}/{key}", lambda: self.store.head(bucket, key))

    def get_bytes(self, bucket: str, key: str) -> bytes:
        return self._call(f"reading s3://{bucket}/{key}", lambda: self.store.get_bytes(bucket, key))

    def put_bytes(self, bucket: str, key: str, data: bytes, content_type: str = "") -> ObjectInfo:
        return self._call(f"writing s3://{bucket}/{key}", lambda: self.store.put_bytes(bucket, key, data, content_type))

    def download(self, bucket: str, key: str, path: Path) -> ObjectInfo:
        return self._call(f"downloading s3://{bucket}/{key}", lambda: self.store.download(bucket, key, path))

    def upload(self, path: Path, bucket: str, key: str) -> ObjectInfo:
        return self._call(f"uploading s3://{bucket}/{key}", lambda: self.store.upload(path, bucket, key))

    def upload_stream(self, stream: BinaryIO, bucket: str, key: str) -> ObjectInfo:
        what = f"uploading s3://{bucket}/{key}"
        if not stream.seekable():
            return self.store.upload_stream(stream, bucket, key)  # what was read cannot be sent again
        start = stream.tell()

        def attempt() -> ObjectInfo:
            stream.seek(start)
            return self.store.upload_stream(stream, bucket, key)

        return self._call(what, attempt)

    def delete(self, bucket: str, key: str) -> None:
        self._call(f"deleting s3://{bucket}/{key}", lambda: self.store.delete(bucket, key))

    def _call(self, what: str, call: Callable[[], T]) -> T:
        started = self._clock()
        delays = self.policy.delays()
        attempts = 0
        while True:
            attempts += 1
            try:
                result = call()
            except StoreUnreachableError:
                raise  # a store wrapped twice: its own budget is spent already
            except BatchpointError as exc:
                if not exc.retriable:
                    raise
                elapsed = self._clock() - started
                delay = min(next(delays), self.policy.budget_seconds - elapsed)
                if delay <= 0 or self._down:
                    self._down = True
                    raise StoreUnreachableError(what, attempts, elapsed, exc) from exc
                if attempts == 1:
                    log.warning(f"{what} failed ({exc}); retrying for up to {self.policy.budget_seconds:g} s")
                self._sleep(delay)
            else:
                self._down = False
                return result


def with_retries(store: ObjectStore, settings: Settings) -> ObjectStore:
    """``store`` retrying under the settings' policy (as it is when it retries already)."""
    return store if isinstance(store, RetryingStore) else RetryingStore(store, RetryPolicy.of(settings))
