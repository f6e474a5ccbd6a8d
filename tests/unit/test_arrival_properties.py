"""Properties of the arrival cursor and batching over random histories of events (hypothesis).

A history is a list of steps on a model clock (no sleeping): PUTs of a few keys with ETags from a
small alphabet (so A, B, A again is common), each PUT's event published once at a later step and in
any order, the publisher replaying a stretch of what it published, the broker restarting empty
(new epoch, offsets from 0), sensor ticks that may crash after Dagster launched their runs but
before the cursor was stored, and "settle" points where everything published is read and the
settle windows pass. A tick is the arrival sensor's (``dagster_project/arrival_sensor.py``) minus
Kafka and Dagster: cursor in, read from its offsets (reset when the epoch changed), ``add``,
``take_due``, cursor out; Dagster launches one run per run key.

Properties:

- at every settle point and at the end, the latest content of every key is scored: some run of
  its month was requested at a step after which the key only ever held that content (a run lists
  the folder when it starts, at or after its request);
- every PUT is requested at most once per crashed tick plus one, however often its event is
  redelivered, replayed or re-read after a broker restart (while the cursor remembers every key);
- the cursor's memory never exceeds its bound, and forgetting never loses content.

Events the sensor had not read when the broker restarted are published again in the new broker
here. The embedded stack loses them (tansu keeps messages in memory) and leaves them to the
reconciliation sensor; the model keeps them so that the properties cover every event.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from batchpoint.triggers.arrival_batching import Arrival, ArrivalState
from batchpoint.triggers.object_versions import event_order

ENDPOINT = "sales-forecast"
BUCKET = "landing"
KEYS = ("sales/2026-10/a.csv", "sales/2026-11/a.csv", "sales/2026-11/b.csv")
ETAGS = ("A", "B", "C")
SETTLE, MAX_WAIT = 2.0, 60.0
MAX_RECORDS = 3  # small, so one tick often reads only part of what is waiting
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@dataclass(frozen=True)
class Put:
    key: str
    etag: str
    step: int
    sequencer: int

    @property
    def order(self) -> str:
        return event_order(f"{self.sequencer:016X}", "")


@dataclass(frozen=True)
class Message:
    put: Put
    timestamp: float


@dataclass(frozen=True)
class Run:
    step: int
    partition: str
    files: frozenset[tuple[str, str]]  # (key, order)


@dataclass
class World:
    remember: int
    now: float = 1_000.0
    step: int = 0
    epoch: int = 0
    topic: list[Message] = field(default_factory=list)
    puts: list[Put] = field(default_factory=list)
    unpublished: list[Put] = field(default_factory=list)
    cursor: str | None = None
    runs: list[Run] = field(default_factory=list)
    run_keys: set[str] = field(default_factory=set)
    crashes: int = 0

    # ---- the outside world -------------------------------------------------------------
    def put(self, key: str, etag: str) -> None:
        self.step += 1
        put = Put(key, etag, self.step, sequencer=len(self.puts) + 1)
        self.puts.append(put)
        self.unpublished.append(put)

    def publish(self, pick: int) -> None:
        if self.unpublished:
            self.topic.append(Message(self.unpublished.pop(pick % len(self.unpublished)), self.now))

    def replay(self, count: int) -> None:
        self.topic.extend(Message(m.put, self.now) for m in self.topic[-count:] if count)

    def restart_broker(self, replayed_read: int) -> None:
        read = self.state().offsets.get(0, 0) if self.state().epoch == str(self.epoch) else 0
        carried = self.topic[max(read - replayed_read, 0) :]
        self.epoch += 1
        self.topic = [Message(m.put, self.now) for m in carried]

    # ---- the sensor --------------------------------------------------------------------
    def state(self) -> ArrivalState:
        return ArrivalState.from_cursor(self.cursor, remember=self.remember)

    def tick(self, seconds: float, crash: bool = False) -> None:
        self.now += seconds
        self.step += 1
        state = self.state()
        if state.epoch != str(self.epoch):  # dagster_project/broker_restart.py
            state.offsets, state.epoch = {}, str(self.epoch)
        start = state.offsets.get(0, 0)
        read = self.topic[start : start + MAX_RECORDS]
        arrivals = [
            Arrival(ENDPOINT, m.put.key.split("/")[1], BUCKET, m.put.key, m.put.etag, m.timestamp, m.put.order)
            for m in read
        ]
        state.add(arrivals, self.now)
        state.offsets = {0: start + len(read)}
        # Runs end before the next tick here: every month is idle (MonthRuns cases: test_arrival_batching).
        for request in state.take_due(self.now, {}, MAX_WAIT, SETTLE).requests:
            if request.run_key in self.run_keys:
                continue  # Dagster: a run key it launched before is not launched again
            self.run_keys.add(request.run_key)
            files = frozenset((uri.removeprefix(f"s3://{BUCKET}/"), v.order) for uri, v in request.files)
            self.runs.append(Run(self.step, request.partition, files))
        assert len(state.taken.entries) <= self.remember
        if crash:
            self.crashes += 1
        else:
            self.cursor = state.to_cursor()

    def settle(self, newest_first: bool = False) -> None:
        """Publish what is left, then tick until every event is read and every month requested."""
        while self.unpublished:
            self.publish(-1 if newest_first else 0)
        for _ in range(len(self.topic) // MAX_RECORDS + 3):
            self.tick(SETTLE + 0.5)
        state = self.state()
        assert state.offsets.get(0, 0) == len(self.topic) and not state.pending

    # ---- properties ------------------------------------------------------------------------
    def assert_latest_content_scored(self) -> None:
        for key in {p.key for p in self.puts}:
            puts = [p for p in self.puts if p.key == key]
            latest = puts[-1].etag

            def holds_latest_from(step: int, puts: list[Put] = puts, latest: str = latest) -> bool:
                before = [p for p in puts if p.step < step]
                after = [p for p in puts if p.step > step]
                return bool(before) and before[-1].etag == latest and all(p.etag == latest for p in after)

            month = key.split("/")[1]
            assert any(r.partition == month and holds_latest_from(r.step) for r in self.runs), (
                f"{key}: latest content {latest} never scored; puts {[(p.etag, p.step) for p in puts]}, "
                f"runs {[(r.partition, r.step) for r in self.runs]}"
            )

    def assert_each_put_requested_at_most_once_per_crash(self) -> None:
        requested = Counter(file for run in self.runs for file in run.files)
        for put in self.puts:
            assert requested[(put.key, put.order)] <= 1 + self.crashes, f"{put} requested {requested}"


def steps(
    keys: tuple[str, ...] = KEYS, etags: tuple[str, ...] = ETAGS, size: int = 60, faults: bool = True
) -> st.SearchStrategy[list[tuple[object, ...]]]:
    """Histories of up to ``size`` steps over ``keys`` and ``etags``; ``faults``: with crashes and restarts."""
    put = st.tuples(st.just("put"), st.sampled_from(keys), st.sampled_from(etags))
    publish = st.tuples(st.just("publish"), st.integers(0, 10))
    replay = st.tuples(st.just("replay"), st.integers(1, 6))
    settle = st.tuples(st.just("settle"), st.booleans())
    if not faults:
        return st.lists(st.one_of(put, put, publish, replay, settle), max_size=size)
    tick = st.tuples(st.just("tick"), st.floats(0.0, 5.0), st.booleans())
    restart = st.tuples(st.just("restart"), st.integers(0, 4))
    return st.lists(st.one_of(put, put, publish, replay, tick, restart, settle), max_size=size)


def _run(world: World, history: list[tuple[object, ...]]) -> None:
    for step in history:
        match step:
            case ("put", str(key), str(etag)):
                world.put(key, etag)
            case ("publish", int(pick)):
                world.publish(pick)
            case ("replay", int(count)):
                world.replay(count)
            case ("tick", float(seconds), bool(crash)):
                world.tick(seconds, crash)
            case ("restart", int(replayed_read)):
                world.restart_broker(replayed_read)
            case ("settle", bool(newest_first)):
                world.settle(newest_first)
                world.assert_latest_content_scored()
    world.settle()
    world.assert_latest_content_scored()


@SETTINGS
@given(steps())
def test_latest_content_scored_and_each_put_requested_once(history: list[tuple[object, ...]]) -> None:
    world = World(remember=len(KEYS))
    _run(world, history)
    world.assert_each_put_requested_at_most_once_per_crash()


@SETTINGS
@given(steps(), st.integers(0, len(KEYS) - 1))
def test_a_cursor_that_forgets_costs_runs_never_content(history: list[tuple[object, ...]], remember: int) -> None:
    _run(World(remember=remember), history)


@settings(SETTINGS, max_examples=1_000)
@given(steps(keys=KEYS[:1], etags=ETAGS[:2], size=12, faults=False))
# B's event read before A's older one, then A put back: comparing ETags alone takes the older A
# event, remembers A, and skips the new A as a redelivery while the last run scored B.
@example([("put", KEYS[0], "A"), ("put", KEYS[0], "B"), ("settle", True), ("put", KEYS[0], "A")])
def test_one_key_rewritten_back_and_forth_ends_scored(history: list[tuple[object, ...]]) -> None:
    # One key and two contents: out-of-order events and replays between A, B, A again are common.
    _run(World(remember=1), history)


@SETTINGS
@given(st.lists(st.sampled_from(ETAGS), min_size=1, max_size=8), st.integers(0, 3))
def test_every_content_change_settled_apart_is_requested(etags: list[str], redeliveries: int) -> None:
    world = World(remember=len(KEYS))
    for etag in etags:
        world.put(KEYS[0], etag)
        world.publish(0)
        world.replay(redeliveries)
        world.settle()
    requested = [put.etag for put in world.puts if any((put.key, put.order) in r.files for r in world.runs)]
    assert requested == etags  # A, B, A: three runs; redeliveries: none more
    assert len(world.runs) == len(etags)
