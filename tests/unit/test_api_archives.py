"""Unpacking uploaded model folders: relative files and folders only, anything else is a SpecError."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from batchpoint.api.archives import BYTES_SETTING, FILES_SETTING, HEADER_MAX_BYTES, ArchiveLimits, extract_model_archive
from batchpoint.config import Settings
from batchpoint.errors import LimitExceededError, SpecError

LIMITS = ArchiveLimits.of(Settings())


def _tar_gz(members: dict[str, bytes], *, links: dict[str, str] | None = None) -> io.BytesIO:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            tar.addfile(info)
    buffer.seek(0)
    return buffer


def test_files_land_in_the_target(tmp_path: Path) -> None:
    folder = extract_model_archive(_tar_gz({"MLmodel": b"flavors: {}\n", "model.pkl": b"x"}), tmp_path, LIMITS)
    assert folder == tmp_path
    assert (tmp_path / "MLmodel").read_text() == "flavors: {}\n"


def test_one_wrapping_folder_is_the_model_folder(tmp_path: Path) -> None:
    folder = extract_model_archive(_tar_gz({"my_model/MLmodel": b"m", "my_model/data/x.bin": b"x"}), tmp_path, LIMITS)
    assert folder == tmp_path / "my_model"
    assert (folder / "data" / "x.bin").read_bytes() == b"x"


@pytest.mark.parametrize(
    ("members", "problem"),
    [
        ({"../evil.py": b"x"}, "leaves the model folder"),
        ({"model/../../evil.py": b"x"}, "leaves the model folder"),
        ({"/etc/cron.d/evil": b"x"}, "absolute path"),
    ],
)
def test_escaping_members_are_refused(tmp_path: Path, members: dict[str, bytes], problem: str) -> None:
    target = tmp_path / "target"
    target.mkdir()
    with pytest.raises(SpecError, match=problem) as caught:
        extract_model_archive(_tar_gz(members), target, LIMITS)
    assert caught.value.field == "archive"
    assert caught.value.valid_form and "relative paths" in caught.value.valid_form
    assert list(target.iterdir()) == []
    assert not (tmp_path / "evil.py").exists()


def test_links_are_refused(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="link"):
        extract_model_archive(_tar_gz({"MLmodel": b"m"}, links={"passwd": "/etc/passwd"}), tmp_path, LIMITS)


@pytest.mark.parametrize("content", [b"", b"not a tarball", b"\x1f\x8b\x08\x00garbage"])
def test_unreadable_archives_are_spec_errors(tmp_path: Path, content: bytes) -> None:
    with pytest.raises(SpecError, match="archive"):
        extract_model_archive(io.BytesIO(content), tmp_path, LIMITS)


def test_an_empty_archive_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="no files"):
        extract_model_archive(_tar_gz({}), tmp_path, LIMITS)


class _Zeros(io.RawIOBase):
    """``size`` zero bytes, produced as read: a bomb's content never sits in the test's memory."""

    def __init__(self, size: int) -> None:
        self.left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        n = min(len(buffer), self.left)
        buffer[:n] = bytes(n)
        self.left -= n
        return n


def _bomb(unpacked: int, *, first: dict[str, bytes] | None = None) -> io.BytesIO:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in (first or {}).items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        info = tarfile.TarInfo("model/weights.bin")
        info.size = unpacked
        tar.addfile(info, _Zeros(unpacked))
    buffer.seek(0)
    return buffer


def test_a_bomb_is_refused_naming_the_limit_and_leaves_nothing(tmp_path: Path) -> None:
    limits = ArchiveLimits(max_unpacked_bytes=1024 * 1024, max_files=100)
    bomb = _bomb(64 * 1024 * 1024, first={"model/MLmodel": b"flavors: {}\n"})
    assert len(bomb.getvalue()) < 128 * 1024  # 64 MiB of zeros compress to a few dozen KiB
    target = tmp_path / "target"
    target.mkdir()
    with pytest.raises(LimitExceededError) as caught:
        extract_model_archive(bomb, target, limits)
    assert caught.value.field == "archive"
    assert caught.value.setting == BYTES_SETTING == "BATCHPOINT_MODEL_ARCHIVE_MAX_UNPACKED_BYTES"
    assert "1048576" in str(caught.value) and BYTES_SETTING in str(caught.value)
    assert list(target.iterdir()) == []  # the small file written before the bomb is gone too


def test_an_archive_exactly_at_the_limit_is_unpacked(tmp_path: Path) -> None:
    limits = ArchiveLimits(max_unpacked_bytes=1000 + 12, max_files=3)
    folder = extract_model_archive(_bomb(1000, first={"model/MLmodel": b"flavors: {}\n"}), tmp_path, limits)
    assert (folder / "weights.bin").stat().st_size == 1000


def test_too_many_members_are_refused_naming_the_setting(tmp_path: Path) -> None:
    limits = ArchiveLimits(max_unpacked_bytes=1024 * 1024, max_files=5)
    with pytest.raises(LimitExceededError) as caught:
        extract_model_archive(_tar_gz({f"f{i}.txt": b"x" for i in range(6)}), tmp_path, limits)
    assert caught.value.setting == FILES_SETTING == "BATCHPOINT_MODEL_ARCHIVE_MAX_FILES"
    assert list(tmp_path.iterdir()) == []


def test_a_member_header_over_the_bound_is_refused(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo("model/MLmodel")
        info.pax_headers = {"comment": "x" * (HEADER_MAX_BYTES + 64 * 1024)}
        tar.addfile(info, io.BytesIO(b""))
    buffer.seek(0)
    with pytest.raises(SpecError, match="header"):
        extract_model_archive(buffer, tmp_path, LIMITS)


def test_a_member_given_twice_is_refused(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for data in (b"one", b"two"):
            info = tarfile.TarInfo("MLmodel")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    buffer.seek(0)
    with pytest.raises(SpecError, match="appears twice"):
        extract_model_archive(buffer, tmp_path, LIMITS)
    assert list(tmp_path.iterdir()) == []
