"""Properties of the warm pool's bookkeeping over random histories (hypothesis).

A history is a list of steps a keeper could see: jobs (from a few ids, so the same job often leases
twice) leasing and releasing, agents lost, the watchdog scaling down, the clock moving on, and the
pool being drained. The keeper starts every agent a lease lists, as ``pool_keeper.py`` does.

Properties, checked after every step:

- no set is ever leased by two jobs, and a job holding a set is given that same set again;
- a leased set never loses agents to ``scale_down``, and ``scale_down`` ends only running agents;
- ``min_instances`` running agents of the first set survive any scale-down of an undrained pool;

and at the end: after drain, release of every job and one scale-down, the pool is empty.
"""

from __future__ import annotations

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from batchpoint.ray_compute.pool_state import PoolState

JOBS = ("job-a", "job-b", "job-c")
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

lease = st.tuples(st.just("lease"), st.sampled_from(JOBS))
release = st.tuples(st.just("release"), st.sampled_from(JOBS))
# Sets 0..3 (three jobs hold at most three; one more is a set already gone); the position is taken
# modulo instance_count, so most losses hit a running agent.
lost = st.tuples(st.just("lost"), st.integers(0, 3), st.integers(0, 3))
scale_down = st.tuples(st.just("scale_down"))
# Waits on the scale of idle_seconds, so that sets often idle past it and often do not.
wait = st.tuples(st.just("wait"), st.sampled_from((1.0, 30.0, 120.0)))
steps = st.lists(st.one_of(lease, lease, release, lost, scale_down, wait), max_size=40)


@given(
    instance_count=st.integers(1, 4),
    min_instances=st.integers(0, 5),
    idle_seconds=st.sampled_from((0.0, 30.0, 120.0)),
    history=steps,
    # Once drained a pool keeps nothing: one drain point per history, often none, so that most
    # histories test min_instances too.
    drain_at=st.none() | st.integers(0, 40),
)
# min_instances once kept the lost position 0 of the first set and ended its running agent.
@example(2, 1, 0.0, [("lease", "job-a"), ("lost", 0, 0), ("release", "job-a"), ("scale_down",)], None)
@SETTINGS
def test_sets_are_never_shared_leased_sets_never_shrink_and_a_drained_pool_empties(
    instance_count: int,
    min_instances: int,
    idle_seconds: float,
    history: list[tuple[object, ...]],
    drain_at: int | None,
) -> None:
    pool = PoolState(instance_count, min_instances, idle_seconds)
    holder: dict[int, str] = {}  # the model: which job holds which set
    now = 0.0
    for number, step in enumerate(history):
        if number == drain_at:
            pool.drain()
        match step:
            case ("lease", str(job)):
                held = [index for index, owner in holder.items() if owner == job]
                existing = set(pool.sets)
                given_lease = pool.lease(job)
                assert holder.get(given_lease.set_index) in (None, job), "a set leased by two jobs"
                if held:
                    assert given_lease.set_index == held[0], "a job given a second set"
                assert given_lease.new_set == (given_lease.set_index not in existing)
                holder[given_lease.set_index] = job
                for position in given_lease.to_start:
                    pool.started(given_lease.set_index, position)
                assert all(pool.sets[given_lease.set_index].alive)
            case ("release", str(job)):
                pool.release(job, now)
                holder = {index: owner for index, owner in holder.items() if owner != job}
            case ("lost", int(index), int(position)):
                pool.lost(index, position % instance_count)
            case ("scale_down",):
                before = {index: list(s.alive) for index, s in pool.sets.items()}
                ending = pool.scale_down(now)
                for index, position in ending.agents:
                    assert index not in holder, "a leased set lost an agent to scale_down"
                    assert before[index][position], "scale_down ended an agent that was not running"
                for index in holder:
                    assert pool.sets[index].alive == before[index]
                assert not set(ending.sets_removed) & set(holder)
                first = min(before, default=None)
                if not pool.drained and first is not None and first in pool.sets:
                    assert sum(pool.sets[first].alive) >= min(sum(before[first]), min_instances, instance_count)
            case ("wait", float(seconds)):
                now += seconds
        assert {index: s.leased_by for index, s in pool.sets.items() if s.leased_by} == holder
        assert all(len(s.alive) == instance_count for s in pool.sets.values())

    pool.drain()
    for job in JOBS:
        pool.release(job, now)
    alive_before = {(index, p) for index, s in pool.sets.items() for p, alive in enumerate(s.alive) if alive}
    ending = pool.scale_down(now)
    assert pool.empty
    assert set(ending.agents) == alive_before
