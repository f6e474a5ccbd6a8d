"""Per-file and per-mini-batch overhead of the scoring phase, against a plain loop on the same S3 objects.

    uv run python bench/per_file_overhead.py [--files 2000 --rows-per-file 100 --mini-batch-size 4 --workers 2]

Starts only the embedded S3 (``Stack(services=("s3",))``), trains the demo forecaster into a sqlite
MLflow registry, lands ``files`` CSVs of the forecaster's schema, then in one sitting:

1. the plain loop: S3 GET → ``pyarrow.csv`` → cast → ``mlflow.pyfunc`` predict → CSV append, one
   file at a time, in this process, one thread (as ``bench/e2e.py``'s loop);
2. ``run_scoring_job`` with the in-process host (``LocalHost``), the built-in MLflow scorer and
   ``workers`` driver processes: warm scoring rows/s from the manifest (start-up excluded), the
   parent's CPU ms per file, and its overhead per file against ``workers`` loops;
3. the same job for one file of 50 rows (the fixed cost of scoring a tiny landing).

``--profile`` also profiles the parent's threads (cProfile per thread, merged) and prints the top
functions by cumulative time. stdout gets a table and one JSON line (``{"bench": "per_file_overhead"}``).
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import dataclasses
import io
import itertools
import json
import logging
import pstats
import resource
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
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
from batchpoint.demo.sales_history import generate_history, part_file_name, scoring_rows
from batchpoint.models.mlflow_models import resolve_model
from batchpoint.models.resolved import ResolvedModel
from batchpoint.outputs.layout import OutputLayout
from batchpoint.scoring.builtin.input_tables import cast_to_signature
from batchpoint.scoring.job import JobResult, run_scoring_job
from batchpoint.scoring.runtime_setup import prepare_runtime
from batchpoint.specs.deployment import BatchDeployment
from batchpoint.specs.model_ref import parse_model_ref
from batchpoint.stack import Stack, free_ports
from batchpoint.storage.datastore import open_datastore
from batchpoint.storage.port import ObjectInfo
from batchpoint.storage.s3 import S3Store

MONTH = "2026-11"
START = "2024-01"
TRAIN_PRODUCTS = 1000
ENDPOINT = "overhead"


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def cpu_seconds(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def month_files(history: pd.DataFrame, files: int, rows_per_file: int) -> dict[str, bytes]:
    """``files`` CSVs of ``MONTH``: the month's rows repeated under distinct product ids."""
    month_rows = scoring_rows(history, MONTH)
    total = files * rows_per_file
    rows = month_rows.iloc[np.arange(total) % len(month_rows)].reset_index(drop=True)
    rows["product_id"] = [f"P{i:07d}" for i in range(total)]
    return {
        part_file_name(i): rows.iloc[i * rows_per_file : (i + 1) * rows_per_file].to_csv(index=False).encode()
        for i in range(files)
    }


def land(store: S3Store, bucket: str, prefix: str, files: dict[str, bytes]) -> list[ObjectInfo]:
    store.ensure_bucket(bucket)
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda item: store.put_bytes(bucket, prefix + item[0], item[1], "text/csv"), files.items()))
    return list(store.list(bucket, prefix))


def plain_loop(store: S3Store, inputs: list[ObjectInfo], model: ResolvedModel, out: Path) -> dict[str, float]:
    """S3 GET → pyarrow read → cast → predict → ``write_csv`` append, one file at a time, one thread."""
    import mlflow.pyfunc  # already imported, warnings quieted, by batchpoint.demo.forecaster

    loaded = mlflow.pyfunc.load_model(str(model.local_path), suppress_warnings=True)
    phases = dict.fromkeys(("get", "read", "cast", "predict", "write"), 0.0)
    rows = 0
    options = pa_csv.WriteOptions(include_header=False)
    pa.set_cpu_count(1)  # as in a worker: one core per process
    cpu_before = cpu_seconds(resource.RUSAGE_SELF)
    with threadpool_limits(limits=1), out.open("wb") as sink:
        for info in inputs:
            marks = [time.perf_counter()]
            data = store.get_bytes(info.bucket, info.key)
            marks.append(time.perf_counter())
            frame = pa_csv.read_csv(io.BytesIO(data)).to_pandas()
            marks.append(time.perf_counter())
            frame = cast_to_signature(frame, model.signature, info.key) if model.signature else frame
            marks.append(time.perf_counter())
            predicted = np.asarray(loaded.predict(frame), dtype=np.float64)
            marks.append(time.perf_counter())
            names = pa.array([info.name] * len(predicted), pa.string())
            pa_csv.write_csv(pa.table({"prediction": predicted, "file": names}), sink, options)
            marks.append(time.perf_counter())
            for phase, (before, after) in zip(phases, itertools.pairwise(marks), strict=True):
                phases[phase] += after - before
            rows += len(predicted)
    seconds = sum(phases.values())
    timed = {f"{k}_s": v for k, v in phases.items()}
    cpu = cpu_seconds(resource.RUSAGE_SELF) - cpu_before
    return {"rows": rows, "seconds": seconds, "rows_per_second": rows / seconds, "cpu_s": cpu} | timed


def deployment(mini_batch_size: int, workers: int) -> BatchDeployment:
    return BatchDeployment.parse(
        {
            "name": "bench",
            "endpoint_name": ENDPOINT,
            "model": "azureml:m:1",
            "resources": {"instance_count": 1},
            "settings": {"max_concurrency_per_instance": workers, "mini_batch_size": mini_batch_size},
        }
    )


class ThreadProfiles:
    """cProfile on every thread started while it is on (the pool's slots, the stager), merged at the end."""

    def __init__(self) -> None:
        self._profiles: list[cProfile.Profile] = []
        self._lock = threading.Lock()

    def _start(self, *_: object) -> None:
        profile = cProfile.Profile(time.thread_time)  # CPU time: a shared machine makes wall time noise
        with self._lock:
            self._profiles.append(profile)
        sys.setprofile(None)
        profile.enable()

    def __enter__(self) -> ThreadProfiles:
        threading.setprofile(self._start)
        main = cProfile.Profile(time.thread_time)
        self._profiles.append(main)
        main.enable()
        return self

    def __exit__(self, *_: object) -> None:
        threading.setprofile(None)  # type: ignore[arg-type]
        self._profiles[0].disable()

    def print(self, top: int = 45) -> None:
        stats = pstats.Stats(self._profiles[0], stream=sys.stderr)
        for profile in self._profiles[1:]:
            with contextlib.suppress(TypeError):  # a thread that never ran a profiled call
                stats.add(profile)
        stats.sort_stats("tottime").print_stats(top)


def score(
    settings: Settings,
    store: S3Store,
    inputs: list[ObjectInfo],
    model: ResolvedModel,
    dep: BatchDeployment,
    job_id: str,
    profile: bool,
) -> tuple[JobResult, tuple[float, float]]:
    runtime = prepare_runtime(dep, model, settings=settings, store=store, environment=None)
    log = logging.getLogger("bench.per_file_overhead")
    cpu_before = cpu_seconds(resource.RUSAGE_SELF), cpu_seconds(resource.RUSAGE_CHILDREN)
    profiles = ThreadProfiles() if profile else contextlib.nullcontext()
    with profiles:
        result = run_scoring_job(
            store=store,
            settings=settings,
            layout=OutputLayout(settings.output_bucket, ENDPOINT, job_id),
            deployment=dep,
            model=model,
            inputs=inputs,
            job_id=job_id,
            runtime=runtime,
            log=log,
        )
    # The drivers (and the zygote they fork from) are reaped when the host closes: their CPU is the children's.
    cpu = (cpu_seconds(resource.RUSAGE_SELF) - cpu_before[0], cpu_seconds(resource.RUSAGE_CHILDREN) - cpu_before[1])
    if isinstance(profiles, ThreadProfiles):
        profiles.print()
    if result.failed_items or str(result.status) != "Completed":
        raise RuntimeError(f"the job did not score every file: {result.status} {result.error}")
    return result, cpu


def bench(settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    store = open_datastore(settings)
    months = int((pd.Period(MONTH, freq="M") - pd.Period(START, freq="M")).n) + 1
    history = generate_history(TRAIN_PRODUCTS, months, START, seed=7)
    tracking = f"sqlite:///{settings.data_dir / 'mlflow.db'}"
    settings = dataclasses.replace(settings, mlflow_tracking_uri=tracking)
    with contextlib.redirect_stdout(sys.stderr):  # MLflow prints run links; stdout is for results
        forecaster = train_and_register(
            history[history["month"] < MONTH],
            tracking,
            "overhead-model",
            artifact_location=(settings.data_dir / "artifacts").as_uri(),
            seed=7,
        )
    model = resolve_model(parse_model_ref(forecaster.uri), settings)
    say(f"landing {args.files} files x {args.rows_per_file} rows")
    files = month_files(history, args.files, args.rows_per_file)
    inputs = land(store, "landing", f"sales/{MONTH}/", files)
    tiny = land(store, "landing", "tiny/", {"part-000.csv": month_files(history, 1, 50)["part-000.csv"]})
    dep = deployment(args.mini_batch_size, args.workers)
    say("scoring one file of 50 rows (fixed cost)")
    one, _ = score(settings, store, tiny, model, dep, "one-file", profile=False)
    say("plain loop")
    loop = plain_loop(store, inputs[: args.loop_files], model, settings.data_dir / "loop.csv")
    say(f"run_scoring_job, {args.workers} workers, mini_batch_size {args.mini_batch_size}")
    result, (parent_cpu, workers_cpu) = score(settings, store, inputs, model, dep, "many-files", profile=args.profile)
    timings = result.manifest.to_dict()["timings"]
    warm_rps = float(timings["rows_per_second"])
    loop_rps = loop["rows_per_second"]
    n, looped = args.files, min(args.loop_files, args.files)
    # Overhead per file: the workers' time per file beyond what one loop spends on it.
    overhead_ms = (args.workers / (warm_rps / args.rows_per_file) - 1 / (loop_rps / args.rows_per_file)) * 1000
    return {
        "bench": "per_file_overhead",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        **vars(args),
        "rows": result.rows,
        "mini_batches": result.mini_batches,
        "loop": {k: round(v, 4) if k.endswith("_s") else round(v, 1) for k, v in loop.items()},
        "loop_ms_per_file": round(1000 * loop["seconds"] / looped, 3),
        "loop_cpu_ms_per_file": round(1000 * loop["cpu_s"] / looped, 3),
        "worker_startup_seconds": round(float(timings["worker_startup_seconds"]), 3),
        "scoring_seconds": round(float(timings["scoring_seconds"]), 3),
        "warm_rows_per_second": round(warm_rps, 1),
        "ratio_warm_to_loop_x_workers": round(warm_rps / (loop_rps * args.workers), 3),
        "overhead_ms_per_file": round(overhead_ms, 3),
        "parent_cpu_ms_per_file": round(1000 * parent_cpu / n, 3),
        "workers_cpu_ms_per_file": round(1000 * workers_cpu / n, 3),
        # The same overhead in CPU time, which a machine shared with other work disturbs less than wall time.
        "cpu_overhead_ms_per_file": round(1000 * ((parent_cpu + workers_cpu) / n - loop["cpu_s"] / looped), 3),
        "one_file_scoring_seconds": round(float(one.manifest.to_dict()["timings"]["scoring_seconds"]), 3),
        "one_file_startup_seconds": round(float(one.manifest.to_dict()["timings"]["worker_startup_seconds"]), 3),
    }


def print_table(result: dict[str, Any]) -> None:
    print(
        f"{result['rows']} rows in {result['files']} files, {result['workers']} workers, "
        f"mini_batch_size {result['mini_batch_size']} ({result['mini_batches']} mini-batches)"
    )
    lines = {
        "plain loop rows/s (1 process)": f"{result['loop']['rows_per_second']:,.0f}",
        "  loop ms per file (wall / CPU)": f"{result['loop_ms_per_file']:.2f} / {result['loop_cpu_ms_per_file']:.2f}",
        "warm scoring rows/s": f"{result['warm_rows_per_second']:,.0f}",
        "warm ÷ (loop × workers)": f"{result['ratio_warm_to_loop_x_workers']:.3f}",
        "overhead ms per file (workers' time - loop's)": f"{result['overhead_ms_per_file']:.2f}",
        "CPU ms per file: parent / workers": (
            f"{result['parent_cpu_ms_per_file']:.2f} / {result['workers_cpu_ms_per_file']:.2f}"
        ),
        "CPU overhead ms per file (parent+workers - loop)": f"{result['cpu_overhead_ms_per_file']:.2f}",
        "worker start-up s": f"{result['worker_startup_seconds']:.2f}",
        "one 50-row file: scoring s (start-up s)": (
            f"{result['one_file_scoring_seconds']:.2f} ({result['one_file_startup_seconds']:.2f})"
        ),
    }
    for label, value in lines.items():
        print(f"{label:<48}{value:>16}")
    print("  loop seconds: " + ", ".join(f"{k[:-2]} {v:.2f}" for k, v in result["loop"].items() if k.endswith("_s")))
    print(json.dumps(result, ensure_ascii=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--rows-per-file", type=int, default=100)
    parser.add_argument("--mini-batch-size", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--loop-files", type=int, default=500, help="files the plain loop scores (per-file figures)")
    parser.add_argument("--profile", action="store_true", help="profile the parent's threads (slower)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="batchpoint-overhead-") as tmp:
        settings = dataclasses.replace(Settings(), data_dir=Path(tmp), ports=free_ports())
        with Stack(settings, services=("s3",)):
            result = bench(settings, args)
    print_table(result)


if __name__ == "__main__":
    main()
