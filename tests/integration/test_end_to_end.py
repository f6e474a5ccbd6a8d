"""The spine on the real embedded stack: files land → Kafka → sensor → Dagster run → predictions.

Checks the issue's contract: one output version whose rows equal the inputs' rows, each prediction
equal to ``mlflow.pyfunc`` on the same rows; a redelivered event gives no new run and no duplicate
rows; a malformed event is dead-lettered and the next good event is still scored; bad files are
named in the run's logs while the other files are scored; putting earlier content back under a key
(A, B, A) is scored again by the event path.
"""

from __future__ import annotations

import io
import json
import time
import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import pytest

from batchpoint.config import Settings
from batchpoint.demo.forecaster import RegisteredForecaster, train_and_register
from batchpoint.demo.sales_history import generate_history, scoring_rows, split_into_parts
from batchpoint.demo.waiting import wait_for_new_version
from batchpoint.orchestration.dagster_graphql import DagsterClient
from batchpoint.outputs.layout import JOB_PROGRESS_LOG, OutputLayout
from batchpoint.outputs.versions import LatestPointer, read_latest, read_manifest
from batchpoint.registry.store import Registry
from batchpoint.specs.deployment import BatchDeployment
from batchpoint.specs.endpoint import BatchEndpoint
from batchpoint.storage.datastore import open_datastore
from batchpoint.storage.s3 import S3Store
from kafka_edge.dead_letter import DeadLetter
from kafka_edge.kafka_io import make_producer, read_from
from kafka_edge.s3_event_json import decode

pytestmark = [
    pytest.mark.integration,
    pytest.mark.timeout(600),
    pytest.mark.filterwarnings("ignore:The ``noload`` loader strategy is deprecated"),
]

THIS_MONTH = datetime.now(UTC).strftime("%Y-%m")
LAST_MONTH = str(pd.Period(THIS_MONTH, freq="M") - 1)
OVERWRITE_MONTH = str(pd.Period(THIS_MONTH, freq="M") - 2)
FILES = 6


@dataclass
class Endpoint:
    settings: Settings
    name: str
    prefix: str
    store: S3Store
    dagster: DagsterClient
    history: pd.DataFrame
    model: RegisteredForecaster

    @property
    def job(self) -> str:
        return "score_" + self.name.replace("-", "_")

    def land(self, month: str, name: str, data: bytes) -> None:
        self.store.put_bytes(self.settings.landing_bucket, f"{self.prefix}{month}/{name}", data)

    def latest(self, month: str) -> LatestPointer | None:
        return read_latest(self.store, OutputLayout(self.settings.output_bucket, self.name, month))

    def wait(self, month: str, before: LatestPointer | None) -> dict[str, object]:
        published = wait_for_new_version(
            self.store,
            self.settings,
            dagster=self.dagster,
            endpoint=self.name,
            partition=month,
            before=before,
            say=print,
            timeout_seconds=240,
        )
        layout = OutputLayout(self.settings.output_bucket, self.name, month)
        return read_manifest(self.store, layout, published.version_id)

    def predictions(self, month: str) -> pd.DataFrame:
        latest = self.latest(month)
        assert latest is not None
        raw = self.store.get_bytes(self.settings.output_bucket, latest.output_uri.split("/", 3)[3])
        return pd.read_csv(io.BytesIO(raw), header=None, names=["row", "prediction", "file"])


@pytest.fixture(scope="module")
def endpoint(stack: Settings) -> Iterator[Endpoint]:
    name = f"e2e-{uuid.uuid4().hex[:6]}"
    history = generate_history(products=30, months=36, start="2024-01", seed=11)
    history = history[history["month"] <= THIS_MONTH]
    model = train_and_register(history[history["month"] < LAST_MONTH], stack.mlflow_uri, f"{name}-model", seed=11)
    registry = Registry(stack.registry)
    registry.create_or_update_endpoint(
        BatchEndpoint.parse({"name": name, "data_arrival": {"prefix": f"{name}/", "start_month": "2024-01"}})
    )
    registry.create_or_update_deployment(
        BatchDeployment.parse(
            {
                "name": "forecast-mlflow",
                "endpoint_name": name,
                "model": model.uri,
                "resources": {"instance_count": 2},
                "settings": {"max_concurrency_per_instance": 1, "mini_batch_size": 2},
            }
        )
    )
    registry.close()
    dagster = DagsterClient(stack.dagster_url)
    dagster.reload_location()
    deadline = time.monotonic() + 120
    while dagster.sensor_status("datastore_events") != "RUNNING":
        assert time.monotonic() < deadline, "the data-arrival sensor never started"
        time.sleep(1)
    store = open_datastore(stack)
    yield Endpoint(stack, name, f"{name}/", store, dagster, history, model)


def _load_pyfunc(model_uri: str, tracking_uri: str) -> Any:
    import mlflow

    mlflow.set_tracking_uri(tracking_uri)
    with warnings.catch_warnings():
        # MLflow's own schema classes warn about `Any` fields when mlflow.pyfunc is imported.
        warnings.filterwarnings("ignore", message=r".*Any type hint is inferred as AnyType")
        import mlflow.pyfunc

        return mlflow.pyfunc.load_model(model_uri)


def test_landed_month_is_scored_once_and_matches_pyfunc(endpoint: Endpoint) -> None:
    rows = scoring_rows(endpoint.history, THIS_MONTH)
    parts = split_into_parts(rows, FILES)
    for index, part in enumerate(parts):
        endpoint.land(THIS_MONTH, f"part-{index:03d}.csv", part.to_csv(index=False).encode())
    manifest = endpoint.wait(THIS_MONTH, None)

    assert manifest["totals"] == manifest["totals"] | {"files": FILES, "failed_files": 0, "rows": len(rows)}
    runs = endpoint.dagster.runs(endpoint.job, THIS_MONTH)
    assert len(runs) == 1, f"{FILES} files landing together must give one run, got {len(runs)}"
    # latest.json is written inside the step; Dagster records the materialisation only once the
    # asset returns, a moment later.
    asset_key = [endpoint.name.replace("-", "_"), "predictions"]
    deadline = time.monotonic() + 120
    while (metadata := endpoint.dagster.latest_materialization(asset_key, THIS_MONTH)) is None:
        assert time.monotonic() < deadline, "the run left no materialisation in Dagster"
        time.sleep(0.5)
    assert metadata["model_uri"] == f"models:/{endpoint.model.name}/{endpoint.model.version}"
    assert (metadata["deployment"], metadata["rows"], metadata["files"]) == ("forecast-mlflow", len(rows), FILES)
    assert metadata["output_version"] == manifest["version_id"]
    assert {f["etag"] for f in metadata["input_files"]["files"]} == {f["etag"] for f in manifest["inputs"]}
    # The data-arrival run says how its environment was chosen in the user's log too.
    layout = OutputLayout(endpoint.settings.output_bucket, endpoint.name, THIS_MONTH)
    progress = endpoint.store.get_bytes(layout.bucket, layout.key(str(manifest["version_id"]), JOB_PROGRESS_LOG))
    assert " environment: the model's " in progress.decode(), progress.decode()

    predictions = endpoint.predictions(THIS_MONTH)
    assert len(predictions) == len(rows)
    model = _load_pyfunc(endpoint.model.uri, endpoint.settings.mlflow_uri)
    for index, part in enumerate(parts):
        scored = predictions[predictions["file"] == f"part-{index:03d}.csv"]["prediction"].to_numpy()
        expected = np.asarray(model.predict(part), dtype=np.float64)
        np.testing.assert_allclose(scored, expected, rtol=1e-9)


def test_redelivered_event_gives_no_new_run(endpoint: Endpoint) -> None:
    settings = endpoint.settings
    before = endpoint.latest(THIS_MONTH)
    assert before is not None, "runs after test_landed_month_is_scored_once_and_matches_pyfunc"
    batch = read_from(settings.bootstrap, settings.events_topic, None, max_records=100_000, timeout_s=2.0)
    ours = [m for m in batch.messages if decode(m.value)[0].key.startswith(endpoint.prefix + THIS_MONTH)]
    assert len(ours) == FILES
    producer = make_producer(settings.bootstrap)
    producer.send(settings.events_topic, value=ours[0].value, key=ours[0].key).get(timeout=10)
    producer.send(settings.events_topic, value=ours[1].value, key=ours[1].key).get(timeout=10)
    producer.close()
    # Several sensor ticks plus the settle window: a duplicate would be requested by now.
    time.sleep(settings.sensor_interval_seconds * 4 + settings.arrival_settle_seconds + 4)
    assert len(endpoint.dagster.runs(endpoint.job, THIS_MONTH)) == 1
    assert endpoint.latest(THIS_MONTH) == before
    assert len(endpoint.predictions(THIS_MONTH)) == len(scoring_rows(endpoint.history, THIS_MONTH))


def test_malformed_event_is_dead_lettered_and_the_next_good_one_scored(endpoint: Endpoint) -> None:
    settings = endpoint.settings
    before = endpoint.latest(THIS_MONTH)
    garbage = f"not json {uuid.uuid4().hex}".encode()
    producer = make_producer(settings.bootstrap)
    producer.send(settings.events_topic, value=garbage).get(timeout=10)
    producer.close()
    extra = scoring_rows(endpoint.history, THIS_MONTH).head(5)
    endpoint.land(THIS_MONTH, "part-late.csv", extra.to_csv(index=False).encode())
    manifest = endpoint.wait(THIS_MONTH, before)

    assert manifest["totals"]["files"] == FILES + 1
    # The stack's runs score on its Ray head, and the month's second run found its workers warm.
    assert manifest["workers"]["host"] == "ray"
    assert manifest["workers"]["reused"] is True
    assert manifest["workers"]["started_workers"] == 0
    assert len(endpoint.predictions(THIS_MONTH)) == len(scoring_rows(endpoint.history, THIS_MONTH)) + 5
    letters = read_from(settings.bootstrap, settings.dead_letter_topic, None, max_records=100_000, timeout_s=2.0)
    ours = [DeadLetter.from_json(m.value) for m in letters.messages if garbage in m.value]
    assert len(ours) == 1
    assert "not JSON" in ours[0].reason


def test_bad_files_are_named_in_the_run_logs_and_the_rest_scored(endpoint: Endpoint) -> None:
    good = scoring_rows(endpoint.history, LAST_MONTH)
    endpoint.land(LAST_MONTH, "good.csv", good.to_csv(index=False).encode())
    endpoint.land(LAST_MONTH, "notes.txt", b"just some notes\n")
    endpoint.land(LAST_MONTH, "missing-price.csv", good.drop(columns=["price"]).to_csv(index=False).encode())
    endpoint.land(LAST_MONTH, "empty.csv", b"")
    manifest = endpoint.wait(LAST_MONTH, None)

    assert manifest["totals"]["rows"] == len(good)
    failed = {f["uri"].rsplit("/", 1)[-1]: f["error"] for f in manifest["inputs"] if f["error"]}
    assert set(failed) == {"notes.txt", "missing-price.csv", "empty.csv"}
    assert "price" in failed["missing-price.csv"]
    (run,) = endpoint.dagster.runs(endpoint.job, LAST_MONTH)
    log = "\n".join(endpoint.dagster.run_messages(run.run_id))
    for name in failed:
        assert name in log, f"the run's log does not name {name}:\n{log[-3000:]}"
    layout = OutputLayout(endpoint.settings.output_bucket, endpoint.name, LAST_MONTH)
    job_error = endpoint.store.get_bytes(layout.bucket, layout.key(manifest["version_id"], "logs/user/job_error.txt"))
    for name in failed:
        assert name in job_error.decode()
    assert json.loads(json.dumps(manifest))["status"] == "Completed"


def test_earlier_content_put_back_is_scored_by_the_event_path(endpoint: Endpoint) -> None:
    rows = scoring_rows(endpoint.history, OVERWRITE_MONTH)
    a, b = rows.head(4).to_csv(index=False).encode(), rows.head(9).to_csv(index=False).encode()
    versions = []
    for content in (a, b, a):
        before = endpoint.latest(OVERWRITE_MONTH)
        endpoint.land(OVERWRITE_MONTH, "x.csv", content)
        versions.append(endpoint.wait(OVERWRITE_MONTH, before))

    assert [v["totals"]["rows"] for v in versions] == [4, 9, 4]
    assert versions[2]["inputs"][0]["etag"] == versions[0]["inputs"][0]["etag"]
    last = versions[2]["version_id"]
    latest = endpoint.latest(OVERWRITE_MONTH)
    assert latest is not None and latest.version_id == last
    earlier = endpoint.store.get_bytes(endpoint.settings.output_bucket, versions[0]["output"]["uri"].split("/", 3)[3])
    assert endpoint.predictions(OVERWRITE_MONTH).equals(
        pd.read_csv(io.BytesIO(earlier), header=None, names=["row", "prediction", "file"])
    )
    # Reconciliation would also put A back, but only once the file is past its grace (over a
    # minute): the run that moved `latest` must be one the data-arrival sensor asked for.
    (run,) = [r for r in endpoint.dagster.runs(endpoint.job, OVERWRITE_MONTH) if last.endswith(r.run_id[:8])]
    assert run.tags.get("batchpoint/trigger") == "data-arrival", run.tags
