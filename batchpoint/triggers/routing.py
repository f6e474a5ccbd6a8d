"""Which endpoint and month a landed object belongs to (pure).

An endpoint with ``data_arrival = {bucket: landing, prefix: sales/}`` watches
``s3://landing/sales/<YYYY-MM>/<file>``; the first folder below the prefix names the month.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from batchpoint.errors import EventError
from batchpoint.specs.endpoint import BatchEndpoint

_MONTH = re.compile(r"^(?P<month>\d{4}-(0[1-9]|1[0-2]))$")


@dataclass(frozen=True)
class Route:
    """An object's endpoint and partition key (``YYYY-MM``)."""

    endpoint: str
    partition: str


class Router:
    """Maps ``(bucket, key)`` to the endpoint that watches it; the longest prefix wins."""

    def __init__(self, endpoints: Iterable[BatchEndpoint]) -> None:
        watched = [(e.data_arrival.bucket, e.data_arrival.prefix, e.name) for e in endpoints if e.data_arrival]
        self._watched = sorted(watched, key=lambda w: len(w[1]), reverse=True)

    def route(self, bucket: str, key: str) -> Route | None:
        """The route of an object, ``None`` if no endpoint watches it.

        Raises ``EventError`` for an object under a watched prefix but not in a month folder,
        or a folder marker, so it is dead-lettered with the reason rather than silently dropped.
        """
        for w_bucket, prefix, endpoint in self._watched:
            if bucket != w_bucket or not key.startswith(prefix):
                continue
            rest = key[len(prefix) :]
            month, sep, name = rest.partition("/")
            if not sep or not _MONTH.match(month):
                raise EventError(
                    f"s3://{bucket}/{key} is watched by endpoint {endpoint!r} but is not in a month folder "
                    f"(expected s3://{bucket}/{prefix}<YYYY-MM>/<file>)"
                )
            if not name or name.endswith("/"):
                raise EventError(f"s3://{bucket}/{key} is a folder, not a file")
            return Route(endpoint, month)
        return None

    @property
    def watched(self) -> list[str]:
        """The watched locations, as ``s3://bucket/prefix``."""
        return [f"s3://{b}/{p}" for b, p, _ in self._watched]


def partition_prefix(endpoint: BatchEndpoint, partition: str) -> tuple[str, str]:
    """``(bucket, prefix)`` of one month's landing folder of ``endpoint``."""
    if endpoint.data_arrival is None:
        raise EventError(f"endpoint {endpoint.name!r} has no data_arrival trigger")
    return endpoint.data_arrival.bucket, f"{endpoint.data_arrival.prefix}{partition}/"
