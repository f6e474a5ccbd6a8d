"""Ray Data on the same S3 objects and model: ``read_csv`` → ``map_batches`` on an actor pool → ``write_csv``.

``run_ray_data`` runs the pipeline in a fresh process (this file as a script, its job as one JSON
line on stdin) against a local Ray it starts itself (``ray.init(address="local", num_cpus=2)``, its
own temp dir, no dashboard; ``ray.shutdown()`` at the end), so its process tree is Ray's alone.

- Reads: ``ray.data.read_csv`` of the landing keys through a ``pyarrow.fs.S3FileSystem`` pointed at
  the stack's S3 endpoint, with each row's ``path``.
- Scoring: ``map_batches`` with a callable class on ``ActorPoolStrategy(size=actors)``, each actor
  ``num_cpus=actor_cpus`` (fractional, so that read and write tasks get the rest of the 2 CPUs). An
  actor loads the model once (``mlflow.pyfunc``), runs with one thread, and per batch does what the
  loop does: ``cast_to_signature``, predict, ``(prediction, file)``.
- Writes: ``write_csv`` to ``s3://<output bucket>/<prefix>/`` through the same filesystem.

Timed: **end to end** from building the dataset to ``write_csv`` returning (actor start-up and model
loading included; ``ray.init`` is reported apart, as the stack's start is for batchpoint);
**warm** from the first batch an actor began to the last one it finished (each actor appends its
batches' times to a file in the job's folder).
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from process_memory import PeakSampler

from batchpoint.config import Settings
from batchpoint.models.resolved import ResolvedModel
from batchpoint.ray_environment import ray_environment


class Predictor:
    """One actor of the pool: the model loaded once, then one batch at a time."""

    def __init__(self, model: ResolvedModel, timing_dir: str) -> None:
        import mlflow.pyfunc
        import pyarrow as pa
        from threadpoolctl import threadpool_limits

        pa.set_cpu_count(1)  # one thread, as the loop and batchpoint's workers
        self._limits = threadpool_limits(limits=1)
        self.model = model
        self.loaded = mlflow.pyfunc.load_model(str(model.local_path), suppress_warnings=True)
        self.timings = Path(timing_dir, f"actor-{os.getpid()}.txt")

    def __call__(self, batch: Any) -> Any:
        import numpy as np
        import pandas as pd

        from batchpoint.scoring.builtin.input_tables import cast_to_signature

        began = time.time()
        paths = batch.pop("path")
        frame = cast_to_signature(batch, self.model.signature, "batch") if self.model.signature else batch
        predicted = np.asarray(self.loaded.predict(frame), dtype=np.float64)
        names = [str(path).rsplit("/", 1)[-1] for path in paths]  # the column may be Arrow-backed
        out = pd.DataFrame({"prediction": predicted, "file": names})
        with self.timings.open("a") as log:
            log.write(f"{began} {time.time()} {len(out)}\n")
        return out


def s3_filesystem(settings: Settings) -> Any:
    """A pyarrow filesystem on the stack's S3 endpoint."""
    from pyarrow import fs

    scheme, _, address = settings.s3_url.partition("://")
    return fs.S3FileSystem(
        access_key=settings.access_key,
        secret_key=settings.secret_key,
        endpoint_override=address.rstrip("/"),
        scheme=scheme,
        region=settings.region,
    )


def run_ray_data(
    settings: Settings,
    model_uri: str,
    keys: list[str],
    out_prefix: str,
    *,
    actors: int,
    actor_cpus: float,
    batch_rows: int,
) -> dict[str, Any]:
    """The pipeline in a fresh process; its figures and its process tree's peak memory."""
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS" and not k.startswith("BATCHPOINT_")}
    # batchpoint's Ray variables (ray_environment.py): above all, no `uv run` for every worker, which
    # would upload the worktree and boot each worker through uv. Token auth off as on the stack's head.
    env |= settings.to_env() | ray_environment(settings) | {"RAY_AUTH_MODE": "disabled"}
    with tempfile.TemporaryDirectory(prefix="bpray-", dir="/tmp") as temp:  # short: Ray's socket paths
        job = {
            "model": model_uri,
            "keys": keys,
            "out": f"{settings.output_bucket}/{out_prefix.strip('/')}",
            "actors": actors,
            "actor_cpus": actor_cpus,
            "batch_rows": batch_rows,
            "temp": temp,
        }
        child = subprocess.Popen([sys.executable, __file__], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
        try:
            with PeakSampler(lambda: [child.pid], interval=0.25) as memory:
                out, _ = child.communicate(json.dumps(job).encode() + b"\n", timeout=3600)
        finally:
            if child.poll() is None:  # SIGTERM first: its ray.shutdown() stops the Ray it started
                child.terminate()
                try:
                    child.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    child.kill()
                    child.wait()
    if child.returncode != 0:
        raise RuntimeError(f"the Ray Data process exited {child.returncode}; its log is above on stderr")
    result: dict[str, Any] = json.loads(out.decode().splitlines()[-1])
    return result | {"peak_rss_mib": round(memory.peak_rss / 1024, 1), "peak_pss_mib": round(memory.peak_pss / 1024, 1)}


def child_main() -> None:
    """The pipeline, in this process: one JSON line of figures on stdout."""
    job = json.loads(sys.stdin.readline())
    settings = Settings.from_env()
    with contextlib.redirect_stdout(sys.stderr):  # stdout carries the result only
        result = _pipeline(settings, job)
    print(json.dumps(result), flush=True)


def _pipeline(settings: Settings, job: dict[str, Any]) -> dict[str, Any]:
    import ray
    import ray.data

    from batchpoint.models.mlflow_models import resolve_model
    from batchpoint.specs.model_ref import parse_model_ref

    model = resolve_model(parse_model_ref(job["model"]), settings)  # the cached copy
    timing_dir = Path(job["temp"], "batches")
    timing_dir.mkdir()
    began = time.perf_counter()
    ray.init(address="local", num_cpus=2, include_dashboard=False, _temp_dir=job["temp"], log_to_driver=False)
    init_seconds = time.perf_counter() - began
    try:
        ray.data.DataContext.get_current().enable_progress_bars = False
        filesystem = s3_filesystem(settings)
        began = time.perf_counter()
        paths = [f"{settings.landing_bucket}/{key}" for key in job["keys"]]
        dataset = ray.data.read_csv(paths, filesystem=filesystem, include_paths=True)
        predictions = dataset.map_batches(
            Predictor,
            fn_constructor_args=(model, str(timing_dir)),
            batch_size=job["batch_rows"],
            batch_format="pandas",
            compute=ray.data.ActorPoolStrategy(size=job["actors"]),
            num_cpus=job["actor_cpus"],
        )
        predictions.write_csv(job["out"], filesystem=filesystem)
        seconds = time.perf_counter() - began
    finally:
        ray.shutdown()
    batches = [line.split() for f in timing_dir.iterdir() for line in f.read_text().splitlines()]
    rows = sum(int(b[2]) for b in batches)
    warm = max(float(b[1]) for b in batches) - min(float(b[0]) for b in batches)
    return {
        "actors": job["actors"],
        "actor_cpus": job["actor_cpus"],
        "batch_rows": job["batch_rows"],
        "batches": len(batches),
        "rows": rows,
        "ray_init_seconds": round(init_seconds, 3),
        "seconds": round(seconds, 3),
        "rows_per_second": round(rows / seconds, 1),
        "warm_seconds": round(warm, 3),
        "warm_rows_per_second": round(rows / warm, 1),
    }


if __name__ == "__main__":
    child_main()
