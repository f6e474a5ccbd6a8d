"""The README's demo: data lands in the store and turns into predictions with no call from the user.

Steps (each printed as it happens): start the embedded stack, generate a sales history, train and
register a forecaster in MLflow, create endpoint ``sales-forecast`` with default deployment
``forecast-mlflow``, land one month of files in ``s3://landing/sales/<month>/``, wait for the
data-arrival sensor's run to write a new output version, and show its first predictions.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pandas as pd

from batchpoint.config import Settings
from batchpoint.demo.forecaster import train_and_register
from batchpoint.demo.sales_history import generate_history, part_file_name, scoring_rows, split_into_parts
from batchpoint.demo.waiting import DemoError, wait_for_new_version
from batchpoint.orchestration.dagster_graphql import DagsterClient
from batchpoint.outputs.layout import OutputLayout
from batchpoint.outputs.versions import read_latest
from batchpoint.registry.store import Registry
from batchpoint.specs.deployment import BatchDeployment
from batchpoint.specs.endpoint import BatchEndpoint
from batchpoint.storage.datastore import open_datastore

ENDPOINT = "sales-forecast"
DEPLOYMENT = "forecast-mlflow"
MODEL = "sales-forecaster"
SENSOR = "datastore_events"
HISTORY_START = "2024-01"

Say = Callable[[str], None]


@dataclass(frozen=True)
class DemoOptions:
    """What the demo generates and how long it waits."""

    products: int = 400
    files: int = 8
    month: str = field(default_factory=lambda: datetime.now(UTC).strftime("%Y-%m"))
    timeout_seconds: float = 300.0
    seed: int | None = None


@dataclass(frozen=True)
class DemoOutcome:
    """What the demo produced, for the caller to print or assert on."""

    output_uri: str
    version_id: str
    latency_seconds: float
    predictions: pd.DataFrame
    rows_landed: int
    dagster_asset_url: str


def _months_between(start: str, end: str) -> int:
    return int((pd.Period(end, freq="M") - pd.Period(start, freq="M")).n) + 1


def run_demo(settings: Settings, say: Say, options: DemoOptions | None = None) -> DemoOutcome:
    """Run the demo's steps against an already started stack."""
    opts = options or DemoOptions()
    seed = opts.seed if opts.seed is not None else int(time.time()) % 100_000
    store = open_datastore(settings)

    months = _months_between(HISTORY_START, opts.month)
    say(f"Generating {months} months of sales for {opts.products} products (seed {seed})")
    history = generate_history(opts.products, months, HISTORY_START, seed)
    trained_on = history[history["month"] < opts.month]
    say(f"Training the forecaster on {len(trained_on)} product-months up to the month before {opts.month}")
    forecaster = train_and_register(trained_on, settings.mlflow_uri, MODEL, seed=seed)
    metrics = ", ".join(f"{k} {v:.3f}" for k, v in sorted(forecaster.metrics.items()))
    say(f"Registered {forecaster.uri} in MLflow ({metrics})")

    registry = Registry(settings.registry)
    try:
        registry.create_or_update_endpoint(
            BatchEndpoint.parse(
                {
                    "name": ENDPOINT,
                    "description": "Monthly unit-sales forecast per product",
                    "data_arrival": {
                        "bucket": settings.landing_bucket,
                        "prefix": "sales/",
                        "start_month": HISTORY_START,
                    },
                }
            )
        )
        registry.create_or_update_deployment(
            BatchDeployment.parse(
                {
                    "name": DEPLOYMENT,
                    "endpoint_name": ENDPOINT,
                    "model": f"models:/{MODEL}/{forecaster.version}",
                    "resources": {"instance_count": 2},
                    "settings": {
                        "max_concurrency_per_instance": 2,
                        "mini_batch_size": 2,
                        "output_action": "append_row",
                        "output_file_name": "predictions.csv",
                    },
                }
            ),
            set_default=True,
        )
    finally:
        registry.close()
    say(
        f"Endpoint {ENDPOINT!r} → default deployment {DEPLOYMENT!r} (2 instances x 2 processes, 2 files per mini-batch)"
    )

    dagster = DagsterClient(settings.dagster_url)
    dagster.reload_location()
    _wait_for_sensor(dagster, say)

    before = read_latest(store, OutputLayout(settings.output_bucket, ENDPOINT, opts.month))
    rows = scoring_rows(history, opts.month)
    prefix = f"sales/{opts.month}/"
    for old in list(store.list(settings.landing_bucket, prefix)):
        store.delete(old.bucket, old.key)  # a fresh month each run keeps the demo's output easy to read
    parts = split_into_parts(rows, opts.files)
    landed: dict[str, pd.DataFrame] = {}
    for index, part in enumerate(parts):
        name = part_file_name(index)
        store.put_bytes(settings.landing_bucket, prefix + name, part.to_csv(index=False).encode(), "text/csv")
        landed[name] = part
    landed_at = time.monotonic()
    where = f"s3://{settings.landing_bucket}/{prefix}"
    say(f"Landed {len(parts)} files ({len(rows)} rows) in {where}; waiting, no call made")

    version = wait_for_new_version(
        store,
        settings,
        dagster=dagster,
        endpoint=ENDPOINT,
        partition=opts.month,
        before=before,
        say=say,
        timeout_seconds=opts.timeout_seconds,
    )
    latency = time.monotonic() - landed_at
    output_uri = f"s3://{settings.output_bucket}/{version.predictions_key}"
    raw = store.get_bytes(settings.output_bucket, version.predictions_key)
    predictions = _readable(raw, landed)
    return DemoOutcome(
        output_uri=output_uri,
        version_id=version.version_id,
        latency_seconds=latency,
        predictions=predictions,
        rows_landed=len(rows),
        dagster_asset_url=f"{settings.dagster_url}/assets/sales_forecast/predictions",
    )


def _wait_for_sensor(dagster: DagsterClient, say: Say, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if dagster.sensor_status(SENSOR) == "RUNNING":
            say(f"Dagster sensor {SENSOR!r} is watching the landing folder")
            return
        time.sleep(1.0)
    raise DemoError(f"Dagster sensor {SENSOR!r} did not start within {timeout:.0f} s; see the daemon log")


def _readable(raw: bytes, landed: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Predictions (Azure format: row within its file, prediction, file; no header) joined back to
    product and month."""
    table = pd.read_csv(io.BytesIO(raw), header=None, names=["row", "predicted_units", "file"])
    frames = []
    for name, part in landed.items():
        inputs = part[["month", "product_id", "units_last_month"]].reset_index(names="row")
        frames.append(inputs.assign(file=name))
    joined = table.merge(pd.concat(frames), on=["file", "row"], how="left")
    return joined[["file", "month", "product_id", "units_last_month", "predicted_units"]]
