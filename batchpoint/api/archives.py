"""Unpack an uploaded model folder (tar.gz) safely: relative regular files and folders only, bounded.

The archive is read as a stream and every member is checked before anything of it is written: no
absolute paths, no ``..``, no links or special files. What is unpacked is counted as it is written,
not taken from the headers: at most ``Settings.model_archive_max_files`` members and
``Settings.model_archive_max_unpacked_bytes`` bytes of files, and no tar header (a long name, pax
records) over ``HEADER_MAX_BYTES``. A refused archive leaves nothing behind in the target.
"""

from __future__ import annotations

import gzip
import shutil
import tarfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from batchpoint.config import ENV_PREFIX, Settings
from batchpoint.errors import LimitExceededError, SpecError

ARCHIVE_FORM = "a tar.gz of the model folder whose members are relative paths inside it (files and folders only)"
BYTES_SETTING = ENV_PREFIX + "MODEL_ARCHIVE_MAX_UNPACKED_BYTES"
FILES_SETTING = ENV_PREFIX + "MODEL_ARCHIVE_MAX_FILES"
HEADER_MAX_BYTES = 1024 * 1024
"""Bytes a member's headers may take (a name, pax records); far more than any model file needs."""
_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class ArchiveLimits:
    """How much one model archive may unpack to."""

    max_unpacked_bytes: int
    max_files: int

    @classmethod
    def of(cls, settings: Settings) -> ArchiveLimits:
        """The limits ``settings`` set."""
        return cls(settings.model_archive_max_unpacked_bytes, settings.model_archive_max_files)


def _check_member(member: tarfile.TarInfo) -> None:
    name = member.name
    path = PurePosixPath(name)
    if path.is_absolute() or name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        raise SpecError("archive", f"member {name!r} is an absolute path", ARCHIVE_FORM)
    if ".." in path.parts or "\\" in name:
        raise SpecError("archive", f"member {name!r} leaves the model folder", ARCHIVE_FORM)
    if not (member.isfile() or member.isdir()):
        raise SpecError("archive", f"member {name!r} is a link or special file", ARCHIVE_FORM)


class _Inflated:
    """The archive's tar stream, inflated on demand; refuses a header over ``HEADER_MAX_BYTES``."""

    def __init__(self, compressed: BinaryIO) -> None:
        self._gzip = gzip.GzipFile(fileobj=compressed, mode="rb")
        self._header_bytes: int | None = 0  # None while a member's data is read

    def read(self, size: int = -1) -> bytes:
        data = self._gzip.read(size)
        if self._header_bytes is not None:
            self._header_bytes += len(data)
            if self._header_bytes > HEADER_MAX_BYTES + 2 * tarfile.RECORDSIZE:  # plus read-ahead
                raise SpecError("archive", f"has a member header over {HEADER_MAX_BYTES} bytes", ARCHIVE_FORM)
        return data

    def reading_headers(self) -> None:
        self._header_bytes = 0

    def reading_data(self) -> None:
        self._header_bytes = None


def extract_model_archive(archive: BinaryIO, target: Path, limits: ArchiveLimits) -> Path:
    """Unpack ``archive`` (gzip-compressed tar) into the empty folder ``target``; refuse members that escape it.

    ``SpecError`` (``LimitExceededError`` for a limit) naming ``archive`` otherwise, with ``target``
    left empty. Returns the model folder: ``target`` itself, or its only sub-folder when the archive
    wraps the model in one top-level folder (``tar czf m.tgz my_model/``).
    """
    try:
        _unpack(archive, target, limits)
    except BaseException:
        for entry in target.iterdir():  # ``target`` is this call's folder: empty it again
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        raise
    entries = list(target.iterdir())
    if len(entries) == 1 and entries[0].is_dir() and not (target / "MLmodel").exists():
        return entries[0]
    return target


def _unpack(archive: BinaryIO, target: Path, limits: ArchiveLimits) -> None:
    root = target.resolve()
    members = files = unpacked = 0
    inflated = _Inflated(archive)
    try:
        with tarfile.open(fileobj=inflated, mode="r|") as tar:  # type: ignore[call-overload]
            while (member := tar.next()) is not None:
                inflated.reading_data()
                members += 1
                if members > limits.max_files:
                    problem = f"holds more than {limits.max_files} files and folders"
                    raise LimitExceededError(
                        "archive", problem, limit=limits.max_files, setting=FILES_SETTING, unit="files and folders"
                    )
                _check_member(member)
                destination = (root / member.name).resolve()
                if not destination.is_relative_to(root):
                    raise SpecError("archive", f"member {member.name!r} leaves the model folder", ARCHIVE_FORM)
                if member.isdir():
                    destination.mkdir(parents=True, exist_ok=True)
                else:
                    unpacked = _write(tar, member, destination, unpacked, limits)
                    files += 1
                inflated.reading_headers()
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise SpecError("archive", f"cannot be read as tar.gz: {exc}", ARCHIVE_FORM) from exc
    if files == 0:
        raise SpecError("archive", "holds no files", ARCHIVE_FORM)


def _write(
    tar: tarfile.TarFile, member: tarfile.TarInfo, destination: Path, unpacked: int, limits: ArchiveLimits
) -> int:
    """Copy one file member, counting its bytes as written; the running total after it."""
    if destination.exists():
        raise SpecError("archive", f"member {member.name!r} appears twice", ARCHIVE_FORM)
    source = tar.extractfile(member)
    if source is None:
        raise SpecError("archive", f"member {member.name!r} has no content", ARCHIVE_FORM)
    destination.parent.mkdir(parents=True, exist_ok=True)
    with destination.open("xb") as out:
        while chunk := source.read(min(_CHUNK, limits.max_unpacked_bytes - unpacked + 1)):
            unpacked += len(chunk)
            if unpacked > limits.max_unpacked_bytes:
                problem = f"unpacks to more than {limits.max_unpacked_bytes} bytes (reached at member {member.name!r})"
                raise LimitExceededError("archive", problem, limit=limits.max_unpacked_bytes, setting=BYTES_SETTING)
            out.write(chunk)
    return unpacked
