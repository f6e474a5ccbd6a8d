"""The one endpoint setup of the fault tests: a landing prefix scored by an MLflow forecaster.

``ScoringEndpoint.create(faults)`` registers the endpoint and its default deployment and waits for
the sensors; ``land(month, n)`` lands ``n`` small files holding the month's rows once;
``started_run(month)`` finds a running run and its worker's pid (to kill it).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from batchpoint.config import Settings
from batchpoint.demo.forecaster import train_and_register
from batchpoint.demo.sales_history import generate_history, scoring_rows, split_into_parts
from batchpoint.management.workspace import Workspace
from batchpoint.orchestration.dagster_graphql import DagsterClient, RunInfo
from batchpoint.outputs.layout import OutputLayout
from batchpoint.outputs.versions import read_latest, read_manifest
from batchpoint.registry.store import Registry
from batchpoint.specs.deployment import BatchDeployment
from batchpoint.specs.endpoint import BatchEndpoint
from batchpoint.specs.job import JobInfo
from batchpoint.storage.datastore import open_datastore
from batchpoint.storage.s3 import S3Store
from dagster_project.run_workers import STARTED_PROCESS
from tests.faults.stack import ENDED_RUN, FaultStack, poll

THIS_MONTH = pd.Period(datetime.now(UTC).strftime("%Y-%m"), freq="M")
PRODUCTS = 40  # rows per month


@dataclass
class ScoringEndpoint:
    """An endpoint watching ``<name>/<YYYY-MM>/`` of the landing bucket, scored by an MLflow forecaster."""

    faults: FaultStack
    name: str
    history: pd.DataFrame
    landed: dict[str, dict[str, int]] = field(default_factory=dict)  # month -> key -> rows

    @classmethod
    def create(cls, faults: FaultStack, prefix: str = "flt") -> ScoringEndpoint:
        """Register the endpoint and its default deployment, reload Dagster, wait for the sensors."""
        settings = faults.settings
        name = f"{prefix}-{uuid.uuid4().hex[:6]}"
        months = (THIS_MONTH - pd.Period("2024-01", freq="M")).n + 1
        history = generate_history(products=PRODUCTS, months=months, start="2024-01", seed=3)
        model = train_and_register(history[history["month"] < "2025-01"], settings.mlflow_uri, f"{name}-model", seed=3)
        registry = Registry(settings.registry)
        try:
            registry.create_or_update_endpoint(
                BatchEndpoint.parse({"name": name, "data_arrival": {"prefix": f"{name}/", "start_month": "2024-01"}})
            )
            registry.create_or_update_deployment(
                BatchDeployment.parse(
                    {
                        "name": "forecast-mlflow",
                        "endpoint_name": name,
                        "model": model.uri,
                        "resources": {"instance_count": 1},
                        "settings": {"max_concurrency_per_instance": 1, "mini_batch_size": 2},
                    }
                )
            )
        finally:
            registry.close()
        endpoint = cls(faults, name, history)
        endpoint.dagster.reload_location()
        endpoint.wait_for_sensors()
        return endpoint

    # ---- where things are -------------------------------------------------------------------
    @property
    def settings(self) -> Settings:
        return self.faults.settings

    @property
    def job(self) -> str:
        return "score_" + self.name.replace("-", "_")

    @property
    def dagster(self) -> DagsterClient:
        return DagsterClient(self.settings.dagster_url)

    @property
    def store(self) -> S3Store:
        s = self.settings
        return open_datastore(s)

    def wait_for_sensors(self) -> None:
        """Until the data-arrival and reconciliation sensors run (after a load or a restart)."""
        poll(
            lambda: all(self.dagster.sensor_status(s) == "RUNNING" for s in ("datastore_events", "reconciliation")),
            "the sensors running",
        )

    # ---- landing ----------------------------------------------------------------------------
    def land(self, month: str, files: int) -> list[str]:
        """Land ``files`` small CSV files holding the month's rows once; their keys."""
        keys = []
        for index, part in enumerate(split_into_parts(scoring_rows(self.history, month), files)):
            key = f"{self.name}/{month}/part-{index:03d}.csv"
            self.store.put_bytes(self.settings.landing_bucket, key, part.to_csv(index=False).encode())
            self.landed.setdefault(month, {})[key] = len(part)
            keys.append(key)
        return keys

    # ---- runs and jobs ----------------------------------------------------------------------
    def runs(self, month: str) -> list[RunInfo]:
        """The month's runs of the endpoint's job, newest first."""
        return self.dagster.runs(self.job, month)

    def run(self, run_id: str) -> RunInfo | None:
        return next((r for r in self.dagster.runs(self.job) if r.run_id == run_id), None)

    def started_run(self, month: str, trigger: str | None = None) -> tuple[RunInfo, int]:
        """The month's first run (of ``trigger``) whose worker logged its pid, and that pid."""

        def found() -> tuple[RunInfo, int] | None:
            for run in self.runs(month):
                if run.status != "STARTED" or (trigger and run.tags.get("batchpoint/trigger") != trigger):
                    continue
                pid = self.worker_pid(run.run_id)
                if pid is not None:
                    return run, pid
            return None

        return poll(found, f"a started {trigger or ''} run of {month}", every=0.2)

    def worker_pid(self, run_id: str) -> int | None:
        """The pid the run's worker logged when it started (``Started process for run (pid: N).``)."""
        for message in reversed(self.dagster.run_messages(run_id)):
            if message.startswith(STARTED_PROCESS):
                return int(message[len(STARTED_PROCESS) :].split(")", 1)[0])
        return None

    def run_ended(self, run_id: str) -> str:
        """The run's status once it ended."""
        return poll(
            lambda: r.status if (r := self.run(run_id)) and r.status in ENDED_RUN else None,
            f"run {run_id[:8]} ended",
        )

    def jobs(self) -> list[JobInfo]:
        """The endpoint's job rows, newest first."""
        with Workspace(self.settings) as workspace:
            return workspace.jobs.list(self.name)

    def job_of_run(self, run_id: str) -> JobInfo:
        """The job row its run recorded (once the run's step began)."""
        return poll(lambda: next((j for j in self.jobs() if j.dagster_run_id == run_id), None), f"job of {run_id[:8]}")

    # ---- outputs ----------------------------------------------------------------------------
    def latest_manifest(self, month: str) -> dict[str, Any] | None:
        layout = OutputLayout(self.settings.output_bucket, self.name, month)
        latest = read_latest(self.store, layout)
        return None if latest is None else read_manifest(self.store, layout, latest.version_id)

    def scored(self, month: str) -> bool:
        """Whether ``latest`` names every landed file of ``month`` (checked in full by ``assert_invariants``)."""
        manifest = self.latest_manifest(month)
        keys = {i["uri"].split("/", 3)[3] for i in manifest["inputs"]} if manifest else set()
        return keys == set(self.landed[month])
