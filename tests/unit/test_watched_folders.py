"""No overlap between the folders batchpoint watches and those it writes: output_path, landing folders, names."""

from __future__ import annotations

import pytest

from batchpoint.errors import SpecError
from batchpoint.management.watched_folders import Folder, check_endpoint_folders, check_output_path
from batchpoint.specs.endpoint import BatchEndpoint

OUTPUT_BUCKET = "batchpoint"


def _endpoint(name: str, bucket: str | None = None, prefix: str | None = None) -> BatchEndpoint:
    trigger = {"bucket": bucket, "prefix": prefix} if prefix else None
    return BatchEndpoint.parse({"name": name, "data_arrival": trigger})


SALES = _endpoint("sales-forecast", "landing", "sales/")
EU = _endpoint("sales-eu", "landing", "sales/eu/")
NO_TRIGGER = _endpoint("adhoc")


@pytest.mark.parametrize(
    ("output_path", "relation", "landing"),
    [
        ("s3://landing/sales/", "lies inside", "s3://landing/sales/"),
        ("s3://landing/sales/2024-05/", "lies inside", "s3://landing/sales/"),
        ("s3://landing/sales/out", "lies inside", "s3://landing/sales/"),
        ("s3://landing/sales/eu/results/", "lies inside", "s3://landing/sales/"),
        ("s3://landing/", "contains", "s3://landing/sales/"),
    ],
)
def test_an_output_path_overlapping_a_landing_folder_is_refused(output_path: str, relation: str, landing: str) -> None:
    with pytest.raises(SpecError) as caught:
        check_output_path(output_path, [NO_TRIGGER, SALES, EU])
    assert caught.value.field == "output_path"
    assert f"{relation} the landing folder {landing}" in caught.value.problem
    assert caught.value.valid_form and "outside every endpoint's landing folder" in caught.value.valid_form


@pytest.mark.parametrize(
    "output_path",
    ["s3://landing/sales-results/", "s3://landing/salesx/", "s3://other/sales/", "s3://batchpoint/sales-forecast/x/"],
)
def test_an_output_path_beside_the_landing_folders_is_accepted(output_path: str) -> None:
    check_output_path(output_path, [NO_TRIGGER, SALES, EU])


@pytest.mark.parametrize(
    ("endpoint", "what"),
    [
        (_endpoint("sales-forecast", OUTPUT_BUCKET, "sales-forecast/"), "the outputs of endpoint 'sales-forecast'"),
        (_endpoint("sales-forecast", OUTPUT_BUCKET, "sales-forecast/2024-01/"), "the outputs of endpoint"),
        (_endpoint("new-one", OUTPUT_BUCKET, "sales-eu/"), "the outputs of endpoint 'sales-eu'"),
        (_endpoint("new-one", OUTPUT_BUCKET, "uploads/"), "batchpoint's uploads/ folder"),
        (_endpoint("new-one", OUTPUT_BUCKET, "code/sales/"), "batchpoint's code/ folder"),
    ],
)
def test_a_landing_folder_over_batchpoints_own_folders_is_refused(endpoint: BatchEndpoint, what: str) -> None:
    with pytest.raises(SpecError) as caught:
        check_endpoint_folders(endpoint, [SALES, EU], OUTPUT_BUCKET)
    assert caught.value.field == "data_arrival.prefix"
    assert what in caught.value.problem


def test_a_name_whose_outputs_a_landing_folder_covers_is_refused() -> None:
    watches_outputs = _endpoint("watcher", OUTPUT_BUCKET, "reports/")
    with pytest.raises(SpecError) as caught:
        check_endpoint_folders(_endpoint("reports"), [watches_outputs], OUTPUT_BUCKET)
    assert caught.value.field == "name"
    assert "s3://batchpoint/reports/" in caught.value.problem


@pytest.mark.parametrize(
    "endpoint",
    [
        SALES,  # updating itself
        _endpoint("sales-us", "landing", "sales/us/"),  # landing folders may nest (the longest prefix wins)
        _endpoint("shared", OUTPUT_BUCKET, "incoming/"),  # the output bucket, beside batchpoint's folders
        NO_TRIGGER,
    ],
)
def test_folders_that_do_not_overlap_are_accepted(endpoint: BatchEndpoint) -> None:
    check_endpoint_folders(endpoint, [SALES, EU], OUTPUT_BUCKET)


def test_folder_of_a_uri_is_a_folder() -> None:
    assert Folder.of("s3://landing/sales") == Folder("landing", "sales/")
    assert Folder.of("s3://landing") == Folder("landing", "")
    assert str(Folder.of("s3://landing/sales/")) == "s3://landing/sales/"
