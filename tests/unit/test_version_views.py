"""Version summaries, show and rollback over hand-written manifests in a ``MemoryStore``."""

from __future__ import annotations

import json
from typing import Any

import pytest

from batchpoint.errors import ConflictError, NotFoundError, RollbackRefusedError
from batchpoint.outputs.layout import OutputLayout
from batchpoint.outputs.manifest import Manifest
from batchpoint.outputs.version_views import list_version_summaries, rollback, show_version, summarize
from batchpoint.outputs.versions import LatestPointer, move_latest, read_latest
from batchpoint.storage.memory import MemoryStore

LAYOUT = OutputLayout("outputs", "sales-forecast", "2026-05")
V1, V2, V3, V4 = (f"2026050{i}T101500.000Z-job{i}" for i in range(1, 5))


def manifest(version_id: str, status: str = "Completed", **extra: Any) -> dict[str, Any]:
    return {
        "format": 2,
        "job_id": f"job-{version_id[-1]}",
        "version_id": version_id,
        "status": status,
        "deployment": {"name": "classifier-xgboost"},
        "model": {"name": "heart-classifier", "version": "3"},
        "totals": {"files": 4, "failed_files": 1, "failed_items": 2, "rows": 120},
        "timings": {"started_at": "2026-05-01T10:15:00+00:00"},
        "output": {"uri": LAYOUT.uri(LAYOUT.key(version_id, "predictions.csv"))},
        **extra,
    }


def put(store: MemoryStore, data: dict[str, Any], *, latest: bool = False) -> None:
    version_id = data["version_id"]
    store.put_bytes(LAYOUT.bucket, LAYOUT.key(version_id, "predictions.csv"), b"1,a.csv\n")
    store.put_bytes(LAYOUT.bucket, LAYOUT.manifest_key(version_id), json.dumps(data).encode())
    if latest:
        pointer = LatestPointer(version_id, data["job_id"], "s3://m", data["output"]["uri"], "2026-05-01T00:00:00")
        move_latest(store, LAYOUT, pointer)


@pytest.fixture
def store() -> MemoryStore:
    s = MemoryStore()
    s.ensure_bucket(LAYOUT.bucket)
    put(s, manifest(V1), latest=True)
    put(s, manifest(V2, "Failed", error="3 failed items, more than error_threshold 1"))
    put(s, manifest(V3), latest=True)
    put(s, manifest(V4, promoted=False, deployment={"name": "challenger"}))
    return s


def test_summaries_newest_first(store: MemoryStore) -> None:
    summaries = list_version_summaries(store, LAYOUT)
    assert [s.version_id for s in summaries] == [V4, V3, V2, V1]
    assert [(s.status, s.is_latest, s.promoted) for s in summaries] == [
        ("Completed", False, False),
        ("Completed", True, True),
        ("Failed", False, True),
        ("Completed", False, True),
    ]
    assert summaries[0].deployment_name == "challenger"
    assert summaries[1].to_dict() == {
        "version_id": V3,
        "status": "Completed",
        "started_at": "2026-05-01T10:15:00+00:00",
        "rows": 120,
        "failed_items": 2,
        "files": 4,
        "model_name": "heart-classifier",
        "model_version": "3",
        "deployment_name": "classifier-xgboost",
        "promoted": True,
        "is_latest": True,
        "output_uri": f"s3://outputs/sales-forecast/2026-05/versions/{V3}/predictions.csv",
    }


def test_summary_of_a_sparse_manifest() -> None:
    sparse = Manifest.from_dict({"status": "Failed", "totals": {"failed_files": 3, "rows": True}})
    old = summarize(sparse, V1, is_latest=False)
    assert (old.failed_items, old.rows, old.files, old.model_name, old.promoted) == (3, None, None, None, True)
    assert summarize(Manifest.from_dict({}), V1, is_latest=False).status == "Unknown"


def test_no_versions() -> None:
    store = MemoryStore()
    assert list_version_summaries(store, LAYOUT) == []
    store.ensure_bucket(LAYOUT.bucket)
    assert list_version_summaries(store, LAYOUT) == []


def test_show(store: MemoryStore) -> None:
    shown = show_version(store, LAYOUT, V3)
    assert shown["is_latest"] is True and shown["totals"]["rows"] == 120
    assert show_version(store, LAYOUT, V2)["is_latest"] is False


@pytest.mark.parametrize("version_id", ["20990101T000000.000Z-nope", "../../other/2026-05/versions/x", ""])
def test_show_unknown_lists_the_versions(store: MemoryStore, version_id: str) -> None:
    with pytest.raises(NotFoundError, match=f"output version .* not found; versions: {V4}, {V3}, {V2}, {V1}"):
        show_version(store, LAYOUT, version_id)


def test_rollback_to_an_older_completed_version(store: MemoryStore) -> None:
    pointer = rollback(store, LAYOUT, V1)
    assert read_latest(store, LAYOUT) == pointer
    assert (pointer.version_id, pointer.job_id) == (V1, "job-1")
    assert pointer.manifest_uri == f"s3://outputs/sales-forecast/2026-05/versions/{V1}/manifest.json"
    assert pointer.output_uri == f"s3://outputs/sales-forecast/2026-05/versions/{V1}/predictions.csv"
    assert [s.version_id for s in list_version_summaries(store, LAYOUT) if s.is_latest] == [V1]


def test_rollback_forward_promotes_an_unpromoted_version(store: MemoryStore) -> None:
    rollback(store, LAYOUT, V1)
    assert rollback(store, LAYOUT, V4).version_id == V4
    assert read_latest(store, LAYOUT).version_id == V4  # type: ignore[union-attr]


def test_rollback_to_latest_writes_nothing(store: MemoryStore) -> None:
    before = store.get_bytes(LAYOUT.bucket, LAYOUT.latest_key)
    assert rollback(store, LAYOUT, V3).version_id == V3
    assert store.get_bytes(LAYOUT.bucket, LAYOUT.latest_key) == before


def test_rollback_refuses_a_failed_version(store: MemoryStore) -> None:
    with pytest.raises(RollbackRefusedError) as caught:
        rollback(store, LAYOUT, V2)
    assert (caught.value.version_id, caught.value.status, caught.value.completed) == (V2, "Failed", [V4, V3, V1])
    assert f"version '{V2}' is Failed" in str(caught.value) and f"{V4}, {V3}, {V1}" in str(caught.value)
    assert isinstance(caught.value, ConflictError)
    assert read_latest(store, LAYOUT).version_id == V3  # type: ignore[union-attr]


def test_rollback_refuses_an_unknown_version(store: MemoryStore) -> None:
    with pytest.raises(NotFoundError, match=r"20990101T000000\.000Z-nope"):
        rollback(store, LAYOUT, "20990101T000000.000Z-nope")


def test_rollback_without_a_predictions_uri_points_at_the_folder(store: MemoryStore) -> None:
    put(store, manifest("20260509T000000.000Z-summary", output={"uri": None}))
    pointer = rollback(store, LAYOUT, "20260509T000000.000Z-summary")
    assert pointer.output_uri == "s3://outputs/sales-forecast/2026-05/versions/20260509T000000.000Z-summary/"
