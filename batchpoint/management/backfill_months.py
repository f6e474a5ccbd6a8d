"""Which months a backfill re-scores: a checked ``from``..``to`` range, or its months whose newest version failed.

Months are an endpoint's partitions: from its ``data_arrival.start_month`` to the current month
(UTC, as Dagster's monthly partitions count them).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from batchpoint.errors import ConflictError, SpecError
from batchpoint.outputs.layout import OutputLayout
from batchpoint.outputs.version_views import COMPLETED, summarize
from batchpoint.outputs.versions import list_versions, load_manifest
from batchpoint.specs.endpoint import BatchEndpoint
from batchpoint.storage.port import ObjectStore

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
MONTH_FORM = "a month as YYYY-MM, e.g. 2026-05"


def _index(month: str) -> int:
    found = _MONTH.match(month)
    assert found is not None, month
    return int(found.group(1)) * 12 + int(found.group(2)) - 1


def _month(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def check_month(value: object, field: str) -> str:
    """``value`` if it is ``YYYY-MM``; ``SpecError`` naming ``field`` otherwise."""
    if not isinstance(value, str) or not _MONTH.match(value):
        raise SpecError(field, f"got {value!r}", MONTH_FORM)
    return value


def current_month(now: datetime | None = None) -> str:
    """The month in progress (UTC), the endpoint's newest partition."""
    return f"{(now or datetime.now(UTC)).astimezone(UTC):%Y-%m}"


def months_in_range(
    endpoint: BatchEndpoint, from_month: object, to_month: object, *, now: datetime | None = None
) -> list[str]:
    """Every month from ``from_month`` to ``to_month`` (both included), checked against the endpoint's partitions.

    ``SpecError`` naming ``from`` or ``to`` for a month that is not ``YYYY-MM``, a range that runs
    backwards, or a month outside ``start_month``..the current month. ``ConflictError`` for an
    endpoint without ``data_arrival`` (it has no landing folder, so no months).
    """
    first, last = check_month(from_month, "from"), check_month(to_month, "to")
    trigger = endpoint.data_arrival
    if trigger is None:
        raise ConflictError(
            f"endpoint {endpoint.name!r} has no data_arrival trigger, so it has no months to backfill; "
            "give it `data_arrival: {bucket: ..., prefix: ...}` or invoke it on a folder instead"
        )
    if _index(first) > _index(last):
        raise SpecError("to", f"{last} is before from {first}", f"a month at or after {first}")
    start, end = trigger.start_month, current_month(now)
    valid = f"a month from the endpoint's start_month {start} to the current month {end}"
    if _index(first) < _index(start):
        raise SpecError("from", f"{first} is before the endpoint's first partition", valid)
    if _index(last) > _index(end):
        raise SpecError("to", f"{last} is after the current month", valid)
    return [_month(i) for i in range(_index(first), _index(last) + 1)]


def newest_version_failed(store: ObjectStore, layout: OutputLayout) -> bool:
    """Whether the partition's newest version (not ``latest``) failed or tolerated failed items.

    A partition without any version has nothing that failed (its first run is a plain backfill).
    """
    versions = list_versions(store, layout)
    if not versions:
        return False
    summary = summarize(load_manifest(store, layout, versions[-1]), versions[-1], is_latest=False)
    return summary.status != COMPLETED or (summary.failed_items or 0) > 0


def months_with_failures(store: ObjectStore, bucket: str, endpoint: str, months: list[str]) -> list[str]:
    """The ``months`` whose newest version failed or tolerated failed items.

    ``ConflictError`` when there is none: a ``failed_only`` backfill would have nothing to re-score.
    """
    selected = [m for m in months if newest_version_failed(store, OutputLayout(bucket, endpoint, m))]
    if not selected:
        span = months[0] if len(months) == 1 else f"{months[0]} to {months[-1]}"
        raise ConflictError(
            f"nothing to re-score: no month of endpoint {endpoint!r} from {span} has a newest version "
            "that failed or tolerated failed items; leave out failed_only to re-score them all"
        )
    return selected
