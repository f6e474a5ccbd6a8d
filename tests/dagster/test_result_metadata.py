"""The predictions asset's metadata comes from the typed manifest a job returns."""

from __future__ import annotations

import dagster as dg

from batchpoint.job_records.file_result import FileResult
from batchpoint.outputs.manifest import Manifest
from batchpoint.outputs.manifest_figures import TimingsSection, TotalsSection
from batchpoint.outputs.manifest_sections import DeploymentSection, ModelSection, ReuseSection
from batchpoint.scoring.job import JobResult
from dagster_project.scoring_step import result_metadata

FILES = (
    FileResult("landing", "sales/2026-11/a.csv", "ea", 10, 4, None, 0.1, reused_from="v0"),
    FileResult("landing", "sales/2026-11/b.csv", "eb", 20, 0, "missing column(s) units", 0.1),
)


def job_result(manifest: Manifest) -> JobResult:
    return JobResult(
        status="Completed",
        job_id="job1",
        version_id="v1",
        output_uri="s3://outputs/sales/2026-11/versions/v1/predictions.csv",
        manifest_uri="s3://outputs/sales/2026-11/versions/v1/manifest.json",
        latest_moved=True,
        files=FILES,
        inputs=(),
        rows=4,
        failed_items=1,
        mini_batches=1,
        seconds=2.5,
        worker_startup_seconds=0.5,
        manifest=manifest,
        preview=({"prediction": 1.5, "file": "a.csv"},),
        error=None,
    )


def test_metadata_of_a_scored_job() -> None:
    manifest = Manifest(
        job_id="job1",
        endpoint="sales",
        partition="2026-11",
        version_id="v1",
        status="Completed",
        deployment=DeploymentSection("main", "models:/forecaster/2", 1, 2),
        model=ModelSection("models:/forecaster/2", "forecaster", "2"),
        inputs=FILES,
        totals=TotalsSection(files=2, succeeded_files=1, failed_files=1, failed_items=1, rows=4, mini_batches=1),
        timings=TimingsSection(seconds=2.5),
        promoted=False,
        reused=ReuseSection("v0", 1, 4),
        lineage_uri="s3://outputs/sales/2026-11/versions/v1/predictions.parquet",
    )
    metadata = result_metadata(job_result(manifest))
    assert metadata["model_uri"] == dg.MetadataValue.text("models:/forecaster/2")
    assert metadata["model_version"] == dg.MetadataValue.text("2")
    assert metadata["deployment"] == dg.MetadataValue.text("main")
    assert metadata["promoted"] == dg.MetadataValue.bool(False)
    counts = {k: metadata[k] for k in ("rows", "files", "failed_files", "failed_items", "reused_files")}
    expected = {"rows": 4, "files": 2, "failed_files": 1, "failed_items": 1, "reused_files": 1}
    assert counts == {k: dg.MetadataValue.int(v) for k, v in expected.items()}
    assert metadata["input_files"] == dg.MetadataValue.json({"files": [f.to_dict() for f in FILES]})
    assert metadata["duration_seconds"] == dg.MetadataValue.float(2.5)
    assert metadata["lineage_uri"] == dg.MetadataValue.url(manifest.lineage_uri or "")


def test_metadata_of_a_manifest_without_reuse_or_lineage() -> None:
    manifest = Manifest.from_dict({"status": "Completed", "totals": {"rows": 0, "files": 1, "failed_files": 0}})
    metadata = result_metadata(job_result(manifest))
    assert metadata["reused_files"] == dg.MetadataValue.int(0)
    assert metadata["failed_items"] == dg.MetadataValue.int(0)
    assert "lineage_uri" not in metadata
    assert metadata["promoted"] == dg.MetadataValue.bool(True)
