"""Reconciliation: which landed months ``latest`` does not cover, and why (pure)."""

from datetime import UTC, datetime, timedelta

import pytest

from batchpoint.outputs.manifest import Manifest
from batchpoint.storage.port import ObjectInfo
from batchpoint.triggers.reconciliation import (
    LatestInputs,
    attempt_run_key,
    check_month,
    landing_months,
    month_of,
    reconcile,
    state_digest,
)

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
OLD = NOW - timedelta(hours=1)
GRACE = 60.0


def _file(
    name: str, etag: str = "e1", month: str = "2026-11", age: timedelta | None = timedelta(hours=1)
) -> ObjectInfo:
    modified = None if age is None else NOW - age
    return ObjectInfo("landing", f"sales/{month}/{name}", etag, 10, modified)


def _latest(*files: tuple[str, str], status: str = "succeeded", version: str = "v1") -> LatestInputs:
    manifest = {"inputs": [{"uri": f"s3://landing/sales/2026-11/{n}", "etag": e, "status": status} for n, e in files]}
    return LatestInputs.of(version, Manifest.from_dict(manifest))


@pytest.mark.parametrize(
    ("key", "month"),
    [
        ("sales/2026-11/a.csv", "2026-11"),
        ("sales/2026-11/sub/a.csv", "2026-11"),  # scored by the month's run too (it lists the whole folder)
        ("sales/2026-11/", None),  # folder marker
        ("sales/2026-11/sub/", None),
        ("sales/a.csv", None),  # not in a month folder
        ("sales/2026-13/a.csv", None),
        ("sales/eu/2026-11/a.csv", None),  # another endpoint's deeper prefix
        ("other/2026-11/a.csv", None),
    ],
)
def test_month_of_follows_the_routing_rule(key: str, month: str | None) -> None:
    assert month_of("sales/", key) == month


def test_landing_months_groups_one_listing_by_month() -> None:
    listing = [
        _file("a.csv", month="2026-10"),
        _file("b.csv"),
        _file("c.csv"),
        ObjectInfo("landing", "sales/x", "e", 1),
    ]
    months = landing_months(listing, "sales/")
    assert {m: [o.name for o in files] for m, files in months.items()} == {
        "2026-10": ["a.csv"],
        "2026-11": ["b.csv", "c.csv"],
    }


@pytest.mark.parametrize(
    ("files", "latest", "unscored", "changed"),
    [
        pytest.param([_file("a.csv"), _file("b.csv")], None, ["a.csv", "b.csv"], [], id="no-latest-yet"),
        pytest.param([_file("a.csv")], _latest(("a.csv", "e1")), [], [], id="in-sync"),
        pytest.param([_file("a.csv"), _file("b.csv")], _latest(("a.csv", "e1")), ["b.csv"], [], id="new-file"),
        pytest.param([_file("a.csv", "e2")], _latest(("a.csv", "e1")), [], ["a.csv"], id="overwritten"),
        pytest.param(
            [_file("a.csv")], _latest(("a.csv", "e1"), status="failed"), [], [], id="failed-before-is-no-reason"
        ),
        pytest.param([_file("a.csv")], _latest(("a.csv", "e1"), ("gone.csv", "e9")), [], [], id="removed-is-no-reason"),
        pytest.param(
            [_file("a.csv", "e2"), _file("b.csv"), _file("c.csv", age=None)],
            _latest(("a.csv", "e1"), ("c.csv", "e1")),
            ["b.csv"],
            ["a.csv"],
            id="mixed",
        ),
    ],
)
def test_check_month_names_unscored_and_changed_files(
    files: list[ObjectInfo], latest: LatestInputs | None, unscored: list[str], changed: list[str]
) -> None:
    check = check_month("2026-11", files, latest, NOW, GRACE)
    assert [u.rsplit("/", 1)[1] for u in check.unscored] == unscored
    assert [u.rsplit("/", 1)[1] for u in check.changed] == changed
    assert check.needs_run is bool(unscored or changed)
    assert check.files == len(files)


@pytest.mark.parametrize(
    ("ages", "settling"),
    [
        pytest.param([timedelta(seconds=5), timedelta(seconds=59)], True, id="all-reasons-recent"),
        pytest.param([timedelta(seconds=5), timedelta(seconds=60)], False, id="one-reason-past-grace"),
        pytest.param([timedelta(seconds=5), None], False, id="unknown-age-counts-as-old"),
    ],
)
def test_recent_files_are_left_to_the_arrival_sensor(ages: list[timedelta | None], settling: bool) -> None:
    files = [_file("old.csv"), *(_file(f"new-{i}.csv", age=age) for i, age in enumerate(ages))]
    check = check_month("2026-11", files, _latest(("old.csv", "e1")), NOW, GRACE)
    assert check.settling is settling
    assert check.needs_run is not settling


def test_a_month_in_sync_is_not_settling_whatever_the_age_of_its_files() -> None:
    check = check_month("2026-11", [_file("a.csv", age=timedelta(seconds=1))], _latest(("a.csv", "e1")), NOW, GRACE)
    assert (check.settling, check.needs_run) == (False, False)


def test_reconcile_returns_only_months_needing_a_run_oldest_first() -> None:
    listing = {
        "2026-11": [_file("b.csv")],
        "2026-09": [_file("a.csv", month="2026-09")],
        "2026-10": [_file("a.csv", month="2026-10")],
    }
    latest = {
        "2026-10": LatestInputs("v1", {"s3://landing/sales/2026-10/a.csv": "e1"}),
        "2026-11": _latest(("a.csv", "e1")),
    }
    checks = reconcile(listing, latest, NOW, GRACE)
    assert [(c.partition, len(c.unscored)) for c in checks] == [("2026-09", 1), ("2026-11", 1)]


@pytest.mark.parametrize(
    ("other", "same"),
    [
        pytest.param(([_file("b.csv"), _file("a.csv")], "v1"), True, id="order-does-not-matter"),
        pytest.param(([_file("a.csv", age=timedelta(0)), _file("b.csv")], "v1"), True, id="time-does-not-matter"),
        pytest.param(([_file("a.csv", "e2"), _file("b.csv")], "v1"), False, id="etag"),
        pytest.param(([_file("a.csv")], "v1"), False, id="file-removed"),
        pytest.param(([_file("a.csv"), _file("b.csv")], "v2"), False, id="latest-moved"),
        pytest.param(([_file("a.csv"), _file("b.csv")], None), False, id="no-latest"),
    ],
)
def test_the_state_digest_changes_with_files_and_latest(other: tuple[list[ObjectInfo], str | None], same: bool) -> None:
    base = state_digest([_file("a.csv"), _file("b.csv")], "v1")
    assert (state_digest(*other) == base) is same


def test_describe_counts_and_names_the_first_files() -> None:
    files = [_file(f"p{i}.csv") for i in range(5)] + [_file("a.csv", "e2")]
    check = check_month("2026-11", files, _latest(("a.csv", "e1")), NOW, GRACE)
    assert check.describe() == ("2026-11: 5 unscored (p0.csv, p1.csv, p2.csv, … 2 more), 1 changed (a.csv) of 6 files")


def _failed(name: str, **fields: str) -> dict[str, str]:
    return {"uri": f"s3://landing/sales/2026-11/{name}", "etag": "e1", "status": "failed", **fields}


@pytest.mark.parametrize(
    ("entry", "unfinished"),
    [
        pytest.param(_failed("a.csv", error="not scored: the store was unreachable", cause="infrastructure"), True),
        pytest.param(_failed("a.csv", error="cannot be read as CSV: ...", cause="content"), False),
        pytest.param(_failed("a.csv", error="a reason", cause="a cause this version does not know"), True),
        # Manifests before format 3 have no cause: their failed downloads were store outages.
        pytest.param(_failed("a.csv", error="could not download s3://landing/sales/2026-11/a.csv: timeout"), True),
        pytest.param(_failed("a.csv", error="missing column(s) units"), False),
    ],
)
def test_a_file_latest_failed_for_anything_but_its_content_needs_a_run(entry: dict[str, str], unfinished: bool) -> None:
    ok = {"uri": "s3://landing/sales/2026-11/b.csv", "etag": "e1", "status": "succeeded"}
    latest = LatestInputs.of("v1", Manifest.from_dict({"inputs": [entry, ok]}))
    check = check_month("2026-11", [_file("a.csv"), _file("b.csv")], latest, NOW, GRACE)
    assert check.needs_run is unfinished
    assert [u.rsplit("/", 1)[1] for u in check.unfinished] == (["a.csv"] if unfinished else [])
    assert check.unscored == check.changed == ()
    if unfinished:
        assert "1 unfinished (a.csv)" in check.describe()


def test_an_unfinished_file_that_changed_since_is_counted_once_as_changed() -> None:
    latest = LatestInputs.of(
        "v1", Manifest.from_dict({"inputs": [_failed("a.csv", error="x", cause="infrastructure")]})
    )
    check = check_month("2026-11", [_file("a.csv", "e2")], latest, NOW, GRACE)
    assert [u.rsplit("/", 1)[1] for u in check.changed] == ["a.csv"]
    assert check.unfinished == ()


def test_an_unfinished_file_no_longer_landed_is_no_reason() -> None:
    latest = LatestInputs.of(
        "v1", Manifest.from_dict({"inputs": [_failed("gone.csv", error="x", cause="infrastructure")]})
    )
    check = check_month("2026-11", [], latest, NOW, GRACE)
    assert not check.needs_run


@pytest.mark.parametrize(
    ("failed", "retries", "key"),
    [
        (0, 3, "reconcile:e:2026-11:abc"),  # the first attempt keeps the state's own key
        (1, 3, "reconcile:e:2026-11:abc:retry-1"),
        (3, 3, "reconcile:e:2026-11:abc:retry-3"),
        (4, 3, None),  # every retry failed: not asked again for this state
        (0, 0, "reconcile:e:2026-11:abc"),
        (1, 0, None),
    ],
)
def test_a_failed_attempt_does_not_use_up_its_states_run_key(failed: int, retries: int, key: str | None) -> None:
    assert attempt_run_key("reconcile:e:2026-11:abc", failed, retries) == key


def test_each_attempt_at_a_state_has_its_own_key() -> None:
    keys = [attempt_run_key("s", failed, 5) for failed in range(6)]
    assert len(set(keys)) == 6 and None not in keys


def test_latest_holds_a_file_version_it_scored_whatever_the_quotes_and_not_one_it_lost() -> None:
    latest = LatestInputs("v1", {"s3://l/a.csv": '"e1"', "s3://l/b.csv": "e2"}, frozenset({"s3://l/b.csv"}))
    assert latest.holds([("s3://l/a.csv", "e1")])
    assert latest.holds([])
    assert not latest.holds([("s3://l/a.csv", "e9")])  # another version
    assert not latest.holds([("s3://l/c.csv", "e1")])  # never scored
    assert not latest.holds([("s3://l/b.csv", "e2")])  # scored, but not finished (the store failed)
