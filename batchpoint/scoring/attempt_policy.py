"""What happens to a mini-batch after each step of an attempt: run it, retry it, give it up, or not run it.

Pure: facts in (what the attempt came to, how many failed attempts came before, whether the job is
stopping), a ``Decision`` out. The slot host (``script_pool.ScriptPool``) owns the processes and
queues and carries the decision out. Azure's rules (``docs/scoring-runtime.md``):

- a mini-batch has ``1 + max_retries`` attempts; a failed one goes back to the shared queue, so the
  next free slot takes it (this one or another);
- a timeout, a crashed worker or a broken protocol loses the process: the slot replaces it (its
  successor runs ``init()`` again), and the attempt counts like a failed ``run()``;
- once the job stops (``error_threshold`` exceeded, the store unreachable, the caller interrupted),
  no attempt starts, and an attempt killed by the stop ends its mini-batch as not run, not as failed;
- a failing ``init()`` is no mini-batch's fault: the mini-batch goes back to the queue, and the slot
  restarts its process up to ``max_retries`` times, then gives up; the last slot to give up ends
  every mini-batch left as not run.

``error_threshold`` itself is counted over the job's failed items by ``pool_run.score_in_order``,
which stops the pool; here a stop is only an input.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, StrEnum

from batchpoint.job_records.failure_causes import FailureCause


class AttemptResult(StrEnum):
    """What one attempt at a mini-batch came to; the value is the failure's ``Attempt.kind``."""

    OK = "ok"
    RUN_FAILED = "run"
    """``run()`` raised, or answered without success: the process is fine."""
    TIMEOUT = "timeout"
    """No answer within ``timeout``: the process group was killed."""
    CRASHED = "crash"
    """The process died (``os._exit``, a signal, OOM)."""
    PROTOCOL = "protocol"
    """The process answered something that is not an answer."""

    @property
    def process_lost(self) -> bool:
        """True when the worker process is gone (or killed) after this result, and must be replaced."""
        return self in (AttemptResult.TIMEOUT, AttemptResult.CRASHED, AttemptResult.PROTOCOL)


@dataclass(frozen=True)
class RetryRules:
    """The deployment's retry settings, as far as one mini-batch and one slot are concerned."""

    max_retries: int

    def __post_init__(self) -> None:
        if self.max_retries < 0:
            raise ValueError(f"max_retries must be >= 0, got {self.max_retries}")

    @property
    def attempts_allowed(self) -> int:
        """Attempts per mini-batch, and process starts per slot: one plus ``max_retries``."""
        return 1 + self.max_retries


@dataclass(frozen=True)
class Stopping:
    """The job is stopping: why, and what the mini-batches it leaves are attributed to."""

    reason: str
    cause: FailureCause = FailureCause.CONTENT


class Verdict(Enum):
    """What the slot host does with the mini-batch next."""

    RUN = "run"
    """Make the attempt (or carry on with it)."""
    DONE = "done"
    """Final: ``run()`` answered."""
    RETRY = "retry"
    """Back to the shared queue for another attempt, on whichever slot is free next."""
    GIVE_UP = "give up"
    """Final: failed, with the failures recorded so far (none when no file could be staged)."""
    NOT_RUN = "not run"
    """Final: no attempt made or finished, because the job stops (``Decision.stopping`` says why)."""
    STOP_JOB = "stop job"
    """Stop the whole job with ``Decision.stopping``; the mini-batch ends as not run."""


@dataclass(frozen=True)
class Decision:
    """The policy's answer for one mini-batch."""

    verdict: Verdict
    replace_process: bool = False
    """The slot's process is lost: close it, and start a new one before its next attempt."""
    record_failure: bool = False
    """The attempt counts as one of the mini-batch's failed attempts."""
    stopping: Stopping | None = None
    """For ``NOT_RUN`` and ``STOP_JOB``: why the job stops."""


RUN = Decision(Verdict.RUN)


def before_attempt(stopping: Stopping | None) -> Decision:
    """Before a slot takes up a mini-batch from the queue: run it, unless the job is stopping."""
    if stopping is not None:
        return Decision(Verdict.NOT_RUN, stopping=stopping)
    return RUN


def after_staging(store_error: str | None, staged_files: int) -> Decision:
    """Once the mini-batch's files were fetched: run it, stop the job, or give it up unrun.

    A store unreachable beyond its retries would make every mini-batch left wait them out again,
    so it stops the job, attributed to the infrastructure. A mini-batch none of whose files could be
    downloaded has nothing to run: it ends failed (its files' errors say why), with no attempt.
    """
    if store_error is not None:
        return Decision(
            Verdict.STOP_JOB, stopping=Stopping(f"the job stopped: {store_error}", FailureCause.INFRASTRUCTURE)
        )
    if staged_files == 0:
        return Decision(Verdict.GIVE_UP)
    return RUN


def after_attempt(result: AttemptResult, failed_before: int, rules: RetryRules, stopping: Stopping | None) -> Decision:
    """After an attempt: done, retried, given up, or not run because the job stopped meanwhile.

    ``failed_before`` is how many attempts at this mini-batch failed before this one.
    """
    if result is AttemptResult.OK:
        return Decision(Verdict.DONE)  # an answer is kept even when the job stops meanwhile
    lost = result.process_lost
    if stopping is not None:
        # Killed (or failed) while the job stops: not a failure of the script, so not recorded as one.
        return Decision(Verdict.NOT_RUN, replace_process=lost, stopping=stopping)
    number = failed_before + 1
    verdict = Verdict.RETRY if number < rules.attempts_allowed else Verdict.GIVE_UP
    return Decision(verdict, replace_process=lost, record_failure=True)


@dataclass(frozen=True)
class InitDecision:
    """What a slot does after its process's ``init()`` failed (the mini-batch is back in the queue)."""

    counted: bool
    """The failure counts towards the slot's ``max_retries`` restarts (not when the stop killed it)."""
    slot_gives_up: bool
    """The slot has used its restarts: it ends, and takes no more mini-batches."""
    not_run_reason: str | None = None
    """Set when this was the last slot: every mini-batch left in the queue ends not run, for this."""


def after_init_failure(
    error: str, failed_before: int, rules: RetryRules, slots_alive: int, stopping: Stopping | None
) -> InitDecision:
    """After ``init()`` failed on a slot that had ``failed_before`` failed starts, with ``slots_alive`` alive."""
    if stopping is not None:
        return InitDecision(counted=False, slot_gives_up=False)  # killed because the job stops
    gives_up = failed_before + 1 > rules.max_retries
    last = gives_up and slots_alive <= 1
    reason = f"no worker could start: init() failed: {error}" if last else None
    return InitDecision(counted=True, slot_gives_up=gives_up, not_run_reason=reason)
