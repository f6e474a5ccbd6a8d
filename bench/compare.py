"""batchpoint against the plain loop and Ray Data, in one sitting, on the same data, model and S3 store.

    uv run --group bench python bench/compare.py [--workloads latency,40x5000,2000x100,400x5000] [--quick]

One embedded stack, one registered demo forecaster; per workload one endpoint and one landing that
every contender scores: batchpoint end to end (``batchpoint_landing.py``), the plain loop in one and
in N processes (``plain_loop.py``, N = the deployment's worker processes) and Ray Data
(``ray_data_contender.py``). Progress goes to stderr; stdout gets a table per workload and one JSON
line per workload (``{"bench": "compare", ...}``). See bench/README.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import signal
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from batchpoint_landing import (
    Landing,
    create_endpoint,
    invoke_and_measure,
    land,
    land_and_measure,
    now_iso,
    worker_processes,
)
from figures import medians, per_file_overhead_ms, percentile, ratio
from plain_loop import run_processes
from process_memory import CpuTimeline, PeakSampler, process_label, tree_memory_kib
from ray_data_contender import run_ray_data
from run_timeline import timeline_text
from sales_files import history, landing_files, register_forecaster, say

from batchpoint.config import Settings
from batchpoint.models.mlflow_models import resolve_model
from batchpoint.specs.model_ref import parse_model_ref
from batchpoint.stack import Stack, free_ports, readiness
from batchpoint.storage.datastore import open_datastore
from batchpoint.storage.s3 import S3Store

WORKLOADS = ("latency", "40x5000", "2000x100", "400x5000")
# --quick: the same shapes, small enough for a smoke run of every contender in a few minutes.
QUICK = {"40x5000": "8x1000", "2000x100": "100x20", "400x5000": "16x2000"}
LATENCY_ROWS = 50
CONTENDERS = ("batchpoint", "loop", "ray-data")


@dataclasses.dataclass
class Sitting:
    """What every workload of one sitting shares: the stack, the data's history, the model."""

    stack: Stack
    settings: Settings
    args: argparse.Namespace
    sales: Any
    model_uri: str
    tag: str

    @property
    def store(self) -> S3Store:
        s = self.settings
        return open_datastore(s)

    @property
    def workers(self) -> int:
        return worker_processes(self.args.workers_layout)

    def stack_pids(self) -> list[int]:
        return [pid for pids in self.stack.pids().values() for pid in pids]

    def stack_processes(self) -> dict[str, int]:
        """Each service's process trees by a name: ``dagster:dagster-daemon``, ``ray:ray``, ..."""
        return {f"{s}:{process_label(p)}": p for s, pids in self.stack.pids().items() for p in pids}

    def endpoint(self, workload: str) -> str:
        name = f"bench-{self.tag}-{workload}"
        create_endpoint(self.settings, name, self.model_uri, self.args.workers_layout, self.args.mini_batch_size)
        return name


# Seconds of calm after a deployment's first run before the workload lands: every slot of its pool
# starts with that run, and those it did not need finish init() after it (not waited for).
FIRST_RUN_QUIET_SECONDS = 15


def shape(workload: str, quick: bool) -> tuple[int, int]:
    """``(files, rows per file)`` of a workload named ``FILESxROWS``."""
    files, rows = (int(n) for n in (QUICK.get(workload, workload) if quick else workload).split("x"))
    return files, rows


def rounded(values: dict[str, float]) -> dict[str, float]:
    return {k: round(v, 3) for k, v in values.items()}


def mib(kib: int) -> float:
    return round(kib / 1024, 1)


def batchpoint_landing(sitting: Sitting, landing: Landing, quiet_seconds: float) -> dict[str, Any]:
    """One landing measured end to end, with the stack's memory (services + runs + workers) idle and at peak."""
    idle_rss, idle_pss, _ = tree_memory_kib(sitting.stack_pids())
    with PeakSampler(sitting.stack_pids, interval=0.5) as memory, CpuTimeline(sitting.stack_processes) as cpu:
        result = land_and_measure(sitting.store, sitting.settings, landing, quiet_seconds=quiet_seconds)
    # Where the two cores went from the first PUT to latest moved: the run, its workers, the rest.
    result["cpu_seconds"] = cpu.seconds_between(result["first_put"], result["moved_at"])
    if sitting.args.timeline:
        say(f"the covering run's events, seconds from the last PUT:\n{timeline_text(result['timeline'])}")
    memory_figures = {"idle_rss_mib": mib(idle_rss), "idle_pss_mib": mib(idle_pss)}
    memory_figures |= {"peak_rss_mib": mib(memory.peak_rss), "peak_pss_mib": mib(memory.peak_pss)}
    return result | {"memory": memory_figures}


def latency_workload(sitting: Sitting) -> dict[str, Any]:
    """(a) one 50-row file at a time into an idle stack, ``--landings`` times, on one endpoint and month."""
    endpoint = sitting.endpoint("latency")
    time.sleep(3)  # let the reload settle: the stack is idle before the first landing
    results = []
    # Landing 0 is the deployment's first run (its pool starts); it is reported apart, and the
    # measured landings find the pool warm, as a deployment scored within its
    # idle_time_before_scale_down does.
    for index in range(sitting.args.landings + 1):
        data = landing_files(sitting.sales, 1, LATENCY_ROWS, first_id=index * LATENCY_ROWS)
        files = {f"landing-{index:03d}.csv": next(iter(data.values()))}
        say(f"latency: landing {index} of {sitting.args.landings}" + (" (first run)" if index == 0 else ""))
        # After the first run, longer: every slot of the pool starts, and the one that did not score
        # finishes its init() after the run (docs/ray-compute.md); the measured landings find it warm.
        quiet = FIRST_RUN_QUIET_SECONDS if index == 0 else 3
        results.append(batchpoint_landing(sitting, Landing(endpoint, files, index + 1), quiet_seconds=quiet))
    first, landings = results[0], results[1:]
    latencies = [r["latency_seconds"] for r in landings]
    return {
        "first_run_latency_seconds": first["latency_seconds"],
        "first_run_breakdown_seconds": first["breakdown_seconds"],
        "rows_per_landing": LATENCY_ROWS,
        "landings": len(landings),
        "latency_seconds": latencies,
        "p50_seconds": round(percentile(latencies, 50), 3),
        "p95_seconds": round(percentile(latencies, 95), 3),
        "max_seconds": max(latencies),
        "breakdown_median_seconds": {
            k: round(v, 3) for k, v in medians([r["breakdown_seconds"] for r in landings]).items()
        },
        "peak_rss_mib": max(r["memory"]["peak_rss_mib"] for r in landings),
        "runs": [r["runs"] for r in landings],
    }


def bulk_workload(sitting: Sitting, workload: str) -> dict[str, Any]:
    """(b)–(d): ``FILESxROWS`` landed at once; every contender on the same objects."""
    files, rows_per_file = shape(workload, sitting.args.quick)
    say(f"{workload}: generating {files} files x {rows_per_file} rows")
    data = landing_files(sitting.sales, files, rows_per_file)
    endpoint = sitting.endpoint(workload)
    # The month also holds the first run's file (below): latest covers the month when it has both.
    landing = Landing(endpoint, data, len(data) + 1)
    contenders = sitting.args.contenders
    result: dict[str, Any] = {"files": files, "rows_per_file": rows_per_file, "rows": files * rows_per_file}
    if "batchpoint" in contenders:
        # A new deployment's first run starts its pool (environment, agents, drivers, init()); the
        # workload then lands on the warm pool, as every later run within the deployment's
        # idle_time_before_scale_down does. Both are reported: first run and warm pool apart.
        say(f"{workload}: batchpoint first run (one {LATENCY_ROWS}-row file, the pool starts)")
        first = landing_files(sitting.sales, 1, LATENCY_ROWS, first_id=files * rows_per_file)
        result["batchpoint_first_run"] = batchpoint_landing(
            sitting,
            Landing(endpoint, {"first-run.csv": next(iter(first.values()))}, 1),
            quiet_seconds=FIRST_RUN_QUIET_SECONDS,
        )
        say(f"{workload}: batchpoint end to end, pool warm")
        result["batchpoint"] = batchpoint_landing(sitting, landing, quiet_seconds=sitting.args.quiet_seconds)
        say(f"{workload}: batchpoint warm, the endpoint invoked on the landed month (nothing landing beside it)")
        with CpuTimeline(sitting.stack_processes) as cpu:
            invoked = invoke_and_measure(sitting.store, sitting.settings, landing)
        invoked["cpu_seconds"] = cpu.seconds_between(invoked["created_at"], invoked["ended_at"] or time.time())
        result["batchpoint_invoked"] = invoked
    else:  # the others read the landing bucket: land the files without waiting for batchpoint
        land(sitting.store, sitting.settings, landing)
    out_dir = sitting.settings.data_dir / "bench-out" / workload
    out_dir.mkdir(parents=True, exist_ok=True)
    if "loop" in contenders:
        for processes in sorted({1, sitting.workers}):
            say(f"{workload}: plain loop in {processes} process(es)")
            result[f"loop_{processes}"] = run_processes(
                sitting.settings, sitting.model_uri, landing.keys, processes, out_dir
            )
    if "ray-data" in contenders:
        say(f"{workload}: Ray Data")
        result["ray_data"] = run_ray_data(
            sitting.settings, sitting.model_uri, landing.keys, f"bench-ray-data/{endpoint}",
            actors=sitting.args.ray_actors or sitting.workers, actor_cpus=sitting.args.ray_actor_cpus,
            batch_rows=sitting.args.mini_batch_size * rows_per_file,
        )  # fmt: skip
    result["ratios"] = ratios(result, sitting.workers)
    return result


def ratios(result: dict[str, Any], workers: int) -> dict[str, float | None]:
    """The issue's targets' figures, from whichever contenders ran."""
    bp, loop, ray_data = result.get("batchpoint"), result.get("loop_1"), result.get("ray_data")
    invoked = result.get("batchpoint_invoked")
    rows = result["rows"]
    e2e = rows / bp["latency_seconds"] if bp else None
    # Warm: the invoked job, which scores files that are all there; the landing's runs scored beside
    # the PUTs, so their rate is reported apart (``during_landing``).
    warm = invoked["rows"] / invoked["scoring_seconds"] if invoked and invoked["scoring_seconds"] else None
    during = bp["rows_scored"] / bp["scoring_seconds_all_runs"] if bp and bp["scoring_seconds_all_runs"] else None
    loop_rps = loop["rows_per_second"] if loop else None
    loop_x = loop_rps * workers if loop_rps else None
    figures = {
        "batchpoint_e2e_rows_per_second": e2e,
        "batchpoint_warm_rows_per_second": warm,
        "e2e_to_loop_x_workers": ratio(e2e, loop_x),
        "warm_to_loop_x_workers": ratio(warm, loop_x),
        "batchpoint_rows_per_second_during_landing": during,
        "during_landing_to_loop_x_workers": ratio(during, loop_x),
        "e2e_to_ray_data": ratio(e2e, ray_data["rows_per_second"] if ray_data else None),
        "warm_to_ray_data_warm": ratio(warm, ray_data["warm_rows_per_second"] if ray_data else None),
        "loop_n_to_loop_1": ratio(result.get(f"loop_{workers}", {}).get("rows_per_second"), loop_rps),
        "files_scored_to_landed": ratio(bp["files_scored"], result["files"]) if bp else None,
        "overhead_ms_per_file": None,
    }
    if invoked and loop and invoked["files"]:
        # The invoked job's files include the first run's one: per file, that is what it scored.
        overhead = per_file_overhead_ms(
            invoked["scoring_seconds"], invoked["files"], loop["seconds"], result["files"], workers
        )
        figures["overhead_ms_per_file"] = overhead
    return {k: round(v, 4) if v is not None else None for k, v in figures.items()}


def print_latency(result: dict[str, Any]) -> None:
    print(f"\n== latency: one {result['rows_per_landing']}-row file into an idle stack, {result['landings']} landings")
    startup = result["first_run_breakdown_seconds"].get("worker start-up", 0.0)
    print(f"first run of the deployment (before these, pool starting): {result['first_run_latency_seconds']:.2f} s, "
          f"of which worker start-up {startup:.2f} s")  # fmt: skip
    print("latencies s, pool warm: " + ", ".join(f"{s:.2f}" for s in result["latency_seconds"]))
    print(f"p50 {result['p50_seconds']:.2f} s   p95 {result['p95_seconds']:.2f} s   max {result['max_seconds']:.2f} s")
    print(f"runs per landing: {result['runs']}   peak RSS (stack) {result['peak_rss_mib']:,.0f} MiB")
    for step, seconds in result["breakdown_median_seconds"].items():
        print(f"  {step:<42}{seconds:>9.2f} s (median)")


def print_bulk(name: str, result: dict[str, Any], workers: int) -> None:
    print(f"\n== {name}: {result['files']} files x {result['rows_per_file']} rows = {result['rows']:,} rows")
    print(f"{'contender':<34}{'rows/s':>12}{'seconds':>10}{'peak RSS MiB':>14}")
    r = result["ratios"]
    bp = result.get("batchpoint")
    lines: list[tuple[str, float | None, float | None, float | None]] = []
    first = result.get("batchpoint_first_run")
    if first:
        startup = first["breakdown_seconds"].get("worker start-up", 0.0)
        print(f"first run of the deployment (1 file): latency {first['latency_seconds']:.2f} s, "
              f"of which worker start-up {startup:.2f} s")  # fmt: skip
    if bp:
        lines.append(("batchpoint end to end, pool warm", r["batchpoint_e2e_rows_per_second"], bp["latency_seconds"],
                      bp["memory"]["peak_rss_mib"]))  # fmt: skip
        lines.append(("batchpoint scoring during the landing", r["batchpoint_rows_per_second_during_landing"],
                      bp["scoring_seconds_all_runs"], None))  # fmt: skip
    invoked = result.get("batchpoint_invoked")
    if invoked:
        lines.append(("batchpoint warm (invoked, files there)", r["batchpoint_warm_rows_per_second"],
                      invoked["scoring_seconds"], None))  # fmt: skip
    for processes in sorted({1, workers}):
        loop = result.get(f"loop_{processes}")
        if loop:
            label = f"plain loop, {processes} process{'es' if processes > 1 else ''}"
            lines.append((label, loop["rows_per_second"], loop["seconds"], loop["peak_rss_mib"]))
    ray_data = result.get("ray_data")
    if ray_data:
        lines.append(
            ("Ray Data end to end", ray_data["rows_per_second"], ray_data["seconds"], ray_data["peak_rss_mib"])
        )
        lines.append(("Ray Data warm (batches)", ray_data["warm_rows_per_second"], ray_data["warm_seconds"], None))
    for label, rps, seconds, rss in lines:
        cells = [
            f"{rps:>12,.0f}" if rps else f"{'–':>12}",
            f"{seconds:>10.2f}" if seconds is not None else f"{'–':>10}",
            f"{rss:>14,.0f}" if rss else f"{'–':>14}",
        ]
        print(f"{label:<34}{''.join(cells)}")
    if bp:
        print(f"latency {bp['latency_seconds']:.2f} s, runs {bp['runs']}, latest moved {bp['latest_moves']}x, "
              f"files scored {bp['files_scored']} of {result['files']}")  # fmt: skip
        for step, seconds in bp["breakdown_seconds"].items():
            print(f"  {step:<42}{seconds:>9.2f} s")
        busy = sorted(bp["cpu_seconds"].items(), key=lambda kv: -kv[1])
        print("  CPU seconds, first PUT → latest moved: " + ", ".join(f"{k} {v:.2f}" for k, v in busy if v >= 0.05))
        invoked = result.get("batchpoint_invoked")
        if invoked:
            busy = sorted(invoked["cpu_seconds"].items(), key=lambda kv: -kv[1])
            print("  CPU seconds, invoked job: " + ", ".join(f"{k} {v:.2f}" for k, v in busy if v >= 0.05))
        checks = bp["final_manifest"].get("checks_seconds")
        if checks is not None:
            share = checks / max(bp["latency_seconds"] - checks, 1e-9)
            print(f"  of publishing: the checks{checks:>25.2f} s ({share:.1%} of the run without them)")
            steps = bp["final_manifest"].get("checks_step_seconds") or {}
            print("    " + ", ".join(f"{step} {seconds:.2f}" for step, seconds in steps.items()))
    labels = {
        "e2e_to_loop_x_workers": f"batchpoint e2e ÷ (loop × {workers})",
        "warm_to_loop_x_workers": f"batchpoint warm ÷ (loop × {workers})",
        "during_landing_to_loop_x_workers": f"scoring during the landing ÷ (loop × {workers})",
        "e2e_to_ray_data": "batchpoint e2e ÷ Ray Data e2e",
        "warm_to_ray_data_warm": "batchpoint warm ÷ Ray Data warm",
        "loop_n_to_loop_1": f"loop × {workers} processes ÷ loop × 1",
        "overhead_ms_per_file": "batchpoint overhead, ms per file",
        "files_scored_to_landed": "files scored ÷ files landed",
    }
    for key, label in labels.items():
        value = r.get(key)
        print(f"{label:<44}{value:>10.3f}" if value is not None else f"{label:<44}{'–':>10}")


def sitting_run(sitting: Sitting, workload: str) -> dict[str, Any]:
    load_before = os.getloadavg()
    began = now_iso()
    if workload == "latency":
        result = latency_workload(sitting)
        print_latency(result)
    else:
        result = bulk_workload(sitting, workload)
        print_bulk(workload, result, sitting.workers)
    line = {
        "bench": "compare",
        "workload": workload,
        "quick": sitting.args.quick,
        "began": began,
        "ended": now_iso(),
        "load_before": [round(v, 2) for v in load_before],
        "load_after": [round(v, 2) for v in os.getloadavg()],
        "workers_layout": sitting.args.workers_layout,
        "workers": sitting.workers,
        "mini_batch_size": sitting.args.mini_batch_size,
    } | result
    print(f"load average (1/5/15 min) before {line['load_before']}, after {line['load_after']}")
    print(json.dumps(line, ensure_ascii=False), flush=True)
    return line


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workloads", default=",".join(WORKLOADS), help="comma-separated: latency and/or FILESxROWS")
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run of every contender")
    parser.add_argument(
        "--contenders", default=",".join(CONTENDERS), help="comma-separated subset of " + ",".join(CONTENDERS)
    )
    parser.add_argument("--workers-layout", default="2x1", help="instance_count x max_concurrency_per_instance")
    parser.add_argument("--mini-batch-size", type=int, default=4)
    parser.add_argument("--landings", type=int, default=None, help="of the latency workload (10; --quick 3)")
    parser.add_argument(
        "--quiet-seconds", type=float, default=None, help="no new run for this long = settled (10; --quick 5)"
    )
    parser.add_argument("--ray-actors", type=int, default=0, help="actor pool size (default: the worker processes)")
    parser.add_argument("--ray-actor-cpus", type=float, default=0.5)
    parser.add_argument("--timeline", action="store_true", help="print each covering run's events (stderr)")
    args = parser.parse_args()
    args.landings = args.landings or (3 if args.quick else 10)
    args.quiet_seconds = args.quiet_seconds or (5.0 if args.quick else 10.0)
    args.contenders = [c.strip() for c in args.contenders.split(",") if c.strip()]
    unknown = set(args.contenders) - set(CONTENDERS)
    if unknown:
        parser.error(f"unknown contender(s) {', '.join(sorted(unknown))}; choose from {', '.join(CONTENDERS)}")
    workloads = [w.strip() for w in args.workloads.split(",") if w.strip()]
    for workload in workloads:
        if workload != "latency":
            shape(workload, args.quick)  # fails early on a bad name
    # The Ray head's 60 s health deadline is too short on a loaded 2-core machine (other stacks,
    # test suites); a bench sitting waits longer rather than fail before measuring anything.
    readiness.TIMEOUTS["ray"] = max(readiness.TIMEOUTS["ray"], 240)
    # SIGTERM like Ctrl-C, so the stack's context manager stops every child either way.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    print(f"load average (1/5/15 min) at the start: {[round(v, 2) for v in os.getloadavg()]}", flush=True)
    with tempfile.TemporaryDirectory(prefix="batchpoint-bench-") as tmp:
        settings = dataclasses.replace(Settings(), data_dir=Path(tmp), ports=free_ports())
        say(f"starting the embedded stack in {tmp}")
        with Stack(settings, on_healthy=lambda s, url, t: say(f"{s} {url} healthy after {t:.1f} s")) as stack:
            tag = uuid.uuid4().hex[:6]
            sales = history()
            model_uri = register_forecaster(sales, settings.mlflow_uri, f"bench-{tag}-model")
            resolve_model(parse_model_ref(model_uri), settings)  # cached once, as the runs will
            say(f"registered {model_uri}")
            sitting = Sitting(stack, settings, args, sales, model_uri, tag)
            for workload in workloads:
                sitting_run(sitting, workload)
    print(f"load average (1/5/15 min) at the end: {[round(v, 2) for v in os.getloadavg()]}", flush=True)


if __name__ == "__main__":
    main()
