"""Jobs: show, cancel, read logs from an offset, list and download outputs."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from batchpoint.api.answers import LogChunk, OutputFile, ValueList
from batchpoint.api.deps import WorkspaceDep
from batchpoint.errors import NotFoundError
from batchpoint.specs.job import JobInfo
from batchpoint.specs.s3_uri import split_s3_uri
from batchpoint.storage.port import ObjectInfo

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])


@router.get("/{name}")
def get_job(name: str, workspace: WorkspaceDep) -> JobInfo:
    """One job: status, progress, output location, error."""
    return workspace.jobs.get(name)


@router.post("/{name}/cancel")
def cancel_job(name: str, workspace: WorkspaceDep) -> JobInfo:
    """Cancel a job that has not ended (an ended job is answered as it is)."""
    return workspace.jobs.cancel(name)


@router.get("/{name}/logs")
def job_logs(name: str, workspace: WorkspaceDep, offset: Annotated[int, Query(ge=0)] = 0) -> LogChunk:
    """The job's log text from ``offset`` (characters); ``done`` once the job has ended."""
    job = workspace.jobs.get(name)
    text = workspace.jobs.logs(name)
    return LogChunk(text=text[offset:], next_offset=max(offset, len(text)), done=job.status.ended)


def _relative_outputs(job: JobInfo, objects: list[ObjectInfo]) -> dict[str, ObjectInfo]:
    prefix = ""
    if job.output_uri:
        _, prefix = split_s3_uri(job.output_uri if job.output_uri.endswith("/") else job.output_uri + "/")
    return {obj.key.removeprefix(prefix): obj for obj in objects}


@router.get("/{name}/outputs")
def list_job_outputs(name: str, workspace: WorkspaceDep) -> ValueList[OutputFile]:
    """The files of the job's output folder (predictions, manifest, logs), relative to it."""
    outputs = _relative_outputs(workspace.jobs.get(name), workspace.jobs.outputs(name))
    return ValueList(value=[OutputFile(path=path, size=obj.size) for path, obj in outputs.items()])


@router.get("/{name}/outputs/{path:path}", response_class=FileResponse)
def download_job_output(name: str, path: str, workspace: WorkspaceDep) -> FileResponse:
    """One output file, streamed."""
    outputs = _relative_outputs(workspace.jobs.get(name), workspace.jobs.outputs(name))
    found = outputs.get(path)
    if found is None:
        raise NotFoundError("output file", f"{name}/{path}", f"list them with GET /v1/jobs/{name}/outputs")
    folder = Path(tempfile.mkdtemp(prefix="bp-output-"))
    local = folder / found.name
    try:
        workspace.store.download(found.bucket, found.key, local)
    except BaseException:
        _remove(folder)
        raise
    return FileResponse(local, filename=found.name, background=BackgroundTask(_remove, folder))


def _remove(folder: Path) -> None:
    for child in folder.iterdir():
        child.unlink()
    folder.rmdir()
