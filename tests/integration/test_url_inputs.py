"""An invoked job's ``https://`` input is copied into the datastore at invoke: a file, or a folder
served as a directory listing (a local ``http.server`` on 127.0.0.1 stands in for the public URL)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

from batchpoint.config import Settings
from batchpoint.errors import SpecError
from batchpoint.management.url_inputs import fetch_url_input
from batchpoint.specs.job import InputType, JobInput
from batchpoint.specs.s3_uri import split_s3_uri
from batchpoint.storage.datastore import open_datastore
from batchpoint.storage.s3 import S3Store
from tests.integration.http_folder import served_folder

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A folder of CSVs (one in a sub-folder) served over HTTP on loopback: (base URL, folder)."""
    root = tmp_path_factory.mktemp("public")
    (root / "data" / "more").mkdir(parents=True)
    (root / "data" / "a.csv").write_text("x\n1\n2\n")
    (root / "data" / "b.csv").write_text("x\n3\n")
    (root / "data" / "more" / "c.csv").write_text("x\n4\n")
    with served_folder(root) as url:
        yield url, root


@pytest.fixture
def settings(store_and_broker: Settings) -> Settings:
    return dataclasses.replace(store_and_broker, input_url_private_hosts="127.0.0.1")


def _store(settings: Settings) -> S3Store:
    return open_datastore(settings)


def test_a_file_url_is_copied_into_the_datastore(served: tuple[str, Path], settings: Settings) -> None:
    base, root = served
    store = _store(settings)
    given = JobInput(type=InputType.URI_FILE, path=f"{base}/data/a.csv")
    fetched = fetch_url_input("inputs.input.path", given, store, settings)
    assert fetched.type is InputType.URI_FILE
    bucket, key = split_s3_uri(fetched.path)
    assert key.endswith("/a.csv")
    assert store.get_bytes(bucket, key) == (root / "data" / "a.csv").read_bytes()


def test_a_folder_url_is_listed_and_copied_with_its_layout(served: tuple[str, Path], settings: Settings) -> None:
    base, root = served
    store = _store(settings)
    fetched = fetch_url_input("inputs.input.path", JobInput(path=f"{base}/data"), store, settings)
    assert fetched.type is InputType.URI_FOLDER
    bucket, prefix = split_s3_uri(fetched.path)
    keys = sorted(o.key.removeprefix(prefix) for o in store.list(bucket, prefix))
    assert keys == ["a.csv", "b.csv", "more/c.csv"]
    assert store.get_bytes(bucket, prefix + "more/c.csv") == (root / "data" / "more" / "c.csv").read_bytes()


def test_a_missing_url_is_refused_naming_the_input(served: tuple[str, Path], settings: Settings) -> None:
    base, _ = served
    given = JobInput(type=InputType.URI_FILE, path=f"{base}/data/nope.csv")
    with pytest.raises(SpecError, match=r"inputs\.input\.path: .*nope\.csv answered HTTP 404"):
        fetch_url_input("inputs.input.path", given, _store(settings), settings)


def test_a_private_address_is_refused_unless_its_host_is_listed(
    served: tuple[str, Path], store_and_broker: Settings
) -> None:
    base, _ = served
    with pytest.raises(SpecError) as caught:
        fetch_url_input("inputs.input.path", JobInput(path=f"{base}/data"), _store(store_and_broker), store_and_broker)
    assert "private address" in str(caught.value)
    assert "BATCHPOINT_INPUT_URL_PRIVATE_HOSTS" in str(caught.value.valid_form)
