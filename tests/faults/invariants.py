"""What the issue asks after every fault, once the month was scored again.

The month's ``latest`` holds every landed file's rows exactly once, no partial version became
``latest``, no process is left behind, and every job of the endpoint is terminal. Each is polled
for with a generous deadline; nothing asserts how long anything took.
"""

from __future__ import annotations

import io
import json
import os
import time
from collections import Counter
from pathlib import Path

import pandas as pd

from batchpoint.specs.job import JobInfo
from batchpoint.stack.process import group_members
from tests.faults.endpoint import ScoringEndpoint
from tests.faults.stack import ENDED_RUN, FaultStack, poll, stack_processes

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def assert_invariants(endpoint: ScoringEndpoint, month: str, fault_at: float | None = None) -> None:
    """What the issue asks after every fault, once the month was scored again.

    ``fault_at`` (``time.monotonic()`` when the fault was injected): the time until ``latest``
    held every landed file is written to ``test-artifacts/fault-recovery.jsonl``, for the record,
    never asserted.
    """
    poll(lambda: endpoint.scored(month), f"{month}'s latest holding every landed file")
    if fault_at is not None:
        record_recovery(time.monotonic() - fault_at)
    assert_latest_holds_every_row_once(endpoint, month)
    poll(lambda: all(r.status in ENDED_RUN for r in endpoint.runs(month)), f"every run of {month} ended")
    assert_no_process_left_behind(endpoint.faults)
    assert_jobs_terminal(endpoint)


def record_recovery(seconds: float) -> None:
    """Append the current test's name and its recovery time to ``test-artifacts/fault-recovery.jsonl``."""
    test = os.environ.get("PYTEST_CURRENT_TEST", "?").split(" ")[0]
    ARTIFACTS.mkdir(exist_ok=True)
    with (ARTIFACTS / "fault-recovery.jsonl").open("a") as out:
        out.write(json.dumps({"test": test, "recovered_s": round(seconds, 1)}) + "\n")


def assert_latest_holds_every_row_once(endpoint: ScoringEndpoint, month: str) -> None:
    """``latest`` is a complete version: every landed file once, all its rows once, nothing failed."""
    manifest = endpoint.latest_manifest(month)
    assert manifest is not None, f"{month} has no latest version"
    landed = endpoint.landed[month]
    keys = [i["uri"].split("/", 3)[3] for i in manifest["inputs"]]
    assert sorted(keys) == sorted(landed), f"{month}: latest's inputs are not the landed files"
    # A partial version (a run killed while writing) never becomes latest: latest is complete.
    assert manifest["status"] == "Completed", f"latest of {month} is {manifest['status']}"
    assert manifest["totals"]["failed_files"] == 0
    rows = sum(landed.values())
    assert manifest["totals"]["rows"] == rows
    raw = endpoint.store.get_bytes(endpoint.settings.output_bucket, manifest["output"]["uri"].split("/", 3)[3])
    predictions = pd.read_csv(io.BytesIO(raw), header=None, names=["row", "prediction", "file"])
    assert Counter(predictions["file"]) == Counter({k.rsplit("/", 1)[1]: n for k, n in landed.items()})


def assert_no_process_left_behind(faults: FaultStack) -> None:
    """Once no run is in flight, every process with the stack's data dir belongs to a running service."""

    def strays() -> list[int]:
        services = faults.service_pgids()
        members = {pid for pgid in services for pid in group_members(pgid)}
        return [pid for pid in stack_processes(faults.settings) if pid not in members]

    left: list[int] = []

    def none_left() -> bool:
        left[:] = strays()
        return not left

    try:
        poll(none_left, "no stray process", timeout=60)
    except AssertionError:
        described = [f"{pid}: {_cmdline(pid)}" for pid in left]
        raise AssertionError(f"processes left behind: {described}") from None


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")[:200]
    except OSError:
        return "(gone)"


def assert_jobs_terminal(endpoint: ScoringEndpoint) -> None:
    """Every job row of the endpoint ended (Completed, Failed or Canceled)."""
    left: list[JobInfo] = []

    def all_ended() -> bool:
        left[:] = [j for j in endpoint.jobs() if not j.status.ended]
        return not left

    try:
        poll(all_ended, "every job terminal", timeout=120)
    except AssertionError:
        described = [(j.name, j.status.value, j.dagster_run_id) for j in left]
        raise AssertionError(f"jobs not terminal: {described}") from None
