"""Events that come twice, out of order, or all at once.

- The month's events redelivered, duplicated and in reverse order, after it was scored: no run
  is asked for, ``latest`` stays as it was. (The arrival sensor reads its topic in order, so once
  a month landed after the replay is scored, the replay has been read.)
- A burst of 500 files into one month: ``latest`` ends up holding each file once.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from batchpoint.demo.sales_history import scoring_rows
from kafka_edge.kafka_io import make_producer, read_from
from kafka_edge.s3_event_json import decode
from tests.faults.endpoint import THIS_MONTH, ScoringEndpoint
from tests.faults.invariants import assert_invariants
from tests.faults.stack import FaultStack

pytestmark = [
    pytest.mark.faults,
    pytest.mark.integration,
    pytest.mark.timeout(900),
    pytest.mark.filterwarnings("ignore:The ``noload`` loader strategy is deprecated"),
]
BURST = 500


def test_duplicate_and_out_of_order_events_ask_for_nothing_again(faults: FaultStack) -> None:
    endpoint = ScoringEndpoint.create(faults)
    month, marker = str(THIS_MONTH - 10), str(THIS_MONTH - 11)
    endpoint.land(month, 6)
    assert_invariants(endpoint, month)
    runs_before = {r.run_id for r in endpoint.runs(month)}
    latest_before = endpoint.latest_manifest(month)

    settings = endpoint.settings
    offsets: dict[int, int] | None = None
    ours = []
    while True:  # every event of the month on the topic so far
        batch = read_from(settings.bootstrap, settings.events_topic, offsets)
        ours += [m for m in batch.messages if decode(m.value)[0].key.startswith(f"{endpoint.name}/{month}/")]
        if not batch.messages:
            break
        offsets = batch.next_offsets
    assert len(ours) >= 6
    producer = make_producer(settings.bootstrap)
    try:
        for message in [*reversed(ours), *ours, *reversed(ours)]:
            producer.send(settings.events_topic, key=message.key, value=message.value).get(timeout=30)
    finally:
        producer.close(timeout=5)

    endpoint.land(marker, 2)
    assert_invariants(endpoint, marker)
    assert {r.run_id for r in endpoint.runs(month)} == runs_before
    assert endpoint.latest_manifest(month) == latest_before
    assert_invariants(endpoint, month)


def test_a_burst_of_500_files_is_scored_once_each(faults: FaultStack) -> None:
    endpoint = ScoringEndpoint.create(faults)
    month = str(THIS_MONTH - 12)
    keys = [f"{endpoint.name}/{month}/burst-{index:03d}.csv" for index in range(BURST)]
    body = scoring_rows(endpoint.history, month).head(1).to_csv(index=False).encode()
    bucket, store = endpoint.settings.landing_bucket, endpoint.store
    fault_at = time.monotonic()
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda key: store.put_bytes(bucket, key, body), keys))
    endpoint.landed[month] = dict.fromkeys(keys, 1)
    assert_invariants(endpoint, month, fault_at)
