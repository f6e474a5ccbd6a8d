"""Turning a stream of landed files into one run request per (endpoint, month) (pure).

The sensor keeps an ``ArrivalState`` in its cursor: Kafka offsets, the months with files waiting
for their burst to settle, and digests of (object, ETag) pairs already requested. Keeping all
three in one cursor means an offset only advances together with the run requests its events
produced (nothing lost), and a redelivered event is recognised and skipped (nothing doubled).

A month is requested once no new file arrived for ``settle_seconds`` (so a burst of files
gives one run) or once its first file waited ``max_wait_seconds`` (so a steady trickle still
gets scored).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field

SEEN_LIMIT = 20_000


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

    @property
    def digest(self) -> str:
        """Identity of this version of the object."""
        raw = f"{self.bucket}/{self.key}@{self.etag}".encode()
        return hashlib.sha256(raw).hexdigest()[:20]


@dataclass(frozen=True)
class PartitionRequest:
    """A month to score, with the files whose arrival asked for it."""

    endpoint: str
    partition: str
    files: tuple[tuple[str, str], ...]  # (s3 uri, etag), sorted

    @property
    def run_key(self) -> str:
        """Deduplication key: the same files for the same month give the same key."""
        body = "\n".join(f"{uri}@{etag}" for uri, etag in self.files)
        return f"{self.endpoint}:{self.partition}:{hashlib.sha256(body.encode()).hexdigest()[:16]}"


@dataclass
class PendingMonth:
    """Files of one month waiting for their burst to settle."""

    first_seen: float
    last_seen: float
    files: dict[str, str] = field(default_factory=dict)  # s3 uri -> etag
    digests: list[str] = field(default_factory=list)


@dataclass
class ArrivalState:
    """The sensor cursor's content."""

    offsets: dict[int, int] = field(default_factory=dict)
    epoch: str = ""
    """The broker life ``offsets`` belong to (``batchpoint/broker_epoch.py``)."""
    pending: dict[str, PendingMonth] = field(default_factory=dict)  # "endpoint|partition"
    seen: list[str] = field(default_factory=list)

    # ---- transitions -------------------------------------------------------------------
    def add(self, arrivals: Iterable[Arrival], now: float) -> int:
        """Record arrivals; returns how many were new (not redeliveries)."""
        seen = set(self.seen)
        new = 0
        for arrival in arrivals:
            group = f"{arrival.endpoint}|{arrival.partition}"
            pending = self.pending.get(group)
            if arrival.digest in seen or (pending and arrival.digest in pending.digests):
                continue
            # The settle clock runs from when the file arrived, not from the tick that read it:
            # otherwise every burst waits one more sensor interval than it needs.
            at = min(arrival.at, now) if arrival.at is not None else now
            if pending is None:
                pending = self.pending[group] = PendingMonth(first_seen=at, last_seen=at)
            pending.first_seen = min(pending.first_seen, at)
            pending.last_seen = max(pending.last_seen, at)
            pending.files[f"s3://{arrival.bucket}/{arrival.key}"] = arrival.etag
            pending.digests.append(arrival.digest)
            new += 1
        return new

    def take_due(self, now: float, settle_seconds: float, max_wait_seconds: float) -> list[PartitionRequest]:
        """Remove and return the months whose burst has settled (or waited long enough)."""
        due: list[PartitionRequest] = []
        for group in sorted(self.pending):
            pending = self.pending[group]
            if now - pending.last_seen < settle_seconds and now - pending.first_seen < max_wait_seconds:
                continue
            endpoint, partition = group.split("|", 1)
            due.append(PartitionRequest(endpoint, partition, tuple(sorted(pending.files.items()))))
            self.seen.extend(pending.digests)
            del self.pending[group]
        if len(self.seen) > SEEN_LIMIT:
            self.seen = self.seen[-SEEN_LIMIT:]
        return due

    # ---- cursor serialisation ----------------------------------------------------------
    def to_cursor(self) -> str:
        """JSON for the sensor cursor."""
        return json.dumps(
            {
                "offsets": {str(p): o for p, o in self.offsets.items()},
                "epoch": self.epoch,
                "pending": {
                    g: {"first": p.first_seen, "last": p.last_seen, "files": p.files, "digests": p.digests}
                    for g, p in self.pending.items()
                },
                "seen": self.seen,
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_cursor(cls, cursor: str | None) -> ArrivalState:
        """State from a cursor written by ``to_cursor`` (empty state for ``None``)."""
        if not cursor:
            return cls()
        raw = json.loads(cursor)
        return cls(
            offsets={int(p): int(o) for p, o in raw.get("offsets", {}).items()},
            epoch=str(raw.get("epoch", "")),
            pending={
                g: PendingMonth(p["first"], p["last"], dict(p["files"]), list(p["digests"]))
                for g, p in raw.get("pending", {}).items()
            },
            seen=list(raw.get("seen", [])),
        )
