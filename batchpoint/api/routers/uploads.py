"""``POST /v1/uploads``: the SDK puts local inputs in the datastore before invoking."""

from __future__ import annotations

import re
import uuid
from typing import Annotated

from fastapi import APIRouter, File, Query, UploadFile, status

from batchpoint.api.answers import Upload
from batchpoint.api.body_limits import UPLOAD_ROUTE
from batchpoint.api.deps import WorkspaceDep
from batchpoint.errors import SpecError

router = APIRouter(prefix="/v1/uploads", tags=["uploads"])

UPLOADS = "uploads"
PREFIX_FORM = "a relative folder such as `<upload id>/<sub folder>` (no `..` segments)"
_SEGMENT = re.compile(r"^[^/\\\x00-\x1f]+$")


def _segments(value: str, field: str, form: str) -> list[str]:
    parts = [p for p in value.strip("/").split("/") if p]
    for part in parts:
        if part in {".", ".."} or not _SEGMENT.match(part):
            raise SpecError(field, f"got {value!r}", form)
    return parts


@router.post("", status_code=status.HTTP_201_CREATED, openapi_extra=UPLOAD_ROUTE)
def upload(
    workspace: WorkspaceDep,
    file: Annotated[UploadFile, File(description="the file's content; its name is kept")],
    prefix: Annotated[str | None, Query(max_length=512, description=PREFIX_FORM)] = None,
) -> Upload:
    """Store the file at ``s3://<output bucket>/uploads/<prefix or a new id>/<file name>``."""
    folder = _segments(prefix, "prefix", PREFIX_FORM) if prefix else []
    if not folder:
        folder = [uuid.uuid4().hex]
    names = _segments(file.filename or "", "file", "a file name without folders")
    if len(names) != 1:
        raise SpecError("file", f"has the name {file.filename!r}", "a file name without folders")
    bucket = workspace.settings.output_bucket
    key = "/".join([UPLOADS, *folder, names[0]])
    # Streamed in parts: an upload of gigabytes never sits whole in the API's memory.
    workspace.store.upload_stream(file.file, bucket, key)
    return Upload(uri=f"s3://{bucket}/{key}")
