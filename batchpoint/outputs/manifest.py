"""The manifest of an output version: everything needed to trust, reproduce or diagnose it.

Pure: built from plain facts, serialised as JSON next to the predictions.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from batchpoint.models.resolved import ResolvedModel
from batchpoint.scoring.planning import JobPlan
from batchpoint.scoring.results import FileResult
from batchpoint.specs.deployment import BatchDeployment

# 3: each failed input says its ``cause`` (``content`` | ``infrastructure``).
MANIFEST_FORMAT = 3
# ``csv``: the MLflow scorer's comma-separated rows; ``rows``: a script's space-separated rows (Azure).
OUTPUT_DELIMITERS = {"csv": ",", "rows": " "}


@dataclass(frozen=True)
class Timings:
    """When the job ran and how fast."""

    started_at: datetime
    finished_at: datetime
    worker_startup_seconds: float
    scoring_seconds: float

    @property
    def seconds(self) -> float:
        """Wall time of the whole job."""
        return (self.finished_at - self.started_at).total_seconds()


def deployment_facts(deployment: BatchDeployment) -> dict[str, Any]:
    """The deployment as it was used; environment variable values are left out (they may be secrets)."""
    settings = deployment.settings.model_dump(mode="json")
    settings["environment_variables"] = sorted(deployment.settings.environment_variables)
    return {
        "name": deployment.name,
        "model": deployment.model.uri,
        "instance_count": deployment.resources.instance_count,
        "workers": deployment.workers,
        "settings": settings,
    }


def build_manifest(
    *,
    job_id: str,
    endpoint: str,
    partition: str,
    version_id: str,
    status: str,
    error: str | None,
    deployment: BatchDeployment,
    model: ResolvedModel,
    plan: JobPlan,
    files: Sequence[FileResult],
    timings: Timings,
    output_uri: str,
    output_columns: Sequence[str],
    logs: dict[str, str],
    rows: int | None = None,
    failed_items: int | None = None,
    mini_batches: Sequence[dict[str, Any]] = (),
    runtime: dict[str, Any] | None = None,
    output_format: str = "csv",
    extra_outputs: Sequence[str] = (),
) -> dict[str, Any]:
    """The manifest as a JSON-ready dict (see ``docs`` of the output layout for the fields).

    ``rows`` and ``failed_items`` default to the sums over ``files``; a scoring script's rows and
    short returns are only known per mini-batch, so its job passes them.
    """
    failed = sum(1 for f in files if not f.ok)
    rows = sum(f.rows or 0 for f in files) if rows is None else rows
    failed_items = sum(1 for f in files if f.counted) if failed_items is None else failed_items
    return {
        "format": MANIFEST_FORMAT,
        "job_id": job_id,
        "endpoint": endpoint,
        "partition": partition,
        "version_id": version_id,
        "status": status,
        "error": error,
        "deployment": deployment_facts(deployment),
        "model": model.to_dict(),
        "runtime": runtime,
        "inputs": [f.to_dict() for f in files],
        "totals": {
            "files": len(files),
            "succeeded_files": len(files) - failed,
            "failed_files": failed,
            "failed_items": failed_items,
            "rows": rows,
            "mini_batches": plan.mini_batch_count,
            "input_bytes": plan.total_bytes,
            "error_threshold": deployment.settings.error_threshold,
        },
        "plan": {
            "mini_batch_size": plan.mini_batch_size,
            "shards": [
                {"index": s.index, "mini_batches": len(s.mini_batches), "files": s.file_count} for s in plan.shards
            ],
        },
        "timings": {
            "started_at": timings.started_at.isoformat(),
            "finished_at": timings.finished_at.isoformat(),
            "seconds": round(timings.seconds, 3),
            "worker_startup_seconds": round(timings.worker_startup_seconds, 3),
            "scoring_seconds": round(timings.scoring_seconds, 3),
            "rows_per_second": round(rows / timings.scoring_seconds, 1) if timings.scoring_seconds > 0 else None,
        },
        "output": {
            "uri": output_uri,
            "format": output_format,
            "delimiter": OUTPUT_DELIMITERS.get(output_format),
            "header": False,
            "columns": list(output_columns),
            "files": list(extra_outputs),
        },
        "mini_batches": list(mini_batches),
        "logs": logs,
    }


def manifest_json(manifest: dict[str, Any]) -> bytes:
    """Serialised manifest."""
    return json.dumps(manifest, indent=2, sort_keys=False).encode()
