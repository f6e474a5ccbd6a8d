"""The plain loop: S3 GET → ``pyarrow.csv`` read → ``cast_to_signature`` → pyfunc predict → CSV append.

``plain_loop`` scores some keys in this process with one thread (as a worker does).
``run_processes`` runs it in N fresh processes over the keys dealt out round-robin: each child
loads the model, says it is ready, and starts when all are (model loading is not timed); the wall
time runs from the first child's start to the last one's end. A child is this file run as a script,
reading its job as one JSON line on stdin, the stack's settings from ``BATCHPOINT_*``.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
from process_memory import PeakSampler
from threadpoolctl import threadpool_limits

from batchpoint.config import Settings
from batchpoint.models.mlflow_models import resolve_model
from batchpoint.models.resolved import ResolvedModel
from batchpoint.scoring.builtin.input_tables import cast_to_signature
from batchpoint.specs.model_ref import parse_model_ref
from batchpoint.storage.datastore import open_datastore
from batchpoint.storage.s3 import S3Store

PHASES = ("get", "read", "cast", "predict", "write")


def load(model: ResolvedModel) -> Any:
    """The model as ``mlflow.pyfunc`` loads it."""
    import mlflow.pyfunc

    return mlflow.pyfunc.load_model(str(model.local_path), suppress_warnings=True)


def plain_loop(
    store: S3Store, bucket: str, keys: list[str], model: ResolvedModel, out: Path, loaded: Any = None
) -> dict[str, float]:
    """Score ``keys`` one file at a time with one thread; rows, seconds, rows/s and seconds per phase."""
    loaded = load(model) if loaded is None else loaded
    phases = dict.fromkeys(PHASES, 0.0)
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


def run_processes(settings: Settings, model_uri: str, keys: list[str], processes: int, out_dir: Path) -> dict[str, Any]:
    """The loop in ``processes`` children at once; rows, wall seconds, rows/s, phases summed, peak memory."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BATCHPOINT_")} | settings.to_env()
    command = [sys.executable, __file__]
    pipes = {"stdin": subprocess.PIPE, "stdout": subprocess.PIPE, "text": True}
    children = [subprocess.Popen(command, env=env, **pipes) for _ in range(processes)]
    try:
        for index, child in enumerate(children):
            job = {"model": model_uri, "bucket": settings.landing_bucket, "keys": keys[index::processes]}
            assert child.stdin is not None
            child.stdin.write(json.dumps(job | {"out": str(out_dir / f"loop-{index}.csv")}) + "\n")
            child.stdin.flush()
        for child in children:
            assert child.stdout is not None
            if child.stdout.readline().strip() != "ready":
                raise RuntimeError(f"a loop process exited {child.wait()} before it was ready")
        with PeakSampler(lambda: [c.pid for c in children], interval=0.1) as memory:
            for child in children:
                assert child.stdin is not None
                child.stdin.write("go\n")
                child.stdin.flush()  # communicate() closes it
            results = [json.loads(child.communicate(timeout=1800)[0].splitlines()[-1]) for child in children]
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait()
    rows = sum(r["rows"] for r in results)
    wall = max(r["ended"] for r in results) - min(r["began"] for r in results)
    phases = {f"{p}_s": round(sum(r[f"{p}_s"] for r in results), 4) for p in PHASES}
    return {
        "processes": processes,
        "rows": rows,
        "seconds": round(wall, 3),
        "rows_per_second": round(rows / wall, 1),
        "peak_rss_mib": round(memory.peak_rss / 1024, 1),
        "peak_pss_mib": round(memory.peak_pss / 1024, 1),
    } | phases


def child_main() -> None:
    """One loop process: read the job, load the model, say ``ready``, wait for ``go``, print the result."""
    job = json.loads(sys.stdin.readline())
    settings = Settings.from_env()
    with contextlib.redirect_stdout(sys.stderr):  # stdout is the protocol's
        model = resolve_model(parse_model_ref(job["model"]), settings)  # the job's cached copy
        loaded = load(model)
    store = open_datastore(settings)
    print("ready", flush=True)
    if sys.stdin.readline().strip() != "go":
        return
    began = time.time()
    result = plain_loop(store, job["bucket"], job["keys"], model, Path(job["out"]), loaded)
    print(json.dumps(result | {"began": began, "ended": time.time()}), flush=True)


if __name__ == "__main__":
    child_main()
