"""batchpoint end to end: land files on a bench endpoint and time them until ``latest`` covers them.

``land_and_measure`` PUTs a landing, follows ``latest`` until it points at a version that covers
every file of the month, waits for the month's runs to settle, and reads what happened from the
Kafka event, the Dagster run and the manifests (the breakdown in bench/README.md).

``invoke_and_measure`` then invokes the endpoint on the month's folder, every file in it: the warm
pool scoring files that are all there, with nothing landing beside it, as the loop and Ray Data
score them. A landing's own runs score beside the PUTs (a run starts as the first file lands) and
share the two cores with them and the store, so their scoring seconds are not that figure.
"""

from __future__ import annotations

import json
import time
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from run_timeline import run_timeline
from sales_files import MONTH, START, say

from batchpoint.config import Settings
from batchpoint.demo.waiting import wait_for_new_version
from batchpoint.management.workspace import Workspace
from batchpoint.orchestration.dagster_graphql import DagsterClient
from batchpoint.outputs.layout import OutputLayout
from batchpoint.outputs.versions import list_versions, read_latest, read_manifest
from batchpoint.registry.store import Registry
from batchpoint.specs.deployment import BatchDeployment
from batchpoint.specs.endpoint import BatchEndpoint
from batchpoint.specs.job import InvokeRequest, JobStatus
from batchpoint.storage.s3 import S3Store
from kafka_edge.kafka_io import read_from
from kafka_edge.s3_event_json import decode

_RUN = """query($id: ID!) { runOrError(runId: $id) { ... on Run { creationTime startTime } }
  logsForRun(runId: $id, limit: 1000) { ... on EventConnection { events { __typename
    ... on MessageEvent { timestamp } } } } }"""
_TERMINAL = {"SUCCESS", "FAILURE", "CANCELED"}


def worker_processes(layout: str) -> int:
    """``instance_count × max_concurrency_per_instance`` of a layout written ``IxP``."""
    instances, processes = (int(n) for n in layout.lower().split("x"))
    return instances * processes


def create_endpoint(settings: Settings, name: str, model_uri: str, layout: str, mini_batch_size: int) -> None:
    """Endpoint ``name`` (landing prefix ``name/``) with a default deployment; waits for its sensor."""
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


def last_event_time(settings: Settings, keys: set[str]) -> float:
    """When the publisher produced the last Kafka event of ``keys`` (message timestamp)."""
    # The whole topic, page by page from the start: a sitting's earlier workloads put thousands of
    # events before these, and one read can end at what a fetch returned (367 of ~2,500 once).
    stamps: list[int] = []
    offsets: dict[int, int] | None = None
    read = 0
    while True:
        batch = read_from(settings.bootstrap, settings.events_topic, offsets, max_records=100_000, timeout_s=10.0)
        if not batch.messages:
            break
        read += len(batch.messages)
        stamps += [m.timestamp_ms for m in batch.messages if any(e.key in keys for e in decode(m.value))]
        offsets = batch.next_offsets
    if not stamps:
        raise RuntimeError(f"no event of the {len(keys)} landed keys found in the {read} events of the topic")
    return max(stamps) / 1000


def _seconds(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


@dataclass
class Landing:
    """One landing on a bench endpoint: its files, and how many files the month holds with them."""

    endpoint: str
    files: dict[str, bytes]
    month_files: int

    @property
    def keys(self) -> list[str]:
        """The object keys in the landing bucket."""
        return [f"{self.endpoint}/{MONTH}/{name}" for name in self.files]

    @property
    def job(self) -> str:
        """The endpoint's data-arrival job."""
        return "score_" + self.endpoint.replace("-", "_")


def land(store: S3Store, settings: Settings, landing: Landing) -> tuple[float, float]:
    """PUT the files one after another; wall times of the first and last PUT."""
    first_put = time.time()
    for key, data in zip(landing.keys, landing.files.values(), strict=True):
        store.put_bytes(settings.landing_bucket, key, data, "text/csv")
    return first_put, time.time()


def wait_covered(
    store: S3Store, settings: Settings, landing: Landing, timeout: float
) -> tuple[dict[str, Any], float, int]:
    """Follow ``latest`` until its version covers every file of the month: that manifest, when
    ``latest`` moved to it, and how often it moved on the way (a landing split into runs moves it more)."""
    layout = OutputLayout(settings.output_bucket, landing.endpoint, MONTH)
    dagster = DagsterClient(settings.dagster_url)
    pointer, moves = read_latest(store, layout), 0
    deadline = time.monotonic() + timeout
    while True:
        left = max(deadline - time.monotonic(), 1.0)
        published = wait_for_new_version(
            store, settings, dagster=dagster, endpoint=landing.endpoint, partition=MONTH, before=pointer,
            say=say, timeout_seconds=left,
        )  # fmt: skip
        moves += 1
        manifest = read_manifest(store, layout, published.version_id)
        totals = manifest["totals"]
        if totals["failed_files"] or manifest["status"] != "Completed":
            raise RuntimeError(f"version {published.version_id} did not score every file: {totals}")
        if totals["files"] >= landing.month_files:
            return manifest, _seconds(published.pointer.updated_at), moves
        say(f"latest covers {totals['files']} of {landing.month_files} files; waiting for the next run")
        pointer = published.pointer


def wait_settled(settings: Settings, landing: Landing, quiet_seconds: float, timeout: float = 600) -> None:
    """Until every run of the month has ended and no new one appeared for ``quiet_seconds``."""
    dagster = DagsterClient(settings.dagster_url)
    seen: tuple[str, ...] = ()
    quiet_since = time.monotonic()
    deadline = quiet_since + timeout
    while time.monotonic() < deadline:
        runs = dagster.runs(landing.job, MONTH)
        ids = tuple(sorted(r.run_id for r in runs))
        if ids != seen or any(r.status not in _TERMINAL for r in runs):
            seen, quiet_since = ids, time.monotonic()
        elif time.monotonic() - quiet_since >= quiet_seconds:
            return
        time.sleep(1.0)
    raise RuntimeError(f"the runs of {landing.job} {MONTH} did not settle within {timeout:.0f} s")


def landing_manifests(store: S3Store, settings: Settings, landing: Landing, since: float) -> list[dict[str, Any]]:
    """The manifests of the month's versions whose job started at or after ``since`` (the landing's runs)."""
    layout = OutputLayout(settings.output_bucket, landing.endpoint, MONTH)
    manifests = [read_manifest(store, layout, v) for v in list_versions(store, layout)]
    return [m for m in manifests if _seconds(m["timings"]["started_at"]) >= since]


def scored_counts(manifest: dict[str, Any]) -> tuple[int, int]:
    """``(files, rows)`` a version scored itself: its totals less what it reused from an earlier version."""
    reused = manifest.get("reused") or {}
    totals = manifest["totals"]
    return int(totals["files"]) - int(reused.get("files", 0)), int(totals["rows"]) - int(reused.get("rows", 0))


def land_and_measure(
    store: S3Store, settings: Settings, landing: Landing, *, quiet_seconds: float, timeout: float = 900
) -> dict[str, Any]:
    """Land, wait until ``latest`` covers the month and the runs settled; latency, breakdown, runs, scored."""
    first_put, last_put = land(store, settings, landing)
    size = sum(map(len, landing.files.values()))
    say(f"landed {len(landing.files)} files ({size / 1e6:.1f} MB) in {last_put - first_put:.2f} s")
    manifest, moved, moves = wait_covered(store, settings, landing, timeout)
    observed = time.time() - last_put
    timings = manifest["timings"]
    run = run_times(settings, manifest["job_id"])
    job_start = _seconds(timings["started_at"])
    startup, scoring = timings["worker_startup_seconds"], timings["scoring_seconds"]
    scored = job_start + startup + scoring  # the manifest reports start-up and warm scoring apart
    kafka = last_event_time(settings, set(landing.keys))
    breakdown = {
        "publisher (last PUT → Kafka event)": kafka - last_put,
        "sensor (Kafka event → run created)": run["created"] - kafka,
        "queued (run created → launching)": run["launching"] - run["created"],
        "launch (launching → run started)": run["started"] - run["launching"],
        "step (run started → step started)": run["step_started"] - run["started"],
        "job set-up (step → job start)": job_start - run["step_started"],
        "worker start-up": startup,
        "scoring": scoring,
        "publishing (scored → latest moved)": moved - scored,
    }
    wait_settled(settings, landing, quiet_seconds)
    runs = landing_manifests(store, settings, landing, first_put)
    counts = [scored_counts(m) for m in runs]
    return {
        "files": len(landing.files),
        "rows": int(manifest["totals"]["rows"]),
        "mini_batches": manifest["totals"]["mini_batches"],
        "first_put": first_put,
        "moved_at": moved,
        "landing_seconds": round(last_put - first_put, 3),
        "latency_seconds": round(moved - last_put, 3),
        "observed_latency_seconds": round(observed, 3),
        "breakdown_seconds": {k: round(v, 3) for k, v in breakdown.items()},
        "timeline": run_timeline(settings, manifest["job_id"], last_put),
        "latest_moves": moves,
        "runs": len(runs),
        "files_scored": sum(c[0] for c in counts),
        "rows_scored": sum(c[1] for c in counts),
        "scoring_seconds_all_runs": round(sum(m["timings"]["scoring_seconds"] for m in runs), 3),
        "startup_seconds_all_runs": round(sum(m["timings"]["worker_startup_seconds"] for m in runs), 3),
        "final_manifest": {
            "version_id": manifest["version_id"],
            "worker_startup_seconds": startup,
            "scoring_seconds": scoring,
            "rows_per_second": timings["rows_per_second"],
            "workers": manifest.get("workers"),
            # The checks run inside "publishing", before latest moves (issue 14: under 10 % of a run).
            "checks_seconds": (manifest.get("checks") or {}).get("seconds"),
            "checks_step_seconds": (manifest.get("checks") or {}).get("step_seconds"),
        },
    }


def invoke_and_measure(store: S3Store, settings: Settings, landing: Landing, timeout: float = 900) -> dict[str, Any]:
    """Invoke the endpoint on the landing's month folder and wait for the job; what its manifest says."""
    folder = f"s3://{settings.landing_bucket}/{landing.endpoint}/{MONTH}/"
    request = InvokeRequest.model_validate({"inputs": {"input": {"type": "uri_folder", "path": folder}}})
    with Workspace(settings) as workspace:
        job = workspace.jobs.invoke(landing.endpoint, request)
        deadline = time.monotonic() + timeout
        while not job.status.ended:
            if time.monotonic() > deadline:
                raise RuntimeError(f"invoked job {job.name} still {job.status} after {timeout:.0f} s")
            time.sleep(0.2)
            job = workspace.jobs.get(job.name)
        if job.status is not JobStatus.COMPLETED:
            raise RuntimeError(f"invoked job {job.name} ended {job.status}: {job.error}")
        (key,) = [o.key for o in workspace.jobs.outputs(job.name) if o.key.endswith("/manifest.json")]
    bucket = (job.output_uri or "").removeprefix("s3://").partition("/")[0]
    manifest = json.loads(store.get_bytes(bucket, key))
    timings, totals = manifest["timings"], manifest["totals"]
    return {
        "job": job.name,
        "files": int(totals["files"]),
        "rows": int(totals["rows"]),
        "mini_batches": int(totals["mini_batches"]),
        "worker_startup_seconds": timings["worker_startup_seconds"],
        "scoring_seconds": timings["scoring_seconds"],
        "rows_per_second": timings["rows_per_second"],
        "created_at": job.created_at.timestamp(),
        "ended_at": job.ended_at.timestamp() if job.ended_at else None,
        "job_seconds": round((job.ended_at - job.created_at).total_seconds(), 3) if job.ended_at else None,
    }


def now_iso() -> str:
    """The current UTC time, to the second."""
    return datetime.now(UTC).isoformat(timespec="seconds")
