"""Unpacking uploaded model folders: relative files and folders only, anything else is a SpecError."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from batchpoint.api.archives import extract_model_archive
from batchpoint.errors import SpecError


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
    folder = extract_model_archive(_tar_gz({"MLmodel": b"flavors: {}\n", "model.pkl": b"x"}), tmp_path)
    assert folder == tmp_path
    assert (tmp_path / "MLmodel").read_text() == "flavors: {}\n"


def test_one_wrapping_folder_is_the_model_folder(tmp_path: Path) -> None:
    folder = extract_model_archive(_tar_gz({"my_model/MLmodel": b"m", "my_model/data/x.bin": b"x"}), tmp_path)
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
        extract_model_archive(_tar_gz(members), target)
    assert caught.value.field == "archive"
    assert caught.value.valid_form and "relative paths" in caught.value.valid_form
    assert list(target.iterdir()) == []
    assert not (tmp_path / "evil.py").exists()


def test_links_are_refused(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="link"):
        extract_model_archive(_tar_gz({"MLmodel": b"m"}, links={"passwd": "/etc/passwd"}), tmp_path)


@pytest.mark.parametrize("content", [b"", b"not a tarball", b"\x1f\x8b\x08\x00garbage"])
def test_unreadable_archives_are_spec_errors(tmp_path: Path, content: bytes) -> None:
    with pytest.raises(SpecError, match="archive"):
        extract_model_archive(io.BytesIO(content), tmp_path)


def test_an_empty_archive_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="no files"):
        extract_model_archive(_tar_gz({}), tmp_path)
