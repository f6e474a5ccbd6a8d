"""The reconciliation sensor over a MemoryStore and an ephemeral Dagster instance; the arrival
sensor's rule that files join a month's run still waiting to start."""

import dataclasses
import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.events import EngineEventData
from dagster._core.remote_origin import RegisteredCodeLocationOrigin, RemoteRepositoryOrigin
from dagster._core.storage.tags import GRPC_INFO_TAG

from batchpoint.config import Settings
from batchpoint.errors import StorageError
from batchpoint.outputs.layout import OutputLayout
from batchpoint.outputs.versions import LatestPointer
from batchpoint.registry.store import Registry
from batchpoint.specs.deployment import BatchDeployment
from batchpoint.specs.endpoint import BatchEndpoint
from batchpoint.storage.memory import MemoryStore
from batchpoint.storage.port import ObjectInfo
from batchpoint.triggers.arrival_batching import MonthRuns
from dagster_project.arrival_sensor import month_runs
from dagster_project.definitions import build_definitions
from dagster_project.endpoint_assets import build_endpoint_definitions
from dagster_project.naming import job_name
from dagster_project.platform_resource import Platform
from dagster_project.reconciliation_sensor import SENSOR_NAME, STATE_TAG, grace_seconds

THIS_MONTH = datetime.now(UTC).strftime("%Y-%m")
OLD = datetime.now(UTC) - timedelta(hours=1)
JOB = job_name("sales-forecast")


class FlakyStore(MemoryStore):
    """A MemoryStore whose bucket ``broken`` cannot be listed."""

    def list(self, bucket: str, prefix: str, start_after: str = "") -> Iterator[ObjectInfo]:
        if bucket == "broken":
            raise StorageError("listing s3://broken/ failed: connection refused")
        return super().list(bucket, prefix, start_after)


@dataclasses.dataclass
class World:
    store: MemoryStore
    defs: dg.Definitions
    instance: dg.DagsterInstance
    settings: Settings

    def land(
        self, month: str, name: str, data: bytes = b"a,b\n1,2\n", at: datetime = OLD, prefix: str = "sales/"
    ) -> str:
        key = f"{prefix}{month}/{name}"
        self.store.put_bytes("landing", key, data)
        self.store.set_last_modified("landing", key, at)
        return f"s3://landing/{key}"

    def score(self, month: str, version: str, *uris: str) -> None:
        """Write what a run leaves: the version's manifest, then ``latest``."""
        layout = OutputLayout(self.settings.output_bucket, "sales-forecast", month)
        inputs = [
            {"uri": uri, "etag": self.store.head("landing", uri.split("/", 3)[3]).etag, "status": "succeeded"}
            for uri in uris
        ]
        self.store.put_bytes(layout.bucket, layout.manifest_key(version), json.dumps({"inputs": inputs}).encode())
        pointer = LatestPointer(version, "job", layout.uri(layout.manifest_key(version)), "", "now")
        self.store.put_bytes(layout.bucket, layout.latest_key, pointer.to_json())

    def queue(self, month: str, status: dg.DagsterRunStatus, job: str = JOB, **tags: str) -> str:
        """A run of ``job`` for ``month`` in ``status`` (queued runs must name where their code is)."""
        origin = RemoteRepositoryOrigin(RegisteredCodeLocationOrigin("batchpoint"), "__repository__")
        run = dg.DagsterRun(
            job_name=job,
            status=status,
            tags={"dagster/partition": month, **tags},
            remote_job_origin=origin.get_job_origin(job),
        )
        return self.instance.add_run(run).run_id

    def tick(self) -> list[dg.RunRequest]:
        sensor = self.defs.resolve_sensor_def(SENSOR_NAME)
        result = sensor(dg.build_sensor_context(instance=self.instance, definitions=self.defs))
        assert isinstance(result, dg.SensorResult)
        return list(result.run_requests or [])


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    settings = dataclasses.replace(Settings(), data_dir=tmp_path)
    registry = Registry(settings.registry)
    for name, bucket in (("sales-forecast", "landing"), ("other", "broken")):
        spec = {"name": name, "data_arrival": {"bucket": bucket, "prefix": "sales/", "start_month": "2024-01"}}
        registry.create_or_update_endpoint(BatchEndpoint.parse(spec))
        registry.create_or_update_deployment(
            BatchDeployment.parse({"name": "forecast-mlflow", "endpoint_name": name, "model": "models:/m/1"})
        )
    registry.close()
    platform = Platform(settings)
    store = FlakyStore()
    store.ensure_bucket("landing")
    store.ensure_bucket(settings.output_bucket)
    platform.store = store  # type: ignore[assignment]
    with dg.instance_for_test() as instance:
        yield World(store, build_definitions(platform), instance, settings)


def test_the_sensor_is_registered_for_every_watched_endpoint_at_the_configured_interval(world: World) -> None:
    sensor = world.defs.resolve_sensor_def(SENSOR_NAME)
    assert {j.name for j in sensor.jobs} == {JOB, job_name("other")}
    assert sensor.minimum_interval_seconds == world.settings.reconcile_interval_seconds == 30
    assert sensor.default_status is dg.DefaultSensorStatus.RUNNING


def test_unscored_files_of_a_month_ask_for_one_run_with_a_key_per_state(world: World) -> None:
    world.land(THIS_MONTH, "a.csv")
    world.land(THIS_MONTH, "b.csv")
    first = world.tick()
    assert [(r.job_name, r.partition_key) for r in first] == [(JOB, THIS_MONTH)]
    assert first[0].tags["batchpoint/trigger"] == "reconciliation"
    assert (first[0].tags["batchpoint/unscored_files"], first[0].tags["batchpoint/changed_files"]) == ("2", "0")
    assert [r.run_key for r in world.tick()] == [first[0].run_key]  # same state: Dagster skips the repeat
    world.land(THIS_MONTH, "c.csv")
    assert [r.run_key for r in world.tick()] != [first[0].run_key]


def test_a_month_latest_covers_asks_for_nothing_until_a_file_changes(world: World) -> None:
    a = world.land("2025-03", "a.csv")
    b = world.land("2025-03", "b.csv")
    world.score("2025-03", "v1", a, b)
    assert world.tick() == []
    world.land("2025-03", "b.csv", b"a,b\n3,4\n")  # overwritten: new ETag
    requests = world.tick()
    assert [(r.partition_key, r.tags["batchpoint/changed_files"]) for r in requests] == [("2025-03", "1")]


def test_files_within_the_grace_period_are_left_to_the_arrival_sensor(world: World) -> None:
    just_now = datetime.now(UTC) - timedelta(seconds=grace_seconds(world.settings) / 2)
    world.land(THIS_MONTH, "a.csv", at=just_now)
    assert world.tick() == []
    world.land(THIS_MONTH, "older.csv")
    assert [r.partition_key for r in world.tick()] == [THIS_MONTH]


def test_months_outside_the_partitions_and_stray_keys_are_not_looked_at(world: World) -> None:
    world.land("2019-12", "before-start.csv")
    world.land("2099-01", "future.csv")
    world.store.put_bytes("landing", "sales/not-a-month/x.csv", b"x")
    world.store.put_bytes("landing", f"sales/{THIS_MONTH}/", b"")  # folder marker
    assert world.tick() == []


@pytest.mark.parametrize("status", [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.STARTED])
def test_a_month_with_a_run_not_ended_is_skipped_and_the_others_are_not(
    world: World, status: dg.DagsterRunStatus
) -> None:
    world.land("2025-01", "a.csv")
    world.land("2025-02", "a.csv")
    world.queue("2025-01", status)
    world.queue("2025-02", dg.DagsterRunStatus.FAILURE)
    world.queue("2025-02", dg.DagsterRunStatus.QUEUED, job=job_name("other"))  # another endpoint's month
    assert [r.partition_key for r in world.tick()] == ["2025-02"]


@pytest.mark.parametrize("worker_alive", [True, False])
def test_a_started_run_whose_worker_is_gone_does_not_hold_its_month(world: World, worker_alive: bool) -> None:
    # The whole stack was killed mid-run: the run stays STARTED, its worker process is gone.
    world.land("2025-01", "a.csv")
    code_server = json.dumps({"host": "127.0.0.1", "port": 4000})
    run = world.instance.get_run_by_id(
        world.queue("2025-01", dg.DagsterRunStatus.STARTED, **{GRPC_INFO_TAG: code_server})
    )
    assert run is not None
    worker = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        world.instance.report_engine_event(
            f"Started process for run (pid: {worker.pid}).", run, EngineEventData.in_process(worker.pid)
        )
        if not worker_alive:
            worker.kill()
            worker.wait()
        assert [r.partition_key for r in world.tick()] == ([] if worker_alive else ["2025-01"])
    finally:
        worker.kill()
        worker.wait()


def test_a_failed_run_does_not_use_up_its_states_key_and_retries_are_bounded(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world.land("2025-01", "a.csv")
    (first,) = world.tick()
    state = first.tags[STATE_TAG]
    assert first.run_key == state
    keys = [first.run_key]
    for attempt in range(1, world.settings.reconcile_max_retries + 1):
        # The attempt's run crashed: the listing and `latest` are as they were.
        world.queue("2025-01", dg.DagsterRunStatus.FAILURE, **{STATE_TAG: state})
        (retry,) = world.tick()
        assert (retry.run_key, retry.tags[STATE_TAG]) == (f"{state}:retry-{attempt}", state)
        keys.append(retry.run_key)
    assert len(set(keys)) == len(keys) == world.settings.reconcile_max_retries + 1
    world.queue("2025-01", dg.DagsterRunStatus.CANCELED, **{STATE_TAG: state})
    capsys.readouterr()
    assert world.tick() == []
    said = capsys.readouterr().err
    assert "ERROR - sales-forecast 2025-01" in said and "not asking again, its 4 runs for this state failed" in said
    # A new file is a new state: its first attempt again.
    world.land("2025-01", "b.csv")
    (fresh,) = world.tick()
    assert fresh.run_key == fresh.tags[STATE_TAG] != state


def test_an_unreachable_landing_bucket_of_one_endpoint_leaves_the_others_reconciled(world: World) -> None:
    # The fixture's endpoint `other` watches s3://broken/, whose listing fails on every tick.
    world.land("2025-01", "a.csv")
    assert [r.partition_key for r in world.tick()] == ["2025-01"]


def test_latest_naming_a_version_without_manifest_rescoring_the_month(world: World) -> None:
    a = world.land("2025-05", "a.csv")
    world.score("2025-05", "v1", a)
    layout = OutputLayout(world.settings.output_bucket, "sales-forecast", "2025-05")
    world.store.delete(layout.bucket, layout.manifest_key("v1"))
    assert [r.partition_key for r in world.tick()] == ["2025-05"]


# ---- the data-arrival sensor's side -----------------------------------------------------------
@pytest.mark.parametrize(
    ("status", "tags", "seen"),
    [
        pytest.param(dg.DagsterRunStatus.QUEUED, {}, MonthRuns.WAITING, id="queued"),
        pytest.param(dg.DagsterRunStatus.NOT_STARTED, {}, MonthRuns.WAITING, id="not-started"),
        pytest.param(dg.DagsterRunStatus.STARTING, {}, MonthRuns.WAITING, id="starting"),
        pytest.param(dg.DagsterRunStatus.STARTED, {}, MonthRuns.RUNNING, id="started-may-have-listed-already"),
        pytest.param(dg.DagsterRunStatus.SUCCESS, {}, None, id="ended"),
        pytest.param(dg.DagsterRunStatus.QUEUED, {"batchpoint/rescore": "failed-files"}, None, id="failed-only"),
        pytest.param(dg.DagsterRunStatus.QUEUED, {"batchpoint/deployment": "other"}, None, id="not-promoting"),
        pytest.param(
            dg.DagsterRunStatus.QUEUED,
            {"batchpoint/deployment": "other", "batchpoint/promote": "true"},
            MonthRuns.WAITING,
            id="promoting-backfill",
        ),
    ],
)
def test_the_arrival_sensor_sees_what_the_runs_of_a_month_are_doing(
    world: World, status: dg.DagsterRunStatus, tags: dict[str, str], seen: MonthRuns | None
) -> None:
    endpoint = BatchEndpoint.parse({"name": "sales-forecast", "data_arrival": {"prefix": "sales/"}})
    built = {"sales-forecast": build_endpoint_definitions(endpoint, Platform(world.settings))}
    world.queue(THIS_MONTH, status, **tags)
    context = dg.build_sensor_context(instance=world.instance)
    months = [("sales-forecast", THIS_MONTH), ("sales-forecast", "2025-01")]
    expected = {("sales-forecast", THIS_MONTH): seen} if seen else {}
    assert month_runs(context, months, built) == expected
