"""Worker start-up and one-small-file latency: the in-process host against a warm Ray pool (issue 11).

    uv run python bench/worker_startup.py [--json] [--rows 50]

One sitting, one data set (a 50-row CSV) and one model (a scikit-learn regressor logged with MLflow
to a sqlite registry). An embedded stack of S3 and a single-node Ray head is started through
``batchpoint.stack.Stack(settings, services=("s3", "ray"))`` in a temporary data dir on free ports,
and stopped (the dir removed) at the end, also on errors, Ctrl-C or SIGTERM. Two deployments, both
``instance_count: 1``, ``max_concurrency_per_instance: 2``:

- ``script``: a scoring script that loads the MLflow model with ``mlflow.pyfunc`` in ``init()``;
- ``mlflow``: the built-in MLflow scorer (no code).

Measured, in this order:

1. in-process host (``local_host``, what ``hosts=None`` opens): each deployment run twice;
2. Ray host (``ray_hosts``): each deployment run twice, first (pool created) and second (warm);
3. a fresh process (as each Dagster run is) that imports Ray, ``ray.init``s and scores the file on
   the warm MLflow pool; the same with the in-process host, for comparison;
4. memory: the Ray head plus the warm MLflow pool (keeper, agent, zygote, drivers) idle, and the
   process tree of a fresh in-process run at its peak (RSS and PSS from ``/proc/<pid>/smaps_rollup``).

``host open`` is the host factory's call (for Ray: ``ray.init`` unless connected, the lease, and for
a new pool packing the model, the placement group, starting the agent and unpacking there). It
comes *before* the manifest's ``worker_startup_seconds`` starts counting (``ScriptPool`` starts its
clock once the host is open), so the table shows both. Progress goes to stderr; stdout gets the
tables and, with ``--json``, one JSON line per measurement (``{"bench": "worker_startup", ...}``).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import io
import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
import warnings
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from process_memory import PeakSampler, children_by_parent, cpu_ticks, memory_kib

from batchpoint.config import Settings
from batchpoint.outputs.layout import OutputLayout
from batchpoint.ray_environment import apply_ray_environment
from batchpoint.scoring.worker_host import HostFactory, HostRequest, WorkerHost
from batchpoint.specs.compute import ComputeSpec
from batchpoint.specs.deployment import BatchDeployment
from batchpoint.stack.services import child_env
from batchpoint.storage.datastore import open_datastore

ENDPOINT = "bench-startup"
PARTITION = "2026-11"
BUCKET = "bench-inputs"
MODEL_NAME = "bench-startup-regressor"
LAYOUT = {"instance_count": 1, "max_concurrency_per_instance": 2}
# Long enough that the MLflow pool stays warm for the whole bench; the script pool ends soon after
# its two runs, so that the idle memory is of the MLflow pool alone.
MLFLOW_COMPUTE = ComputeSpec(name="bench-cpu", min_instances=0, max_instances=1, idle_time_before_scale_down=900)
SCRIPT_COMPUTE = ComputeSpec(name="bench-cpu", min_instances=0, max_instances=1, idle_time_before_scale_down=5)
SAMPLE_SECONDS = 0.02
SCRIPT = '''
"""A scoring script on the same MLflow model as the built-in scorer."""
import glob
import os

import mlflow.pyfunc
import pandas as pd

model = None


def init():
    global model
    (folder,) = glob.glob(os.path.join(os.environ["AZUREML_MODEL_DIR"], "*", "MLmodel"))
    model = mlflow.pyfunc.load_model(os.path.dirname(folder))


def run(mini_batch):
    frames = []
    for path in mini_batch:
        data = pd.read_csv(path)
        predicted = model.predict(data[["price", "units"]].astype({"price": "float64", "units": "int64"}))
        frames.append(pd.DataFrame({"prediction": predicted, "file": os.path.basename(path)}))
    return pd.concat(frames)
'''


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def load() -> float:
    """The 1-minute load average."""
    return os.getloadavg()[0]


# ---- data, model, deployments ---------------------------------------------------------------
def csv_rows(rows: int, seed: int) -> bytes:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "price": rng.uniform(1, 100, rows).round(2),
            "units": rng.integers(0, 50, rows).astype("int64"),
            "region": rng.choice(["north", "south"], rows),
        }
    )
    return bytes(frame.to_csv(index=False).encode())


def log_model(settings: Settings, root: Path) -> str:
    """Train a tiny regressor, log and register it with MLflow (sqlite registry); its ``models:/`` URI."""
    import mlflow
    from mlflow.models import infer_signature
    from sklearn.linear_model import LinearRegression

    mlflow.set_tracking_uri(settings.mlflow_uri)
    experiment = mlflow.create_experiment("bench-startup", artifact_location=(root / "artifacts").as_uri())
    mlflow.set_experiment(experiment_id=experiment)
    import pandas as pd

    train = pd.read_csv(io.BytesIO(csv_rows(200, seed=1)))
    features = train[["price", "units"]]
    model = LinearRegression().fit(features, 3 * train["price"] - 2 * train["units"] + 5)
    signature = infer_signature(features, model.predict(features))
    with contextlib.redirect_stdout(sys.stderr), mlflow.start_run():
        mlflow.sklearn.log_model(model, name="model", signature=signature, registered_model_name=MODEL_NAME)
    return f"models:/{MODEL_NAME}/1"


def deployment(kind: str, model_uri: str, code_dir: Path) -> BatchDeployment:
    spec: dict[str, Any] = {
        "name": f"startup-{kind}",
        "endpoint_name": ENDPOINT,
        "model": model_uri,
        "compute": "azureml:bench-cpu",
        "resources": {"instance_count": LAYOUT["instance_count"]},
        "settings": {"max_concurrency_per_instance": LAYOUT["max_concurrency_per_instance"], "mini_batch_size": 1},
    }
    if kind == "script":
        spec["code_configuration"] = {"code": str(code_dir), "scoring_script": "score.py"}
    return BatchDeployment.parse(spec)


@dataclasses.dataclass
class Bench:
    """What every run shares: settings, store, model, code folder, the inputs by name."""

    settings: Settings
    model_uri: str
    code_dir: Path
    root: Path
    rows: int = 50

    def store(self) -> Any:

        s = self.settings
        return open_datastore(s)

    def inputs(self, files: int) -> list[Any]:
        return list(self.store().list(BUCKET, f"sales/{PARTITION}/f{files}/"))

    def score(self, kind: str, host: str, files: int, job_id: str) -> dict[str, Any]:
        """One job; its timings, as the manifest and this process saw them."""
        from batchpoint.models.mlflow_models import resolve_model
        from batchpoint.scoring.job import run_scoring_job
        from batchpoint.scoring.local_host import local_host
        from batchpoint.scoring.runtime_setup import prepare_runtime
        from batchpoint.specs.model_ref import parse_model_ref

        store = self.store()
        spec = deployment(kind, self.model_uri, self.code_dir)
        model = resolve_model(parse_model_ref(self.model_uri), self.settings)
        runtime = prepare_runtime(spec, model, settings=self.settings, store=store, environment=None)
        inputs = self.inputs(files)
        factory: HostFactory = local_host
        if host == "ray":
            from batchpoint.ray_compute.hosts import ray_hosts

            compute = SCRIPT_COMPUTE if kind == "script" else MLFLOW_COMPUTE
            factory = ray_hosts(self.settings, self.settings.ray_connect_address, compute)
        opened: dict[str, float] = {}
        started = time.perf_counter()
        result = run_scoring_job(
            store=store,
            settings=self.settings,
            layout=OutputLayout(self.settings.output_bucket, ENDPOINT, PARTITION),
            deployment=spec,
            model=model,
            inputs=inputs,
            job_id=job_id,
            runtime=runtime,
            log=logging.getLogger("bench.worker_startup"),
            hosts=timed(factory, opened),
        )
        wall = time.perf_counter() - started
        if result.status != "Completed" or result.rows != self.rows * files:
            raise RuntimeError(f"{job_id}: {result.status}, {result.rows} rows: {result.error}")
        manifest = result.manifest
        workers, timings = manifest.workers, manifest.timings
        assert workers is not None
        return {
            "deployment": kind,
            "host": host,
            "files": files,
            "rows": result.rows,
            "job_seconds": timings.seconds,
            "wall_seconds": round(wall, 3),
            "host_open_seconds": round(opened["seconds"], 3),
            "worker_startup_seconds": timings.worker_startup_seconds,
            "scoring_seconds": timings.scoring_seconds,
            "pool_id": workers.pool_id,
            "reused": workers.reused,
            "warm_workers": workers.warm_workers,
            "started_workers": workers.started_workers,
        }


def timed(factory: HostFactory, opened: dict[str, float]) -> HostFactory:
    """``factory``, its call timed into ``opened["seconds"]``."""

    def open_host(request: HostRequest) -> WorkerHost:
        started = time.perf_counter()
        host = factory(request)
        opened["seconds"] = time.perf_counter() - started
        return host

    return open_host


# ---- processes and memory (the /proc readers are in process_memory.py) --------------------
def role(pid: int, parent_role: str) -> str:
    """What a process of the head's tree is, for the breakdown."""
    try:
        comm = Path(f"/proc/{pid}/comm").read_text().strip()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return "gone"
    if parent_role in ("zygote", "driver"):
        return "driver"  # forked by the zygote: its command line is the zygote's
    for name, what in (("PoolKeeper", "keeper"), ("NodeAgent", "agent"), ("IDLE", "ray idle worker")):
        if f"ray::{name}" in cmdline:
            return what
    if "zygote" in cmdline:
        return "zygote"
    if "script_driver" in cmdline:
        return "driver"
    if comm in ("gcs_server", "raylet"):
        return comm
    tokens = cmdline.split()
    if "start" in tokens and "--head" in tokens:
        return "ray start (leader)"
    if "-m" in tokens[:-1]:
        return "ray " + tokens[tokens.index("-m") + 1]
    script = next((t for t in tokens[1:] if t.endswith(".py")), None)
    if script is not None:
        return "ray " + "/".join(Path(script).parts[-2:])  # dashboard/agent.py, agent/main.py
    return f"ray {comm}"


def roles(root: int) -> dict[int, str]:
    children = children_by_parent()
    found: dict[int, str] = {}
    todo = [(root, "")]
    while todo:
        pid, parent = todo.pop()
        found[pid] = role(pid, parent)
        todo.extend((child, found[pid]) for child in children.get(pid, []))
    return found


def idle_memory(root: int, samples: int = 10) -> dict[str, Any]:
    """RSS and PSS of ``root``'s tree by role (the median sample), and its CPU over the sampling."""
    started = time.monotonic()
    first: dict[int, int] = {}
    last: dict[int, int] = {}
    taken: list[dict[str, list[int]]] = []
    for _ in range(samples):
        by_role: dict[str, list[int]] = {}
        for pid, what in roles(root).items():
            ticks = cpu_ticks(pid)
            first.setdefault(pid, ticks)
            last[pid] = ticks
            rss, pss = memory_kib(pid)
            entry = by_role.setdefault(what, [0, 0, 0])
            entry[0] += rss
            entry[1] += pss
            entry[2] += 1
        taken.append(by_role)
        time.sleep(1.0)
    seconds = time.monotonic() - started
    # Per process, first to last sample: a process that ends meanwhile must not subtract its ticks.
    cpu = sum(last[p] - first[p] for p in last) / os.sysconf("SC_CLK_TCK")
    median = sorted(taken, key=lambda s: sum(v[1] for v in s.values()))[len(taken) // 2]
    return {
        "rss_mib": round(sum(v[0] for v in median.values()) / 1024, 1),
        "pss_mib": round(sum(v[1] for v in median.values()) / 1024, 1),
        "processes": sum(v[2] for v in median.values()),
        "cpu_percent": round(100 * cpu / seconds, 2),
        "by_role": {
            k: {"n": v[2], "rss_mib": round(v[0] / 1024, 1), "pss_mib": round(v[1] / 1024, 1)}
            for k, v in sorted(median.items())
        },
    }


# ---- a fresh process ------------------------------------------------------------------------
def child_main(spec: dict[str, Any]) -> None:
    """In a fresh process: score ``spec``'s job, timing Ray's import and ``ray.init`` apart; one JSON line."""
    marks = {"main": time.time()}
    settings = Settings.from_env()
    bench = Bench(settings, spec["model_uri"], Path(spec["code_dir"]), Path(spec["root"]), spec["rows"])
    if spec["host"] == "ray":
        apply_ray_environment(settings)
        from batchpoint.ray_compute import hosts

        marks["ray_imported"] = time.time()
        hosts.connect(settings.ray_connect_address)
        marks["ray_connected"] = time.time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = bench.score(spec["deployment"], spec["host"], spec["files"], spec["job_id"])
    marks["done"] = time.time()
    print(json.dumps({"marks": marks, "result": result}), flush=True)


def fresh_process(bench: Bench, kind: str, host: str, files: int, job_id: str, head: int | None) -> dict[str, Any]:
    """A child interpreter scores one job (as a Dagster run process would); its timings and peak memory."""
    spec = {
        "model_uri": bench.model_uri,
        "code_dir": str(bench.code_dir),
        "root": str(bench.root),
        "deployment": kind,
        "host": host,
        "files": files,
        "job_id": job_id,
        "rows": bench.rows,
    }
    env = child_env(bench.settings) | {"MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false"}
    spawned = time.time()
    log = bench.root / f"{job_id}.log"
    with log.open("wb") as errors:
        child = subprocess.Popen(
            [sys.executable, __file__, "--child", json.dumps(spec)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
        )
    head_pids: Callable[[], list[int]] = lambda: [head] if head else []  # noqa: E731
    try:
        own = PeakSampler(lambda: [child.pid], SAMPLE_SECONDS)
        with own, PeakSampler(lambda: [child.pid, *head_pids()], SAMPLE_SECONDS) as both:
            out, _ = child.communicate(timeout=600)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    if child.returncode != 0:
        tail = log.read_text(errors="replace")[-3000:]
        raise RuntimeError(f"the fresh process of {job_id} exited {child.returncode}:\n{tail}")
    answer = json.loads(out.strip().splitlines()[-1])
    marks: dict[str, float] = answer["marks"]
    result: dict[str, Any] = answer["result"]
    timings = {"interpreter_and_imports_seconds": round(marks["main"] - spawned, 3)}
    if host == "ray":
        timings["import_ray_seconds"] = round(marks["ray_imported"] - marks["main"], 3)
        timings["ray_init_seconds"] = round(marks["ray_connected"] - marks["ray_imported"], 3)
    connected = marks.get("ray_connected", marks["main"])
    timings["resolve_prepare_and_job_seconds"] = round(marks["done"] - connected, 3)
    ray_cost = timings.get("import_ray_seconds", 0.0) + timings.get("ray_init_seconds", 0.0)
    return (
        result
        | timings
        | {
            "run_latency_seconds": round(ray_cost + result["wall_seconds"], 3),
            "peak_rss_mib_run_tree": round(own.peak_rss / 1024, 1),
            "peak_pss_mib_run_tree": round(own.peak_pss / 1024, 1),
            "peak_processes_run_tree": own.peak_processes,
            "hwm_sum_mib_run_tree": round(own.hwm_sum / 1024, 1),
            "peak_rss_mib_with_head": round(both.peak_rss / 1024, 1),
            "peak_pss_mib_with_head": round(both.peak_pss / 1024, 1),
        }
    )


# ---- the bench ------------------------------------------------------------------------------
def keepers() -> list[str]:
    import ray

    from batchpoint.ray_compute.pool_keys import PREFIX

    names = [n for n in ray.util.list_named_actors() if isinstance(n, str) and n.startswith(PREFIX)]
    return [n for n in names if "-s" not in n.rsplit(".", 1)[-1]]


def wait_until(check: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.5)
    return True


def prepare(settings: Settings, root: Path, rows: int) -> Bench:

    store = open_datastore(settings)
    for bucket in (BUCKET, settings.output_bucket):
        store.ensure_bucket(bucket)
    for files in (1, 2):
        for i in range(files):
            store.put_bytes(BUCKET, f"sales/{PARTITION}/f{files}/part-{i:03d}.csv", csv_rows(rows, seed=100 + i))
    code = root / "code"
    code.mkdir()
    (code / "score.py").write_text(textwrap.dedent(SCRIPT))
    say("logging the model with MLflow (sqlite registry)")
    return Bench(settings, log_model(settings, root), code, root, rows)


def run_all(stack: Any, bench: Bench) -> Iterator[dict[str, Any]]:
    head = stack.pids()["ray"][0]
    for host in ("in-process", "ray"):
        if host == "ray":
            from batchpoint.ray_compute import hosts

            started, before = time.perf_counter(), load()
            hosts.connect(bench.settings.ray_connect_address)
            yield {"measurement": "ray_init_in_bench_process", "seconds": round(time.perf_counter() - started, 3)}
            yield (
                {"measurement": "memory_head_idle_no_pool", "load_before": before}
                | idle_memory(head)
                | {"load_after": load()}
            )
        for kind in ("script", "mlflow"):
            for run in (1, 2):
                before = load()
                say(f"{host} {kind} run {run}")
                result = bench.score(kind, host, 1, f"{host}-{kind}-{run}")
                yield {"measurement": "run", "run": run, "load_before": before, "load_after": load()} | result
    # The second driver of the MLflow pool: two files take both slots (one warm, one started now).
    say("ray mlflow, two files (fills the pool's second slot)")
    before = load()
    result = bench.score("mlflow", "ray", 2, "ray-mlflow-two-files")
    yield {"measurement": "run", "run": 3, "load_before": before, "load_after": load()} | result
    say("waiting for the script pool to end (idle 5 s)")
    gone = wait_until(lambda: len(keepers()) == 1, 90)
    before = load()
    idle = idle_memory(head)
    yield (
        {"measurement": "memory_head_and_warm_mlflow_pool_idle", "other_pools_gone": gone}
        | idle
        | {
            "load_before": before,
            "load_after": load(),
        }
    )
    for host, files in (("ray", 1), ("in-process", 1), ("ray", 2), ("in-process", 2)):
        say(f"fresh process: {host} mlflow, {files} file(s)")
        before = load()
        result = fresh_process(bench, "mlflow", host, files, f"fresh-{host}-{files}", head if host == "ray" else None)
        yield {"measurement": "fresh_process", "load_before": before, "load_after": load()} | result


def _run(runs: list[dict[str, Any]], host: str, kind: str, run: int) -> dict[str, Any]:
    return next(r for r in runs if (r["host"], r["deployment"], r["run"]) == (host, kind, run))


def print_tables(rows: list[dict[str, Any]]) -> None:
    runs = [r for r in rows if r["measurement"] == "run"]
    print(f"\none {runs[0]['rows']}-row file, 1 instance x 2 processes (one file is one mini-batch: one slot)")
    print(
        f"{'host':<11}{'deployment':<11}{'run':>4}{'host open':>11}{'start-up':>10}{'job s':>8}{'wall s':>8}"
        f"{'warm/started':>14}{'load':>13}"
    )
    for r in runs:
        label = f"{r['run']}" if r["files"] == 1 else f"{r['run']}*"
        print(
            f"{r['host']:<11}{r['deployment']:<11}{label:>4}{r['host_open_seconds']:>11.3f}"
            f"{r['worker_startup_seconds']:>10.3f}{r['job_seconds']:>8.3f}{r['wall_seconds']:>8.3f}"
            f"{r['warm_workers']:>8}/{r['started_workers']:<5}{r['load_before']:>6.2f}→{r['load_after']:<5.2f}"
        )
    print("  * two files: fills the pool's second slot.  start-up = manifest worker_startup_seconds (after host open)")
    print("\nsecond ÷ first run")
    for host in ("in-process", "ray"):
        for kind in ("script", "mlflow"):
            one, two = _run(runs, host, kind, 1), _run(runs, host, kind, 2)
            startup = two["worker_startup_seconds"] / one["worker_startup_seconds"]
            print(f"  {host:<11}{kind:<8} start-up {startup:6.3f}   job {two['job_seconds'] / one['job_seconds']:6.3f}")
    fresh = [r for r in rows if r["measurement"] == "fresh_process"]
    print("\nfresh process (as a Dagster run): the MLflow deployment on the warm pool, or in-process")
    print(
        f"{'host':<11}{'files':>6}{'python+imports':>16}{'import ray':>12}{'ray.init':>10}{'host open':>11}"
        f"{'start-up':>10}{'job s':>8}{'latency':>9}"
    )
    for r in fresh:
        print(
            f"{r['host']:<11}{r['files']:>6}{r['interpreter_and_imports_seconds']:>16.3f}"
            f"{r.get('import_ray_seconds', 0):>12.3f}{r.get('ray_init_seconds', 0):>10.3f}"
            f"{r['host_open_seconds']:>11.3f}"
            f"{r['worker_startup_seconds']:>10.3f}{r['job_seconds']:>8.3f}{r['run_latency_seconds']:>9.3f}"
        )
    print("  latency = import ray + ray.init + the job's wall time (the model is resolved before, in both)")
    print("\ntargets (issue 11)")
    for kind in ("script", "mlflow"):
        two = _run(runs, "ray", kind, 2)
        first = _run(runs, "in-process", kind, 1)
        met = two["worker_startup_seconds"] + two["host_open_seconds"] < 0.1
        print(
            f"  {kind:<7} second Ray run start-up {two['worker_startup_seconds']:.3f} s (+ host open "
            f"{two['host_open_seconds']:.3f} s) < 0.1 s: {met}"
            f";  job s lower than in-process first run by {first['job_seconds'] - two['job_seconds']:.2f} s (>= 3 s)"
        )
    by = {(r["host"], r["files"]): r for r in fresh}
    for files in (1, 2):
        gain = by["in-process", files]["run_latency_seconds"] - by["ray", files]["run_latency_seconds"]
        print(f"  fresh process, {files} file(s): latency lower on the warm pool by {gain:.2f} s (>= 3 s)")
    print("\nmemory (MiB)                                        RSS      PSS  processes  CPU %  (peaks: sum of VmHWM)")
    for r in rows:
        if r["measurement"].startswith("memory"):
            name = r["measurement"].removeprefix("memory_")
            print(f"{name:<48}{r['rss_mib']:>8.0f}{r['pss_mib']:>9.0f}{r['processes']:>11}{r['cpu_percent']:>7.2f}")
            for what, v in r["by_role"].items():
                print(f"    {what:<44}{v['rss_mib']:>8.0f}{v['pss_mib']:>9.0f}{v['n']:>11}")
    for r in fresh:
        with_head = f"   with head: {r['peak_rss_mib_with_head']:.0f} / {r['peak_pss_mib_with_head']:.0f}"
        print(
            f"{'peak, fresh ' + r['host'] + ' run, ' + str(r['files']) + ' file(s)':<48}"
            f"{r['peak_rss_mib_run_tree']:>8.0f}{r['peak_pss_mib_run_tree']:>9.0f}{r['peak_processes_run_tree']:>11}"
            f"  ({r['hwm_sum_mib_run_tree']:.0f})" + (with_head if r["host"] == "ray" else "")
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="also print one JSON line per measurement")
    parser.add_argument("--rows", type=int, default=50, help="rows of the small file")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    warnings.simplefilter("ignore")  # MLflow's and Ray's notices; results go to stdout
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    if args.child:
        child_main(json.loads(args.child))
        return
    from batchpoint.stack import Stack, free_ports

    signal.signal(signal.SIGTERM, signal.default_int_handler)
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bp-bench-") as tmp:
        root = Path(tmp)
        settings = dataclasses.replace(
            Settings(),
            data_dir=root / "data",
            ports=free_ports(),
            mlflow_tracking_uri=f"sqlite:///{root / 'mlflow.db'}",
        )
        apply_ray_environment(settings)  # before the first `import ray`
        os.environ.update(settings.s3_env() | {"MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false"})
        say(f"starting s3 and ray in {tmp} (load {load():.2f})")
        with Stack(
            settings, services=("s3", "ray"), on_healthy=lambda s, url, t: say(f"{s} {url} healthy after {t:.1f} s")
        ) as stack:
            bench = prepare(settings, root, args.rows)
            try:
                for row in run_all(stack, bench):
                    rows.append(row)
                    if args.json:
                        print(
                            json.dumps(
                                {"bench": "worker_startup", "when": datetime.now(UTC).isoformat(timespec="seconds")}
                                | row
                            ),
                            flush=True,
                        )
            finally:
                import ray

                if ray.is_initialized():
                    ray.shutdown()
    print_tables(rows)


if __name__ == "__main__":
    main()
