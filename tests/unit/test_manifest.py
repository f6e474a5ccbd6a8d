"""The typed manifest: ``to_dict`` writes ``manifest.json`` key for key, ``from_dict`` reads any version's."""

from __future__ import annotations

import json
from copy import deepcopy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from batchpoint.job_records.failure_causes import FailureCause
from batchpoint.job_records.file_result import FileResult
from batchpoint.outputs.failed_version import FailedBeforeScoring, write_failed_version
from batchpoint.outputs.layout import OutputLayout
from batchpoint.outputs.manifest import MANIFEST_FORMAT, Manifest, build_manifest
from batchpoint.outputs.manifest_figures import PlanSection, ShardSection, TimingsSection
from batchpoint.outputs.manifest_sections import (
    DeploymentSection,
    MiniBatchSection,
    ModelSection,
    ReuseSection,
    RuntimeSection,
)
from batchpoint.outputs.versions import load_manifest, read_manifest
from batchpoint.specs.deployment import BatchDeployment
from batchpoint.storage.memory import MemoryStore
from batchpoint.storage.port import ObjectInfo

LAYOUT = OutputLayout("outputs", "heart", "2026-11")
VERSION = "20261124T101500.123Z-job1"
T0 = datetime(2026, 11, 24, 10, 15, 0, 123000, tzinfo=UTC)
URI = f"s3://outputs/heart/2026-11/versions/{VERSION}"

# A scored job's manifest as this version writes it: every section, every optional key present.
SCORED: dict[str, Any] = {
    "format": 3,
    "job_id": "job1",
    "endpoint": "heart",
    "partition": "2026-11",
    "version_id": VERSION,
    "status": "Failed",
    "error": "4 failed items, more than error_threshold 3",
    "deployment": {
        "name": "classifier",
        "model": "models:/heart/3",
        "instance_count": 2,
        "workers": 4,
        "settings": {"mini_batch_size": 2, "retry_settings": {"max_retries": 3}, "environment_variables": ["A"]},
    },
    "model": {
        "name": "heart",
        "version": "3",
        "uri": "models:/heart/3",
        "kind": "mlflow_model",
        "run_id": "run1",
        "requested": "models:/heart@champion",
        "signature": [{"name": "age", "type": "long", "required": True}],
    },
    "runtime": {
        "kind": "mlflow",
        "python": "/usr/bin/python3",
        "entry": "mlflow_scorer.py",
        "code_uri": None,
        "environment_key": None,
        "environment": {"choice": "own-interpreter", "reason": "satisfies", "dropped_packages": ["azureml-core"]},
    },
    "inputs": [
        {
            "uri": "s3://landing/heart/2026-11/p0.csv",
            "etag": "e0",
            "size": 100,
            "status": "succeeded",
            "rows": 10,
            "error": None,
            "seconds": 0.123457,
        },
        {
            "uri": "s3://landing/heart/2026-11/p1.csv",
            "etag": "e1",
            "size": 101,
            "status": "failed",
            "rows": 0,
            "error": "bad csv",
            "cause": "content",
            "seconds": 0.2,
        },
        {
            "uri": "s3://landing/heart/2026-11/p2.csv",
            "etag": "e2",
            "size": 102,
            "status": "failed",
            "rows": 0,
            "error": "not scored: store down",
            "cause": "infrastructure",
            "seconds": 0.0,
        },
        {
            "uri": "s3://landing/heart/2026-11/sub/p3.csv",
            "etag": "e3",
            "size": 103,
            "status": "succeeded",
            "rows": 7,
            "error": None,
            "seconds": 0.0,
            "reused_from": "20261101T000000.000Z-old",
        },
        {
            "uri": "s3://landing/heart/2026-11/p4.csv",
            "etag": "e4",
            "size": 104,
            "status": "succeeded",
            "rows": None,
            "error": None,
            "seconds": 0.3,
        },
    ],
    "totals": {
        "files": 5,
        "succeeded_files": 3,
        "failed_files": 2,
        "failed_items": 1,
        "rows": 17,
        "mini_batches": 3,
        "input_bytes": 510,
        "error_threshold": 3,
    },
    "plan": {
        "mini_batch_size": 2,
        "shards": [{"index": 0, "mini_batches": 2, "files": 3}, {"index": 1, "mini_batches": 1, "files": 2}],
    },
    "timings": {
        "started_at": "2026-11-24T10:15:00.123000+00:00",
        "finished_at": "2026-11-24T10:15:12.468600+00:00",
        "seconds": 12.346,
        "worker_startup_seconds": 1.235,
        "scoring_seconds": 5.5,
        "rows_per_second": 3.1,
    },
    "output": {
        "uri": f"{URI}/predictions.csv",
        "format": "csv",
        "delimiter": ",",
        "header": False,
        "columns": ["row", "prediction", "file"],
        "files": [f"{URI}/predictions.parquet"],
    },
    "mini_batches": [
        {
            "index": 0,
            "files": ["s3://landing/heart/2026-11/p0.csv"],
            "rows": 10,
            "failed_items": 1,
            "worker": "worker-0",
            "attempts": 2,
            "note": None,
            "node": "local",
        },
        {
            "index": 2,
            "files": ["s3://landing/heart/2026-11/p4.csv"],
            "rows": 0,
            "failed_items": 0,
            "worker": "worker-1",
            "attempts": 1,
            "note": "run() returned 1 item(s)",
            "node": None,
        },
    ],
    "logs": {"logs/user/job_error.txt": f"{URI}/logs/user/job_error.txt"},
    "promoted": False,
    "reused": {"version_id": "20261101T000000.000Z-old", "files": 1, "rows": 7},
    "lineage_uri": f"{URI}/predictions.parquet",
}


def keys_in_order(value: Any) -> Any:
    """Every object's keys in order, nested: equal dicts with keys in another order differ here."""
    if isinstance(value, dict):
        return [(k, keys_in_order(v)) for k, v in value.items()]
    if isinstance(value, list):
        return [keys_in_order(v) for v in value]
    return value


def test_a_scored_manifest_reads_back_to_the_same_json_key_for_key() -> None:
    manifest = Manifest.from_dict(SCORED)
    assert manifest.to_dict() == SCORED
    assert keys_in_order(manifest.to_dict()) == keys_in_order(SCORED)
    assert json.dumps(manifest.to_dict(), indent=2) == json.dumps(SCORED, indent=2)
    assert Manifest.from_dict(manifest.to_dict()) == manifest


def test_the_typed_fields_are_what_the_json_says() -> None:
    manifest = Manifest.from_dict(SCORED)
    assert manifest.model is not None and manifest.model.version == "3"
    assert manifest.deployment is not None and manifest.deployment.workers == 4
    assert manifest.runtime is not None and manifest.runtime.environment == SCORED["runtime"]["environment"]
    assert (manifest.totals.rows, manifest.totals.failed_items, manifest.totals.error_threshold) == (17, 1, 3)
    assert manifest.plan is not None and manifest.plan.mini_batch_count == 3
    p0, p1, p2, p3, p4 = manifest.inputs
    assert (p0.ok, p0.rows, p1.counted, p2.counted, p2.cause) == (True, 10, True, False, FailureCause.INFRASTRUCTURE)
    assert (p3.bucket, p3.key, p3.reused_from) == ("landing", "heart/2026-11/sub/p3.csv", "20261101T000000.000Z-old")
    assert p4.rows is None
    assert [m.node for m in manifest.mini_batches] == ["local", None]
    reused = ReuseSection("20261101T000000.000Z-old", 1, 7)
    assert (manifest.promoted, manifest.reused, manifest.scored) == (False, reused, True)
    assert manifest.output.columns == ("row", "prediction", "file")


def test_build_manifest_sums_and_rounds_as_the_json_always_did() -> None:
    files = [FileResult(*f) for f in [("in", "a.csv", "e", 5, 3, None, 0.1), ("in", "b.csv", "e", 6, 0, "bad", 0.2)]]
    deployment = BatchDeployment.model_validate(
        {"name": "classifier", "endpoint_name": "heart", "model": "models:/heart/3", "settings": {"error_threshold": 0}}
    )
    finished = T0 + timedelta(seconds=2.00049)
    manifest = build_manifest(
        job_id="job1",
        endpoint="heart",
        partition="2026-11",
        version_id=VERSION,
        status="Failed",
        error="1 failed items, more than error_threshold 0",
        deployment=DeploymentSection.of(deployment),
        error_threshold=0,
        model=ModelSection.from_dict(SCORED["model"]),
        plan=PlanSection(2, (ShardSection(0, 1, 2),)),
        input_bytes=11,
        files=files,
        timings=TimingsSection.of(T0, finished, 0.5, 1.23456, 3),
        output_uri=f"{URI}/predictions.csv",
        output_columns=["row", "prediction", "file"],
        logs={},
        runtime=RuntimeSection.from_dict(SCORED["runtime"]),
        mini_batches=[MiniBatchSection(0, ("s3://in/a.csv", "s3://in/b.csv"), 3, 1, "worker-0", 1, None)],
    )
    data = manifest.to_dict()
    assert data["totals"] == {
        "files": 2,
        "succeeded_files": 1,
        "failed_files": 1,
        "failed_items": 1,
        "rows": 3,
        "mini_batches": 1,
        "input_bytes": 11,
        "error_threshold": 0,
    }
    assert data["timings"]["seconds"] == 2.0 and data["timings"]["scoring_seconds"] == 1.235
    assert data["timings"]["rows_per_second"] == 2.4
    assert data["deployment"]["settings"]["environment_variables"] == []
    assert (data["promoted"], data["reused"], data["lineage_uri"], data["format"]) == (
        True,
        None,
        None,
        MANIFEST_FORMAT,
    )
    assert Manifest.from_dict(data) == manifest


@pytest.mark.parametrize("inputs", [(), (ObjectInfo("landing", "heart/2026-11/p0.csv", "e0", 100),)])
def test_a_manifest_written_before_scoring_reads_back_to_the_same_json(inputs: tuple[ObjectInfo, ...]) -> None:
    store = MemoryStore()
    deployment = BatchDeployment.model_validate(
        {"name": "classifier", "endpoint_name": "heart", "model": "models:/heart/3"}
    )
    error = "EnvironmentBuildError: x"
    failed = FailedBeforeScoring("job2", "heart", "2026-11", error, deployment, "models:/m/1", inputs, T0)
    version_id = write_failed_version(store, LAYOUT, failed).removesuffix("/").rsplit("/", 1)[1]
    stored = read_manifest(store, LAYOUT, version_id)
    manifest = load_manifest(store, LAYOUT, version_id)
    assert keys_in_order(manifest.to_dict()) == keys_in_order(stored)
    assert not manifest.scored
    assert not {"runtime", "plan", "mini_batches"} & set(stored), "a job that never scored has no such sections"
    assert manifest.model == ModelSection(uri="models:/m/1")
    assert all(f.cause is FailureCause.INFRASTRUCTURE and not f.counted for f in manifest.inputs)


def test_an_old_manifest_without_the_newer_keys_reads_with_their_defaults() -> None:
    old = deepcopy(SCORED)
    for key in ("format", "promoted", "reused", "lineage_uri", "runtime", "plan"):
        del old[key]
    del old["totals"]["failed_items"], old["totals"]["input_bytes"], old["totals"]["error_threshold"]
    for entry in old["inputs"]:
        entry.pop("cause", None)
    old["inputs"][2]["error"] = "could not download s3://landing/heart/2026-11/p2.csv: timeout"
    for mini_batch in old["mini_batches"]:
        del mini_batch["node"]
    manifest = Manifest.from_dict(old)
    assert (manifest.format, manifest.promoted, manifest.reused, manifest.lineage_uri) == (1, True, None, None)
    assert (manifest.runtime, manifest.plan) == (None, None)
    # Before per-item counting every failed file was one failed item.
    assert (manifest.totals.failed_items, manifest.totals.input_bytes) == (2, None)
    # Before format 3 a failed download was a store outage; any other failure the file's own.
    assert [f.cause for f in manifest.inputs if not f.ok] == [FailureCause.CONTENT, FailureCause.INFRASTRUCTURE]
    assert [m.node for m in manifest.mini_batches] == [None, None]
    assert "input_bytes" not in manifest.to_dict()["totals"]


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"status": 3, "totals": {"rows": True, "files": "4"}, "model": "not an object", "inputs": "nope"},
        {"inputs": [{"status": "failed"}], "mini_batches": [{"index": "1"}], "logs": None, "promoted": None},
    ],
)
def test_a_field_missing_or_of_another_type_reads_as_absent(data: dict[str, Any]) -> None:
    manifest = Manifest.from_dict(data)
    assert (manifest.totals.rows, manifest.totals.files, manifest.model) == (None, None, None)
    assert manifest.status in {"Unknown", "3"}
    assert all(not f.ok for f in manifest.inputs), "a failed entry without an error still reads as failed"
    assert json.loads(json.dumps(manifest.to_dict()))["logs"] == {}
