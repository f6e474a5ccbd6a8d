"""Waiting for a data-arrival run to publish a new output version, showing progress as it goes."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from batchpoint.config import Settings
from batchpoint.errors import BatchpointError
from batchpoint.orchestration.dagster_graphql import DagsterClient, RunInfo
from batchpoint.outputs.layout import OutputLayout
from batchpoint.outputs.versions import LatestPointer, read_latest
from batchpoint.storage.port import ObjectStore

_FAILED = {"FAILURE", "CANCELED"}


class DemoError(BatchpointError):
    """A demo step failed; the message says which and where to look."""


@dataclass(frozen=True)
class PublishedVersion:
    """The version ``latest`` moved to."""

    version_id: str
    predictions_key: str
    pointer: LatestPointer


def wait_for_new_version(
    store: ObjectStore,
    settings: Settings,
    *,
    dagster: DagsterClient,
    endpoint: str,
    partition: str,
    before: LatestPointer | None,
    say: Callable[[str], None],
    timeout_seconds: float = 300.0,
    job_name: str | None = None,
) -> PublishedVersion:
    """Poll ``latest`` until it moves past ``before``; report run states; fail with the run's error."""
    layout = OutputLayout(settings.output_bucket, endpoint, partition)
    job = job_name or "score_" + endpoint.replace("-", "_")
    started = time.monotonic()
    since = time.time()
    seen_states: dict[str, str] = {}
    last_beat = 0.0
    while (elapsed := time.monotonic() - started) < timeout_seconds:
        latest = read_latest(store, layout)
        if latest is not None and (before is None or latest.version_id != before.version_id):
            key = latest.output_uri.removeprefix(f"s3://{settings.output_bucket}/")
            say(f"[{elapsed:5.1f} s] version {latest.version_id} published; latest moved")
            return PublishedVersion(latest.version_id, key, latest)
        runs = [r for r in _runs(dagster, job, partition) if _newer(r, before, since)]
        for run in runs:
            if seen_states.get(run.run_id) != run.status:
                seen_states[run.run_id] = run.status
                say(f"[{elapsed:5.1f} s] run {run.run_id[:8]} for {partition}: {run.status.lower()}")
            if run.status in _FAILED:
                reasons = dagster.failure_messages(run.run_id) or ["(no error message recorded)"]
                raise DemoError(
                    f"run {run.run_id} of {job} for {partition} ended {run.status}:\n  "
                    + "\n  ".join(reasons[:5])
                    + f"\nFull log: {settings.dagster_url}/runs/{run.run_id}"
                )
        if not runs and elapsed - last_beat >= 5:
            last_beat = elapsed
            say(f"[{elapsed:5.1f} s] waiting for the sensor to request a run …")
        time.sleep(1.0)
    logs = settings.data_dir.resolve() / "logs"
    raise DemoError(
        f"no new version of {endpoint} {partition} after {timeout_seconds:.0f} s and no failed run: "
        f"check the publisher ({logs}/publisher.log) and the daemon ({logs}/dagster-daemon.log)"
    )


def _runs(dagster: DagsterClient, job: str, partition: str) -> list[RunInfo]:
    try:
        return dagster.runs(job, partition)
    except BatchpointError:
        return []  # the job may not exist until the code location has reloaded


def _newer(run: RunInfo, before: LatestPointer | None, since: float) -> bool:
    """A run of this wait: not the one behind ``before``, and not one that ended before it began."""
    if before is not None and run.run_id == before.job_id:
        return False
    return run.end_time is None or run.end_time >= since
