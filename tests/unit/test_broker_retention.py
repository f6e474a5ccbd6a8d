"""Which record batches of the embedded broker's log the retention sweep deletes."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from batchpoint.broker_retention import Retention, expired_batches, sweep
from batchpoint.config import Settings
from batchpoint.storage.memory import MemoryStore
from batchpoint.storage.port import ObjectInfo

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
PARTITION = "clusters/tansu_cluster/topics/events/partitions/0000000000"


def _batch(offset: int, age_h: float, size: int = 100, partition: str = PARTITION) -> ObjectInfo:
    key = f"{partition}/records/{offset:020d}.batch"
    return ObjectInfo("broker", key, "etag", size, NOW - timedelta(hours=age_h))


def test_batches_older_than_the_retention_go_but_the_newest_stays() -> None:
    objects = [_batch(0, 10), _batch(5, 8), _batch(9, 1), _batch(12, 0.1)]
    assert expired_batches(objects, Retention(timedelta(hours=4), 10_000), NOW) == [
        objects[0].key,
        objects[1].key,
    ]
    everything_old = [_batch(0, 10), _batch(5, 9)]
    assert expired_batches(everything_old, Retention(timedelta(hours=1), 10_000), NOW) == [everything_old[0].key]


def test_the_oldest_batches_go_while_a_partition_holds_more_than_its_bytes() -> None:
    objects = [_batch(20, 0.3, 400), _batch(0, 0.5, 400), _batch(10, 0.4, 400)]  # listed in any order
    assert expired_batches(objects, Retention(timedelta(hours=24), 800), NOW) == [objects[1].key]


def test_partitions_are_counted_apart_and_other_objects_left_alone() -> None:
    other = "clusters/tansu_cluster/topics/dlq/partitions/0000000000"
    objects = [
        _batch(0, 0.1, 600),
        _batch(1, 0.1, 600),
        _batch(0, 0.1, 600, other),
        ObjectInfo("broker", f"{PARTITION}/watermark.json", "e", 40, NOW - timedelta(days=30)),
        ObjectInfo("broker", "clusters/tansu_cluster/meta.json", "e", 270, NOW - timedelta(days=30)),
    ]
    assert expired_batches(objects, Retention(timedelta(hours=24), 1000), NOW) == [objects[0].key]


def test_sweep_deletes_what_expired_from_the_broker_bucket() -> None:
    settings = dataclasses.replace(Settings(), broker_retention_hours=1.0)
    store = MemoryStore()
    store.ensure_bucket(settings.broker_bucket)
    keys = [f"{PARTITION}/records/{o:020d}.batch" for o in (0, 1, 2)]
    for key in keys:
        store.put_bytes(settings.broker_bucket, key, b"x")
    store.set_last_modified(settings.broker_bucket, keys[0], NOW - timedelta(hours=2))
    for key in keys[1:]:
        store.set_last_modified(settings.broker_bucket, key, NOW)
    assert sweep(store, settings, NOW) == [keys[0]]
    assert [o.key for o in store.list(settings.broker_bucket, "clusters/")] == keys[1:]
