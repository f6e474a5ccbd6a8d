"""The manifest of an output version: everything needed to trust, reproduce or diagnose it.

Pure: a frozen ``Manifest`` built from plain facts, written as ``manifest.json`` next to the
predictions. That JSON is a public format (users and their tools read it): ``to_dict`` writes it
key for key as it has always been written, ``from_dict`` reads back the manifest of any version,
older ones missing newer keys included (they read as their defaults).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from batchpoint.checks.results import CheckReport
from batchpoint.job_records.file_result import FileResult
from batchpoint.outputs.json_fields import entries, integer, section, text
from batchpoint.outputs.manifest_figures import OutputSection, PlanSection, TimingsSection, TotalsSection
from batchpoint.outputs.manifest_sections import (
    DeploymentSection,
    MiniBatchSection,
    ModelSection,
    ReuseSection,
    RuntimeSection,
    WorkersSection,
)
from batchpoint.outputs.reuse_index import ReuseIndex

# 3: each failed input says its ``cause`` (``content`` | ``infrastructure``).
MANIFEST_FORMAT = 3
# Manifests before the ``format`` field.
_FIRST_FORMAT = 1
# ``csv``: the MLflow scorer's comma-separated rows; ``rows``: a script's space-separated rows (Azure).
OUTPUT_DELIMITERS = {"csv": ",", "rows": " "}
UNKNOWN_STATUS = "Unknown"


@dataclass(frozen=True)
class Manifest:
    """One version's manifest: the job, its outcome, and a section per nested JSON object.

    ``stage`` is set (``"before scoring"``) only for a job that failed before scoring
    (``failed_version.py``); such a manifest has no ``runtime``, ``plan`` or ``mini_batches`` keys.
    """

    job_id: str
    endpoint: str
    partition: str
    version_id: str
    status: str
    error: str | None = None
    deployment: DeploymentSection | None = None
    model: ModelSection | None = None
    runtime: RuntimeSection | None = None
    inputs: tuple[FileResult, ...] = ()
    totals: TotalsSection = field(default_factory=TotalsSection)
    plan: PlanSection | None = None
    timings: TimingsSection = field(default_factory=TimingsSection)
    output: OutputSection = field(default_factory=OutputSection)
    mini_batches: tuple[MiniBatchSection, ...] = ()
    logs: Mapping[str, str] = field(default_factory=dict)
    """Each log's URI by its path inside the version (``logs/user/job_error.txt``)."""
    promoted: bool = True
    """False when the job was told not to move ``latest`` (a non-default deployment)."""
    reused: ReuseSection | None = None
    lineage_uri: str | None = None
    workers: WorkersSection | None = None
    """Where the workers ran (``None``: a job that failed before scoring, or an older manifest)."""
    reuse_index: ReuseIndex | None = None
    """What a later run may reuse of this version (``None``: nothing, e.g. an older manifest)."""
    checks: CheckReport | None = None
    """The checks evaluated before publishing (``outputs/version_checks.py``); ``None``: none ran."""
    compare: Mapping[str, Any] | None = None
    """A compare run's diff against the month's latest (``outputs/challenger_report.py``)."""
    stage: str | None = None
    format: int = MANIFEST_FORMAT

    @property
    def scored(self) -> bool:
        """True unless the job failed before scoring."""
        return self.stage is None

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of ``manifest.json``."""
        head: dict[str, Any] = {
            "format": self.format,
            "job_id": self.job_id,
            "endpoint": self.endpoint,
            "partition": self.partition,
            "version_id": self.version_id,
            "status": self.status,
            "error": self.error,
        }
        if self.stage is not None:
            head["stage"] = self.stage
        head["deployment"] = self.deployment.to_dict() if self.deployment is not None else None
        head["model"] = self.model.to_dict() if self.model is not None else None
        if self.scored:
            head["runtime"] = self.runtime.to_dict() if self.runtime is not None else None
        head["inputs"] = [f.to_dict() for f in self.inputs]
        head["totals"] = self.totals.to_dict()
        if self.scored:
            head["plan"] = self.plan.to_dict() if self.plan is not None else None
        head["timings"] = self.timings.to_dict()
        head["output"] = self.output.to_dict()
        if self.scored:
            head["mini_batches"] = [m.to_dict() for m in self.mini_batches]
        return (
            head
            | {
                "logs": dict(self.logs),
                "promoted": self.promoted,
                "reused": self.reused.to_dict() if self.reused is not None else None,
                "lineage_uri": self.lineage_uri,
            }
            | ({"workers": self.workers.to_dict()} if self.workers is not None else {})
            | ({"reuse_index": self.reuse_index.to_dict()} if self.reuse_index is not None else {})
            | ({"checks": self.checks.to_dict()} if self.checks is not None else {})
            | ({"compare": dict(self.compare)} if self.compare is not None else {})
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Manifest:
        """Read a manifest's JSON object back; keys it lacks (an older version's) read as defaults."""
        deployment, model, runtime = section(data, "deployment"), section(data, "model"), section(data, "runtime")
        plan, reused, logs = section(data, "plan"), section(data, "reused"), section(data, "logs") or {}
        workers, reuse_index = section(data, "workers"), section(data, "reuse_index")
        checks = section(data, "checks")
        return cls(
            job_id=text(data, "job_id") or "",
            endpoint=text(data, "endpoint") or "",
            partition=text(data, "partition") or "",
            version_id=text(data, "version_id") or "",
            status=text(data, "status") or UNKNOWN_STATUS,
            error=text(data, "error"),
            deployment=DeploymentSection.from_dict(deployment) if deployment is not None else None,
            model=ModelSection.from_dict(model) if model is not None else None,
            runtime=RuntimeSection.from_dict(runtime) if runtime is not None else None,
            inputs=tuple(FileResult.from_dict(e) for e in entries(data, "inputs")),
            totals=TotalsSection.from_dict(section(data, "totals") or {}),
            plan=PlanSection.from_dict(plan) if plan is not None else None,
            timings=TimingsSection.from_dict(section(data, "timings") or {}),
            output=OutputSection.from_dict(section(data, "output") or {}),
            mini_batches=tuple(MiniBatchSection.from_dict(e) for e in entries(data, "mini_batches")),
            logs={str(k): str(v) for k, v in logs.items()},
            promoted=data.get("promoted", True) is not False,
            reused=ReuseSection.from_dict(reused) if reused is not None else None,
            lineage_uri=text(data, "lineage_uri"),
            workers=WorkersSection.from_dict(workers) if workers is not None else None,
            reuse_index=ReuseIndex.from_dict(reuse_index) if reuse_index is not None else None,
            checks=CheckReport.from_dict(checks) if checks is not None else None,
            compare=section(data, "compare"),
            stage=text(data, "stage"),
            format=integer(data, "format") or _FIRST_FORMAT,
        )


def build_manifest(
    *,
    job_id: str,
    endpoint: str,
    partition: str,
    version_id: str,
    status: str,
    error: str | None,
    deployment: DeploymentSection,
    error_threshold: int,
    model: ModelSection,
    plan: PlanSection,
    input_bytes: int,
    files: Sequence[FileResult],
    timings: TimingsSection,
    output_uri: str,
    output_columns: Sequence[str],
    logs: Mapping[str, str],
    rows: int | None = None,
    failed_items: int | None = None,
    mini_batches: Sequence[MiniBatchSection] = (),
    runtime: RuntimeSection | None = None,
    output_format: str = "csv",
    extra_outputs: Sequence[str] = (),
    promoted: bool = True,
    reused: ReuseSection | None = None,
    lineage_uri: str | None = None,
    workers: WorkersSection | None = None,
    reuse_index: ReuseIndex | None = None,
    checks: CheckReport | None = None,
    compare: Mapping[str, Any] | None = None,
) -> Manifest:
    """The manifest of a scored job; ``plan`` is of every input (reused ones included).

    ``rows`` and ``failed_items`` default to the sums over ``files``; a scoring script's rows and
    short returns are only known per mini-batch, so its job passes them.
    """
    failed = sum(1 for f in files if not f.ok)
    rows = sum(f.rows or 0 for f in files) if rows is None else rows
    failed_items = sum(1 for f in files if f.counted) if failed_items is None else failed_items
    totals = TotalsSection(
        files=len(files),
        succeeded_files=len(files) - failed,
        failed_files=failed,
        failed_items=failed_items,
        rows=rows,
        mini_batches=plan.mini_batch_count,
        input_bytes=input_bytes,
        error_threshold=error_threshold,
    )
    output = OutputSection(
        uri=output_uri,
        format=output_format,
        delimiter=OUTPUT_DELIMITERS.get(output_format),
        header=False,
        columns=tuple(output_columns),
        files=tuple(extra_outputs),
    )
    return Manifest(
        job_id=job_id,
        endpoint=endpoint,
        partition=partition,
        version_id=version_id,
        status=status,
        error=error,
        deployment=deployment,
        model=model,
        runtime=runtime,
        inputs=tuple(files),
        totals=totals,
        plan=plan,
        timings=timings,
        output=output,
        mini_batches=tuple(mini_batches),
        logs=dict(logs),
        promoted=promoted,
        reused=reused,
        lineage_uri=lineage_uri,
        workers=workers,
        reuse_index=reuse_index,
        checks=checks,
        compare=compare,
    )


def manifest_json(manifest: Manifest) -> bytes:
    """Serialised manifest."""
    return json.dumps(manifest.to_dict(), indent=2, sort_keys=False).encode()
