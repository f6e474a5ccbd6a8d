"""Retention: the newest ``keep`` versions stay, ``latest``'s always stays, a version goes manifest first."""

from __future__ import annotations

import json

import pytest

from batchpoint.errors import SpecError
from batchpoint.outputs.layout import OutputLayout
from batchpoint.outputs.retention import apply_retention, versions_beyond
from batchpoint.outputs.versions import LatestPointer, list_versions, move_latest
from batchpoint.storage.memory import MemoryStore

LAYOUT = OutputLayout("outputs", "sales-forecast", "2026-05")
IDS = [f"20260501T00000{i}.000Z-job{i}" for i in range(5)]


class DeletionLog(MemoryStore):
    """Remembers the order of deletes."""

    def __init__(self) -> None:
        super().__init__()
        self.deleted: list[str] = []

    def delete(self, bucket: str, key: str) -> None:
        self.deleted.append(key)
        super().delete(bucket, key)


def write_version(store: MemoryStore, version_id: str, status: str = "Completed") -> None:
    for name in ("predictions.csv", "logs/user/job_error.txt", "logs/user/stdout/worker-0.txt"):
        store.put_bytes(LAYOUT.bucket, LAYOUT.key(version_id, name), b"x")
    manifest = {"version_id": version_id, "status": status}
    store.put_bytes(LAYOUT.bucket, LAYOUT.manifest_key(version_id), json.dumps(manifest).encode())


def point_latest(store: MemoryStore, version_id: str) -> None:
    pointer = LatestPointer(version_id, "job", "s3://m", "s3://o", "2026-05-01T00:00:00+00:00")
    move_latest(store, LAYOUT, pointer, force=True)


@pytest.fixture
def store() -> DeletionLog:
    s = DeletionLog()
    s.ensure_bucket(LAYOUT.bucket)
    for version_id in IDS:
        write_version(s, version_id)
    point_latest(s, IDS[-1])
    return s


@pytest.mark.parametrize(
    ("keep", "latest", "expected"),
    [
        (3, "e", ["a", "b"]),
        (1, "e", ["a", "b", "c", "d"]),
        (5, "e", []),
        (9, "e", []),
        (2, "b", ["a", "c"]),  # latest rolled back to b: it stays beside the newest two
        (2, None, ["a", "b", "c"]),
    ],
)
def test_which_versions_go(keep: int, latest: str | None, expected: list[str]) -> None:
    assert versions_beyond(["c", "a", "e", "b", "d"], keep, latest) == expected


@pytest.mark.parametrize("keep", [0, -1, True, 1.5])
def test_keep_must_be_a_positive_integer(keep: object) -> None:
    with pytest.raises(SpecError, match=r"keep: got .* \(expected an integer >= 1"):
        versions_beyond(["a"], keep, None)  # type: ignore[arg-type]


def test_keeps_the_newest(store: DeletionLog) -> None:
    assert apply_retention(store, LAYOUT, 2) == IDS[:3]
    assert list_versions(store, LAYOUT) == IDS[3:]
    remaining = {obj.key for obj in store.list(LAYOUT.bucket, LAYOUT.versions_prefix)}
    assert not any(v in key for v in IDS[:3] for key in remaining)
    assert len(remaining) == 2 * 4


def test_never_deletes_latest(store: DeletionLog) -> None:
    point_latest(store, IDS[0])
    assert apply_retention(store, LAYOUT, 1) == IDS[1:4]
    assert list_versions(store, LAYOUT) == [IDS[0], IDS[4]]
    assert store.get_bytes(LAYOUT.bucket, LAYOUT.key(IDS[0], "predictions.csv")) == b"x"


def test_manifest_goes_first(store: DeletionLog) -> None:
    apply_retention(store, LAYOUT, 4)
    assert store.deleted[0] == LAYOUT.manifest_key(IDS[0])
    assert sorted(store.deleted[1:]) == sorted(
        LAYOUT.key(IDS[0], n) for n in ("predictions.csv", "logs/user/job_error.txt", "logs/user/stdout/worker-0.txt")
    )


def test_incomplete_folders_are_left_alone(store: DeletionLog) -> None:
    running = "20260430T000000.000Z-running"  # older id, no manifest yet: a job may still be writing it
    store.put_bytes(LAYOUT.bucket, LAYOUT.key(running, "predictions.csv"), b"partial")
    assert running not in apply_retention(store, LAYOUT, 1)
    assert store.get_bytes(LAYOUT.bucket, LAYOUT.key(running, "predictions.csv")) == b"partial"


def test_failed_versions_count_like_any_other(store: DeletionLog) -> None:
    write_version(store, "20260501T000009.000Z-failed", status="Failed")
    assert apply_retention(store, LAYOUT, 2) == IDS[:4]
    assert list_versions(store, LAYOUT) == [IDS[4], "20260501T000009.000Z-failed"]


def test_a_partition_without_versions(store: DeletionLog) -> None:
    assert apply_retention(store, OutputLayout("outputs", "other", "2026-05"), 1) == []
    assert apply_retention(MemoryStore(), LAYOUT, 1) == []
