"""An idle month is requested at once, a burst gives few runs; redeliveries are skipped, overwrites
are not; the cursor round-trips."""

import json
from collections.abc import Mapping

from batchpoint.triggers.arrival_batching import Arrival, ArrivalState, Due, MonthRuns, PartitionRequest
from batchpoint.triggers.object_versions import ObjectVersion

MONTH = ("sales-forecast", "2026-11")


def _arrival(key: str, etag: str = "e1", month: str = "2026-11", order: str = "") -> Arrival:
    return Arrival("sales-forecast", month, "landing", f"sales/{month}/{key}", etag, order=order)


def _due(
    state: ArrivalState,
    now: float,
    runs: Mapping[tuple[str, str], MonthRuns] | None = None,
    settle_seconds: float = 0.0,
) -> list[PartitionRequest]:
    return state.take_due(now, runs or {}, max_wait_seconds=60, settle_seconds=settle_seconds).requests


def _settle(state: ArrivalState, now: float) -> list[str]:
    """The ETags of ``a.csv`` in the requests due at ``now`` (no run in flight)."""
    return [v.etag for r in _due(state, now) for uri, v in r.files if uri.endswith("/a.csv")]


def test_a_file_of_an_idle_month_is_requested_at_once() -> None:
    state = ArrivalState()
    state.add([_arrival("a.csv")], now=100.0)
    (request,) = _due(state, now=100.0)
    assert (request.endpoint, request.partition, len(request.files)) == (*MONTH, 1)
    assert state.pending == {}


def test_a_burst_joins_the_waiting_run_then_waits_for_the_running_one_then_gets_one_more() -> None:
    state = ArrivalState()
    state.add([_arrival("part-000.csv")], now=0.0)
    assert len(_due(state, now=0.0)) == 1  # the first file asks for run 1
    state.add([_arrival(f"part-{i:03d}.csv") for i in range(1, 200)], now=1.0)
    due = state.take_due(2.0, {MONTH: MonthRuns.WAITING}, max_wait_seconds=60)
    assert (due.requests, [len(r.files) for r in due.joined]) == ([], [199])  # run 1 lists them
    assert state.pending == {}
    state.add([_arrival(f"part-{i:03d}.csv") for i in range(200, 500)], now=5.0)
    for now in (5.0, 10.0, 15.0):  # run 1 has begun: it may have listed the folder already
        assert state.take_due(now, {MONTH: MonthRuns.RUNNING}, max_wait_seconds=60) == Due()
    state.add([_arrival(f"part-{i:03d}.csv") for i in range(500, 600)], now=16.0)
    (request,) = _due(state, now=20.0)  # run 1 ended: one run for everything since it began
    assert len(request.files) == 400


def test_files_announced_before_the_running_run_started_join_it_and_later_ones_wait() -> None:
    # The sensor often reads a landing's last events after its run started: that run listed them.
    state = ArrivalState()
    state.add([_arrival("a.csv")], now=10.0)
    due = state.take_due(12.0, {MONTH: MonthRuns.RUNNING}, max_wait_seconds=60, running_since={MONTH: 11.0})
    assert (due.requests, [len(r.files) for r in due.joined]) == ([], [1])
    state.add([_arrival("b.csv")], now=10.5)  # within the margin before the start: maybe not listed
    due = state.take_due(12.0, {MONTH: MonthRuns.RUNNING}, max_wait_seconds=60, running_since={MONTH: 11.0})
    assert due == Due()
    assert len(_due(state, now=20.0)) == 1  # the run ended: b.csv gets a run of its own


def test_a_month_behind_a_run_that_does_not_end_is_requested_after_max_wait() -> None:
    state = ArrivalState()
    state.add([_arrival("a.csv")], now=0.0)
    assert _due(state, now=59.0, runs={MONTH: MonthRuns.RUNNING}) == []
    assert len(_due(state, now=60.0, runs={MONTH: MonthRuns.RUNNING})) == 1


def test_only_the_month_with_a_run_in_flight_waits() -> None:
    state = ArrivalState()
    state.add([_arrival("a.csv", month="2026-10"), _arrival("a.csv", month="2026-11")], now=0.0)
    due = state.take_due(0.0, {("sales-forecast", "2026-10"): MonthRuns.RUNNING}, max_wait_seconds=60)
    assert [r.partition for r in due.requests] == ["2026-11"]
    assert state.months() == [("sales-forecast", "2026-10")]


def test_a_settle_window_when_one_is_set_holds_an_idle_month_until_its_burst_pauses() -> None:
    state = ArrivalState()
    assert state.add([_arrival(f"part-{i:03d}.csv") for i in range(20)], now=100.0) == 20
    assert _due(state, now=101.0, settle_seconds=3) == []
    state.add([_arrival("part-020.csv")], now=102.0)
    assert _due(state, now=104.0, settle_seconds=3) == []
    (request,) = _due(state, now=105.5, settle_seconds=3)
    assert (request.endpoint, request.partition, len(request.files)) == ("sales-forecast", "2026-11", 21)
    assert state.pending == {}


def test_months_are_separate_requests() -> None:
    state = ArrivalState()
    state.add([_arrival("a.csv", month="2026-10"), _arrival("a.csv", month="2026-11")], now=0.0)
    assert [r.partition for r in _due(state, now=10)] == ["2026-10", "2026-11"]


def test_redelivery_is_skipped_but_a_new_etag_is_not() -> None:
    state = ArrivalState()
    state.add([_arrival("a.csv")], now=0.0)
    assert state.add([_arrival("a.csv")], now=0.5) == 0  # redelivered while pending
    _due(state, now=10)
    assert state.add([_arrival("a.csv")], now=11) == 0  # redelivered after its run was requested
    assert state.add([_arrival("a.csv", etag="e2")], now=11) == 1  # overwritten: new content


def test_trickle_is_requested_after_max_wait() -> None:
    state = ArrivalState()
    for t in range(0, 70, 2):
        state.add([_arrival(f"p{t}.csv")], now=float(t))
        due = _due(state, now=float(t), settle_seconds=3)
        if due:
            assert t >= 60
            return
    raise AssertionError("a steady trickle was never requested")


def test_put_a_then_b_then_a_again_is_requested_three_times() -> None:
    for orders in (("s01", "s02", "s03"), ("", "", "")):  # with sequencers, and without
        state = ArrivalState()
        requested = []
        for t, (etag, order) in enumerate(zip(("A", "B", "A"), orders, strict=True)):
            assert state.add([_arrival("a.csv", etag, order=order)], now=10.0 * t) == 1
            requested += _settle(state, now=10.0 * t + 5)
        assert requested == ["A", "B", "A"]


def test_a_redelivery_after_a_b_a_is_skipped_and_an_older_event_too() -> None:
    state = ArrivalState()
    for t, (etag, order) in enumerate((("A", "s01"), ("B", "s02"), ("A", "s03"))):
        state.add([_arrival("a.csv", etag, order=order)], now=10.0 * t)
        _settle(state, now=10.0 * t + 5)
    assert state.add([_arrival("a.csv", "A", order="s03")], now=40) == 0  # redelivered
    assert state.add([_arrival("a.csv", "B", order="s02")], now=40) == 0  # replayed: older than A's
    assert state.add([_arrival("a.csv", "A", order="s01")], now=40) == 0
    assert state.add([_arrival("a.csv", "A", order="s04")], now=40) == 1  # the same bytes uploaded again


def test_an_older_event_read_while_its_month_settles_keeps_the_newer_version() -> None:
    state = ArrivalState()
    state.add([_arrival("a.csv", "B", order="s02"), _arrival("a.csv", "A", order="s01")], now=0)
    assert _settle(state, now=5) == ["B"]


def test_run_key_is_stable_for_the_same_tick_and_new_for_a_return_to_earlier_content() -> None:
    def tick(state: ArrivalState, etag: str, order: str, at: float) -> str:
        state.add([_arrival("x.csv", etag, order=order)], now=at)
        (request,) = _due(state, now=at + 5)
        return request.run_key

    first = tick(ArrivalState(), "A", "s01", at=0)
    assert tick(ArrivalState(), "A", "s01", at=7) == first  # the same events, read again after a crash
    state = ArrivalState()
    assert len({tick(state, etag, f"s0{i}", at=10.0 * i) for i, etag in enumerate("ABA", start=1)}) == 3
    without_order = ArrivalState()
    assert len({tick(without_order, etag, "", at=10.0 * i) for i, etag in enumerate("ABA")}) == 3


def test_cursor_round_trip() -> None:
    state = ArrivalState(offsets={0: 17})
    state.add([_arrival("a.csv")], now=1.0)
    state.add([_arrival("b.csv", month="2026-10")], now=1.0)
    _due(state, now=1.0)
    state.add([_arrival("c.csv")], now=2.0)
    state.add([_arrival("d.csv", etag="e2", order="s05")], now=2.5)
    assert _due(state, now=3.0, runs={MONTH: MonthRuns.RUNNING}) == []
    restored = ArrivalState.from_cursor(state.to_cursor())
    assert restored == state
    assert ArrivalState.from_cursor(None) == ArrivalState()


def test_a_cursor_of_the_earlier_format_is_read() -> None:
    old = {
        "offsets": {"0": 41},
        "epoch": "abc",
        "pending": {
            "sales-forecast|2026-11": {
                "first": 1.0,
                "last": 2.0,
                "files": {"s3://landing/sales/2026-11/b.csv": "e9"},
                "digests": ["0123456789abcdef0123"],
            }
        },
        "seen": ["fedcba9876543210fedc"],
    }
    state = ArrivalState.from_cursor(json.dumps(old), remember=100)
    assert (state.offsets, state.epoch, state.taken.limit) == ({0: 41}, "abc", 100)
    assert state.pending["sales-forecast|2026-11"].files == {"s3://landing/sales/2026-11/b.csv": ObjectVersion("e9")}
    assert state.add([_arrival("b.csv", "e9", order="s07")], now=3.0) == 0  # its pending file is known
    assert state.add([_arrival("a.csv", "e1", order="s07")], now=3.0) == 1  # "seen" digests are dropped
    (request,) = _due(state, now=10)  # no run in flight: the pending month is requested at once
    assert [uri.rsplit("/", 1)[1] for uri, _ in request.files] == ["a.csv", "b.csv"]
    assert ArrivalState.from_cursor(state.to_cursor(), remember=100) == state


def test_the_cursor_remembers_a_bounded_number_of_objects() -> None:
    state = ArrivalState.from_cursor(None, remember=3)
    state.add([_arrival(f"p{i}.csv", order="s01") for i in range(5)], now=0)
    assert len(state.taken.entries) == 3
    assert state.add([_arrival("p4.csv", order="s01")], now=1) == 0  # recent: still known
    assert state.add([_arrival("p0.csv", order="s01")], now=1) == 1  # forgotten: asks again
    assert len(ArrivalState.from_cursor(state.to_cursor(), remember=2).taken.entries) == 2


def test_the_clocks_start_when_the_file_arrived_not_when_it_was_read() -> None:
    state = ArrivalState()
    early = Arrival("sales-forecast", "2026-11", "landing", "sales/2026-11/a.csv", "e1", at=100.0)
    state.add([early], now=104.0)  # read one sensor tick after it landed
    assert len(_due(state, now=104.0, settle_seconds=3)) == 1
    held = ArrivalState()
    held.add([early], now=160.0)
    assert len(_due(held, now=160.0, runs={MONTH: MonthRuns.RUNNING})) == 1  # waited max_wait already


def test_a_timestamp_from_the_future_counts_as_now() -> None:
    state = ArrivalState()
    skewed = Arrival("sales-forecast", "2026-11", "landing", "sales/2026-11/a.csv", "e1", at=500.0)
    state.add([skewed], now=100.0)
    assert _due(state, now=102.0, settle_seconds=3) == []
    assert len(_due(state, now=103.5, settle_seconds=3)) == 1
