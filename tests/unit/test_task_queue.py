"""``TaskQueue``: which queued tasks a slot takes as one message, and how far ahead inputs are prefetched."""

from __future__ import annotations

from batchpoint.scoring.message_groups import GroupRules
from batchpoint.scoring.planning import MiniBatch
from batchpoint.scoring.pool_records import Attempt
from batchpoint.scoring.task_queue import Task, TaskQueue
from batchpoint.storage.port import ObjectInfo


def mini_batches(count: int) -> list[MiniBatch]:
    return [MiniBatch(i, (ObjectInfo("b", f"k/{i}.csv", "e", 100),)) for i in range(count)]


def loaded(count: int, rules: GroupRules, prefetched: list[int] | None = None) -> TaskQueue:
    seen = [] if prefetched is None else prefetched
    tasks = TaskQueue(2, lambda m: seen.append(m.index))
    tasks.load(mini_batches(count), rules)
    return tasks


def take(tasks: TaskQueue, carried: list[Task | None]) -> list[int]:
    first = carried.pop() if carried else tasks.get()
    assert first is not None
    return [t.mini_batch.index for t in tasks.group(first, carried, lambda: False)]


def test_first_attempts_group_up_to_the_rules_and_a_retry_goes_alone_in_queue_order() -> None:
    tasks = loaded(4, GroupRules(3))
    first = tasks.get()
    assert first is not None
    first.failures.append(Attempt(1, "worker-0", "run_failed", "boom", ""))
    tasks.put(first)  # a retry, queued behind 1, 2, 3
    carried: list[Task | None] = []

    assert take(tasks, carried) == [1, 2, 3]
    assert take(tasks, carried) == [0]  # the retry, alone
    tasks.put(None)
    assert tasks.get() is None


def test_the_task_that_ends_a_group_is_carried_and_sent_alone_next() -> None:
    tasks = loaded(3, GroupRules(4))
    queued = list(tasks.drain())
    queued[1].solo = True  # sent back by a group that failed as one
    for task in queued:
        tasks.put(task)
    carried: list[Task | None] = []

    assert take(tasks, carried) == [0]  # 1 is solo: it ends the group and is carried
    assert take(tasks, carried) == [1]
    assert take(tasks, carried) == [2]


def test_scripts_are_never_grouped_and_stopping_adds_no_member() -> None:
    assert take(loaded(3, GroupRules.for_job(3, 1, builtin=False)), []) == [0]
    tasks = loaded(3, GroupRules(3))
    first = tasks.get()
    assert first is not None
    assert [t.mini_batch.index for t in tasks.group(first, [], lambda: True)] == [0]


def test_drain_leaves_an_end_marker_for_another_slot() -> None:
    tasks = loaded(2, GroupRules(1))
    tasks.put(None)
    tasks.put(None)
    assert [t.mini_batch.index for t in tasks.drain()] == [0, 1]
    assert tasks.get() is None
    assert tasks.get() is None


def test_prefetch_stays_two_messages_per_slot_ahead_of_what_was_taken() -> None:
    prefetched: list[int] = []
    tasks = loaded(20, GroupRules(2), prefetched)  # 2 slots × groups of 2 × 2 messages = 8 ahead
    assert prefetched == list(range(8))
    task = tasks.get()
    assert task is not None
    tasks.taken(task)
    tasks.taken(task)  # once per task
    assert prefetched == list(range(9))
