"""Nothing missed, nothing doubled, on a real stack of its own (its Kafka broker is stopped here).

- A burst of 1,000 object-created events over three months, in four waves a few seconds apart
  (so each month is due again while its previous run waits or runs), queues at most one waiting
  run per month at any time, and each month's ``latest`` ends up holding every file exactly once.
- Files landed while Kafka is down (their events lost: the publisher gives up and, with the
  stack's supervisor stopped, is not started again) are scored by the reconciliation sensor once
  the files are past its grace.

The stack is this module's own (not the session's): stopping its broker must not disturb other
tests, and it reconciles every 3 s instead of every 30 s.
"""

from __future__ import annotations

import dataclasses
import io
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import pytest

from batchpoint.config import Settings
from batchpoint.demo.forecaster import train_and_register
from batchpoint.demo.sales_history import generate_history, scoring_rows, split_into_parts
from batchpoint.errors import StackError
from batchpoint.orchestration.dagster_graphql import DagsterClient
from batchpoint.outputs.layout import OutputLayout
from batchpoint.outputs.versions import read_latest, read_manifest
from batchpoint.registry.store import Registry
from batchpoint.specs.deployment import BatchDeployment
from batchpoint.specs.endpoint import BatchEndpoint
from batchpoint.stack import Stack
from batchpoint.stack.locations import project_root
from batchpoint.stack.process import Child
from batchpoint.stack.readiness import wait_ready
from batchpoint.stack.services import child_env, launches
from batchpoint.storage.datastore import open_datastore
from batchpoint.storage.s3 import S3Store
from dagster_project.reconciliation_sensor import SENSOR_NAME, grace_seconds
from tests.integration.conftest import make_settings

# Takes the broker down and bursts 1,000 events at a stack of its own: fault cases, run with the fault suite.
pytestmark = [
    pytest.mark.integration,
    pytest.mark.faults,
    pytest.mark.filterwarnings("ignore:The ``noload`` loader strategy is deprecated"),
]

THIS_MONTH = pd.Period(datetime.now(UTC).strftime("%Y-%m"), freq="M")
BURST_MONTHS = [str(THIS_MONTH - 2), str(THIS_MONTH - 1), str(THIS_MONTH)]
OUTAGE_MONTH = str(THIS_MONTH - 3)
BURST_FILES = 1_000
WAVES = 4
PRODUCTS = 340  # rows per month: every burst file gets at least one
WAITING = {"QUEUED", "NOT_STARTED", "STARTING"}
ENDED = {"SUCCESS", "FAILURE", "CANCELED"}


@dataclass
class Endpoint:
    stack: Stack
    name: str
    store: S3Store
    dagster: DagsterClient
    history: pd.DataFrame
    landed: dict[str, dict[str, int]] = field(default_factory=dict)  # month -> key -> rows

    @property
    def settings(self) -> Settings:
        return self.stack.settings

    @property
    def job(self) -> str:
        return "score_" + self.name.replace("-", "_")

    def land(self, month: str, name: str, part: pd.DataFrame) -> None:
        key = f"{self.name}/{month}/{name}"
        self.store.put_bytes(self.settings.landing_bucket, key, part.to_csv(index=False).encode())
        self.landed.setdefault(month, {})[key] = len(part)

    def latest_manifest(self, month: str) -> dict[str, Any] | None:
        layout = OutputLayout(self.settings.output_bucket, self.name, month)
        latest = read_latest(self.store, layout)
        return None if latest is None else read_manifest(self.store, layout, latest.version_id)

    def covered(self, month: str) -> bool:
        manifest = self.latest_manifest(month)
        keys = {i["uri"].split("/", 3)[3] for i in manifest["inputs"]} if manifest else set()
        return keys == set(self.landed[month])

    def assert_scored_once(self, month: str) -> dict[str, Any]:
        """``latest`` holds every landed file of ``month`` exactly once, with all its rows."""
        manifest = self.latest_manifest(month)
        assert manifest is not None, f"{month} has no latest version"
        keys = [i["uri"].split("/", 3)[3] for i in manifest["inputs"]]
        assert sorted(keys) == sorted(self.landed[month]), f"{month}: latest's inputs are not the landed files"
        assert manifest["totals"]["failed_files"] == 0
        rows = sum(self.landed[month].values())
        assert manifest["totals"]["rows"] == rows
        raw = self.store.get_bytes(self.settings.output_bucket, manifest["output"]["uri"].split("/", 3)[3])
        predictions = pd.read_csv(io.BytesIO(raw), header=None, names=["row", "prediction", "file"])
        assert len(predictions) == rows
        per_file = Counter(predictions["file"])
        assert per_file == Counter({k.rsplit("/", 1)[1]: n for k, n in self.landed[month].items()})
        return manifest


@pytest.fixture(scope="module")
def reconcile_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """s3, kafka, mlflow, dagster and the publisher, reconciling every 3 s; no Ray head, so workers run in-process."""
    settings = dataclasses.replace(
        make_settings(tmp_path_factory.mktemp("reconcile")), reconcile_interval_seconds=3, workers="in-process"
    )
    with Stack(settings, services=("s3", "kafka", "mlflow", "dagster", "publisher")) as stack:
        yield stack


@pytest.fixture(scope="module")
def endpoint(reconcile_stack: Stack) -> Endpoint:
    settings = reconcile_stack.settings
    name = f"rec-{uuid.uuid4().hex[:6]}"
    months = (THIS_MONTH - pd.Period("2024-01", freq="M")).n + 1
    history = generate_history(products=PRODUCTS, months=months, start="2024-01", seed=5)
    model = train_and_register(history[history["month"] < OUTAGE_MONTH], settings.mlflow_uri, f"{name}-model", seed=5)
    registry = Registry(settings.registry)
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
                "settings": {"max_concurrency_per_instance": 1, "mini_batch_size": 50},
            }
        )
    )
    registry.close()
    dagster = DagsterClient(settings.dagster_url)
    dagster.reload_location()
    deadline = time.monotonic() + 120
    while not all(dagster.sensor_status(s) == "RUNNING" for s in ("datastore_events", SENSOR_NAME)):
        assert time.monotonic() < deadline, "the sensors never started"
        time.sleep(1)
    store = open_datastore(settings)
    return Endpoint(reconcile_stack, name, store, dagster, history)


class RunWatcher(threading.Thread):
    """Polls the job's runs; remembers the most runs of one month ever seen waiting at once."""

    def __init__(self, dagster: DagsterClient, job: str) -> None:
        super().__init__(daemon=True)
        self.dagster, self.job = dagster, job
        self.most_waiting: Counter[str] = Counter()
        self.runs: dict[str, dict[str, str]] = {}  # run id -> tags + status
        self.polls = 0
        self.errors: list[str] = []
        self.overflow = False
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                runs = self.dagster.runs(self.job)
            except StackError as exc:  # a busy webserver: count it, poll again
                self.errors.append(str(exc))
                self.stop.wait(0.3)
                continue
            # One query shows the newest 20 runs: more, and an older waiting run could be missed.
            self.overflow |= len(runs) >= 20
            waiting = Counter(r.tags["dagster/partition"] for r in runs if r.status in WAITING)
            for month, count in waiting.items():
                self.most_waiting[month] = max(self.most_waiting[month], count)
            self.runs.update({r.run_id: r.tags | {"status": r.status} for r in runs})
            self.polls += 1
            self.stop.wait(0.3)


def _poll(condition: Callable[[], object], timeout: float) -> bool:
    """Whether ``condition()`` came true within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.5)
    return True


@pytest.mark.timeout(420)
def test_a_burst_of_1000_events_queues_one_run_per_month_at_a_time_and_scores_every_file_once(
    endpoint: Endpoint,
) -> None:
    parts: list[tuple[str, str, pd.DataFrame]] = []
    for index, month in enumerate(BURST_MONTHS):
        count = BURST_FILES // 3 + (1 if index < BURST_FILES % 3 else 0)
        rows = scoring_rows(endpoint.history, month)
        parts += [(month, f"part-{i:04d}.csv", part) for i, part in enumerate(split_into_parts(rows, count))]
    assert len(parts) == BURST_FILES
    watcher = RunWatcher(endpoint.dagster, endpoint.job)
    watcher.start()
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=16) as pool:
        # In waves further apart than the settle window and two sensor ticks: the arrival sensor
        # finds a month due again while the run it asked for after the previous wave is still
        # waiting or running.
        settings = endpoint.settings
        for wave in range(WAVES):
            if wave:
                time.sleep(settings.arrival_settle_seconds + 2 * settings.sensor_interval_seconds + 1)
            list(pool.map(lambda p: endpoint.land(*p), parts[wave::WAVES]))
    landed_in = time.monotonic() - started
    try:
        assert _poll(lambda: all(endpoint.covered(m) for m in BURST_MONTHS), 300), "latest never held every file"
        scored_in = time.monotonic() - started
        # Let any run still asked for end, so a late duplicate would be seen.
        assert _poll(lambda: watcher.runs and all(r["status"] in ENDED for r in watcher.runs.values()), 120)
    finally:
        watcher.stop.set()
        watcher.join(timeout=30)

    assert not watcher.overflow, "over 20 runs: the watcher could not see them all"
    assert len(watcher.errors) < watcher.polls / 10, f"Dagster did not answer: {watcher.errors[:3]}"
    per_month = Counter(r["dagster/partition"] for r in watcher.runs.values())
    triggers = Counter(r.get("batchpoint/trigger") for r in watcher.runs.values())
    print(
        f"\n{BURST_FILES} files landed in {WAVES} waves in {landed_in:.1f} s, "
        f"all scored {scored_in:.1f} s after the first PUT; "
        f"runs per month {dict(per_month)} by trigger {dict(triggers)}; most waiting at once "
        f"{dict(watcher.most_waiting)} over {watcher.polls} polls"
    )
    assert set(per_month) == set(BURST_MONTHS)
    assert all(n <= 1 for n in watcher.most_waiting.values()), f"a month had >1 waiting run: {watcher.most_waiting}"
    assert all(r["status"] == "SUCCESS" for r in watcher.runs.values())
    for month in BURST_MONTHS:
        endpoint.assert_scored_once(month)


def _restart(stack: Stack, service: str) -> None:
    """Start ``service`` again the way ``Stack.up`` does, and let the stack stop it at the end."""
    settings = stack.settings
    children = []
    for launch in launches(service, settings):
        log = settings.data_dir.resolve() / "logs" / f"{launch.name}.log"
        children.append(Child.start(launch.name, launch.command, child_env(settings) | launch.env, log, project_root()))
    stack.children[service] = children
    wait_ready(service, settings, children)


@pytest.mark.timeout(300)
def test_files_landed_while_kafka_is_down_are_scored_by_reconciliation(endpoint: Endpoint) -> None:
    stack = endpoint.stack
    # The events must be lost for reconciliation to be what scores the files: the supervisor would
    # restart the broker and the publisher, and the publisher replay them from its checkpoint
    # (tests/faults covers that path). This test stops and starts the services itself.
    stack.stop_supervising()
    (kafka,) = stack.children["kafka"]
    (publisher,) = stack.children["publisher"]
    kafka.stop()
    started = time.monotonic()
    rows = scoring_rows(endpoint.history, OUTAGE_MONTH)
    for index, part in enumerate(split_into_parts(rows, 5)):
        endpoint.land(OUTAGE_MONTH, f"part-{index:03d}.csv", part)
    # The publisher cannot deliver the events and gives up; in case it is still trying, stop it
    # so that nothing reaches the broker once it is back: the events are lost either way.
    gave_up = _poll(lambda: not publisher.alive(), 45)
    publisher.stop()
    _restart(stack, "kafka")
    print(f"\nKafka down {time.monotonic() - started:.1f} s; the publisher {'gave up' if gave_up else 'was stopped'}")

    grace = grace_seconds(endpoint.settings)
    assert _poll(lambda: endpoint.covered(OUTAGE_MONTH), 60 + 2 * grace), f"{OUTAGE_MONTH} was never reconciled"
    print(f"{OUTAGE_MONTH} scored {time.monotonic() - started:.1f} s after its files landed (grace {grace:.0f} s)")
    endpoint.assert_scored_once(OUTAGE_MONTH)
    assert _poll(lambda: all(r.status in ENDED for r in endpoint.dagster.runs(endpoint.job, OUTAGE_MONTH)), 60)
    runs = endpoint.dagster.runs(endpoint.job, OUTAGE_MONTH)
    assert [(r.tags.get("batchpoint/trigger"), r.status) for r in runs] == [("reconciliation", "SUCCESS")]
    assert runs[0].tags["batchpoint/unscored_files"] == "5"
