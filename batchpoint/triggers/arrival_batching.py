"""Turning a stream of landed files into one run request per (endpoint, month) (pure).

The sensor keeps an ``ArrivalState`` in its cursor: Kafka offsets, the months with files not yet
requested, and per object the newest version taken (``batchpoint/triggers/object_versions.py``).
Keeping all three in one cursor means an offset only advances together with the run requests its
events produced (nothing lost), and an event announcing no newer version than the one taken last
(a redelivery, a replay, an older event arriving late) is skipped (nothing doubled), while an
overwrite, even back to earlier content, is requested.

What happens to a month's files depends on its runs (``MonthRuns``, which the sensor reads from
Dagster; docs/decisions/arrival-latency.md):

- no run in flight: the month is requested at once (after ``settle_seconds`` without a new file,
  0 by default), so a lone file waits for nothing;
- a run that has not begun its step: the files join it (it lists the folder when it begins), so
  the rest of a burst rides on the run its first file asked for;
- a run that has begun (it may have listed the folder already): the files wait for it to end and
  then get one run together, so a burst gives few runs, not one per sensor tick.

Either way a file is requested at the latest ``max_wait_seconds`` after it arrived, so a run that
never ends cannot hold a month for ever (the reconciliation sensor counts on that bound).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from batchpoint.triggers.object_versions import DEFAULT_LIMIT, ObjectVersion, TakenVersions


@dataclass(frozen=True)
class Arrival:
    """One landed object, routed to its endpoint and month."""

    endpoint: str
    partition: str
    bucket: str
    key: str
    etag: str
    at: float | None = field(default=None, compare=False)
    """When the event was published (epoch seconds); ``None``: when the sensor read it."""
    order: str = ""
    """The event's place among its key's events (``object_versions.event_order``); empty: unknown."""

    @property
    def uri(self) -> str:
        """``s3://bucket/key``."""
        return f"s3://{self.bucket}/{self.key}"


@dataclass(frozen=True)
class PartitionRequest:
    """A month to score, with the file versions whose arrival asked for it."""

    endpoint: str
    partition: str
    files: tuple[tuple[str, ObjectVersion], ...]  # (s3 uri, version), sorted
    first_seen: float = 0.0

    @property
    def run_key(self) -> str:
        """Deduplication key: the versions asked for (where an order is unknown, also the first arrival).

        Asking again for the same versions (a tick evaluated again after a crash, from the same
        cursor or from the same events published again) gives the same key, so Dagster launches one
        run. A later return of the same files to the same content (A, B, A) is a new version and a
        new key: without an order, the first arrival keeps the two requests apart.
        """
        body = "\n".join(f"{uri}@{v.etag}#{v.order}" for uri, v in self.files)
        if any(not v.order for _, v in self.files):
            body += f"\n{self.first_seen:.3f}"
        return f"{self.endpoint}:{self.partition}:{hashlib.sha256(body.encode()).hexdigest()[:16]}"


class MonthRuns(Enum):
    """What a month's runs that score into ``latest`` are doing, as the sensor saw them this tick."""

    IDLE = "idle"
    """None in flight."""
    WAITING = "waiting"
    """One has not begun its step: it lists the landing folder when it does."""
    RUNNING = "running"
    """One has begun its step (it may have listed the folder already) and none is waiting."""


COVERED_MARGIN_SECONDS = 1.0
"""How long before a running run's start a month's files must all have been announced to count as
listed by it. A run lists the folder in its step, after it started, and an event is published after
its PUT; the margin allows for the publisher's and the run worker's clocks disagreeing a little. A
file announced later waits for the next run; one wrongly counted as listed is found unscored by
the reconciliation sensor."""


@dataclass(frozen=True)
class Due:
    """What ``take_due`` decided: months to request, and months whose files joined a waiting run."""

    requests: list[PartitionRequest] = field(default_factory=list)
    joined: list[PartitionRequest] = field(default_factory=list)


@dataclass
class PendingMonth:
    """Files of one month not yet requested."""

    first_seen: float
    last_seen: float
    files: dict[str, ObjectVersion] = field(default_factory=dict)  # s3 uri -> newest version taken


@dataclass
class ArrivalState:
    """The sensor cursor's content."""

    offsets: dict[int, int] = field(default_factory=dict)
    epoch: str = ""
    """The broker life ``offsets`` belong to (``batchpoint/triggers/broker_epoch.py``)."""
    pending: dict[str, PendingMonth] = field(default_factory=dict)  # "endpoint|partition"
    taken: TakenVersions = field(default_factory=TakenVersions)

    # ---- transitions -------------------------------------------------------------------
    def add(self, arrivals: Iterable[Arrival], now: float) -> int:
        """Record arrivals; returns how many were taken (announced a newer version of their object)."""
        new = 0
        for arrival in arrivals:
            version = ObjectVersion(arrival.etag, arrival.order)
            if not self.taken.take(arrival.bucket, arrival.key, version):
                continue
            group = f"{arrival.endpoint}|{arrival.partition}"
            # The clocks run from when the file arrived, not from the tick that read it: otherwise
            # every file would wait one more sensor tick than it needs.
            at = min(arrival.at, now) if arrival.at is not None else now
            pending = self.pending.get(group)
            if pending is None:
                pending = self.pending[group] = PendingMonth(first_seen=at, last_seen=at)
            pending.first_seen = min(pending.first_seen, at)
            pending.last_seen = max(pending.last_seen, at)
            pending.files[arrival.uri] = version
            new += 1
        return new

    def months(self) -> list[tuple[str, str]]:
        """The (endpoint, month) pairs with files pending, sorted."""
        return [_split(group) for group in sorted(self.pending)]

    def take_due(
        self,
        now: float,
        runs: Mapping[tuple[str, str], MonthRuns],
        max_wait_seconds: float,
        settle_seconds: float = 0.0,
        running_since: Mapping[tuple[str, str], float] | None = None,
    ) -> Due:
        """Remove and return the months to request now, and those whose files join a run in flight.

        ``runs`` tells, per (endpoint, month), what its runs are doing (missing: ``IDLE``). A month
        whose first file waited ``max_wait_seconds`` is requested even while a run of it is running
        (joining a waiting run is always safe: that run will list the file). ``running_since`` is
        when a ``RUNNING`` month's run started: files all announced ``COVERED_MARGIN_SECONDS``
        before that were listed by it and join it too, rather than ask for a run that would find
        nothing new (the sensor often reads a landing's last events after its run started).
        """
        due = Due()
        started = running_since or {}
        for group in sorted(self.pending):
            pending = self.pending[group]
            endpoint, partition = _split(group)
            request = PartitionRequest(
                endpoint, partition, tuple(sorted(pending.files.items(), key=lambda item: item[0])), pending.first_seen
            )
            state = runs.get((endpoint, partition), MonthRuns.IDLE)
            overdue = now - pending.first_seen >= max_wait_seconds
            since = started.get((endpoint, partition))
            listed = (
                state is MonthRuns.RUNNING and since is not None and pending.last_seen <= since - COVERED_MARGIN_SECONDS
            )
            if state is MonthRuns.WAITING or listed:
                due.joined.append(request)
            elif overdue or (state is MonthRuns.IDLE and now - pending.last_seen >= settle_seconds):
                due.requests.append(request)
            else:
                continue
            del self.pending[group]
        return due

    # ---- cursor serialisation ----------------------------------------------------------
    def to_cursor(self) -> str:
        """JSON for the sensor cursor."""
        return json.dumps(
            {
                "offsets": {str(p): o for p, o in self.offsets.items()},
                "epoch": self.epoch,
                "pending": {
                    g: {
                        "first": p.first_seen,
                        "last": p.last_seen,
                        "files": {u: [v.etag, v.order] for u, v in p.files.items()},
                    }
                    for g, p in self.pending.items()
                },
                "taken": self.taken.to_json(),
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_cursor(cls, cursor: str | None, remember: int = DEFAULT_LIMIT) -> ArrivalState:
        """State from a cursor written by ``to_cursor`` or by the format before it (empty for ``None``).

        ``remember`` bounds how many objects' versions are kept. The earlier format kept digests of
        every (object, ETag) requested, which cannot tell the newest version of an object: they are
        dropped (at worst a redelivery of such a file asks for one run more), and its pending files
        become versions of unknown order.
        """
        if not cursor:
            return cls(taken=TakenVersions(limit=remember))
        raw = json.loads(cursor)
        state = cls(
            offsets={int(p): int(o) for p, o in raw.get("offsets", {}).items()},
            epoch=str(raw.get("epoch", "")),
            pending={g: _pending(p) for g, p in raw.get("pending", {}).items()},
            taken=TakenVersions.from_json(raw.get("taken", {}), remember),
        )
        if "taken" not in raw:
            for pending in state.pending.values():
                for uri, version in pending.files.items():
                    bucket, _, key = uri.removeprefix("s3://").partition("/")
                    state.taken.take(bucket, key, version)
        return state


def _split(group: str) -> tuple[str, str]:
    endpoint, partition = group.split("|", 1)
    return endpoint, partition


def _pending(raw: dict[str, Any]) -> PendingMonth:
    files = {
        uri: ObjectVersion(value, "") if isinstance(value, str) else ObjectVersion(str(value[0]), str(value[1]))
        for uri, value in raw["files"].items()
    }
    return PendingMonth(float(raw["first"]), float(raw["last"]), files)
