"""``data_arrival.prefix`` and S3 URI keys: one canonical spelling, traversal refused with the valid form."""

from __future__ import annotations

import pytest

from batchpoint.errors import SpecError
from batchpoint.specs.endpoint import BatchEndpoint
from batchpoint.specs.job import InvokeRequest
from batchpoint.specs.landing_prefix import MAX_LENGTH
from batchpoint.specs.s3_uri import split_s3_uri


def _endpoint(prefix: object) -> BatchEndpoint:
    return BatchEndpoint.parse({"name": "sales-forecast", "data_arrival": {"prefix": prefix}})


@pytest.mark.parametrize(
    ("given", "stored"),
    [("sales/", "sales/"), ("sales/eu/", "sales/eu/"), ("v1.2/x-y_z/", "v1.2/x-y_z/"), ("sales", "sales/")],
)
def test_canonical_prefixes_are_kept_and_a_missing_slash_is_added(given: str, stored: str) -> None:
    trigger = _endpoint(given).data_arrival
    assert trigger is not None
    assert trigger.prefix == stored


@pytest.mark.parametrize(
    ("prefix", "problem"),
    [
        ("../batchpoint/", "`..` segment"),
        ("sales/../batchpoint/", "`..` segment"),
        ("..", "`..` segment"),
        ("./", "`.` segment"),
        ("sales/./", "`.` segment"),
        ("/sales/", "starts with `/`"),
        ("a//b/", "empty segment"),
        ("sales//", "empty segment"),
        ("sales\\eu/", "backslash"),
        ("sales\x00/", "control character"),
        ("sales\n/", "control character"),
        ("sales eu/", "character ' '"),
        ("ventes/été/", "character 'é'"),
        (".../", "dots only"),
        ("", "is empty"),
        ("/", "is empty"),
        ("x" * MAX_LENGTH, "characters long"),
        (7, "got 7"),
    ],
)
def test_traversal_and_non_canonical_prefixes_are_refused(prefix: object, problem: str) -> None:
    with pytest.raises(SpecError) as caught:
        _endpoint(prefix)
    assert caught.value.field == "BatchEndpoint.data_arrival.prefix"
    assert problem in caught.value.problem
    assert caught.value.valid_form and "`sales/eu/`" in caught.value.valid_form


@pytest.mark.parametrize(
    "uri", ["s3://landing/../batchpoint/x", "s3://landing/./x", "s3://landing//x", "s3://landing/a//b", "s3://b1/a\\b"]
)
def test_s3_keys_must_be_canonical(uri: str) -> None:
    with pytest.raises(ValueError, match="must be `s3://"):
        split_s3_uri(uri)
    with pytest.raises(SpecError, match="output_path"):
        InvokeRequest.parse({"inputs": {"input": {"path": "s3://landing/x/"}}, "output_path": uri})


@pytest.mark.parametrize(
    ("uri", "split"),
    [
        ("s3://landing", ("landing", "")),
        ("s3://landing/", ("landing", "")),
        ("s3://landing/sales/2024-01/", ("landing", "sales/2024-01/")),
        ("s3://landing/sales/my file.csv", ("landing", "sales/my file.csv")),
    ],
)
def test_canonical_s3_uris_split(uri: str, split: tuple[str, str]) -> None:
    assert split_s3_uri(uri) == split
