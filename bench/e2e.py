"""Landing → predictions on a fresh embedded stack, against a plain single-process loop on the same files.

    uv run python bench/e2e.py [--files 40 --rows-per-file 5000 --workers-layout 2x1 --mini-batch-size 4]

Progress goes to stderr; stdout gets a table and one JSON line (``{"bench": "e2e", ...}``) to compare runs.
Latency: last PUT → ``latest.json`` written (its ``updated_at``), split by the Kafka event's timestamp,
the Dagster run's creation/launch/start/step-start times and the manifest's timings. See bench/README.md.
``compare.py`` runs the same landing (and Ray Data) over several workloads; both share the modules here.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import signal
import tempfile
import uuid
from pathlib import Path
from typing import Any

from batchpoint_landing import Landing, create_endpoint, land_and_measure, now_iso
from plain_loop import plain_loop
from sales_files import MONTH, history, landing_files, register_forecaster, say

from batchpoint.config import Settings
from batchpoint.models.mlflow_models import resolve_model
from batchpoint.specs.model_ref import parse_model_ref
from batchpoint.stack import Stack, free_ports
from batchpoint.storage.datastore import open_datastore


def bench(settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    name = f"bench-{uuid.uuid4().hex[:6]}"  # its own endpoint, landing prefix and model
    say(f"generating {args.files} files x {args.rows_per_file} rows of {MONTH}")
    sales = history()
    files = landing_files(sales, args.files, args.rows_per_file)
    model_uri = register_forecaster(sales, settings.mlflow_uri, f"{name}-model")
    say(f"registered {model_uri}; creating endpoint {name} ({args.workers_layout}, mb {args.mini_batch_size})")
    create_endpoint(settings, name, model_uri, args.workers_layout, args.mini_batch_size)
    store = open_datastore(settings)
    landing = Landing(name, files, len(files))
    measured = land_and_measure(store, settings, landing, quiet_seconds=0)
    rows, final = measured["rows"], measured["final_manifest"]
    say("running the plain single-process loop on the same files")
    model = resolve_model(parse_model_ref(model_uri), settings)  # the job's cached copy
    loop = plain_loop(store, settings.landing_bucket, landing.keys, model, settings.data_dir / "loop.csv")
    if loop["rows"] != rows:
        raise RuntimeError(f"the loop scored {loop['rows']} rows, the run {rows}")
    e2e_rps = rows / measured["latency_seconds"]
    startup = final["worker_startup_seconds"]
    scoring_rps = rows / (startup + final["scoring_seconds"])  # the scoring phase, start-up included
    return {
        "bench": "e2e",
        "when": now_iso(),
        **vars(args),
        **{k: measured[k] for k in ("rows", "mini_batches", "landing_seconds", "latency_seconds")},
        **{k: measured[k] for k in ("observed_latency_seconds", "breakdown_seconds", "runs", "latest_moves")},
        "e2e_rows_per_second": round(e2e_rps, 1),
        "scoring_rows_per_second": round(scoring_rps, 1),
        "scoring_excl_startup_rows_per_second": float(final["rows_per_second"]),
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
