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

FILE_TIME = 946684800
"""Every member's time (2000-01-01 UTC): fixed, and after 1980, the earliest a zip file can hold."""


def pack(folder: Path) -> bytes:
    """The folder's files as an uncompressed tar (models are mostly binary; compressing buys little here).

    Only names, bytes and whether a file is executable go in: the same content packs to the same bytes.
    """
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file() or path.is_dir():
                archive.add(path, arcname=path.relative_to(folder).as_posix(), recursive=False, filter=_content_only)
    return buffer.getvalue()


def _content_only(member: tarfile.TarInfo) -> tarfile.TarInfo:
    # Two downloads of one model (two coordinators, a cache filled again) differ in file times,
    # owners and umask; left in, they would give the same model another digest, hence another
    # copy unpacked on every node.
    member.mtime = FILE_TIME
    member.uid = member.gid = 0
    member.uname = member.gname = ""
    member.mode = 0o755 if member.isdir() or member.mode & 0o100 else 0o644
    return member


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
