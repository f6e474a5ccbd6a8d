"""What the issue asks after every fault, once the month was scored again.

The month's ``latest`` holds every landed file's rows exactly once, no partial version became
``latest``, no process is left behind, and every job of the endpoint is terminal. Each is polled
for with a generous deadline; nothing asserts how long anything took.
"""

from __future__ import annotations

import io
from collections import Counter
from pathlib import Path

import pandas as pd

from batchpoint.specs.job import JobInfo
from batchpoint.stack.process import group_members
from tests.faults.endpoint import ScoringEndpoint
from tests.faults.stack import ENDED_RUN, FaultStack, poll, stack_processes


def assert_invariants(endpoint: ScoringEndpoint, month: str) -> None:
    """What the issue asks after every fault, once the month was scored again."""
    poll(lambda: endpoint.scored(month), f"{month}'s latest holding every landed file")
    assert_latest_holds_every_row_once(endpoint, month)
    poll(lambda: all(r.status in ENDED_RUN for r in endpoint.runs(month)), f"every run of {month} ended")
    assert_no_process_left_behind(endpoint.faults)
    assert_jobs_terminal(endpoint)


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
    predictions = pd.read_csv(io.BytesIO(raw), header=None, names=["prediction", "file"])
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
