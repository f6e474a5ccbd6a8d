"""Folders shipped to node agents as tar bytes: packed once, unpacked once per content digest, safely."""

from __future__ import annotations

import io
import os
import tarfile
import tempfile
from pathlib import Path

import pytest

from batchpoint.ray_compute.folder_archive import digest, pack, unpack_once

FILES = {
    "MLmodel": b"flavors:\n  python_function: {}\n",
    "model.pkl": bytes(range(256)) * 40,  # binary, every byte value
    "code/score.py": b"def init():\n    pass\n",
    "code/lib/features.py": b"X = 1\n",
    "data/nested/deep/table.csv": b"a,b\n1,2\n",
    "empty.bin": b"",
}


def make_folder(root: Path, files: dict[str, bytes] = FILES) -> Path:
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


def contents(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def tar_of(*members: tuple[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_pack_and_unpack_give_back_every_file(tmp_path: Path) -> None:
    source = make_folder(tmp_path / "source")

    target = unpack_once(pack(source), tmp_path / "nodes")

    assert contents(target) == FILES
    assert (target / "data" / "nested" / "deep").is_dir()


def test_an_empty_subfolder_travels_too(tmp_path: Path) -> None:
    source = make_folder(tmp_path / "source")
    (source / "artifacts" / "none_yet").mkdir(parents=True)

    target = unpack_once(pack(source), tmp_path / "nodes")

    assert (target / "artifacts" / "none_yet").is_dir()


def test_an_executable_script_stays_executable(tmp_path: Path) -> None:
    source = make_folder(tmp_path / "source")
    (source / "code" / "score.py").chmod(0o755)

    target = unpack_once(pack(source), tmp_path / "nodes")

    assert os.access(target / "code" / "score.py", os.X_OK)
    assert not os.access(target / "MLmodel", os.X_OK)


def test_the_folder_is_named_by_the_archive_digest(tmp_path: Path) -> None:
    data = pack(make_folder(tmp_path / "source"))

    target = unpack_once(data, tmp_path / "nodes")

    assert target == tmp_path / "nodes" / digest(data)
    assert len(target.name) == 16
    assert list((tmp_path / "nodes").iterdir()) == [target]  # no staging folder left behind


def test_packing_the_same_folder_twice_gives_the_same_bytes(tmp_path: Path) -> None:
    source = make_folder(tmp_path / "source")

    assert pack(source) == pack(source)


def test_the_same_content_in_another_folder_gives_the_same_digest(tmp_path: Path) -> None:
    # Two downloads of one model (two coordinators, or the cache filled again) differ in file
    # times and in the umask their files were written with.
    first = make_folder(tmp_path / "first")
    second = make_folder(tmp_path / "second")
    for path in second.rglob("*"):
        path.chmod(0o775 if path.is_dir() else 0o664)
        os.utime(path, (1_000_000_000, 1_000_000_000))

    assert digest(pack(first)) == digest(pack(second))
    assert unpack_once(pack(first), tmp_path / "nodes") == unpack_once(pack(second), tmp_path / "nodes")


def test_different_content_gives_a_different_folder(tmp_path: Path) -> None:
    first = make_folder(tmp_path / "first")
    second = make_folder(tmp_path / "second", {**FILES, "model.pkl": b"retrained"})

    assert unpack_once(pack(first), tmp_path / "nodes") != unpack_once(pack(second), tmp_path / "nodes")


def test_a_second_unpack_of_the_same_bytes_leaves_the_first_in_place(tmp_path: Path) -> None:
    data = pack(make_folder(tmp_path / "source"))
    first = unpack_once(data, tmp_path / "nodes")
    # A mark the second call would wipe out if it unpacked again.
    (first / "MLmodel").write_bytes(b"marked")

    second = unpack_once(data, tmp_path / "nodes")

    assert second == first
    assert (second / "MLmodel").read_bytes() == b"marked"
    assert list((tmp_path / "nodes").iterdir()) == [first]


def test_a_concurrent_unpack_that_finished_first_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = pack(make_folder(tmp_path / "source"))
    root = tmp_path / "nodes"
    winner = root / digest(data)
    real_mkdtemp = tempfile.mkdtemp

    def mkdtemp_while_another_finishes(prefix: str, dir: Path) -> str:
        # Another caller renames its complete copy into place while this one extracts.
        make_folder(winner, {"MLmodel": b"the winner's"})
        return real_mkdtemp(prefix=prefix, dir=dir)

    monkeypatch.setattr(tempfile, "mkdtemp", mkdtemp_while_another_finishes)

    assert unpack_once(data, root) == winner
    assert (winner / "MLmodel").read_bytes() == b"the winner's"
    assert list(root.iterdir()) == [winner]  # this caller's staging copy is gone


@pytest.mark.parametrize("name", ["../escaped.txt", "inside/../../escaped.txt", "inside/../../../../escaped.txt"])
def test_a_member_climbing_out_of_the_folder_is_refused(tmp_path: Path, name: str) -> None:
    root = tmp_path / "deep" / "er" / "nodes"
    data = tar_of(("fine.txt", b"ok"), (name, b"bad"))

    with pytest.raises(tarfile.OutsideDestinationError):
        unpack_once(data, root)

    assert [p.name for p in tmp_path.rglob("escaped.txt")] == []
    assert list(root.iterdir()) == []  # neither the digest folder nor a half-extracted staging copy


def test_an_absolute_member_lands_inside_the_folder(tmp_path: Path) -> None:
    # The "data" filter strips the leading slash (it refuses only what stays absolute after that).
    outside = tmp_path / "outside.txt"
    data = tar_of((str(outside), b"bad"))

    target = unpack_once(data, tmp_path / "nodes")

    assert not outside.exists()
    assert contents(target) == {str(outside).lstrip("/"): b"bad"}


@pytest.mark.parametrize(
    ("link", "error"),
    [("/etc/passwd", tarfile.AbsoluteLinkError), ("../../outside.txt", tarfile.LinkOutsideDestinationError)],
)
def test_a_link_out_of_the_folder_is_refused(tmp_path: Path, link: str, error: type[Exception]) -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        info = tarfile.TarInfo("model.pkl")
        info.type = tarfile.SYMTYPE
        info.linkname = link
        archive.addfile(info)
    root = tmp_path / "nodes"

    with pytest.raises(error):
        unpack_once(buffer.getvalue(), root)

    assert list(root.iterdir()) == []
