"""The S3 code folder on local disk: every file at its relative path, downloaded once per URI."""

from __future__ import annotations

import hashlib
import threading
import time
from pathlib import Path

import pytest

from batchpoint.errors import NotFoundError, ScoringError, SpecError
from batchpoint.scoring.code_cache import code_cache_path, fetch_code
from batchpoint.storage.memory import MemoryStore
from batchpoint.storage.port import ObjectInfo

URI = "s3://outputs/code/sales/blue/abc123/"
FILES = {"score.py": b"def init(): pass\n", "lib/features.py": b"X = 1\n", "lib/data/table.csv": b"a,b\n1,2\n"}


class CountingStore(MemoryStore):
    """Counts downloads, and can hold the first one until told to go on."""

    def __init__(self) -> None:
        super().__init__()
        self.downloads = 0
        self.gate: threading.Event | None = None

    def download(self, bucket: str, key: str, path: Path) -> ObjectInfo:
        self.downloads += 1
        if self.gate is not None:
            self.gate.wait(5)
        return super().download(bucket, key, path)


def stored(files: dict[str, bytes], prefix: str = "code/sales/blue/abc123/") -> CountingStore:
    store = CountingStore()
    store.ensure_bucket("outputs")
    for name, data in files.items():
        store.put_bytes("outputs", prefix + name, data)
    store.put_bytes("outputs", "code/sales/blue/abc1234/other.py", b"not this folder\n")
    return store


def test_every_file_lands_at_its_relative_path(tmp_path: Path) -> None:
    folder = fetch_code(URI, stored(FILES), tmp_path)
    assert folder == tmp_path / "code" / hashlib.sha256(URI.encode()).hexdigest()[:16]
    assert folder == code_cache_path(URI, tmp_path)
    found = {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    assert found == FILES
    assert [p.name for p in folder.parent.iterdir()] == [folder.name], "no staging folder left behind"


def test_a_prefix_without_slash_takes_only_its_own_folder(tmp_path: Path) -> None:
    folder = fetch_code(URI.rstrip("/"), stored(FILES), tmp_path)
    assert not (folder / "other.py").exists()
    assert sorted(p.name for p in folder.iterdir()) == ["lib", "score.py"]


def test_a_uri_is_downloaded_once(tmp_path: Path) -> None:
    store = stored(FILES)
    first = fetch_code(URI, store, tmp_path)
    (first / "score.py").write_text("# cached copy\n")
    again = fetch_code(URI, store, tmp_path)
    assert again == first
    assert store.downloads == len(FILES)
    assert (again / "score.py").read_text() == "# cached copy\n"


def test_concurrent_callers_share_one_complete_folder(tmp_path: Path) -> None:
    store = stored(FILES)
    store.gate = threading.Event()
    results: list[Path] = []
    errors: list[BaseException] = []

    def fetch() -> None:
        try:
            results.append(fetch_code(URI, store, tmp_path))
        except BaseException as exc:  # re-raised below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=fetch) for _ in range(2)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 5
    while store.downloads < 2 and time.monotonic() < deadline:  # both are mid-download
        time.sleep(0.01)
    store.gate.set()
    for thread in threads:
        thread.join(10)
    assert not errors
    assert results[0] == results[1] == code_cache_path(URI, tmp_path)
    assert {p.relative_to(results[0]).as_posix() for p in results[0].rglob("*") if p.is_file()} == set(FILES)
    assert [p.name for p in results[0].parent.iterdir()] == [results[0].name]


@pytest.mark.parametrize(
    "uri", ["s3://outputs/code/sales/blue/missing/", "s3://no-such-bucket/code/x/", "s3://outputs/code/sales/blue/abc1"]
)
def test_nothing_stored_names_the_uri(tmp_path: Path, uri: str) -> None:
    with pytest.raises(NotFoundError, match=rf"^code folder '{uri}' not found; "):
        fetch_code(uri, stored(FILES), tmp_path)
    assert not code_cache_path(uri, tmp_path).exists()
    assert not any((tmp_path / "code").iterdir()), "a failed download leaves nothing behind"


def test_folder_placeholder_objects_are_not_files(tmp_path: Path) -> None:
    store = stored({"empty/": b"", "score.py": b"\n"})
    folder = fetch_code(URI, store, tmp_path)
    assert [p.name for p in folder.iterdir()] == ["score.py"]


def test_keys_escaping_the_folder_are_refused(tmp_path: Path) -> None:
    store = stored({"../../../../escape.py": b"x = 1\n"})
    with pytest.raises(ScoringError, match=r"points outside the folder"):
        fetch_code(URI, store, tmp_path)
    assert not list(tmp_path.rglob("escape.py"))


@pytest.mark.parametrize("uri", ["./code", "http://host/code/", "s3://A_BAD_BUCKET/code/"])
def test_a_uri_that_is_not_an_s3_folder_shows_the_form(tmp_path: Path, uri: str) -> None:
    with pytest.raises(SpecError, match=r"^code_configuration\.code: got .* \(expected `s3://<bucket>/<prefix>/`"):
        fetch_code(uri, MemoryStore(), tmp_path)
