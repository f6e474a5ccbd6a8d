"""Which agents of a warm pool are leased, idle, or due to end: the pool keeper's bookkeeping, pure.

A pool (one per deployment + model version + environment, ``pool_keys.py``) holds *sets* of
``instance_count`` node agents. A job leases a whole set; a second job of the same deployment
running at the same time leases another set (started for it), so two jobs never share a worker.
AmlCompute's fields decide what an idle pool keeps (Azure's meaning, ``docs/ray-compute.md``):

- ``idle_time_before_scale_down``: seconds after its last job a set's agents end;
- ``min_instances``: that many agents of the first set stay, however long idle;
- a drained pool (its deployment moved on to a new model version or setting) keeps nothing and ends
  each set as soon as its job releases it.

The keeper actor (``pool_keeper.py``) asks, carries out the answer, and tells back what happened.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class AgentSet:
    """``instance_count`` agent positions; ``alive[i]``: agent ``i`` is running."""

    index: int
    alive: list[bool]
    leased_by: str | None = None
    idle_since: float = 0.0

    @property
    def empty(self) -> bool:
        """True when no agent of the set is running."""
        return not any(self.alive)


@dataclass(frozen=True)
class Lease:
    """A set lent to ``job_id``: which one, whether it is new, and which agents must start first."""

    job_id: str
    set_index: int
    new_set: bool
    to_start: tuple[int, ...]
    """Agent positions not running (never started, scaled down, or lost): start them before use."""

    @property
    def warm(self) -> bool:
        """True when every agent of the set was running already."""
        return not self.to_start


@dataclass(frozen=True)
class ScaleDown:
    """Agents to end now: ``(set, agent position)`` pairs, and the sets then gone entirely."""

    agents: tuple[tuple[int, int], ...] = ()
    sets_removed: tuple[int, ...] = ()


@dataclass
class PoolState:
    """The sets of one pool and who holds them."""

    instance_count: int
    min_instances: int = 0
    idle_seconds: float = 120.0
    sets: dict[int, AgentSet] = field(default_factory=dict)
    drained: bool = False

    def __post_init__(self) -> None:
        if self.instance_count < 1:
            raise ValueError(f"instance_count must be >= 1, got {self.instance_count}")
        if self.min_instances < 0 or self.idle_seconds < 0:
            raise ValueError("min_instances and idle_seconds must be >= 0")

    @property
    def kept_warm(self) -> int:
        """Agents of the first set that ``min_instances`` keeps (never more than a set has)."""
        return 0 if self.drained else min(self.min_instances, self.instance_count)

    @property
    def empty(self) -> bool:
        """True when the pool has no set left: the keeper may end too."""
        return not self.sets

    def lease(self, job_id: str) -> Lease:
        """A set for ``job_id``: the job's own if it holds one, else a free one (lowest first), else a new one."""
        for agent_set in self.sets.values():
            if agent_set.leased_by == job_id:
                return self._lease_of(agent_set, new=False)
        free = [s for s in self.sets.values() if s.leased_by is None]
        if free:
            # The most complete free set first: fewer agents to start.
            chosen = min(free, key=lambda s: (-sum(s.alive), s.index))
            chosen.leased_by = job_id
            return self._lease_of(chosen, new=False)
        index = next(i for i in range(len(self.sets) + 1) if i not in self.sets)
        agent_set = AgentSet(index, [False] * self.instance_count, leased_by=job_id)
        self.sets[index] = agent_set
        return self._lease_of(agent_set, new=True)

    def _lease_of(self, agent_set: AgentSet, *, new: bool) -> Lease:
        assert agent_set.leased_by is not None
        missing = tuple(i for i, alive in enumerate(agent_set.alive) if not alive)
        return Lease(agent_set.leased_by, agent_set.index, new, missing)

    def started(self, set_index: int, position: int) -> None:
        """Agent ``position`` of the set is running."""
        self.sets[set_index].alive[position] = True

    def lost(self, set_index: int, position: int) -> None:
        """Agent ``position`` of the set died (its node went away, it crashed): start another before use."""
        agent_set = self.sets.get(set_index)
        if agent_set is not None:
            agent_set.alive[position] = False

    def release(self, job_id: str, now: float) -> None:
        """The job is done with its set; it is idle from ``now``."""
        for agent_set in self.sets.values():
            if agent_set.leased_by == job_id:
                agent_set.leased_by = None
                agent_set.idle_since = now

    def drain(self) -> None:
        """Keep nothing: each set ends once its job (if any) releases it."""
        self.drained = True

    def scale_down(self, now: float) -> ScaleDown:
        """End what has been idle past ``idle_seconds`` (at once when drained), keeping ``min_instances``.

        The returned agents are marked ended, and sets left empty are removed.
        """
        ending: list[tuple[int, int]] = []
        removed: list[int] = []
        first = min(self.sets, default=None)
        for index, agent_set in sorted(self.sets.items()):
            if agent_set.leased_by is not None:
                continue
            if not self.drained and now - agent_set.idle_since < self.idle_seconds:
                continue
            keep = self.kept_warm if index == first else 0
            # The first ``keep`` running agents stay, whatever their positions: keeping a lost
            # position would count a dead agent towards min_instances and end a live one.
            running = [position for position, alive in enumerate(agent_set.alive) if alive]
            for position in running[keep:]:
                ending.append((index, position))
                agent_set.alive[position] = False
            if keep == 0:
                removed.append(index)
        for index in removed:
            del self.sets[index]
        return ScaleDown(tuple(ending), tuple(removed))
