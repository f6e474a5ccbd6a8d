"""Planning a job: input files → mini-batches of ``mini_batch_size`` files → ``instance_count`` shards.

Pure: the same inputs always give the same plan, so a plan can be recorded and compared.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from batchpoint.errors import SpecError
from batchpoint.storage.port import ObjectInfo


@dataclass(frozen=True)
class MiniBatch:
    """Files scored together by one worker call (Azure: one ``run(mini_batch)``)."""

    index: int
    files: tuple[ObjectInfo, ...]


@dataclass(frozen=True)
class Shard:
    """The mini-batches one instance scores (round robin over instances)."""

    index: int
    mini_batches: tuple[MiniBatch, ...]

    @property
    def file_count(self) -> int:
        """Input files in this shard."""
        return sum(len(mb.files) for mb in self.mini_batches)


@dataclass(frozen=True)
class JobPlan:
    """Every input file, in key order, cut into mini-batches and spread over shards."""

    files: tuple[ObjectInfo, ...]
    mini_batches: tuple[MiniBatch, ...]
    shards: tuple[Shard, ...]
    mini_batch_size: int

    @property
    def file_count(self) -> int:
        """Input files planned."""
        return len(self.files)

    @property
    def mini_batch_count(self) -> int:
        """Mini-batches planned."""
        return len(self.mini_batches)

    @property
    def total_bytes(self) -> int:
        """Sum of input sizes."""
        return sum(f.size for f in self.files)


def plan_job(files: Iterable[ObjectInfo], mini_batch_size: int, instance_count: int) -> JobPlan:
    """Sort ``files`` by (bucket, key), cut them into mini-batches and deal those round robin to shards.

    The same key listed twice is planned once: scoring it twice would duplicate its rows.
    """
    if mini_batch_size < 1:
        raise SpecError("settings.mini_batch_size", f"got {mini_batch_size}", "an integer >= 1")
    if instance_count < 1:
        raise SpecError("resources.instance_count", f"got {instance_count}", "an integer >= 1")
    unique = {(f.bucket, f.key): f for f in files}
    ordered = tuple(unique[k] for k in sorted(unique))
    mini_batches = tuple(
        MiniBatch(i, ordered[start : start + mini_batch_size])
        for i, start in enumerate(range(0, len(ordered), mini_batch_size))
    )
    return JobPlan(ordered, mini_batches, _deal(mini_batches, instance_count), mini_batch_size)


def extend_plan(plan: JobPlan, files: Iterable[ObjectInfo], instance_count: int) -> JobPlan:
    """``plan`` with the ``files`` it does not hold yet planned after its last mini-batch.

    For a running job taking files that landed while it ran: its mini-batches keep their index
    and files (some are scored already); the new files, in key order, are cut into mini-batches
    numbered on from the last, and every mini-batch is dealt to shards again. A key the plan
    holds already is not planned again, whatever its ETag now (a later run scores a change).
    """
    known = {(f.bucket, f.key) for f in plan.files}
    extra = plan_job([f for f in files if (f.bucket, f.key) not in known], plan.mini_batch_size, instance_count)
    if not extra.files:
        return plan
    offset = plan.mini_batch_count
    added = tuple(MiniBatch(offset + mb.index, mb.files) for mb in extra.mini_batches)
    mini_batches = plan.mini_batches + added
    return JobPlan(plan.files + extra.files, mini_batches, _deal(mini_batches, instance_count), plan.mini_batch_size)


def _deal(mini_batches: tuple[MiniBatch, ...], instance_count: int) -> tuple[Shard, ...]:
    """Mini-batches dealt round robin to at most ``instance_count`` shards."""
    shard_count = min(instance_count, len(mini_batches))
    return tuple(Shard(s, mini_batches[s::shard_count]) for s in range(shard_count))
