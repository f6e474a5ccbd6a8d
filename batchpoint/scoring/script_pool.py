"""``ScriptPool``: a job's coordinator, feeding mini-batches with retries to workers that ran ``init()`` once.

One thread per worker slot holds one ``Worker`` at a time, lent by the job's ``WorkerHost``
(``worker_host.py``: processes on this machine, or on Ray nodes, kept warm between jobs). A slot
takes the next mini-batch from a shared queue (``task_queue.py``, which also groups the built-in
scorer's first attempts and keeps the prefetch window), has the worker stage its files and sends it.
What can go wrong, and what the slot does (Azure's rules, see ``docs/scoring-runtime.md``;
``attempt_policy`` decides, the pool carries the decision out):

- ``run()`` raised: the mini-batch goes back to the queue until it has had ``1 + max_retries`` attempts;
- no answer within ``timeout``, or the process died (``os._exit``, a signal, OOM): the process is
  killed and replaced (its successor runs ``init()`` again), and the mini-batch is retried likewise;
- ``init()`` failed: the slot starts a new process up to ``max_retries`` times, then gives up; when
  every slot has given up, the mini-batches left end as not run, with the ``init()`` error.

``stop(reason)`` (error threshold exceeded) lets no new attempt start and kills running ones. A
mini-batch whose files the store could not give (``StagedMiniBatch.store_error``) stops the pool
the same way, the stop attributed to the infrastructure, and ``store_error`` says why.
Outcomes come back in completion order from ``run``; messages for the user's log come back on the
caller's thread, because Dagster's logger is not ours to call from worker threads.
"""

from __future__ import annotations

import dataclasses
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from batchpoint.errors import MiniBatchTimeout, ScriptInitError, ScriptWorkerError, WorkerCrashed
from batchpoint.scoring import attempt_policy as policy
from batchpoint.scoring.attempt_policy import AttemptResult, Decision, RetryRules, Stopping, Verdict
from batchpoint.scoring.failure_causes import FailureCause
from batchpoint.scoring.input_staging import StagedMiniBatch
from batchpoint.scoring.message_groups import GroupRules
from batchpoint.scoring.planning import MiniBatch
from batchpoint.scoring.pool_records import Attempt, MiniBatchOutcome, PoolSettings, result_file
from batchpoint.scoring.script_process import ScriptAnswer
from batchpoint.scoring.task_queue import Task, TaskQueue
from batchpoint.scoring.worker_host import RunRequest, Worker, WorkerHost


class ScriptPool:
    """``slots`` workers lent by ``host``; ``run(mini_batches)`` yields each mini-batch's outcome.

    ``builtin``: the workers run the built-in MLflow scorer, which answers in Arrow.
    ``first_wave``: how many slots start at once (default: all). The others start their first
    process once one worker is ready (or an ``init()`` failed, or the pool stops): a warm pool
    starts every slot, but on a node of few cores the ``init()``s of slots the job has no
    mini-batch for would compete with those it waits for. A slot not started when the job ends
    does not start.
    """

    def __init__(
        self,
        host: WorkerHost,
        slots: int,
        settings: PoolSettings,
        *,
        builtin: bool,
        work_dir: Path,
        log: logging.Logger,
        first_wave: int | None = None,
    ) -> None:
        if slots < 1:
            raise ValueError(f"slots must be >= 1, got {slots}")
        self.host = host
        self.builtin = builtin
        self.slots = slots
        self.settings = settings
        self._rules = RetryRules(settings.max_retries)
        self.results_dir = work_dir / "results"
        self.results_dir.mkdir(parents=True, exist_ok=True)
        self._log = log
        self._tasks = TaskQueue(slots, host.prefetch)
        self._events: queue.Queue[MiniBatchOutcome | tuple[int, str]] = queue.Queue()
        self._lock = threading.Lock()
        self._running: dict[str, Worker] = {}
        self._stop_reason: str | None = None
        self._stop_cause = FailureCause.CONTENT
        self.store_error: str | None = None
        """Why the store could not give a mini-batch's files, when that stopped the pool."""
        self._alive = slots
        self._started_at = time.perf_counter()
        self.init_errors: list[ScriptInitError] = []
        self.init_workers: list[str] = []
        """The worker of each ``init_errors`` entry, in the same order."""
        self.first_ready_seconds: float | None = None
        self.all_ready_seconds: float | None = None
        """When the first ``slots`` workers had all finished ``init()`` (later replacements not counted)."""
        self.init_seconds: list[float] = []
        self._starting_slots: set[int] = set()
        self._detached = False
        """Set when ``run`` ends without waiting for starting slots: what they do after is not the job's."""
        self._detached_slots: set[int] = set()
        self.warm_workers = 0
        """Workers lent already initialised (a warm pool's): no ``init()`` ran for them in this job."""
        self._first_wave = slots if first_wave is None else max(1, min(first_wave, slots))
        self._gate = threading.Event()
        """Open once the slots beyond the first wave may start (see the class docstring)."""
        if self._first_wave == slots:
            self._gate.set()

    @property
    def log_dir(self) -> Path:
        """The workers' logs, ``<name>.txt`` each (complete once the host is closed)."""
        return self.host.log_dir

    @property
    def gave_up(self) -> bool:
        """True when every slot gave up because ``init()`` kept failing."""
        with self._lock:
            return self._alive == 0

    @property
    def attempts_allowed(self) -> int:
        """Attempts per mini-batch: one plus ``max_retries``."""
        return self._rules.attempts_allowed

    def _stopping(self) -> Stopping | None:
        reason = self._stop_reason  # read without the lock: stop() sets the cause first
        return None if reason is None else Stopping(reason, self._stop_cause)

    def result_path(self, mini_batch: MiniBatch) -> Path:
        """Where the driver writes this mini-batch's rows."""
        stem = f"mb-{mini_batch.index:06d}"
        return result_file(self.results_dir, stem, builtin=self.builtin, result_format=self.settings.result_format)

    def run(
        self, mini_batches: Sequence[MiniBatch], more: Callable[[], Sequence[MiniBatch]] | None = None
    ) -> Iterator[MiniBatchOutcome]:
        """Score every mini-batch; yield outcomes as they become final (completion order).

        Once every outcome is in, ``more()`` may give further mini-batches of the job (files that
        landed while it ran): they are scored by the same workers, still running, and ``more()``
        is asked again after them, until it gives none or the pool is stopping.
        """
        self._started_at = time.perf_counter()
        self._tasks.load(mini_batches, GroupRules.for_job(len(mini_batches), self.slots, builtin=self.builtin))
        threads = [
            threading.Thread(target=self._slot, args=(i, f"worker-{i}"), name=f"slot-{i}", daemon=True)
            for i in range(self.slots)
        ]
        for thread in threads:
            thread.start()
        remaining = len(mini_batches)
        try:
            while remaining:
                event = self._events.get()
                if isinstance(event, MiniBatchOutcome):
                    remaining -= 1
                    self.host.release_inputs(event.mini_batch)
                    yield event
                    if not remaining and more is not None and self._takes_more():
                        added = more()
                        self._tasks.extend(added)
                        remaining += len(added)
                else:
                    self._log.log(*event)
        finally:
            if remaining:
                self.stop("the job was interrupted")
            for _ in threads:
                self._tasks.put(None)
            self._open_gate(claim=False)  # a slot still at the gate now: the job is over, it starts nothing
            detached = self._detach(finished=not remaining)
            for slot in detached:
                self._log.info(
                    f"worker-{slot} was still starting when every mini-batch was done: not waited for, "
                    "it stays in the pool, warm for the next job"
                )
            for slot, thread in enumerate(threads):
                if slot not in self._detached_slots:
                    thread.join()

    def _takes_more(self) -> bool:
        """Whether the pool can take more mini-batches: not stopping, and a slot still alive to take them."""
        with self._lock:
            return self._stop_reason is None and self._alive > 0

    def _detach(self, *, finished: bool) -> list[int]:
        """The slots still starting a process that outlives the job: not waited for, and from now on
        nothing a slot does is counted in the job's records (a job's own processes are waited for)."""
        with self._lock:
            if finished and self.host.workers_outlive_job:
                self._detached = True
                self._detached_slots = set(self._starting_slots)
            return sorted(self._detached_slots)

    def stop(self, reason: str, cause: FailureCause = FailureCause.CONTENT) -> None:
        """Start no new attempt; kill the running ones (their mini-batches end as not run, for ``cause``)."""
        with self._lock:
            if self._stop_reason is None:
                self._stop_cause = cause  # first: slots read the two without the lock
                self._stop_reason = reason
            running = list(self._running.values())
        self._open_gate(claim=False)
        for worker in running:
            worker.kill()

    # ---- the worker slot -------------------------------------------------------------------
    def _slot(self, slot: int, name: str) -> None:
        process: Worker | None = None
        init_failures = 0
        carried: list[Task | None] = []
        try:
            if not self._through_gate(slot):
                return
            process, init_failures, gives_up = self._first_process(slot, name)
            if gives_up:
                return
            while True:
                task = carried.pop() if carried else self._tasks.get()
                if task is None:
                    return
                decision = policy.before_attempt(self._stopping())
                if decision.verdict is Verdict.NOT_RUN:
                    self._finish_not_run(task, None, name, decision)
                    continue
                if process is None:  # a replacement, after the last one was lost
                    process, init_failures, gives_up = self._start_counted(slot, name, init_failures, task)
                    if gives_up:
                        return
                    if process is None:
                        continue
                process = self._attempt_taken(task, carried, process, name)
        except BaseException:
            if self._detached:  # e.g. Ray disconnected as the run's process ended: not the job's concern
                return
            raise
        finally:
            if process is not None:
                with self._lock:
                    self._running.pop(name, None)
                process.release()

    def _through_gate(self, slot: int) -> bool:
        """Whether ``slot`` starts: at once in the first wave, else once the gate opened with a claim for it."""
        if slot < self._first_wave:
            return True
        self._gate.wait()
        with self._lock:
            if self._stop_reason is not None:
                self._starting_slots.discard(slot)
                return False
            # Claimed when the gate opened: it counts as starting from then on, so a job that ends
            # before this thread got here detaches it like any slot in its start.
            return slot in self._starting_slots

    def _open_gate(self, *, claim: bool) -> None:
        """Let the slots beyond the first wave go: to start (``claim``), or to end (a stop, the job's end)."""
        with self._lock:
            if self._gate.is_set():
                return
            if claim and self._stop_reason is None:
                self._starting_slots.update(range(self._first_wave, self.slots))
            self._gate.set()

    def _attempt_taken(self, task: Task, carried: list[Task | None], process: Worker, name: str) -> Worker | None:
        """``task``, with the mini-batches the queue groups with it, on ``process``; the worker to keep using."""
        group = self._tasks.group(task, carried, lambda: self._stopping() is not None)
        if len(group) > 1:
            return self._attempt_group(group, process, name)
        return self._attempt(task, process, name)

    def _first_process(self, slot: int, name: str) -> tuple[Worker | None, int, bool]:
        """The slot's first process, started before it takes a mini-batch (``_start_counted``'s answer).

        A slot still in ``init()`` would hold a mini-batch there while a ready slot could be scoring
        it: a warm pool lends some slots ready and starts the rest. ``None`` once the pool stops.
        """
        process: Worker | None = None
        init_failures = 0
        while process is None and self._stopping() is None:
            process, init_failures, gives_up = self._start_counted(slot, name, init_failures, None)
            if gives_up or self._detached:
                return process, init_failures, True
        return process, init_failures, False

    def _start_counted(
        self, slot: int, name: str, init_failures: int, held: Task | None
    ) -> tuple[Worker | None, int, bool]:
        """``(process, init() failures so far, whether the slot gives up)``; ``held`` is requeued on failure."""
        try:
            return self._start(slot, name), init_failures, False
        except ScriptInitError as exc:
            with self._lock:
                self._running.pop(name, None)
                detached = self._detached
            if held is not None:
                self._tasks.put(held)  # not the mini-batch's fault: another try, maybe elsewhere
            if detached:  # the job is over: its records are written, nothing is counted
                return None, init_failures, True
            init = self._init_failed(name, exc, init_failures)
            return None, init_failures + (1 if init.counted else 0), init.slot_gives_up

    def _start(self, slot: int, name: str) -> Worker:
        with self._lock:
            self._starting_slots.add(slot)
        try:
            worker = self.host.start_worker(slot, name, self.settings.init_timeout, self._say, self._starting)
        finally:
            with self._lock:
                self._starting_slots.discard(slot)
        with self._lock:
            if self._detached:  # ready after the job ended: it waits in the pool for the next one
                return worker
            if not worker.warm:
                self.init_seconds.append(worker.init_seconds)
            else:
                self.warm_workers += 1
            elapsed = time.perf_counter() - self._started_at
            if self.first_ready_seconds is None:
                self.first_ready_seconds = elapsed
            if self.all_ready_seconds is None and len(self.init_seconds) + self.warm_workers >= self.slots:
                self.all_ready_seconds = elapsed
            stopping = self._stop_reason is not None
        self._open_gate(claim=True)
        if stopping:
            worker.kill()  # the stop came while it was lent: it takes nothing more
        where = "" if worker.node == "local" else f" on node {worker.node[:12]}"
        if worker.warm:
            self._say(logging.INFO, f"{name} ready, warm (pid {worker.pid}{where}, no init())")
        else:
            self._say(logging.INFO, f"{name} ready (pid {worker.pid}{where}, init() {worker.init_seconds:.2f} s)")
        return worker

    def _starting(self, worker: Worker) -> None:
        """Registered before its ``init()`` is waited for, so that ``stop`` reaches it."""
        with self._lock:
            self._running[worker.name] = worker
            stopping = self._stop_reason is not None
        if stopping:
            worker.kill()

    def _init_failed(self, name: str, exc: ScriptInitError, failed_before: int) -> policy.InitDecision:
        """Record an init() failure (unless the stop caused it) and end the queue when no slot is left."""
        self._open_gate(claim=True)  # the slots beyond the first wave may succeed where this one did not
        with self._lock:
            decision = policy.after_init_failure(exc.error, failed_before, self._rules, self._alive, self._stopping())
            if not decision.counted:
                return decision
            self.init_errors.append(exc)
            self.init_workers.append(name)
            if decision.slot_gives_up:
                self._alive -= 1
        failures = failed_before + 1
        self._say(logging.ERROR, f"{name}: init() failed (start {failures}/{self.attempts_allowed}): {exc.error}")
        reason = decision.not_run_reason
        if reason is not None:
            # Nobody is left to take the queue: end every mini-batch still in it.
            for task in self._tasks.drain():
                self._finish(task, None, None, name, not_run=reason)
        return decision

    def _attempt(self, task: Task, process: Worker, name: str) -> Worker | None:
        """One attempt at ``task`` on ``process``; the worker to keep using (``None``: it was lost)."""
        self._tasks.taken(task)
        staged, kept = self._stage(task, process, name)
        if staged is None:
            return kept
        return self._run_one(task, staged, process, name)

    def _stage(self, task: Task, process: Worker, name: str) -> tuple[StagedMiniBatch | None, Worker | None]:
        """The task's staged inputs, or ``None`` when staging already settled it; and the worker to keep."""
        mini_batch = task.mini_batch
        try:
            staged = process.stage(mini_batch)
        except WorkerCrashed as exc:  # a remote worker's node or agent is gone
            with self._lock:
                self._running.pop(name, None)
            process.discard()
            empty = StagedMiniBatch(mini_batch, Path())
            attempt = Attempt(len(task.failures) + 1, name, AttemptResult.CRASHED.value, str(exc).split("\n")[0], "")
            self._failed(task, empty, attempt, name, AttemptResult.CRASHED, process.node)
            return None, None
        decision = policy.after_staging(staged.store_error, len(staged.local))
        if decision.verdict is Verdict.STOP_JOB:
            self._store_unreachable(staged.store_error or "", decision)
            # The first stop is the one the mini-batches left are attributed to.
            self._finish_not_run(task, staged, name, policy.before_attempt(self._stopping()))
            return None, process
        if decision.verdict is Verdict.GIVE_UP:
            self._finish(task, staged, None, name, node=process.node)  # no file could be downloaded
            return None, process
        return staged, process

    def _request(self, mini_batch: MiniBatch) -> RunRequest:
        rules = self.settings
        return RunRequest(rules.output_action, self.result_path(mini_batch), rules.timeout, rules.result_format)

    def _attempt_group(self, group: list[Task], process: Worker, name: str) -> Worker | None:
        """First attempts at several mini-batches in one message; each member is finished on its own.

        A member whose staging settles it (no file, the store gone) leaves the group. When the group
        fails as a whole (the worker crashed or timed out, the scorer raised), no member counts an
        attempt: each goes back to the queue to be sent on its own, where the attempt policy applies
        as to any mini-batch, so a culprit fails alone and its group-mates are not charged for it.
        """
        ready: list[tuple[Task, StagedMiniBatch]] = []
        for position, task in enumerate(group):
            self._tasks.taken(task)
            staged, kept = self._stage(task, process, name)
            if kept is None:  # the worker was lost while staging: the rest were not tried
                self._send_back([t for t, _ in ready] + group[position + 1 :], name, "its worker was lost")
                return None
            if staged is not None:
                ready.append((task, staged))
        if len(ready) == 1:
            return self._run_one(*ready[0], process, name)
        if not ready:
            return process
        try:
            answers = process.run_group([s for _, s in ready], [self._request(t.mini_batch) for t, _ in ready])
        except ScriptWorkerError as exc:
            lost = isinstance(exc, (MiniBatchTimeout, WorkerCrashed))
            if lost:
                with self._lock:
                    self._running.pop(name, None)
                process.discard()
            self._send_back([t for t, _ in ready], name, str(exc).split("\n", 1)[0])
            return None if lost else process
        if len(answers) != len(ready) or not all(a.ok for a in answers):
            error = next((a.error for a in answers if not a.ok), None) or "the group's answers did not match it"
            self._send_back([t for t, _ in ready], name, error)
            return process
        for (task, staged), answer in zip(ready, answers, strict=True):
            self._finish(task, staged, answer, name, node=process.node)
        return process

    def _send_back(self, tasks: list[Task], name: str, error: str) -> None:
        """Requeue ``tasks`` to be sent one by one, counting no attempt; not run when the job is stopping."""
        decision = policy.before_attempt(self._stopping())
        if decision.verdict is Verdict.NOT_RUN:
            for task in tasks:
                self._finish_not_run(task, None, name, decision)
            return
        if not tasks:
            return
        indexes = ", ".join(str(t.mini_batch.index) for t in tasks)
        self._say(
            logging.WARNING,
            f"mini-batches {indexes}, sent together to {name}, failed as one: {error}; each is sent again on its own",
        )
        for task in tasks:
            task.solo = True
            self._tasks.put(task)

    def _run_one(self, task: Task, staged: StagedMiniBatch, process: Worker, name: str) -> Worker | None:
        """Run the staged mini-batch on ``process`` and settle the attempt."""
        number = len(task.failures) + 1
        request = self._request(task.mini_batch)
        try:
            answer = process.run(staged, request)
        except ScriptWorkerError as exc:
            result = (
                AttemptResult.TIMEOUT
                if isinstance(exc, MiniBatchTimeout)
                else AttemptResult.CRASHED
                if isinstance(exc, WorkerCrashed)
                else AttemptResult.PROTOCOL
            )
            if result.process_lost:
                with self._lock:
                    self._running.pop(name, None)
                process.discard()
            headline = str(exc).split("\n", 1)[0]
            attempt = Attempt(number, name, result.value, headline, exc.stderr_tail)
            self._failed(task, staged, attempt, name, result, process.node)
            return None if result.process_lost else process
        if answer.ok:
            self._finish(task, staged, answer, name, node=process.node)
        else:
            error = answer.error or "run() failed"
            result = AttemptResult.RUN_FAILED
            attempt = Attempt(number, name, result.value, error, answer.traceback or "")
            self._failed(task, staged, attempt, name, result, process.node)
        return process

    def _failed(
        self, task: Task, staged: StagedMiniBatch, attempt: Attempt, name: str, result: AttemptResult, node: str
    ) -> None:
        # Users know their files by URI, not by the staging path run() was given.
        for info in task.mini_batch.files:
            local = staged.local.get(info.key)
            if local is not None:
                uri = f"s3://{info.bucket}/{info.key}"
                attempt = dataclasses.replace(
                    attempt,
                    error=attempt.error.replace(str(local), uri),
                    detail=attempt.detail.replace(str(local), uri),
                )
        # Decided only now, so that a stop that killed the attempt is seen (it is no failure then).
        decision = policy.after_attempt(result, len(task.failures), self._rules, self._stopping())
        if decision.verdict is Verdict.NOT_RUN:
            self._finish_not_run(task, staged, name, decision)
            return
        task.failures.append(attempt)
        files = ", ".join(info.name for info in task.mini_batch.files)
        line = f"mini-batch {task.mini_batch.index} ({files}) {attempt.line(self.attempts_allowed)}"
        if decision.verdict is Verdict.RETRY:
            self._say(logging.WARNING, f"{line}; retrying")
            self._tasks.put(task)
        else:
            self._say(logging.ERROR, f"{line}; no retries left")
            self._finish(task, staged, None, name, node=node)

    def _store_unreachable(self, error: str, decision: Decision) -> None:
        with self._lock:
            first = self.store_error is None
            if first:
                self.store_error = error
        if first:
            self._say(logging.ERROR, error)
        assert decision.stopping is not None  # a STOP_JOB decision always says why
        self.stop(decision.stopping.reason, decision.stopping.cause)

    def _finish_not_run(self, task: Task, staged: StagedMiniBatch | None, worker: str, decision: Decision) -> None:
        stopping = decision.stopping
        assert stopping is not None  # a NOT_RUN decision always says why
        self._finish(task, staged, None, worker, not_run=stopping.reason, cause=stopping.cause)

    def _finish(
        self,
        task: Task,
        staged: StagedMiniBatch | None,
        answer: ScriptAnswer | None,
        worker: str | None,
        not_run: str | None = None,
        cause: FailureCause = FailureCause.CONTENT,
        node: str | None = None,
    ) -> None:
        failures = tuple(task.failures)
        outcome = MiniBatchOutcome(task.mini_batch, staged, answer, failures, worker, not_run, cause, node)
        self._events.put(outcome)

    def _say(self, level: int, message: str) -> None:
        self._events.put((level, message))
