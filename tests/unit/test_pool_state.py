"""The warm pool's bookkeeping: which set a job leases, what idling ends, what ``min_instances`` keeps."""

from __future__ import annotations

import pytest

from batchpoint.ray_compute.pool_state import Lease, PoolState, ScaleDown

IDLE = 120.0


def started(pool: PoolState, lease: Lease) -> Lease:
    """What the keeper does with a lease: start every missing agent."""
    for position in lease.to_start:
        pool.started(lease.set_index, position)
    return lease


def leased(pool: PoolState, job_id: str) -> Lease:
    return started(pool, pool.lease(job_id))


def test_a_first_lease_is_a_new_set_with_every_agent_to_start() -> None:
    pool = PoolState(instance_count=3)

    lease = pool.lease("job-1")

    assert lease == Lease("job-1", 0, new_set=True, to_start=(0, 1, 2))
    assert not lease.warm
    assert pool.sets[0].leased_by == "job-1"


def test_leasing_the_same_job_twice_gives_the_same_set() -> None:
    pool = PoolState(instance_count=2)
    first = leased(pool, "job-1")

    again = pool.lease("job-1")

    assert again.set_index == first.set_index
    assert not again.new_set
    assert again.warm
    assert list(pool.sets) == [0]


def test_a_second_concurrent_job_gets_a_new_set() -> None:
    pool = PoolState(instance_count=2)
    leased(pool, "job-1")

    second = pool.lease("job-2")

    assert second == Lease("job-2", 1, new_set=True, to_start=(0, 1))
    assert {i: s.leased_by for i, s in pool.sets.items()} == {0: "job-1", 1: "job-2"}


def test_a_released_set_is_reused_warm_by_the_next_job() -> None:
    pool = PoolState(instance_count=2, idle_seconds=IDLE)
    leased(pool, "job-1")
    pool.release("job-1", now=10.0)

    lease = pool.lease("job-2")

    assert lease == Lease("job-2", 0, new_set=False, to_start=())
    assert lease.warm
    assert len(pool.sets) == 1


def test_the_most_complete_free_set_is_leased_first() -> None:
    pool = PoolState(instance_count=3)
    leased(pool, "job-1")
    leased(pool, "job-2")
    pool.lost(0, 1)
    pool.release("job-1", now=1.0)
    pool.release("job-2", now=1.0)

    lease = pool.lease("job-3")

    assert lease.set_index == 1
    assert lease.warm


def test_among_equally_complete_free_sets_the_lowest_is_leased() -> None:
    pool = PoolState(instance_count=2)
    for job in ("job-1", "job-2", "job-3"):
        leased(pool, job)
    for job in ("job-3", "job-2", "job-1"):
        pool.release(job, now=1.0)

    assert pool.lease("job-4").set_index == 0


def test_release_of_a_job_holding_nothing_changes_nothing() -> None:
    pool = PoolState(instance_count=1)
    leased(pool, "job-1")

    pool.release("job-unknown", now=5.0)

    assert pool.sets[0].leased_by == "job-1"


def test_scale_down_before_idle_seconds_ends_nothing() -> None:
    pool = PoolState(instance_count=2, idle_seconds=IDLE)
    leased(pool, "job-1")
    pool.release("job-1", now=100.0)

    assert pool.scale_down(now=100.0 + IDLE - 0.5) == ScaleDown()
    assert pool.sets[0].alive == [True, True]


def test_scale_down_at_idle_seconds_ends_the_set() -> None:
    pool = PoolState(instance_count=2, idle_seconds=IDLE)
    leased(pool, "job-1")
    pool.release("job-1", now=100.0)

    ending = pool.scale_down(now=100.0 + IDLE)

    assert ending == ScaleDown(agents=((0, 0), (0, 1)), sets_removed=(0,))
    assert pool.empty


def test_idling_counts_from_the_last_release() -> None:
    pool = PoolState(instance_count=1, idle_seconds=IDLE)
    leased(pool, "job-1")
    pool.release("job-1", now=0.0)
    leased(pool, "job-2")
    pool.release("job-2", now=100.0)

    assert pool.scale_down(now=IDLE + 1.0) == ScaleDown()
    assert pool.scale_down(now=100.0 + IDLE).sets_removed == (0,)


def test_a_leased_set_is_never_scaled_down_however_long_it_runs() -> None:
    pool = PoolState(instance_count=2, idle_seconds=IDLE)
    leased(pool, "job-1")

    assert pool.scale_down(now=10 * IDLE) == ScaleDown()
    assert pool.sets[0].alive == [True, True]


def test_min_instances_keeps_that_many_agents_of_the_first_set_only() -> None:
    pool = PoolState(instance_count=3, min_instances=2, idle_seconds=IDLE)
    leased(pool, "job-1")
    leased(pool, "job-2")
    pool.release("job-1", now=0.0)
    pool.release("job-2", now=0.0)

    ending = pool.scale_down(now=IDLE)

    assert ending == ScaleDown(agents=((0, 2), (1, 0), (1, 1), (1, 2)), sets_removed=(1,))
    assert list(pool.sets) == [0]
    assert sum(pool.sets[0].alive) == 2
    assert not pool.empty
    # However long it idles, the first set keeps them.
    assert pool.scale_down(now=100 * IDLE) == ScaleDown()
    assert sum(pool.sets[0].alive) == 2


def test_min_instances_never_keeps_more_than_a_set_has() -> None:
    pool = PoolState(instance_count=2, min_instances=5, idle_seconds=IDLE)
    leased(pool, "job-1")
    leased(pool, "job-2")
    pool.release("job-1", now=0.0)
    pool.release("job-2", now=0.0)

    ending = pool.scale_down(now=IDLE)

    assert pool.kept_warm == 2
    assert ending == ScaleDown(agents=((1, 0), (1, 1)), sets_removed=(1,))
    assert pool.sets[0].alive == [True, True]


def test_min_instances_applies_to_the_first_set_while_it_is_leased_too() -> None:
    pool = PoolState(instance_count=2, min_instances=2, idle_seconds=IDLE)
    leased(pool, "job-1")
    leased(pool, "job-2")
    pool.release("job-2", now=0.0)

    # The first set is busy: the second set is not kept in its place.
    assert pool.scale_down(now=IDLE) == ScaleDown(agents=((1, 0), (1, 1)), sets_removed=(1,))


def test_min_instances_keeps_running_agents_rather_than_lost_positions() -> None:
    pool = PoolState(instance_count=3, min_instances=1, idle_seconds=IDLE)
    leased(pool, "job-1")
    pool.lost(0, 0)
    pool.release("job-1", now=0.0)

    ending = pool.scale_down(now=IDLE)

    # One agent stays running, as min_instances says: the lost position does not count as kept.
    assert ending == ScaleDown(agents=((0, 2),), sets_removed=())
    assert pool.sets[0].alive == [False, True, False]
    assert pool.lease("job-2").to_start == (0, 2)


def test_a_drained_pool_ends_every_released_set_at_once_and_keeps_nothing() -> None:
    pool = PoolState(instance_count=2, min_instances=2, idle_seconds=IDLE)
    leased(pool, "job-1")
    leased(pool, "job-2")
    pool.release("job-1", now=50.0)
    pool.drain()

    ending = pool.scale_down(now=50.0)

    assert pool.kept_warm == 0
    assert ending == ScaleDown(agents=((0, 0), (0, 1)), sets_removed=(0,))
    assert pool.sets[1].leased_by == "job-2"
    assert pool.sets[1].alive == [True, True]
    assert not pool.empty

    pool.release("job-2", now=51.0)
    assert pool.scale_down(now=51.0) == ScaleDown(agents=((1, 0), (1, 1)), sets_removed=(1,))
    assert pool.empty


def test_a_lost_agent_is_listed_to_start_at_the_next_lease() -> None:
    pool = PoolState(instance_count=3)
    leased(pool, "job-1")

    pool.lost(0, 1)

    lease = pool.lease("job-1")
    assert lease.to_start == (1,)
    assert not lease.warm
    started(pool, lease)
    assert pool.lease("job-1").warm


def test_a_lost_agent_of_a_released_set_is_started_by_its_next_job() -> None:
    pool = PoolState(instance_count=2)
    leased(pool, "job-1")
    pool.release("job-1", now=1.0)

    pool.lost(0, 0)

    assert pool.lease("job-2") == Lease("job-2", 0, new_set=False, to_start=(0,))


def test_losing_an_agent_of_a_set_already_gone_is_ignored() -> None:
    pool = PoolState(instance_count=1, idle_seconds=0.0)
    leased(pool, "job-1")
    pool.release("job-1", now=0.0)
    pool.scale_down(now=0.0)

    pool.lost(0, 0)

    assert pool.empty


def test_scale_down_removes_sets_whose_agents_were_all_lost() -> None:
    pool = PoolState(instance_count=2, idle_seconds=IDLE)
    leased(pool, "job-1")
    pool.lost(0, 0)
    pool.lost(0, 1)
    pool.release("job-1", now=0.0)

    ending = pool.scale_down(now=IDLE)

    # Nothing is running to end, but the set is gone.
    assert ending == ScaleDown(agents=(), sets_removed=(0,))
    assert pool.empty


def test_scale_down_marks_the_agents_it_ends_as_not_running() -> None:
    pool = PoolState(instance_count=2, min_instances=1, idle_seconds=IDLE)
    leased(pool, "job-1")
    pool.release("job-1", now=0.0)

    pool.scale_down(now=IDLE)

    assert pool.sets[0].alive == [True, False]
    assert pool.lease("job-2").to_start == (1,)


def test_a_removed_set_index_is_given_to_the_next_new_set() -> None:
    pool = PoolState(instance_count=1, idle_seconds=IDLE)
    leased(pool, "job-1")
    leased(pool, "job-2")
    pool.release("job-1", now=0.0)
    assert pool.scale_down(now=IDLE).sets_removed == (0,)

    lease = pool.lease("job-3")

    assert lease == Lease("job-3", 0, new_set=True, to_start=(0,))


def test_a_pool_is_empty_once_every_set_ended() -> None:
    pool = PoolState(instance_count=2, idle_seconds=IDLE)
    assert pool.empty
    leased(pool, "job-1")
    leased(pool, "job-2")
    assert not pool.empty
    pool.release("job-1", now=0.0)
    pool.release("job-2", now=10.0)

    pool.scale_down(now=IDLE)
    assert not pool.empty
    pool.scale_down(now=10.0 + IDLE)
    assert pool.empty


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"instance_count": 0}, "instance_count"),
        ({"instance_count": -1}, "instance_count"),
        ({"instance_count": 1, "min_instances": -1}, "min_instances"),
        ({"instance_count": 1, "idle_seconds": -0.5}, "idle_seconds"),
    ],
)
def test_invalid_pool_shapes_are_refused(arguments: dict[str, int | float], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        PoolState(**arguments)  # type: ignore[arg-type]
