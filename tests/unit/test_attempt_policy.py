"""The attempt policy: every step of a mini-batch's attempt history, and every way the job can stop."""

from __future__ import annotations

import pytest

from batchpoint.job_records.failure_causes import FailureCause
from batchpoint.scoring.attempt_policy import (
    AttemptResult,
    Decision,
    InitDecision,
    RetryRules,
    Stopping,
    Verdict,
    after_attempt,
    after_init_failure,
    after_staging,
    before_attempt,
)

THRESHOLD = Stopping("the job stopped: error_threshold 0 exceeded")
STORE = Stopping("the job stopped: store unreachable", FailureCause.INFRASTRUCTURE)
FAILURES = [AttemptResult.RUN_FAILED, AttemptResult.TIMEOUT, AttemptResult.CRASHED, AttemptResult.PROTOCOL]


def history(results: list[AttemptResult], rules: RetryRules) -> list[Decision]:
    """The decisions for a mini-batch whose attempts came to ``results``, one after another."""
    decisions: list[Decision] = []
    failed = 0
    for result in results:
        decision = after_attempt(result, failed, rules, None)
        decisions.append(decision)
        if decision.record_failure:
            failed += 1
        if decision.verdict is not Verdict.RETRY:
            break
    return decisions


# ---- settings ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("max_retries", "allowed"), [(0, 1), (1, 2), (3, 4)])
def test_attempts_allowed_is_one_plus_max_retries(max_retries: int, allowed: int) -> None:
    assert RetryRules(max_retries).attempts_allowed == allowed


def test_negative_max_retries_is_refused() -> None:
    with pytest.raises(ValueError, match="max_retries"):
        RetryRules(-1)


# ---- before an attempt ------------------------------------------------------------------------
def test_a_running_job_runs_the_mini_batch() -> None:
    assert before_attempt(None) == Decision(Verdict.RUN)


@pytest.mark.parametrize("stopping", [THRESHOLD, STORE])
def test_a_stopping_job_runs_nothing_and_says_why(stopping: Stopping) -> None:
    decision = before_attempt(stopping)
    assert decision.verdict is Verdict.NOT_RUN
    assert decision.stopping == stopping
    assert not decision.record_failure
    assert not decision.replace_process


# ---- after staging ----------------------------------------------------------------------------
def test_staged_files_are_run() -> None:
    assert after_staging(None, 3).verdict is Verdict.RUN


def test_an_unreachable_store_stops_the_job_for_the_infrastructure() -> None:
    decision = after_staging("the store is unreachable: connection refused", 2)
    assert decision.verdict is Verdict.STOP_JOB
    assert decision.stopping == Stopping(
        "the job stopped: the store is unreachable: connection refused", FailureCause.INFRASTRUCTURE
    )
    assert not decision.record_failure


def test_an_unreachable_store_wins_over_no_files() -> None:
    assert after_staging("unreachable", 0).verdict is Verdict.STOP_JOB


def test_no_file_downloaded_gives_up_without_an_attempt() -> None:
    decision = after_staging(None, 0)
    assert decision.verdict is Verdict.GIVE_UP
    assert not decision.record_failure  # the files' own errors say why, not a failed attempt


# ---- after an attempt -------------------------------------------------------------------------
@pytest.mark.parametrize("failed_before", [0, 1, 3])
def test_an_answer_is_done_and_keeps_the_process(failed_before: int) -> None:
    decision = after_attempt(AttemptResult.OK, failed_before, RetryRules(3), None)
    assert decision == Decision(Verdict.DONE)


def test_an_answer_is_kept_even_when_the_job_stops_meanwhile() -> None:
    assert after_attempt(AttemptResult.OK, 0, RetryRules(3), THRESHOLD).verdict is Verdict.DONE


@pytest.mark.parametrize("result", FAILURES)
def test_a_failure_with_retries_left_is_retried_and_recorded(result: AttemptResult) -> None:
    decision = after_attempt(result, 0, RetryRules(2), None)
    assert decision.verdict is Verdict.RETRY
    assert decision.record_failure
    assert decision.stopping is None


@pytest.mark.parametrize("result", FAILURES)
def test_the_last_allowed_failure_gives_up(result: AttemptResult) -> None:
    decision = after_attempt(result, 2, RetryRules(2), None)
    assert decision.verdict is Verdict.GIVE_UP
    assert decision.record_failure


@pytest.mark.parametrize("result", FAILURES)
def test_no_retries_gives_up_at_the_first_failure(result: AttemptResult) -> None:
    assert after_attempt(result, 0, RetryRules(0), None).verdict is Verdict.GIVE_UP


def test_run_failures_keep_the_process() -> None:
    assert not after_attempt(AttemptResult.RUN_FAILED, 0, RetryRules(1), None).replace_process
    assert not after_attempt(AttemptResult.RUN_FAILED, 1, RetryRules(1), None).replace_process


@pytest.mark.parametrize("result", [AttemptResult.TIMEOUT, AttemptResult.CRASHED, AttemptResult.PROTOCOL])
@pytest.mark.parametrize("failed_before", [0, 1])
def test_a_lost_process_is_replaced_whether_retried_or_given_up(result: AttemptResult, failed_before: int) -> None:
    # A timeout killed the process group; a crash or a broken protocol left no usable process.
    assert result.process_lost
    assert after_attempt(result, failed_before, RetryRules(1), None).replace_process


def test_only_ok_and_run_failures_keep_the_process() -> None:
    assert {r for r in AttemptResult if not r.process_lost} == {AttemptResult.OK, AttemptResult.RUN_FAILED}


@pytest.mark.parametrize("result", FAILURES)
@pytest.mark.parametrize("stopping", [THRESHOLD, STORE])
def test_a_failure_while_stopping_is_not_run_and_not_recorded(result: AttemptResult, stopping: Stopping) -> None:
    # The stop killed the attempt: not a failure of the script, even on the last allowed attempt.
    for failed_before in (0, 3):
        decision = after_attempt(result, failed_before, RetryRules(3), stopping)
        assert decision.verdict is Verdict.NOT_RUN
        assert decision.stopping == stopping
        assert not decision.record_failure
        assert decision.replace_process == result.process_lost


@pytest.mark.parametrize("max_retries", [0, 1, 3])
def test_a_mini_batch_that_always_fails_has_exactly_its_allowed_attempts(max_retries: int) -> None:
    rules = RetryRules(max_retries)
    decisions = history([AttemptResult.RUN_FAILED] * 10, rules)
    assert len(decisions) == rules.attempts_allowed
    assert [d.verdict for d in decisions] == [Verdict.RETRY] * max_retries + [Verdict.GIVE_UP]
    assert all(d.record_failure for d in decisions)


def test_a_mini_batch_that_recovers_on_its_last_attempt_is_done() -> None:
    decisions = history([AttemptResult.TIMEOUT, AttemptResult.CRASHED, AttemptResult.OK], RetryRules(2))
    assert [d.verdict for d in decisions] == [Verdict.RETRY, Verdict.RETRY, Verdict.DONE]
    assert [d.replace_process for d in decisions] == [True, True, False]


def test_mixed_failures_share_one_budget() -> None:
    decisions = history([AttemptResult.RUN_FAILED, AttemptResult.TIMEOUT, AttemptResult.OK], RetryRules(1))
    assert [d.verdict for d in decisions] == [Verdict.RETRY, Verdict.GIVE_UP]


def test_result_values_are_the_attempt_kinds_the_records_use() -> None:
    assert [r.value for r in FAILURES] == ["run", "timeout", "crash", "protocol"]


# ---- init() failures --------------------------------------------------------------------------
def test_init_failure_with_restarts_left_restarts_the_slot() -> None:
    decision = after_init_failure("RuntimeError: no model", 0, RetryRules(2), 3, None)
    assert decision == InitDecision(counted=True, slot_gives_up=False)


def test_init_failure_past_max_retries_gives_the_slot_up() -> None:
    decision = after_init_failure("RuntimeError: no model", 2, RetryRules(2), 3, None)
    assert decision == InitDecision(counted=True, slot_gives_up=True)


def test_no_retries_gives_the_slot_up_at_the_first_init_failure() -> None:
    assert after_init_failure("boom", 0, RetryRules(0), 2, None).slot_gives_up


@pytest.mark.parametrize("max_retries", [0, 1, 3])
def test_a_slot_starts_its_process_exactly_its_allowed_times(max_retries: int) -> None:
    rules = RetryRules(max_retries)
    starts = 0
    failed = 0
    while True:
        starts += 1
        decision = after_init_failure("boom", failed, rules, 2, None)
        failed += decision.counted
        if decision.slot_gives_up:
            break
    assert starts == rules.attempts_allowed


def test_the_last_slot_to_give_up_ends_the_queue_with_the_init_error() -> None:
    decision = after_init_failure("RuntimeError: no model", 1, RetryRules(1), 1, None)
    assert decision.slot_gives_up
    assert decision.not_run_reason == "no worker could start: init() failed: RuntimeError: no model"


def test_a_slot_giving_up_while_others_live_leaves_the_queue_to_them() -> None:
    decision = after_init_failure("boom", 1, RetryRules(1), 2, None)
    assert decision.slot_gives_up
    assert decision.not_run_reason is None


def test_the_last_slot_with_restarts_left_does_not_end_the_queue() -> None:
    assert after_init_failure("boom", 0, RetryRules(1), 1, None).not_run_reason is None


@pytest.mark.parametrize("failed_before", [0, 5])
def test_an_init_killed_by_the_stop_is_not_counted(failed_before: int) -> None:
    decision = after_init_failure("killed", failed_before, RetryRules(1), 1, THRESHOLD)
    assert decision == InitDecision(counted=False, slot_gives_up=False)
