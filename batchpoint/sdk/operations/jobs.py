"""``ml_client.jobs``: show, list, stream logs, cancel and download the outputs of batch jobs.

A batch job here is its own scoring job: ``list(parent_job_name=job.name)`` gives the job itself,
so Azure's ``list(...)[0]`` then ``download(..., output_name="score")`` works unchanged.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path, PurePosixPath
from typing import TextIO

from batchpoint.errors import JobNotFinishedError, NotFoundError, ScoringError, SpecError
from batchpoint.outputs.layout import LATEST_FILE, VERSIONS_FOLDER
from batchpoint.sdk.entities.job import BatchJob
from batchpoint.sdk.operations.endpoints import segment
from batchpoint.sdk.poller import LROPoller
from batchpoint.sdk.progress import JobBar, terminal_console
from batchpoint.sdk.transport import ApiTransport

OUTPUT_NAME = "score"
LOG_POLL_S = 1.0


class JobOperations:
    """Azure: ``MLClient.jobs``."""

    def __init__(self, transport: ApiTransport) -> None:
        self._api = transport

    def get(self, name: str) -> BatchJob:
        """One job with its status and progress."""
        return BatchJob(self._api.get(f"/v1/jobs/{segment(name)}"))

    def list(self, parent_job_name: str | None = None) -> list[BatchJob]:
        """Every endpoint's jobs, newest first; with ``parent_job_name``, that job (it is its own child)."""
        if parent_job_name:
            return [self.get(parent_job_name)]
        jobs = [
            BatchJob(d)
            for endpoint in self._api.values("/v1/batch-endpoints")
            for d in self._api.values(f"/v1/batch-endpoints/{segment(endpoint['name'])}/jobs")
        ]
        return sorted(jobs, key=lambda j: j.created_at.timestamp() if j.created_at else 0.0, reverse=True)

    def stream(self, name: str, *, out: TextIO | None = None, poll_interval: float = LOG_POLL_S) -> BatchJob:
        """Print the job's log as it grows until the job ends; ``ScoringError`` if it failed.

        The log is the job's ``logs/user/`` files: the progress overview while it runs, then
        ``job_result.txt`` (each distinct ``init()`` error once, with the workers and attempts it
        hit) and ``job_error.txt``, each printed once.
        """
        sink = out or sys.stdout
        job = self.get(name)
        print(f"RunId: {name}", file=sink)
        if job.studio_url:
            print(f"Web View: {job.studio_url}", file=sink)
        offset = 0
        # On a terminal a live bar of the job's mini-batches sits under its log; piped, the log only.
        with JobBar(terminal_console(sink, self._api.show_progress), name) as bar:
            while True:
                chunk = self._api.get(f"/v1/jobs/{segment(name)}/logs", offset=offset)
                text = str(chunk.get("text", ""))
                if text:
                    bar.write(text, sink)
                if bar.shown:
                    job = self.get(name)
                    bar.update(job.status, job.progress)
                offset = int(chunk.get("next_offset", offset))
                if chunk.get("done"):
                    break
                if not text:
                    time.sleep(poll_interval)
        # The log above ends with the finished job's job_result.txt and job_error.txt (the API sends
        # them once the job has ended), so they are not printed again here.
        job = self.get(name)
        print(f"\nExecution Summary\n=================\nRunId: {name}\nStatus: {job.status}", file=sink)
        if job.output_uri:
            print(f"Outputs: {job.output_uri}", file=sink)
        if job.status == "Failed":
            raise ScoringError(f"job {name} failed: {job.error or 'see its logs/user/job_error.txt'}")
        if job.status == "Failed-check":
            written = "its outputs are written (job download)"
            raise ScoringError(f"job {name} failed a blocking check: {job.error}; {written}")
        return job

    def begin_cancel(self, name: str) -> LROPoller[BatchJob]:
        """Ask the job to stop; its status becomes Canceled."""
        return LROPoller(BatchJob(self._api.request("POST", f"/v1/jobs/{segment(name)}/cancel")))

    def cancel(self, name: str) -> BatchJob:
        """``begin_cancel(name).result()``."""
        return self.begin_cancel(name).result()

    def download(
        self, name: str, download_path: str | Path = ".", output_name: str | None = None, all: bool = False
    ) -> Path:
        """Download the job's outputs (predictions and logs) into ``<download_path>/named-outputs/score/``.

        Raises ``JobNotFinishedError`` while the job has not ended, as Azure refuses a job that is
        not in a terminal state: its outputs are not all written yet; ``NotFoundError`` when it ended
        without writing any (canceled before it started), rather than reporting an empty download.
        """
        if output_name not in (None, OUTPUT_NAME):
            raise SpecError("output_name", f"got {output_name!r}", f"`{OUTPUT_NAME}` (a batch job's one output)")
        job = self.get(name)
        if not job.done:
            raise JobNotFinishedError(name, job.status)
        target = Path(download_path) / "named-outputs" / OUTPUT_NAME
        listed = [PurePosixPath(str(entry["path"])) for entry in self._api.values(f"/v1/jobs/{segment(name)}/outputs")]
        files = output_files(listed)
        if not files:
            why = f": {job.error}" if job.error else ""
            raise NotFoundError("outputs of job", name, f"it ended {job.status} without writing any{why}")
        for remote, relative in files:
            if relative.is_absolute() or ".." in relative.parts:
                raise SpecError("outputs", f"the server listed {str(remote)!r}", "paths inside the job's output")
            local = target.joinpath(*relative.parts)
            local.parent.mkdir(parents=True, exist_ok=True)
            url = f"/v1/jobs/{segment(name)}/outputs/" + "/".join(segment(p) for p in remote.parts)
            with self._api.stream(url) as response, local.open("wb") as handle:
                for block in response.iter_bytes():
                    handle.write(block)
        return target


def output_files(listed: list[PurePosixPath]) -> list[tuple[PurePosixPath, PurePosixPath]]:
    """``(remote, local)`` paths to download: the newest ``versions/<id>/`` folder, flattened.

    A job's output folder keeps each run as ``versions/<id>/`` plus ``latest.json``; Azure users
    look for ``named-outputs/score/predictions.csv``, so the version folder's files land there.
    """
    versions = sorted({p.parts[1] for p in listed if len(p.parts) > 2 and p.parts[0] == VERSIONS_FOLDER})
    if not versions:
        return [(p, p) for p in listed if p.name != LATEST_FILE]
    chosen = (VERSIONS_FOLDER, versions[-1])
    return [(p, PurePosixPath(*p.parts[2:])) for p in listed if p.parts[:2] == chosen]
