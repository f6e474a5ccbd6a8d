"""Versioned outputs: layout, ids, and a ``latest`` that only ever points at a complete, good version."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest

from batchpoint.outputs.layout import JOB_ERROR_LOG, OutputLayout, new_version_id
from batchpoint.outputs.manifest import Manifest
from batchpoint.outputs.predictions_file import PredictionsFile
from batchpoint.outputs.publishing import publish_version
from batchpoint.outputs.versions import list_versions, read_latest, read_manifest, within_threshold
from batchpoint.storage.memory import MemoryStore
from batchpoint.storage.port import ObjectInfo

LAYOUT = OutputLayout("outputs", "sales-forecast", "2026-11")
T0 = datetime(2026, 11, 24, 10, 15, 0, 123000, tzinfo=UTC)


class RecordingStore(MemoryStore):
    """Remembers the order of writes, to check what a reader could see at each moment."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[str] = []

    def put_bytes(self, bucket: str, key: str, data: bytes, content_type: str = "") -> ObjectInfo:
        self.writes.append(key)
        return super().put_bytes(bucket, key, data, content_type)


@pytest.fixture
def store() -> RecordingStore:
    s = RecordingStore()
    s.ensure_bucket(LAYOUT.bucket)
    return s


def publish(store: MemoryStore, tmp_path: Path, version_id: str, *, make_latest: bool) -> bool:
    predictions = tmp_path / f"{version_id}.csv"
    predictions.write_text("1.5,part-1.csv\n")
    return publish_version(
        store,
        LAYOUT,
        version_id=version_id,
        job_id="job",
        predictions=predictions,
        output_file_name="predictions.csv",
        logs={JOB_ERROR_LOG: "no errors\n"},
        manifest=Manifest(
            job_id="job", endpoint="sales-forecast", partition="2026-11", version_id=version_id, status="Completed"
        ),
        make_latest=make_latest,
    )


def test_layout_keys() -> None:
    v = "20261124T101500.123Z-abc"
    assert LAYOUT.key(v, "predictions.csv") == f"sales-forecast/2026-11/versions/{v}/predictions.csv"
    assert LAYOUT.manifest_key(v) == f"sales-forecast/2026-11/versions/{v}/manifest.json"
    assert LAYOUT.key(v, JOB_ERROR_LOG) == f"sales-forecast/2026-11/versions/{v}/logs/user/job_error.txt"
    assert LAYOUT.latest_key == "sales-forecast/2026-11/latest.json"
    assert LAYOUT.uri(LAYOUT.latest_key) == "s3://outputs/sales-forecast/2026-11/latest.json"


@pytest.mark.parametrize(
    ("job_id", "expected"),
    [
        ("6f1c2a9e-77b4-4c1e-9d0a-000000000000", "20261124T101500.123Z-6f1c2a9e"),
        ("RUN_42", "20261124T101500.123Z-run42"),
        ("---", "20261124T101500.123Z-job"),
        ("batchjob-0123456789ab", "20261124T101500.123Z-batchjob-0123456789ab"),
    ],
)
def test_version_ids(job_id: str, expected: str) -> None:
    assert new_version_id(job_id, T0) == expected


def test_version_ids_sort_by_start_time() -> None:
    ids = [new_version_id("zzzz", T0), new_version_id("aaaa", T0 + timedelta(milliseconds=1))]
    ids.append(new_version_id("mmmm", T0 + timedelta(days=1)))
    assert sorted(ids) == ids


@pytest.mark.parametrize(
    ("failed", "threshold", "ok"),
    [(0, 0, True), (1, 0, False), (3, 3, True), (4, 3, False), (1000, -1, True)],
)
def test_error_threshold(failed: int, threshold: int, ok: bool) -> None:
    assert within_threshold(failed, threshold) is ok


def test_latest_is_written_last(store: RecordingStore, tmp_path: Path) -> None:
    assert read_latest(store, LAYOUT) is None
    assert publish(store, tmp_path, "v1", make_latest=True)
    assert store.writes[-1] == LAYOUT.latest_key
    assert store.writes.index(LAYOUT.manifest_key("v1")) < store.writes.index(LAYOUT.latest_key)
    latest = read_latest(store, LAYOUT)
    assert latest is not None
    assert latest.version_id == "v1"
    assert latest.output_uri == LAYOUT.uri(LAYOUT.key("v1", "predictions.csv"))
    assert store.get_bytes(LAYOUT.bucket, LAYOUT.key("v1", "predictions.csv")) == b"1.5,part-1.csv\n"


def test_failed_version_is_kept_but_latest_stays(store: RecordingStore, tmp_path: Path) -> None:
    publish(store, tmp_path, "v1", make_latest=True)
    assert not publish(store, tmp_path, "v2", make_latest=False)
    latest = read_latest(store, LAYOUT)
    assert latest is not None
    assert latest.version_id == "v1"
    assert list_versions(store, LAYOUT) == ["v1", "v2"]
    assert read_manifest(store, LAYOUT, "v2")["version_id"] == "v2"


def test_an_older_version_finishing_late_does_not_hide_a_newer_one(store: RecordingStore, tmp_path: Path) -> None:
    publish(store, tmp_path, "20261124T120000.000Z-b", make_latest=True)
    assert not publish(store, tmp_path, "20261124T110000.000Z-a", make_latest=True)
    latest = read_latest(store, LAYOUT)
    assert latest is not None
    assert latest.version_id == "20261124T120000.000Z-b"


def test_versions_without_manifest_are_not_listed(store: RecordingStore) -> None:
    store.put_bytes(LAYOUT.bucket, LAYOUT.key("v0", "predictions.csv"), b"partial")
    store.put_bytes(LAYOUT.bucket, LAYOUT.key("v0", "logs/user/manifest.json"), b"{}")
    assert list_versions(store, LAYOUT) == []
    assert list_versions(MemoryStore(), LAYOUT) == []


@pytest.mark.parametrize(
    ("files", "text"),
    [
        (["a.csv", "b.csv"], "0,1.5,a.csv\n0,2,b.csv\n"),
        (["a,1.csv", "b.csv"], '0,1.5,"a,1.csv"\n0,2,b.csv\n'),
    ],
)
def test_predictions_file_has_no_header_and_quotes_only_when_needed(
    tmp_path: Path, files: list[str], text: str
) -> None:
    with PredictionsFile(tmp_path / "p.csv") as out:
        out.append(pa.table({"prediction": [1.5], "file": files[:1]}), [0])
        out.append(pa.table({"prediction": [2.0], "file": files[1:]}), [0])
    assert (tmp_path / "p.csv").read_text() == text
    assert (out.rows, out.columns) == (2, ("row", "prediction", "file"))
