"""The fault-injection harness: a real embedded stack that can be killed, an endpoint on it, and the
invariants every fault must leave intact (see ``tests/faults/conftest.py`` for how to add a case).

- ``FaultStack``: the stack of one data dir; ``kill_everything()`` SIGKILLs every process that
  carries its data dir (services, run workers, scoring drivers), ``up_again()`` starts it on the
  same data dir and ports, as ``batchpoint up`` after a crash would.
- ``ScoringEndpoint.create``: the one setup of an endpoint watching a landing prefix, with an
  MLflow forecaster deployment; ``land(month, n)`` lands ``n`` small files into a month.
- ``assert_invariants(endpoint, month)``: after a fault, the month's ``latest`` holds every landed
  file's rows exactly once, no partial version became ``latest``, no process is left behind, and
  every job of the endpoint is in a terminal status. Conditions are polled with generous
  deadlines; nothing asserts how long anything took.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import os
import signal
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd

from batchpoint.config import Settings
from batchpoint.demo.forecaster import train_and_register
from batchpoint.demo.sales_history import generate_history, scoring_rows, split_into_parts
from batchpoint.errors import StackError
from batchpoint.management.workspace import Workspace
from batchpoint.orchestration.dagster_graphql import DagsterClient, RunInfo
from batchpoint.outputs.layout import OutputLayout
from batchpoint.outputs.versions import read_latest, read_manifest
from batchpoint.registry.store import Registry
from batchpoint.specs.deployment import BatchDeployment
from batchpoint.specs.endpoint import BatchEndpoint
from batchpoint.specs.job import JobInfo
from batchpoint.stack import Stack
from batchpoint.stack.process import group_members
from batchpoint.storage.s3 import S3Store
from dagster_project.run_workers import STARTED_PROCESS
from tests.integration.conftest import make_settings

T = TypeVar("T")

SERVICES = ("s3", "kafka", "mlflow", "dagster", "publisher", "api")
ENDED_RUN = {"SUCCESS", "FAILURE", "CANCELED"}
THIS_MONTH = pd.Period(datetime.now(UTC).strftime("%Y-%m"), freq="M")
PRODUCTS = 40  # rows per month
DEADLINE_S = 300.0


def poll(condition: Callable[[], T | None], what: str, timeout: float = DEADLINE_S, every: float = 0.5) -> T:
    """``condition()``'s first truthy value; ``AssertionError`` naming ``what`` if none within ``timeout``.

    A Dagster webserver that is briefly busy (``StackError``) counts as not yet.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            found = condition()
        except StackError:
            found = None
        if found:
            return found
        assert time.monotonic() < deadline, f"{what}: not within {timeout:.0f} s"
        time.sleep(every)


def fault_settings(data_dir: Path) -> Settings:
    """Settings for a stack under faults: short waits, so a lost month is found again soon.

    Reconciliation every 3 s and a short arrival wait (its grace period is ~14 s); run monitoring
    every 2 s. Nothing else differs from the defaults.
    """
    return dataclasses.replace(
        make_settings(data_dir),
        reconcile_interval_seconds=3,
        arrival_max_wait_seconds=8.0,
        run_monitoring_interval_seconds=2,
    )


class FaultStack:
    """The embedded stack of one data dir, which a test may kill and bring up again."""

    def __init__(self, settings: Settings, services: Sequence[str] = SERVICES) -> None:
        self.settings = settings
        self.services = tuple(services)
        self.stack = Stack(settings, services=self.services)

    def up(self) -> FaultStack:
        """Start every service and wait until each is healthy."""
        self.stack.up()
        return self

    def down(self) -> None:
        """Stop what runs, then anything left with this data dir (the harness's own cleanup)."""
        self.stack.down()
        for pid in stack_processes(self.settings):
            _kill(pid)

    def service_pgids(self) -> set[int]:
        """Process groups of the running services (each service child leads one)."""
        return {pid for pids in self.stack.pids().values() for pid in pids}

    def kill_everything(self) -> list[int]:
        """SIGKILL every process carrying this stack's data dir, as a power cut would; their pids.

        The stack's children are reaped, their state and sockets left as a crash leaves them.
        """
        killed = stack_processes(self.settings)
        for pid in killed:
            _kill(pid)
        for children in self.stack.children.values():
            for child in children:
                child.process.wait(timeout=30)
        poll(lambda: not stack_processes(self.settings), "every process of the stack gone", timeout=30)
        return killed

    def up_again(self) -> FaultStack:
        """``batchpoint up`` on the same data dir and ports after ``kill_everything``."""
        self.stack = Stack(self.settings, services=self.services)
        return self.up()


def stack_processes(settings: Settings) -> list[int]:
    """Live processes (not this one) whose environment names ``settings``' data dir."""
    marker = f"BATCHPOINT_DATA_DIR={settings.data_dir.resolve()}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z" and marker in environ.split(b"\0"):
            found.append(int(entry.name))
    return sorted(found)


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


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
        return S3Store(s.s3_url, s.access_key, s.secret_key, s.region)

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


def assert_invariants(endpoint: ScoringEndpoint, month: str) -> None:
    """What the issue asks after every fault, once the month was scored again."""
    poll(lambda: endpoint.scored(month), f"{month}'s latest holding every landed file")
    assert_latest_holds_every_row_once(endpoint, month)
    poll(lambda: all(r.status in ENDED_RUN for r in endpoint.runs(month)), f"every run of {month} ended")
    assert_no_process_left_behind(endpoint.faults)
    assert_jobs_terminal(endpoint)


def assert_latest_holds_every_row_once(endpoint: ScoringEndpoint, month: str) -> None:
    """``latest`` is a complete version: every landed file once, all its rows once, nothing failed."""
    manifest = endpoint.latest_manifest(month)
    assert manifest is not None, f"{month} has no latest version"
    landed = endpoint.landed[month]
    keys = [i["uri"].split("/", 3)[3] for i in manifest["inputs"]]
    assert sorted(keys) == sorted(landed), f"{month}: latest's inputs are not the landed files"
    # A partial version (a run killed while writing) never becomes latest: latest is complete.
    assert manifest["status"] == "Completed", f"latest of {month} is {manifest['status']}"
    assert manifest["totals"]["failed_files"] == 0
    rows = sum(landed.values())
    assert manifest["totals"]["rows"] == rows
    raw = endpoint.store.get_bytes(endpoint.settings.output_bucket, manifest["output"]["uri"].split("/", 3)[3])
    predictions = pd.read_csv(io.BytesIO(raw), header=None, names=["prediction", "file"])
    assert Counter(predictions["file"]) == Counter({k.rsplit("/", 1)[1]: n for k, n in landed.items()})


def assert_no_process_left_behind(faults: FaultStack) -> None:
    """Once no run is in flight, every process with the stack's data dir belongs to a running service."""

    def strays() -> list[int]:
        services = faults.service_pgids()
        members = {pid for pgid in services for pid in group_members(pgid)}
        return [pid for pid in stack_processes(faults.settings) if pid not in members]

    left: list[int] = []

    def none_left() -> bool:
        left[:] = strays()
        return not left

    try:
        poll(none_left, "no stray process", timeout=60)
    except AssertionError:
        described = [f"{pid}: {_cmdline(pid)}" for pid in left]
        raise AssertionError(f"processes left behind: {described}") from None


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")[:200]
    except OSError:
        return "(gone)"


def assert_jobs_terminal(endpoint: ScoringEndpoint) -> None:
    """Every job row of the endpoint ended (Completed, Failed or Canceled)."""
    left: list[JobInfo] = []

    def all_ended() -> bool:
        left[:] = [j for j in endpoint.jobs() if not j.status.ended]
        return not left

    try:
        poll(all_ended, "every job terminal", timeout=120)
    except AssertionError:
        described = [(j.name, j.status.value, j.dagster_run_id) for j in left]
        raise AssertionError(f"jobs not terminal: {described}") from None
