"""Which version of each landed object the data-arrival sensor took last, and whether an event is newer (pure).

The sensor's cursor keeps, per object, the version of the newest event it took (its ETag and where
the event stands among the same key's events: S3's ``sequencer``). An event is taken, and its month
gets a run, only when it announces a newer version than that one:

- the same event again (redelivered by Kafka, replayed by the publisher, re-read from offset 0
  after a broker restart) has the same sequencer: skipped;
- an overwrite (new content, A then B then A again, or the same bytes uploaded again) has a higher
  sequencer: taken, whatever its ETag;
- an older event arriving after a newer one of the same key (a replay, a source that published out
  of order) has a lower sequencer: skipped. That hides nothing: the newer event was read after the
  newer PUT, so the run it asked for lists the month after that PUT and scores the newer content or
  a newer one still, while the older content is no longer in S3 under that key. A run for it would
  list the same folder again, and remembering its older version would make the next replay of the
  newer event look new: waste twice over. The price of trusting the order is paid by a source whose
  sequencer goes backwards for one key (a clock stepped back): reconciliation then finds the file.

S3 only orders sequencers of one key, and they may differ in length (AWS says to pad them; MinIO and
our publisher write the event time in nanoseconds as hex, always the same length). So two events
are ordered by sequencer only when both have one of the same length, else by their ``eventTime``
when both have one of the same form, else not at all: then the ETag decides (same: a redelivery).
That is weaker: an older event read after a newer one is taken and remembered, and a later
re-upload of its content is then skipped while the last run scored the newer one, until
reconciliation finds it.

The memory is bounded: ``limit`` objects, the one taken least recently forgotten first. Forgetting
is always safe: the next event of a forgotten object, even a redelivery, is taken and asks for one
run more, never for less. A count bound (not "forget months requested long ago") keeps the cursor,
which Dagster stores on every tick, small whatever the rate of files; a replay older than the
memory costs runs, not content.
"""

from __future__ import annotations

import hashlib
import string
from collections.abc import Mapping
from dataclasses import dataclass, field

DEFAULT_LIMIT = 10_000
_HEX = frozenset(string.hexdigits)


def event_order(sequencer: str, event_time: str) -> str:
    """An event's place among its key's events: ``s<SEQUENCER>``, else ``t<eventTime>``, else ``""``."""
    sequencer = sequencer.strip().upper()
    if sequencer and _HEX.issuperset(sequencer):
        return "s" + sequencer
    event_time = event_time.strip()
    return "t" + event_time if event_time else ""


@dataclass(frozen=True)
class ObjectVersion:
    """One version of an object as an event announced it."""

    etag: str
    order: str = ""
    """``event_order`` of the announcing event; empty when unknown."""

    def supersedes(self, taken: ObjectVersion) -> bool:
        """Whether an event announcing this version may change what a run asked for ``taken`` scores."""
        comparable = bool(self.order and taken.order) and (self.order[0], len(self.order)) == (
            taken.order[0],
            len(taken.order),
        )
        if comparable and self.order != taken.order:
            return self.order > taken.order
        return self.etag != taken.etag


def _digest(text: str, size: int) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:size]


@dataclass
class TakenVersions:
    """Per object, the newest version taken; at most ``limit`` objects, least recently taken forgotten first.

    Objects are kept as 16-hex digests of ``bucket/key`` and ETags as 12-hex digests (the cursor is
    rewritten every tick); the insertion order of ``entries`` is the recency order.
    """

    limit: int = DEFAULT_LIMIT
    entries: dict[str, ObjectVersion] = field(default_factory=dict)

    def take(self, bucket: str, key: str, version: ObjectVersion) -> bool:
        """Remember ``version`` of the object if it supersedes the one taken last; whether it did."""
        identity = _digest(f"{bucket}/{key}", 16)
        short = ObjectVersion(_digest(version.etag, 12), version.order)
        known = self.entries.get(identity)
        if known is not None and not short.supersedes(known):
            return False
        self.entries.pop(identity, None)
        self.entries[identity] = short
        while len(self.entries) > self.limit:
            del self.entries[next(iter(self.entries))]
        return True

    def to_json(self) -> dict[str, list[str]]:
        """``{object digest: [etag digest, order]}``, least recently taken first."""
        return {identity: [v.etag, v.order] for identity, v in self.entries.items()}

    @classmethod
    def from_json(cls, raw: Mapping[str, list[str]], limit: int) -> TakenVersions:
        """What ``to_json`` wrote, cut to ``limit`` (the most recent kept)."""
        taken = cls(limit=limit)
        for identity, (etag, order) in list(raw.items())[-limit:] if limit else []:
            taken.entries[identity] = ObjectVersion(etag, order)
        return taken
