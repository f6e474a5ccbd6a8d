"""Local files into the datastore: inputs, data assets and code go through ``POST /v1/uploads``;
a model folder travels as one tar.gz.
"""

from __future__ import annotations

import io
import tarfile
import uuid
from pathlib import Path

from batchpoint.errors import SpecError
from batchpoint.sdk.progress import UploadBar, stderr_console
from batchpoint.sdk.transport import ApiTransport

REMOTE_FORMS = "a local file or folder, `s3://<bucket>/<key>`, `azureml:<data>:<version>` or `azureml:<data>@latest`"


def is_remote(path: str | Path) -> bool:
    """Whether ``path`` already names something the server can read (a URI or an asset reference)."""
    text = str(path)
    return "://" in text or text.startswith(("azureml:", "runs:/", "models:/"))


def existing_local(path: str | Path, field: str) -> Path:
    """``path`` as an existing local ``Path``; ``SpecError`` naming ``field`` otherwise."""
    local = Path(path).expanduser()
    if not local.exists():
        raise SpecError(field, f"{str(path)!r} does not exist here", REMOTE_FORMS)
    return local


def upload_local(transport: ApiTransport, local: Path, field: str) -> str:
    """Upload a file (its ``s3://`` URI) or a folder, keeping its layout (``s3://.../<folder>/``).

    On a terminal (``transport.show_progress``) a bar shows the bytes and files sent.
    """
    upload_id = uuid.uuid4().hex[:12]
    console = stderr_console(transport.show_progress)
    if local.is_file():
        with UploadBar.for_files(console, f"uploading {local.name}", [local]) as bar:
            uri = transport.upload_file(local, upload_id, on_sent=bar.advance)
            bar.file_done()
        return uri
    files = sorted(p for p in local.rglob("*") if p.is_file())
    if not files:
        raise SpecError(field, f"folder {str(local)!r} holds no files", "a folder with at least one file")
    folder_uri = ""
    with UploadBar.for_files(console, f"uploading {local.resolve().name}/", files) as bar:
        for file in files:
            relative = file.relative_to(local)
            prefix = "/".join([upload_id, local.resolve().name, *relative.parent.parts])
            uri = transport.upload_file(file, prefix, on_sent=bar.advance)
            bar.file_done()
            # The server keeps `<prefix>/<file name>`; the folder is what comes before the relative path.
            folder_uri = folder_uri or uri.removesuffix(relative.as_posix())
    return folder_uri


def archived_files(local: Path) -> int:
    """How many files ``model_archive(local)`` holds."""
    return 1 if local.is_file() else sum(1 for p in local.rglob("*") if p.is_file())


def model_archive(local: Path) -> bytes:
    """A tar.gz of a model folder's contents (members relative to it), or of one model file."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", dereference=True) as tar:
        if local.is_file():
            tar.add(local, arcname=local.name)
        else:
            for item in sorted(local.rglob("*")):
                if item.is_file() or item.is_dir():
                    tar.add(item, arcname=item.relative_to(local).as_posix(), recursive=False)
    return buffer.getvalue()
