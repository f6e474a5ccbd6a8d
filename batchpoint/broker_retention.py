"""Retention of the embedded broker's log: which record batches in its bucket to delete.

tansu's S3 engine writes one object per record batch under
``clusters/<cluster>/topics/<topic>/partitions/<partition>/records/<base offset>.batch``. It stores
a topic's ``retention.ms`` / ``retention.bytes`` but never deletes anything, and its DeleteRecords
is not implemented (the broker thread panics). The stack therefore sweeps the bucket itself: per
partition, batches older than the retention time go, then the oldest while the partition holds more
than the retention bytes; the newest batch always stays. A reader positioned in a deleted range
continues at the next batch that exists (checked against tansu 0.6), as Kafka's earliest reset.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from batchpoint.config import Settings
from batchpoint.storage.port import ObjectInfo, ObjectStore

RECORDS_DIR = "/records/"
BATCH_SUFFIX = ".batch"


@dataclass(frozen=True)
class Retention:
    """How much of each partition's log to keep."""

    max_age: timedelta
    max_bytes: int

    @classmethod
    def from_settings(cls, settings: Settings) -> Retention:
        """``broker_retention_hours`` and ``broker_retention_bytes``."""
        return cls(timedelta(hours=settings.broker_retention_hours), settings.broker_retention_bytes)


def expired_batches(objects: Iterable[ObjectInfo], retention: Retention, now: datetime) -> list[str]:
    """Keys of the record batches ``retention`` no longer keeps (pure; objects in any order)."""
    partitions: dict[str, list[ObjectInfo]] = defaultdict(list)
    for info in objects:
        if RECORDS_DIR in info.key and info.key.endswith(BATCH_SUFFIX):
            partitions[info.key.rsplit(RECORDS_DIR, 1)[0]].append(info)
    expired: list[str] = []
    cutoff = now - retention.max_age
    for batches in partitions.values():
        # Base offsets are zero-padded, so key order is offset order.
        batches.sort(key=lambda b: b.key)
        kept = sum(b.size for b in batches)
        for batch in batches[:-1]:
            too_old = batch.last_modified is not None and batch.last_modified < cutoff
            if not too_old and kept <= retention.max_bytes:
                break
            expired.append(batch.key)
            kept -= batch.size
    return expired


def sweep(store: ObjectStore, settings: Settings, now: datetime | None = None) -> list[str]:
    """Delete what ``expired_batches`` finds in the broker bucket; the keys deleted."""
    objects = list(store.list(settings.broker_bucket, "clusters/"))
    expired = expired_batches(objects, Retention.from_settings(settings), now or datetime.now(UTC))
    for key in expired:
        store.delete(settings.broker_bucket, key)
    return expired
