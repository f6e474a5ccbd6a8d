"""Folders shipped to node agents through Ray's object store: the model's files, a scoring script's code.

Nodes share no disk with the coordinator, so a pool's model and code travel as tar bytes, once per
pool, and are unpacked once per content digest on each node (a second pool of the same model on
the same node finds them in place).
"""

from __future__ import annotations

import hashlib
import io
import shutil
import tarfile
import tempfile
from pathlib import Path


def pack(folder: Path) -> bytes:
    """The folder's files as an uncompressed tar (models are mostly binary; compressing buys little here)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file() or path.is_dir():
                archive.add(path, arcname=path.relative_to(folder).as_posix(), recursive=False)
    return buffer.getvalue()


def digest(data: bytes) -> str:
    """16 hex digits of the archive's sha256: the folder's name on the nodes."""
    return hashlib.sha256(data).hexdigest()[:16]


def unpack_once(data: bytes, root: Path) -> Path:
    """``root/<digest>``, unpacked now unless a complete copy is there (concurrent callers: the first wins)."""
    target = root / digest(data)
    if target.is_dir():
        return target
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=root))
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r") as archive:
            archive.extractall(staging, filter="data")  # "data": no absolute paths, links out, devices
        try:
            staging.rename(target)
        except OSError:
            if not target.is_dir():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target
