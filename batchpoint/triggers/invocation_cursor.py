"""The invocation sensor's cursor and what one tick does with the messages it read (pure).

The cursor holds the Kafka offsets and the job names already requested. Both are written with the
run requests, so an offset never advances past an invocation whose run was not requested, and an
invocation delivered twice (the relay is at-least-once) is requested once.

An invocation for an endpoint the registry knows but the loaded definitions do not (created
since the last code location reload) is requested at once too, marked ``pending``: the sensor runs
it with the job that serves any endpoint (``invocation_assets.build_new_endpoint_job``) rather
than holding it for the reload that brings the endpoint's own job (that cost ~20 s).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from batchpoint.specs.job import InvocationMessage

REQUESTED_LIMIT = 20_000


class EndpointState(StrEnum):
    """Where an invocation's endpoint stands for this tick."""

    LOADED = "loaded"  # in the loaded definitions: its own invocation job runs it
    PENDING = "pending"  # in the registry, not yet in the definitions: the new-endpoint job runs it
    GONE = "gone"  # not in the registry: the job cannot run


@dataclass(frozen=True)
class Received:
    """One decoded invocation and where it was read."""

    partition: int
    offset: int
    message: InvocationMessage


@dataclass(frozen=True)
class TickPlan:
    """What to do with one tick's invocations."""

    requests: list[InvocationMessage] = field(default_factory=list)
    """Every invocation to run, in partition/offset order (``pending`` ones included)."""
    pending: set[str] = field(default_factory=set)
    """Job names among ``requests`` whose endpoint is not in the loaded definitions yet."""
    duplicates: list[InvocationMessage] = field(default_factory=list)
    gone: list[InvocationMessage] = field(default_factory=list)
    next_offsets: dict[int, int] = field(default_factory=dict)


@dataclass
class InvocationCursor:
    """Offsets per partition of the invocations topic, and job names already requested (oldest first)."""

    offsets: dict[int, int] = field(default_factory=dict)
    requested: list[str] = field(default_factory=list)
    epoch: str = ""
    """The broker life ``offsets`` belong to (``batchpoint/triggers/broker_epoch.py``)."""

    def plan(
        self,
        received: Sequence[Received],
        next_offsets: dict[int, int],
        endpoint_state: Callable[[str], EndpointState],
    ) -> TickPlan:
        """Sort ``received`` (in partition/offset order) into requests (some pending), duplicates and gone.

        ``next_offsets`` is where the read resumes. Does not change the cursor (see ``advance``).
        """
        plan = TickPlan(next_offsets=dict(next_offsets))
        seen = set(self.requested)
        for item in sorted(received, key=lambda r: (r.partition, r.offset)):
            name = item.message.job_name
            if name in seen:
                plan.duplicates.append(item.message)
                continue
            seen.add(name)
            state = endpoint_state(item.message.endpoint_name)
            if state is EndpointState.GONE:
                plan.gone.append(item.message)
                continue
            plan.requests.append(item.message)
            if state is EndpointState.PENDING:
                plan.pending.add(name)
        return plan

    def advance(self, plan: TickPlan) -> None:
        """Record ``plan``'s requests (and gone jobs) as done and move the offsets."""
        self.requested.extend(m.job_name for m in [*plan.requests, *plan.gone])
        if len(self.requested) > REQUESTED_LIMIT:
            self.requested = self.requested[-REQUESTED_LIMIT:]
        self.offsets = dict(plan.next_offsets)

    # ---- cursor serialisation ----------------------------------------------------------
    def to_cursor(self) -> str:
        """JSON for the sensor cursor."""
        return json.dumps(
            {"offsets": {str(p): o for p, o in self.offsets.items()}, "requested": self.requested, "epoch": self.epoch},
            separators=(",", ":"),
        )

    @classmethod
    def from_cursor(cls, cursor: str | None) -> InvocationCursor:
        """The cursor written by ``to_cursor`` (empty for ``None``)."""
        if not cursor:
            return cls()
        raw = json.loads(cursor)
        return cls(
            offsets={int(p): int(o) for p, o in raw.get("offsets", {}).items()},
            requested=[str(n) for n in raw.get("requested", [])],
            epoch=str(raw.get("epoch", "")),
        )
