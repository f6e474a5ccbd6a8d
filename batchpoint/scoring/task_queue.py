"""``TaskQueue``: the mini-batches left to send, how a slot takes a group of them, how far ahead to stage inputs.

``ScriptPool``'s bookkeeping of what is left to send. Each ``Task`` is a mini-batch with its failed
attempts so far. A slot takes one task, and for the built-in scorer the first attempts queued behind
it that fit one message (``message_groups.GroupRules``); a retry, or a member of a group that failed
as a whole (``solo``), is always sent alone. Inputs are prefetched ``2 × slots`` messages ahead of
what the slots have taken, so files download while others are scored, and a large job does not
copy its whole input to local disk.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from batchpoint.scoring.message_groups import GroupRules
from batchpoint.scoring.planning import MiniBatch
from batchpoint.scoring.pool_records import Attempt


@dataclass
class Task:
    """A mini-batch to send, with its failed attempts so far."""

    mini_batch: MiniBatch
    failures: list[Attempt] = field(default_factory=list)
    solo: bool = False
    """Sent on its own: a group it was in failed as a whole (retries are always sent alone)."""
    counted: bool = False
    """Counted as taken (for the prefetch window)."""

    @property
    def groupable(self) -> bool:
        """A first attempt that no failed group sent back."""
        return not self.failures and not self.solo


class TaskQueue:
    """The tasks left, in order; ``None`` in the queue is a slot's end-of-work marker.

    ``prefetch`` asks the host to start downloading a mini-batch's inputs.
    """

    def __init__(self, slots: int, prefetch: Callable[[MiniBatch], None]) -> None:
        self._slots = slots
        self._prefetch = prefetch
        self._queue: queue.Queue[Task | None] = queue.Queue()
        self._lock = threading.Lock()
        self._order: list[MiniBatch] = []
        self._rules = GroupRules(1)
        self._reach = 1
        self._prefetched = 0
        self._taken = 0

    def load(self, mini_batches: Sequence[MiniBatch], rules: GroupRules) -> None:
        """Queue a job's mini-batches, to be grouped by ``rules``, and prefetch the first ones."""
        self._order = list(mini_batches)
        self._rules = rules
        self._reach = rules.reach(len(mini_batches[0].files)) if mini_batches else 1
        for mini_batch in mini_batches:
            self._queue.put(Task(mini_batch))
        self._prefetch_ahead()

    def extend(self, mini_batches: Sequence[MiniBatch]) -> None:
        """Queue more of the job's mini-batches after those loaded, under the same rules."""
        with self._lock:
            self._order.extend(mini_batches)
        for mini_batch in mini_batches:
            self._queue.put(Task(mini_batch))
        self._prefetch_ahead()

    def put(self, task: Task | None) -> None:
        """Queue ``task`` (last), or an end-of-work marker."""
        self._queue.put(task)

    def get(self) -> Task | None:
        """The next task, waiting for one; ``None``: the slot's work is over."""
        return self._queue.get()

    def drain(self) -> Iterator[Task]:
        """Take every task queued now, leaving an end-of-work marker met in place (it is another slot's)."""
        while True:
            try:
                task = self._queue.get_nowait()
            except queue.Empty:
                return
            if task is None:
                self._queue.put(None)
                return
            yield task

    def group(self, first: Task, carried: list[Task | None], stopping: Callable[[], bool]) -> list[Task]:
        """``first`` and the first attempts queued behind it that fit one message (``message_groups``).

        The task that ends the group (a retry, a sent-back member, the end marker) is carried to
        the slot's next turn, so that the queue's order holds. Nothing is added once ``stopping()``.
        """
        group = [first]
        if not self._rules.groups or not first.groupable or carried:
            return group
        while not stopping():
            try:
                task = self._queue.get_nowait()
            except queue.Empty:
                break
            members = [t.mini_batch for t in group]
            if task is None or not task.groupable or not self._rules.admits(members, task.mini_batch):
                carried.append(task)
                break
            group.append(task)
        return group

    def taken(self, task: Task) -> None:
        """``task`` is being sent: the prefetch window moves on (once per task)."""
        if not task.counted:
            task.counted = True
            with self._lock:
                self._taken += 1
        self._prefetch_ahead()

    def _prefetch_ahead(self) -> None:
        # Files for the next few messages download while the current ones are scored; a bound
        # keeps a large job from copying its whole input to local disk.
        window = 2 * self._slots * self._reach
        with self._lock:
            start, end = self._prefetched, min(len(self._order), self._taken + window)
            self._prefetched = max(start, end)
        for mini_batch in self._order[start:end]:
            self._prefetch(mini_batch)
