"""Publishing takes a plain ``ScoredJob`` (no pool, no tracker) and writes its version in a ``MemoryStore``."""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from batchpoint.job_records.file_result import FileResult
from batchpoint.job_records.mini_batch_summary import MiniBatchSummary
from batchpoint.outputs.job_publishing import publish_job
from batchpoint.outputs.layout import JOB_ERROR_LOG, JOB_PROGRESS_LOG, JOB_RESULT_LOG, OutputLayout
from batchpoint.outputs.manifest import Manifest
from batchpoint.outputs.manifest_figures import PlanSection, ShardSection
from batchpoint.outputs.manifest_sections import ModelSection, RuntimeSection
from batchpoint.outputs.scored_job import ScoredJob
from batchpoint.outputs.versions import list_versions, read_latest, read_manifest
from batchpoint.specs.deployment import BatchDeployment
from batchpoint.storage.memory import MemoryStore

LAYOUT = OutputLayout("outputs", "heart", "2026-11")
LOG = logging.getLogger("test_job_publishing")
GOOD = FileResult("landing", "heart/2026-11/a.csv", "ea", 10, 3, None, 0.1)
BAD = FileResult("landing", "heart/2026-11/b.csv", "eb", 20, 0, "missing column(s) age", 0.1)


def scored_job(tmp_path: Path, version: int = 1, error: str | None = None, rows: int = 3) -> ScoredJob:
    work = tmp_path / f"v{version}"
    (work / "logs").mkdir(parents=True)
    (work / "logs" / "worker-0.txt").write_text("printed by init()\n")
    (work / "predictions.csv").write_text("0,1,a.csv\n1,0,a.csv\n2,1,a.csv\n")
    (work / "predictions.parquet").write_bytes(b"PAR1")
    deployment = BatchDeployment.model_validate(
        {"name": "classifier", "endpoint_name": "heart", "model": "models:/heart/3", "settings": {"error_threshold": 1}}
    )
    batch = MiniBatchSummary(0, (GOOD, BAD), rows, 1, "worker-0", 2, None, ("mini-batch 0 attempt 1/3: boom",), "local")
    return ScoredJob(
        job_id=f"job{version}",
        endpoint="heart",
        partition="2026-11",
        version_id=f"2026112{version}T101500.000Z-job{version}",
        started_at=datetime(2026, 11, 20 + version, 10, 15, tzinfo=UTC),
        deployment=deployment,
        model=ModelSection("models:/heart/3", "heart", "3", "mlflow_model", None, "models:/heart/3"),
        runtime=RuntimeSection("mlflow", "/usr/bin/python3", "mlflow_scorer.py"),
        plan=PlanSection(2, (ShardSection(0, 1, 2),)),
        input_bytes=30,
        scored_mini_batches=1,
        files=(GOOD, BAD),
        inputs=(),
        failed_items=1,
        error=error,
        mini_batches=(batch,),
        progress_text="1/1 mini-batches\n",
        rows=rows,
        columns=("row", "prediction", "file"),
        output_format="csv",
        predictions_path=work / "predictions.csv",
        worker_log_dir=work / "logs",
        worker_startup_seconds=0.5,
        scoring_seconds=1.5,
        extra_files={"predictions.parquet": work / "predictions.parquet"},
        lineage_name="predictions.parquet",
    )


def text(store: MemoryStore, version_id: str, name: str) -> str:
    return store.get_bytes(LAYOUT.bucket, LAYOUT.key(version_id, name)).decode()


@pytest.fixture
def store() -> MemoryStore:
    s = MemoryStore()
    s.ensure_bucket(LAYOUT.bucket)
    return s


def test_a_completed_job_is_published_and_latest_moves(store: MemoryStore, tmp_path: Path) -> None:
    scored = scored_job(tmp_path)
    published = publish_job(store, LAYOUT, scored, promote=True, keep_versions=None, log=LOG)
    version_id = scored.version_id
    assert published.latest_moved
    latest = read_latest(store, LAYOUT)
    assert latest is not None and latest.version_id == version_id
    stored = read_manifest(store, LAYOUT, version_id)
    assert stored == published.manifest.to_dict() and Manifest.from_dict(stored) == published.manifest
    assert published.output_uri == LAYOUT.uri(LAYOUT.key(version_id, "predictions.csv")) == stored["output"]["uri"]
    assert text(store, version_id, "predictions.csv").count("\n") == 3
    assert (stored["status"], stored["totals"]["failed_items"], stored["totals"]["mini_batches"]) == ("Completed", 1, 1)
    assert stored["lineage_uri"] == LAYOUT.uri(LAYOUT.key(version_id, "predictions.parquet"))
    assert stored["mini_batches"][0] == {
        "index": 0,
        "files": [GOOD.uri, BAD.uri],
        "rows": 3,
        "failed_items": 1,
        "worker": "worker-0",
        "attempts": 2,
        "note": None,
        "node": "local",
    }
    assert set(stored["logs"]) == {JOB_ERROR_LOG, JOB_PROGRESS_LOG, JOB_RESULT_LOG, "logs/user/stdout/worker-0.txt"}
    assert text(store, version_id, "logs/user/stdout/worker-0.txt") == "printed by init()\n"
    assert text(store, version_id, JOB_PROGRESS_LOG) == "1/1 mini-batches\n"
    job_result = text(store, version_id, JOB_RESULT_LOG)
    assert "failed items: 1 (tolerated: 1)" in job_result and "mini-batch 0 attempt 1/3: boom" in job_result
    assert f"latest: moved to {version_id}" in job_result
    assert "missing column(s) age" in text(store, version_id, JOB_ERROR_LOG)


def test_a_failed_job_without_rows_writes_no_predictions_and_latest_stays(store: MemoryStore, tmp_path: Path) -> None:
    first = scored_job(tmp_path, 1)
    publish_job(store, LAYOUT, first, promote=True, keep_versions=None, log=LOG)
    failed = scored_job(tmp_path, 2, error="2 failed items, more than error_threshold 1", rows=0)
    published = publish_job(store, LAYOUT, failed, promote=True, keep_versions=None, log=LOG)
    assert not published.latest_moved
    latest = read_latest(store, LAYOUT)
    assert latest is not None and latest.version_id == first.version_id
    assert published.output_uri == LAYOUT.uri(LAYOUT.version_prefix(failed.version_id))
    written = {o.key.rsplit("/", 1)[1] for o in store.list(LAYOUT.bucket, LAYOUT.version_prefix(failed.version_id))}
    assert "predictions.csv" not in written and "manifest.json" in written
    assert published.manifest.status == "Failed" and published.manifest.error == failed.error
    assert "latest: not moved: the job failed" in text(store, failed.version_id, JOB_RESULT_LOG)


def test_a_version_not_promoted_leaves_latest_and_says_so(store: MemoryStore, tmp_path: Path) -> None:
    published = publish_job(store, LAYOUT, scored_job(tmp_path), promote=False, keep_versions=None, log=LOG)
    assert not published.latest_moved and read_latest(store, LAYOUT) is None
    assert published.manifest.promoted is False
    assert (
        json.loads(store.get_bytes(LAYOUT.bucket, LAYOUT.manifest_key(published.manifest.version_id)))["promoted"]
        is False
    )


def test_older_versions_are_pruned_after_publishing(store: MemoryStore, tmp_path: Path) -> None:
    for version in (1, 2, 3):
        publish_job(store, LAYOUT, scored_job(tmp_path, version), promote=True, keep_versions=2, log=LOG)
    assert list_versions(store, LAYOUT) == [scored_job(tmp_path / "again", v).version_id for v in (2, 3)]


def test_a_lineage_file_not_written_is_not_named(store: MemoryStore, tmp_path: Path) -> None:
    scored = replace(scored_job(tmp_path), extra_files={})
    published = publish_job(store, LAYOUT, scored, promote=True, keep_versions=None, log=LOG)
    assert published.manifest.lineage_uri is None and published.manifest.output.files == ()
