"""Which months a backfill re-scores: the checked range, and with failed_only the months whose newest version failed."""

import json
from datetime import UTC, datetime

import pytest

from batchpoint.errors import ConflictError, SpecError
from batchpoint.management.backfill_months import (
    current_month,
    months_in_range,
    months_with_failures,
    newest_version_failed,
)
from batchpoint.outputs.layout import OutputLayout
from batchpoint.specs.endpoint import BatchEndpoint
from batchpoint.storage.memory import MemoryStore

NOW = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
ENDPOINT = BatchEndpoint.parse(
    {"name": "sales-forecast", "data_arrival": {"prefix": "sales/", "start_month": "2025-11"}}
)
BUCKET = "batchpoint"


def test_current_month_is_utc() -> None:
    assert current_month(NOW) == "2026-11"
    assert current_month(datetime(2026, 12, 31, 23, 30, tzinfo=UTC)) == "2026-12"


@pytest.mark.parametrize(
    ("first", "last", "months"),
    [
        ("2026-01", "2026-03", ["2026-01", "2026-02", "2026-03"]),
        ("2025-11", "2026-02", ["2025-11", "2025-12", "2026-01", "2026-02"]),
        ("2026-11", "2026-11", ["2026-11"]),
    ],
)
def test_range_includes_both_ends_across_years(first: str, last: str, months: list[str]) -> None:
    assert months_in_range(ENDPOINT, first, last, now=NOW) == months


@pytest.mark.parametrize(
    ("first", "last", "field", "form"),
    [
        ("2026-1", "2026-03", "from", "YYYY-MM"),
        ("2026-01", "March", "to", "YYYY-MM"),
        ("2026-13", "2026-03", "from", "YYYY-MM"),
        (None, "2026-03", "from", "YYYY-MM"),
        ("2026-04", "2026-03", "to", "at or after 2026-04"),
        ("2025-10", "2026-03", "from", "start_month 2025-11"),
        ("2026-10", "2026-12", "to", "current month 2026-11"),
    ],
)
def test_bad_ranges_name_the_field_and_the_valid_form(first: object, last: object, field: str, form: str) -> None:
    with pytest.raises(SpecError) as caught:
        months_in_range(ENDPOINT, first, last, now=NOW)
    assert caught.value.field == field
    assert form in str(caught.value.valid_form)


def test_an_endpoint_without_landing_folder_has_no_months() -> None:
    with pytest.raises(ConflictError, match="no data_arrival"):
        months_in_range(BatchEndpoint.parse({"name": "manual-only"}), "2026-01", "2026-02", now=NOW)


def _version(store: MemoryStore, month: str, version: str, status: str, failed_items: int | None) -> None:
    layout = OutputLayout(BUCKET, ENDPOINT.name, month)
    totals = {"files": 3, "failed_files": failed_items or 0}
    if failed_items is not None:
        totals["failed_items"] = failed_items
    manifest = {"version_id": version, "status": status, "totals": totals}
    store.put_bytes(BUCKET, layout.manifest_key(version), json.dumps(manifest).encode())


@pytest.fixture
def store() -> MemoryStore:
    s = MemoryStore()
    s.ensure_bucket(BUCKET)
    # 2026-01: newest failed (an older one completed, and latest still points there)
    _version(s, "2026-01", "20260201T000000.000Z-aaaaaaaa", "Completed", 0)
    _version(s, "2026-01", "20260301T000000.000Z-bbbbbbbb", "Failed", 5)
    # 2026-02: completed but tolerated a failed file (error_threshold -1)
    _version(s, "2026-02", "20260301T000000.000Z-cccccccc", "Completed", 1)
    # 2026-03: an old failure fixed by a newer complete version
    _version(s, "2026-03", "20260401T000000.000Z-dddddddd", "Failed", 2)
    _version(s, "2026-03", "20260402T000000.000Z-eeeeeeee", "Completed", 0)
    # 2026-04: no version at all; 2026-05: an old manifest with failed_files only
    _version(s, "2026-05", "20260601T000000.000Z-ffffffff", "Completed", None)
    layout = OutputLayout(BUCKET, ENDPOINT.name, "2026-05")
    s.put_bytes(
        BUCKET,
        layout.manifest_key("20260601T000000.000Z-ffffffff"),
        json.dumps({"status": "Completed", "totals": {"failed_files": 2}}).encode(),
    )
    return s


@pytest.mark.parametrize(
    ("month", "failed"),
    [("2026-01", True), ("2026-02", True), ("2026-03", False), ("2026-04", False), ("2026-05", True)],
)
def test_newest_version_decides(store: MemoryStore, month: str, failed: bool) -> None:
    assert newest_version_failed(store, OutputLayout(BUCKET, ENDPOINT.name, month)) is failed


def test_failed_only_keeps_the_months_whose_newest_version_failed(store: MemoryStore) -> None:
    months = months_in_range(ENDPOINT, "2026-01", "2026-06", now=NOW)
    assert months_with_failures(store, BUCKET, ENDPOINT.name, months) == ["2026-01", "2026-02", "2026-05"]


def test_failed_only_with_nothing_failed_says_so(store: MemoryStore) -> None:
    with pytest.raises(ConflictError, match=r"nothing to re-score.*2026-03 to 2026-04"):
        months_with_failures(store, BUCKET, ENDPOINT.name, ["2026-03", "2026-04"])


def test_failed_only_in_an_empty_bucket_says_so() -> None:
    with pytest.raises(ConflictError, match="nothing to re-score"):
        months_with_failures(MemoryStore(), BUCKET, ENDPOINT.name, ["2026-03"])
