"""Routing landed objects to endpoints and months."""

import pytest

from batchpoint.errors import EventError
from batchpoint.specs.endpoint import BatchEndpoint
from batchpoint.triggers.routing import Route, Router, partition_prefix

SALES = BatchEndpoint.parse({"name": "sales-forecast", "data_arrival": {"bucket": "landing", "prefix": "sales/"}})
EU = BatchEndpoint.parse({"name": "sales-eu", "data_arrival": {"bucket": "landing", "prefix": "sales/eu/"}})
NO_TRIGGER = BatchEndpoint.parse({"name": "manual-only"})


@pytest.mark.parametrize(
    ("bucket", "key", "expected"),
    [
        ("landing", "sales/2026-11/part-007.csv", Route("sales-forecast", "2026-11")),
        ("landing", "sales/2026-01/sub/part.parquet", Route("sales-forecast", "2026-01")),
        ("landing", "sales/eu/2025-12/a.csv", Route("sales-eu", "2025-12")),
        ("landing", "other/2026-11/a.csv", None),
        ("elsewhere", "sales/2026-11/a.csv", None),
    ],
)
def test_route(bucket: str, key: str, expected: Route | None) -> None:
    assert Router([SALES, EU, NO_TRIGGER]).route(bucket, key) == expected


@pytest.mark.parametrize("key", ["sales/2026-13/a.csv", "sales/november/a.csv", "sales/a.csv", "sales/2026-11/"])
def test_watched_but_malformed_is_an_error_naming_the_form(key: str) -> None:
    with pytest.raises(EventError, match="landing"):
        Router([SALES]).route("landing", key)


def test_partition_prefix() -> None:
    assert partition_prefix(SALES, "2026-11") == ("landing", "sales/2026-11/")
    with pytest.raises(EventError):
        partition_prefix(NO_TRIGGER, "2026-11")
