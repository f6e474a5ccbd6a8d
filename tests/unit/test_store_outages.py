"""Store outages: ``RetryingStore`` outlasts short ones; a long one fails the job, never its files.

The store under the retries is a ``MemoryStore`` that fails its next calls as an unreachable S3 does.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

import pytest

from batchpoint.config import Settings
from batchpoint.errors import NotFoundError, StorageError, StoreRequestRefusedError, StoreUnreachableError
from batchpoint.job_records.failure_causes import FailureCause, cause_of, recorded_cause
from batchpoint.outputs.layout import OutputLayout
from batchpoint.outputs.manifest import Manifest
from batchpoint.outputs.publishing import publish_version
from batchpoint.outputs.versions import read_latest
from batchpoint.scoring.input_staging import InputStager
from batchpoint.scoring.mini_batch_record import record_of
from batchpoint.scoring.planning import MiniBatch
from batchpoint.scoring.pool_records import MiniBatchOutcome
from batchpoint.storage.memory import MemoryStore
from batchpoint.storage.port import ObjectInfo
from batchpoint.storage.retrying import RetryingStore, RetryPolicy, with_retries
from batchpoint.storage.s3 import refused


class Outage:
    """A ``MemoryStore`` whose next ``failures`` calls fail as an unreachable S3 does."""

    def __init__(self, failures: int) -> None:
        self.inner = MemoryStore()
        self.failures = failures
        self.calls = 0

    def _maybe_fail(self) -> None:
        self.calls += 1
        if self.failures > 0:
            self.failures -= 1
            raise StorageError("Could not connect to the endpoint URL: http://127.0.0.1:1/")

    def ensure_bucket(self, bucket: str) -> None:
        self._maybe_fail()
        self.inner.ensure_bucket(bucket)

    def list(self, bucket: str, prefix: str, start_after: str = "") -> Iterator[ObjectInfo]:
        self._maybe_fail()
        return self.inner.list(bucket, prefix, start_after)

    def head(self, bucket: str, key: str) -> ObjectInfo:
        self._maybe_fail()
        return self.inner.head(bucket, key)

    def get_bytes(self, bucket: str, key: str) -> bytes:
        self._maybe_fail()
        return self.inner.get_bytes(bucket, key)

    def put_bytes(self, bucket: str, key: str, data: bytes, content_type: str = "") -> ObjectInfo:
        self._maybe_fail()
        return self.inner.put_bytes(bucket, key, data, content_type)

    def download(self, bucket: str, key: str, path: Path) -> ObjectInfo:
        self._maybe_fail()
        return self.inner.download(bucket, key, path)

    def upload(self, path: Path, bucket: str, key: str) -> ObjectInfo:
        self._maybe_fail()
        return self.inner.upload(path, bucket, key)

    def upload_stream(self, stream: BinaryIO, bucket: str, key: str) -> ObjectInfo:
        if self.failures > 0:
            stream.read(3)  # a part was sent when the connection broke
        self._maybe_fail()
        return self.inner.upload_stream(stream, bucket, key)

    def delete(self, bucket: str, key: str) -> None:
        self._maybe_fail()
        self.inner.delete(bucket, key)


class Clock:
    """Time that passes only when the store sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def retrying(outage: Outage, clock: Clock, budget: float = 30.0, first: float = 0.5) -> RetryingStore:
    return RetryingStore(outage, RetryPolicy(budget, first), sleep=clock.sleep, clock=lambda: clock.now)


def test_a_short_outage_is_outlasted_with_doubling_waits() -> None:
    outage, clock = Outage(failures=4), Clock()
    store = retrying(outage, clock)
    store.ensure_bucket("b")
    assert clock.sleeps == [0.5, 1.0, 2.0, 4.0]
    assert outage.calls == 5
    store.put_bytes("b", "k", b"data")
    assert store.get_bytes("b", "k") == b"data"


def test_waits_are_capped() -> None:
    clock = Clock()
    store = retrying(Outage(failures=8), clock, budget=120.0)
    store.ensure_bucket("b")
    assert clock.sleeps == [0.5, 1.0, 2.0, 4.0, 8.0, 10.0, 10.0, 10.0]


def test_an_outage_longer_than_the_budget_says_the_store_was_unreachable() -> None:
    outage, clock = Outage(failures=1000), Clock()
    store = retrying(outage, clock, budget=10.0)
    outage.failures = 0
    store.ensure_bucket("b")
    outage.failures = 1000
    with pytest.raises(StoreUnreachableError) as caught:
        store.get_bytes("b", "k")
    error = caught.value
    assert str(error).startswith("the store was unreachable: reading s3://b/k failed")
    assert "Could not connect" in str(error)
    assert error.retriable
    assert clock.now == pytest.approx(10.0)  # the whole budget was used, not more
    assert error.attempts == outage.calls - 1


def test_what_cannot_succeed_on_a_retry_is_raised_at_once() -> None:
    outage, clock = Outage(failures=0), Clock()
    store = retrying(outage, clock)
    store.ensure_bucket("b")
    with pytest.raises(NotFoundError):
        store.get_bytes("b", "missing")
    assert clock.sleeps == []


def test_a_listing_is_retried_whole() -> None:
    outage, clock = Outage(failures=0), Clock()
    store = retrying(outage, clock)
    store.ensure_bucket("b")
    for name in ("x", "y"):
        store.put_bytes("b", f"p/{name}", b"1")
    outage.failures = 2
    assert [o.key for o in store.list("b", "p/")] == ["p/x", "p/y"]


def test_a_stream_is_sent_again_from_where_it_started() -> None:
    outage, clock = Outage(failures=0), Clock()
    store = retrying(outage, clock)
    store.ensure_bucket("b")
    outage.failures = 1
    stream = io.BytesIO(b"head:the body")
    stream.seek(5)
    store.upload_stream(stream, "b", "k")
    assert store.get_bytes("b", "k") == b"the body"


@pytest.mark.parametrize("wrap", [lambda s: s, lambda s: with_retries(s, Settings())])
def test_with_retries_takes_the_settings_policy_and_never_wraps_twice(wrap: Callable[[object], object]) -> None:
    settings = Settings(store_retry_seconds=7.0, store_retry_backoff_seconds=0.25)
    once = with_retries(wrap(MemoryStore()), settings)  # type: ignore[arg-type]
    assert isinstance(once, RetryingStore)
    assert with_retries(once, settings) is once
    assert not isinstance(once.store, RetryingStore)


def test_the_policy_is_read_from_the_environment() -> None:
    settings = Settings.from_env(
        {"BATCHPOINT_STORE_RETRY_SECONDS": "12.5", "BATCHPOINT_STORE_RETRY_BACKOFF_SECONDS": "0.1"}
    )
    assert RetryPolicy.of(settings) == RetryPolicy(12.5, 0.1)
    again = Settings.from_env(settings.to_env())
    assert (again.store_retry_seconds, again.store_retry_backoff_seconds) == (12.5, 0.1)


# ---- what a job makes of it -------------------------------------------------------------------


class Refusing(MemoryStore):
    """A store that refuses every read, as S3 answers 403 AccessDenied."""

    def get_bytes(self, bucket: str, key: str) -> bytes:
        raise StoreRequestRefusedError(f"reading s3://{bucket}/{key} was refused: AccessDenied")


def test_a_refused_request_is_raised_at_once_and_fails_only_its_file() -> None:
    clock = Clock()
    store = RetryingStore(Refusing(), RetryPolicy(60.0, 0.5), sleep=clock.sleep, clock=lambda: clock.now)
    with pytest.raises(StoreRequestRefusedError) as raised:
        store.get_bytes("b", "k")
    assert clock.sleeps == []
    assert cause_of(raised.value) is FailureCause.CONTENT


@pytest.mark.parametrize(
    ("status", "code", "is_refused"),
    [
        (403, "AccessDenied", True),
        (400, "InvalidArgument", True),
        (400, "RequestTimeout", False),
        (408, "", False),
        (409, "OperationAborted", False),
        (429, "", False),
        (503, "SlowDown", False),
        (500, "InternalError", False),
        (0, "", False),
    ],
)
def test_only_4xx_answers_that_cannot_change_are_refusals(status: int, code: str, is_refused: bool) -> None:
    assert refused(status, code) is is_refused


def test_retriable_errors_are_the_infrastructures_and_the_rest_the_files() -> None:
    assert cause_of(StorageError("connection reset")) is FailureCause.INFRASTRUCTURE
    assert cause_of(StoreUnreachableError("reading x", 3, 1.0, StorageError("reset"))) is FailureCause.INFRASTRUCTURE
    assert cause_of(NotFoundError("object", "s3://b/k")) is FailureCause.CONTENT


def _landed(outage: Outage, names: list[str]) -> list[ObjectInfo]:
    outage.inner.ensure_bucket("landing")
    return [outage.inner.put_bytes("landing", f"sales/2026-11/{n}", b"id\n1\n") for n in names]


def test_staging_stops_at_an_unreachable_store_and_a_missing_file_fails_alone(tmp_path: Path) -> None:
    outage, clock = Outage(failures=0), Clock()
    files = _landed(outage, ["a.csv", "b.csv", "c.csv"])
    gone = ObjectInfo("landing", "sales/2026-11/gone.csv", "e", 1)
    stager = InputStager(retrying(outage, clock, budget=5.0), tmp_path, threads=1)
    try:
        first = stager.get(MiniBatch(0, (files[0], gone)))
        assert first.errors.keys() == {gone.key}
        assert first.store_error is None
        outage.failures = 10_000
        second = stager.get(MiniBatch(1, (files[1],)))
        assert second.store_error is not None
        assert second.store_error.startswith("the store was unreachable: downloading s3://landing/sales/2026-11/b.csv")
        assert second.errors == {}
        assert second.local == {}
        calls = outage.calls
        third = stager.get(MiniBatch(2, (files[2],)))
        assert third.store_error == second.store_error
        assert outage.calls == calls, "nothing more is asked of a store known to be unreachable"
    finally:
        stager.close()


def test_files_the_store_kept_from_scoring_are_no_failed_items(tmp_path: Path) -> None:
    outage, clock = Outage(failures=10_000), Clock()
    files = _landed(outage, ["a.csv", "b.csv"])
    stager = InputStager(retrying(outage, clock, budget=2.0), tmp_path, threads=1)
    mini_batch = MiniBatch(3, tuple(files))
    try:
        staged = stager.get(mini_batch)
    finally:
        stager.close()
    assert staged.store_error is not None
    reason = f"the job stopped: {staged.store_error}"
    outcome = MiniBatchOutcome(mini_batch, staged, None, (), "worker-0", reason, FailureCause.INFRASTRUCTURE)
    record = record_of(outcome, 0, 2)
    assert record.failed_items == 0
    assert not record.failed
    assert [f.cause for f in record.files] == [FailureCause.INFRASTRUCTURE] * 2
    assert all(
        f.error and f.error.startswith("not scored: the job stopped: the store was unreachable") for f in record.files
    )
    entries = [f.to_dict() for f in record.files]
    assert {e["cause"] for e in entries} == {"infrastructure"}
    assert [recorded_cause(e) for e in entries] == [FailureCause.INFRASTRUCTURE] * 2
    # A job stopped by its error threshold still counts the files it did not get to, as before.
    stopped = MiniBatchOutcome(mini_batch, staged, None, (), "worker-0", "the job stopped: error_threshold 0 exceeded")
    assert record_of(stopped, 0, 2).failed_items == 2


def test_a_store_lost_while_publishing_raises_and_never_moves_latest(tmp_path: Path) -> None:
    outage, clock = Outage(failures=0), Clock()
    store = retrying(outage, clock, budget=5.0)
    layout = OutputLayout("out", "e", "2026-11")
    store.ensure_bucket("out")
    predictions = tmp_path / "predictions.csv"
    predictions.write_text("1,a.csv\n")

    original_upload = outage.upload

    def upload_then_go_down(path: Path, bucket: str, key: str) -> ObjectInfo:
        info = original_upload(path, bucket, key)
        outage.failures = 10_000  # the store goes away once the predictions are up
        return info

    outage.upload = upload_then_go_down  # type: ignore[method-assign]
    with pytest.raises(StoreUnreachableError, match="the store was unreachable: writing s3://out/"):
        publish_version(
            store,
            layout,
            version_id="v1",
            job_id="j",
            predictions=predictions,
            output_file_name="predictions.csv",
            logs={"logs/user/job_result.txt": "status: Completed\n"},
            manifest=Manifest.from_dict({"status": "Completed"}),
            make_latest=True,
        )
    outage.failures = 0
    assert read_latest(outage.inner, layout) is None
    with pytest.raises(NotFoundError):
        outage.inner.get_bytes("out", layout.manifest_key("v1"))


def test_once_the_budget_is_spent_later_calls_are_tried_once_until_the_store_answers() -> None:
    outage, clock = Outage(failures=0), Clock()
    store = retrying(outage, clock, budget=10.0)
    store.ensure_bucket("b")
    outage.failures = 10_000
    with pytest.raises(StoreUnreachableError):
        store.get_bytes("b", "k1")
    spent = clock.now
    calls = outage.calls
    with pytest.raises(StoreUnreachableError):
        store.put_bytes("b", "k2", b"x")
    assert (clock.now, outage.calls) == (spent, calls + 1), "a store known to be down is asked once"
    outage.failures = 0
    store.put_bytes("b", "k2", b"x")
    outage.failures = 2
    assert store.get_bytes("b", "k2") == b"x"  # back up: short outages are outlasted again
