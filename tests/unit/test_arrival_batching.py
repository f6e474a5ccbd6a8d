"""Bursts become one request per month; redeliveries are skipped; the cursor round-trips."""

from batchpoint.arrival_batching import Arrival, ArrivalState


def _arrival(key: str, etag: str = "e1", month: str = "2026-11") -> Arrival:
    return Arrival("sales-forecast", month, "landing", f"sales/{month}/{key}", etag)


def test_burst_in_one_month_gives_one_request_after_settling() -> None:
    state = ArrivalState()
    assert state.add([_arrival(f"part-{i:03d}.csv") for i in range(20)], now=100.0) == 20
    assert state.take_due(now=101.0, settle_seconds=3, max_wait_seconds=60) == []
    state.add([_arrival("part-020.csv")], now=102.0)
    assert state.take_due(now=104.0, settle_seconds=3, max_wait_seconds=60) == []
    (request,) = state.take_due(now=105.5, settle_seconds=3, max_wait_seconds=60)
    assert (request.endpoint, request.partition, len(request.files)) == ("sales-forecast", "2026-11", 21)
    assert state.pending == {}


def test_months_are_separate_requests() -> None:
    state = ArrivalState()
    state.add([_arrival("a.csv", month="2026-10"), _arrival("a.csv", month="2026-11")], now=0.0)
    assert [r.partition for r in state.take_due(now=10, settle_seconds=3, max_wait_seconds=60)] == [
        "2026-10",
        "2026-11",
    ]


def test_redelivery_is_skipped_but_a_new_etag_is_not() -> None:
    state = ArrivalState()
    state.add([_arrival("a.csv")], now=0.0)
    assert state.add([_arrival("a.csv")], now=0.5) == 0  # redelivered while pending
    state.take_due(now=10, settle_seconds=3, max_wait_seconds=60)
    assert state.add([_arrival("a.csv")], now=11) == 0  # redelivered after its run was requested
    assert state.add([_arrival("a.csv", etag="e2")], now=11) == 1  # overwritten: new content


def test_trickle_is_requested_after_max_wait() -> None:
    state = ArrivalState()
    for t in range(0, 70, 2):
        state.add([_arrival(f"p{t}.csv")], now=float(t))
        due = state.take_due(now=float(t), settle_seconds=3, max_wait_seconds=60)
        if due:
            assert t >= 60
            return
    raise AssertionError("a steady trickle was never requested")


def test_run_key_is_stable_for_the_same_files() -> None:
    a, b = ArrivalState(), ArrivalState()
    a.add([_arrival("x.csv"), _arrival("y.csv")], now=0)
    b.add([_arrival("y.csv"), _arrival("x.csv")], now=5)
    ra = a.take_due(now=100, settle_seconds=1, max_wait_seconds=60)[0]
    rb = b.take_due(now=100, settle_seconds=1, max_wait_seconds=60)[0]
    assert ra.run_key == rb.run_key


def test_cursor_round_trip() -> None:
    state = ArrivalState(offsets={0: 17})
    state.add([_arrival("a.csv")], now=1.0)
    state.add([_arrival("b.csv", month="2026-10")], now=1.0)
    state.take_due(now=1.0, settle_seconds=0, max_wait_seconds=60)
    state.add([_arrival("c.csv")], now=2.0)
    restored = ArrivalState.from_cursor(state.to_cursor())
    assert restored == state
    assert ArrivalState.from_cursor(None) == ArrivalState()


def test_settle_clock_starts_when_the_file_arrived_not_when_it_was_read() -> None:
    state = ArrivalState()
    early = Arrival("sales-forecast", "2026-11", "landing", "sales/2026-11/a.csv", "e1", at=100.0)
    state.add([early], now=104.0)  # read one sensor tick after it landed
    assert len(state.take_due(now=104.0, settle_seconds=3, max_wait_seconds=60)) == 1


def test_a_timestamp_from_the_future_counts_as_now() -> None:
    state = ArrivalState()
    skewed = Arrival("sales-forecast", "2026-11", "landing", "sales/2026-11/a.csv", "e1", at=500.0)
    state.add([skewed], now=100.0)
    assert state.take_due(now=102.0, settle_seconds=3, max_wait_seconds=60) == []
    assert len(state.take_due(now=103.5, settle_seconds=3, max_wait_seconds=60)) == 1
