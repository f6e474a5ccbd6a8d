"""Landing → predictions on a fresh embedded stack, against a plain single-process loop on the same files.

    uv run python bench/e2e.py [--files 40 --rows-per-file 5000 --workers-layout 2x1 --mini-batch-size 4]

Progress goes to stderr; stdout gets a table and one JSON line (``{"bench": "e2e", ...}``) to compare runs.
Latency: last PUT → ``latest.json`` written (its ``updated_at``), split by the Kafka event's timestamp,
the Dagster run's creation/launch/start/step-start times and the manifest's timings. See bench/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import io
import itertools
import json
import signal
import sys
import tempfile
import time
import urllib.request
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
from threadpoolctl import threadpool_limits

from batchpoint.config import Settings
from batchpoint.demo.forecaster import train_and_register
from batchpoint.demo.sales_history import generate_history, part_file_name, scoring_rows, split_into_parts
from batchpoint.demo.waiting import wait_for_new_version
from batchpoint.models.mlflow_models import resolve_model
from batchpoint.models.resolved import ResolvedModel
from batchpoint.orchestration.dagster_graphql import DagsterClient
from batchpoint.outputs.layout import OutputLayout
from batchpoint.outputs.versions import read_manifest
from batchpoint.registry.store import Registry
from batchpoint.scoring.builtin.input_tables import cast_to_signature
from batchpoint.specs.deployment import BatchDeployment
from batchpoint.specs.endpoint import BatchEndpoint
from batchpoint.specs.model_ref import parse_model_ref
from batchpoint.stack import Stack, free_ports
from batchpoint.storage.s3 import S3Store
from consumers.kafka_io import read_from
from consumers.s3_event_json import decode

MONTH = datetime.now(UTC).strftime("%Y-%m")
START = "2024-01"
TRAIN_PRODUCTS = 1000
_RUN = """query($id: ID!) { runOrError(runId: $id) { ... on Run { creationTime startTime } }
  logsForRun(runId: $id, limit: 1000) { ... on EventConnection { events { __typename
    ... on MessageEvent { timestamp } } } } }"""


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def landing_files(files: int, rows_per_file: int, seed: int = 7) -> tuple[pd.DataFrame, dict[str, bytes]]:
    """A history to train on and ``files`` CSVs of ``MONTH``: its rows repeated under distinct product ids."""
    months = int((pd.Period(MONTH, freq="M") - pd.Period(START, freq="M")).n) + 1
    history = generate_history(TRAIN_PRODUCTS, months, START, seed)
    month_rows = scoring_rows(history, MONTH)
    total = files * rows_per_file
    rows = month_rows.iloc[np.arange(total) % len(month_rows)].reset_index(drop=True)
    rows["product_id"] = [f"P{i:07d}" for i in range(total)]
    parts = split_into_parts(rows, files)
    return history, {part_file_name(i): p.to_csv(index=False).encode() for i, p in enumerate(parts)}


def create_endpoint(settings: Settings, name: str, model_uri: str, layout: str, mini_batch_size: int) -> None:
    instances, processes = (int(n) for n in layout.lower().split("x"))
    registry = Registry(settings.registry)
    try:
        registry.create_or_update_endpoint(
            BatchEndpoint.parse({"name": name, "data_arrival": {"prefix": f"{name}/", "start_month": START}})
        )
        spec = {"name": "bench", "endpoint_name": name, "model": model_uri, "resources": {"instance_count": instances}}
        spec["settings"] = {"max_concurrency_per_instance": processes, "mini_batch_size": mini_batch_size}
        registry.create_or_update_deployment(BatchDeployment.parse(spec), set_default=True)
    finally:
        registry.close()
    dagster = DagsterClient(settings.dagster_url)
    dagster.reload_location()
    deadline = time.monotonic() + 120
    while dagster.sensor_status("datastore_events") != "RUNNING":
        if time.monotonic() > deadline:
            raise RuntimeError("the data-arrival sensor did not start within 120 s; see the dagster-daemon log")
        time.sleep(1)


def run_times(settings: Settings, run_id: str) -> dict[str, float]:
    """Wall-clock seconds of the run's creation, launch (STARTING), start and step start."""
    body = json.dumps({"query": _RUN, "variables": {"id": run_id}}).encode()
    request = urllib.request.Request(settings.dagster_url + "/graphql", body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        data = json.load(response)["data"]
    run = data["runOrError"]
    times = {"created": run["creationTime"], "started": run["startTime"]}
    wanted = {"RunStartingEvent": "launching", "ExecutionStepStartEvent": "step_started"}
    for event in data["logsForRun"]["events"]:
        name = wanted.get(event["__typename"])
        if name and name not in times:
            times[name] = int(event["timestamp"]) / 1000
    return times


def last_event_time(settings: Settings, prefix: str) -> float:
    """When the publisher produced the last Kafka event of our files (message timestamp)."""
    batch = read_from(settings.bootstrap, settings.events_topic, None, max_records=100_000, timeout_s=2.0)
    stamps = [m.timestamp_ms for m in batch.messages if any(e.key.startswith(prefix) for e in decode(m.value))]
    return max(stamps) / 1000


def plain_loop(store: S3Store, bucket: str, keys: list[str], model: ResolvedModel, out: Path) -> dict[str, float]:
    """S3 GET → pyarrow read → cast → predict → ``write_csv`` append, one file at a time, one thread."""
    import mlflow.pyfunc  # already imported, warnings quieted, by batchpoint.demo.forecaster

    loaded = mlflow.pyfunc.load_model(str(model.local_path), suppress_warnings=True)
    phases = dict.fromkeys(("get", "read", "cast", "predict", "write"), 0.0)
    rows = 0
    options = pa_csv.WriteOptions(include_header=False)
    pa.set_cpu_count(1)  # as in a worker: one core per process
    with threadpool_limits(limits=1), out.open("wb") as sink:
        for key in keys:
            marks = [time.perf_counter()]
            data = store.get_bytes(bucket, key)
            marks.append(time.perf_counter())
            frame = pa_csv.read_csv(io.BytesIO(data)).to_pandas()
            marks.append(time.perf_counter())
            frame = cast_to_signature(frame, model.signature, key) if model.signature else frame
            marks.append(time.perf_counter())
            predicted = np.asarray(loaded.predict(frame), dtype=np.float64)
            marks.append(time.perf_counter())
            names = pa.array([key.rsplit("/", 1)[-1]] * len(predicted), pa.string())
            pa_csv.write_csv(pa.table({"prediction": predicted, "file": names}), sink, options)
            marks.append(time.perf_counter())
            for phase, (before, after) in zip(phases, itertools.pairwise(marks), strict=True):
                phases[phase] += after - before
            rows += len(predicted)
    seconds = sum(phases.values())
    timed = {f"{k}_s": v for k, v in phases.items()}
    return {"rows": rows, "seconds": seconds, "rows_per_second": rows / seconds} | timed


def bench(settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    name = f"bench-{uuid.uuid4().hex[:6]}"  # its own endpoint, landing prefix and model
    prefix = f"{name}/{MONTH}/"
    say(f"generating {args.files} files x {args.rows_per_file} rows of {MONTH}")
    history, files = landing_files(args.files, args.rows_per_file)
    with contextlib.redirect_stdout(sys.stderr):  # MLflow prints run links; stdout is for results
        forecaster = train_and_register(history[history["month"] < MONTH], settings.mlflow_uri, f"{name}-model", seed=7)
    say(f"registered {forecaster.uri}; creating endpoint {name} ({args.workers_layout}, mb {args.mini_batch_size})")
    create_endpoint(settings, name, forecaster.uri, args.workers_layout, args.mini_batch_size)
    store = S3Store(settings.s3_url, settings.access_key, settings.secret_key, settings.region)
    first_put = time.time()
    for file_name, data in files.items():
        store.put_bytes(settings.landing_bucket, prefix + file_name, data, "text/csv")
    last_put = time.time()
    say(f"landed {len(files)} files ({sum(map(len, files.values())) / 1e6:.1f} MB) in {last_put - first_put:.2f} s")
    dagster = DagsterClient(settings.dagster_url)
    published = wait_for_new_version(
        store, settings, dagster=dagster, endpoint=name, partition=MONTH, before=None, say=say
    )
    observed = time.time() - last_put
    manifest = read_manifest(store, OutputLayout(settings.output_bucket, name, MONTH), published.version_id)
    totals, timings = manifest["totals"], manifest["timings"]
    if totals["failed_files"] or manifest["status"] != "Completed":
        raise RuntimeError(f"the run did not score every file: {totals}")
    run = run_times(settings, manifest["job_id"])
    job_start = datetime.fromisoformat(timings["started_at"]).timestamp()
    # The manifest reports worker start-up and warm scoring separately (scoring_seconds excludes start-up).
    scored = job_start + timings["worker_startup_seconds"] + timings["scoring_seconds"]
    moved = datetime.fromisoformat(published.pointer.updated_at).timestamp()
    kafka, startup = last_event_time(settings, prefix), timings["worker_startup_seconds"]
    breakdown = {
        "publisher (last PUT → Kafka event)": kafka - last_put,
        "sensor (Kafka event → run created)": run["created"] - kafka,
        "queued (run created → launching)": run["launching"] - run["created"],
        "launch (launching → run started)": run["started"] - run["launching"],
        "step (run started → step started)": run["step_started"] - run["started"],
        "job set-up (step → job start)": job_start - run["step_started"],
        "worker start-up": startup,
        "scoring": timings["scoring_seconds"],
        "publishing (scored → latest moved)": moved - scored,
    }
    latency, rows = moved - last_put, int(totals["rows"])
    say("running the plain single-process loop on the same files")
    model = resolve_model(parse_model_ref(forecaster.uri), settings)  # the job's cached copy
    keys = [prefix + n for n in files]
    loop = plain_loop(store, settings.landing_bucket, keys, model, settings.data_dir / "loop.csv")
    if loop["rows"] != rows:
        raise RuntimeError(f"the loop scored {loop['rows']} rows, the run {rows}")
    e2e_rps = rows / latency
    scoring_rps = rows / (startup + timings["scoring_seconds"])  # the scoring phase, start-up included
    return {
        "bench": "e2e",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        **vars(args),
        "rows": rows,
        "mini_batches": totals["mini_batches"],
        "landing_seconds": round(last_put - first_put, 3),
        "latency_seconds": round(latency, 3),
        "observed_latency_seconds": round(observed, 3),
        "breakdown_seconds": {k: round(v, 3) for k, v in breakdown.items()},
        "e2e_rows_per_second": round(e2e_rps, 1),
        "scoring_rows_per_second": round(scoring_rps, 1),
        "scoring_excl_startup_rows_per_second": float(timings["rows_per_second"]),
        "loop": {k: round(v, 4) if k.endswith("_s") else round(v, 1) for k, v in loop.items()},
        "ratio_e2e_to_loop": round(e2e_rps / loop["rows_per_second"], 4),
        "ratio_scoring_to_loop": round(scoring_rps / loop["rows_per_second"], 3),
    }


def print_table(result: dict[str, Any]) -> None:
    loop = result["loop"]
    print(
        f"{result['rows']} rows in {result['files']} files, layout {result['workers_layout']}, "
        f"mini_batch_size {result['mini_batch_size']} ({result['mini_batches']} mini-batches)\n"
        f"{'landing → predictions latency':<44}{result['latency_seconds']:>9.2f} s"
    )
    for step, seconds in result["breakdown_seconds"].items():
        print(f"  {step:<42}{seconds:>9.2f} s")
    rates = {
        "end-to-end rows/s (rows ÷ latency)": result["e2e_rows_per_second"],
        "scoring phase rows/s (start-up included)": result["scoring_rows_per_second"],
        "  same without worker start-up": result["scoring_excl_startup_rows_per_second"],
        "plain loop rows/s (1 process, 1 thread)": loop["rows_per_second"],
    }
    for label, value in rates.items():
        print(f"{label:<44}{value:>11,.0f}")
    print("  loop seconds: " + ", ".join(f"{k[:-2]} {v:.2f}" for k, v in loop.items() if k.endswith("_s")))
    print(f"{'ratio end-to-end ÷ loop':<44}{result['ratio_e2e_to_loop']:>11.3f}")
    print(f"{'ratio scoring phase ÷ loop':<44}{result['ratio_scoring_to_loop']:>11.3f}")
    print(json.dumps(result, ensure_ascii=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=40)
    parser.add_argument("--rows-per-file", type=int, default=5000)
    parser.add_argument("--workers-layout", default="2x1", help="instance_count x max_concurrency_per_instance")
    parser.add_argument("--mini-batch-size", type=int, default=4)
    args = parser.parse_args()
    # SIGTERM like Ctrl-C, so the stack's context manager stops every child either way.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    with tempfile.TemporaryDirectory(prefix="batchpoint-bench-") as tmp:
        settings = dataclasses.replace(Settings(), data_dir=Path(tmp), ports=free_ports())
        say(f"starting the embedded stack in {tmp}")
        with Stack(settings, on_healthy=lambda s, url, t: say(f"{s} {url} healthy after {t:.1f} s")):
            result = bench(settings, args)
    print_table(result)


if __name__ == "__main__":
    main()
