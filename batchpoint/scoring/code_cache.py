"""A deployment's scoring code on local disk: the S3 code folder, downloaded once per URI.

Layout under ``cache_dir/code/``::

    <sha256(uri)[:16]>/      the folder's files at their relative paths (renamed into place whole)
    .<sha256(uri)[:16]>-*/   a download in progress (or a crashed one)

Code stored by ``management/code_upload.py`` sits under a content digest, so a URI always names
the same files and a cached copy never goes stale.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

from batchpoint.errors import NotFoundError, ScoringError, SpecError
from batchpoint.specs.s3_uri import split_s3_uri
from batchpoint.storage.port import ObjectStore

CODE_FOLDER_FORM = "`s3://<bucket>/<prefix>/`, the folder `code_configuration.code` was stored in"


def code_cache_path(uri: str, cache_dir: Path) -> Path:
    """Where ``fetch_code`` keeps the files of ``uri``."""
    return cache_dir / "code" / hashlib.sha256(uri.encode()).hexdigest()[:16]


def fetch_code(uri: str, store: ObjectStore, cache_dir: Path) -> Path:
    """The local copy of the S3 code folder ``uri``, downloaded on first use.

    A concurrent caller may download the same folder too; the first to finish renames its copy into
    place and the others use that one. Raises ``SpecError`` for a URI that is not an S3 folder,
    ``NotFoundError`` when nothing is stored under it, ``StorageError`` when the store fails.
    """
    try:
        bucket, prefix = split_s3_uri(uri)
    except ValueError as exc:
        raise SpecError("code_configuration.code", f"got {uri!r}", CODE_FOLDER_FORM) from exc
    if prefix and not prefix.endswith("/"):
        prefix += "/"  # `s3://b/code` must not also take `s3://b/code-old/...`
    target = code_cache_path(uri, cache_dir)
    if target.is_dir():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        _download_folder(uri, store, bucket, prefix, staging)
        try:
            os.rename(staging, target)
        except OSError:
            if not target.is_dir():
                raise
            # Another caller finished first; its copy holds the same files.
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _download_folder(uri: str, store: ObjectStore, bucket: str, prefix: str, into: Path) -> None:
    try:
        objects = list(store.list(bucket, prefix))
    except NotFoundError as exc:  # the bucket itself is missing
        raise NotFoundError("code folder", uri, f"{exc}; store the deployment's code again") from exc
    files = [obj for obj in objects if obj.key != prefix and not obj.key.endswith("/")]
    if not files:
        raise NotFoundError("code folder", uri, "no files are stored under it; store the deployment's code again")
    root = into.resolve()
    for obj in files:
        destination = (into / obj.key[len(prefix) :]).resolve()
        if destination == root or not destination.is_relative_to(root):
            raise ScoringError(f"code folder {uri}: object key {obj.key!r} points outside the folder")
        store.download(bucket, obj.key, destination)
