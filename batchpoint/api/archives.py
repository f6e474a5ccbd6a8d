"""Unpack an uploaded model folder (tar.gz) safely: relative regular files and folders only."""

from __future__ import annotations

import tarfile
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from batchpoint.errors import SpecError

ARCHIVE_FORM = "a tar.gz of the model folder whose members are relative paths inside it (files and folders only)"


def _check_member(member: tarfile.TarInfo) -> None:
    name = member.name
    path = PurePosixPath(name)
    if path.is_absolute() or name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        raise SpecError("archive", f"member {name!r} is an absolute path", ARCHIVE_FORM)
    if ".." in path.parts or "\\" in name:
        raise SpecError("archive", f"member {name!r} leaves the model folder", ARCHIVE_FORM)
    if not (member.isfile() or member.isdir()):
        raise SpecError("archive", f"member {name!r} is a link or special file", ARCHIVE_FORM)


def extract_model_archive(archive: BinaryIO, target: Path) -> Path:
    """Unpack ``archive`` (gzip-compressed tar) into ``target``; refuse any member that could escape it.

    Returns the model folder: ``target`` itself, or its only sub-folder when the archive wraps the
    model in one top-level folder (``tar czf m.tgz my_model/``).
    """
    try:
        with tarfile.open(fileobj=archive, mode="r:gz") as tar:
            members = tar.getmembers()
            for member in members:
                _check_member(member)
            if not any(m.isfile() for m in members):
                raise SpecError("archive", "holds no files", ARCHIVE_FORM)
            tar.extractall(target, members=members, filter="data")
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise SpecError("archive", f"cannot be read as tar.gz: {exc}", ARCHIVE_FORM) from exc
    entries = list(target.iterdir())
    if len(entries) == 1 and entries[0].is_dir() and not (target / "MLmodel").exists():
        return entries[0]
    return target
