"""The embedded broker keeps its log in S3: a SIGKILL and restart lose no message and no offset."""

from __future__ import annotations

import dataclasses
import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from batchpoint.stack import Stack
from batchpoint.stack.readiness import tcp_open
from batchpoint.storage.s3 import S3Store
from batchpoint.triggers.broker_epoch import current_epoch
from kafka_edge.kafka_io import ensure_topics, make_producer, read_from
from kafka_edge.s3_event_json import decode
from tests.integration.conftest import make_settings

# SIGKILLs the broker of a stack of its own: a fault case, run with the fault suite.
pytestmark = [pytest.mark.integration, pytest.mark.faults, pytest.mark.timeout(600)]


def _poll(condition: Callable[[], bool], timeout_s: float = 120.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def _kill_broker_and_wait_for_its_restart(stack: Stack) -> None:
    [old] = stack.pids()["kafka"]
    os.kill(old, signal.SIGKILL)
    assert _poll(lambda: stack.pids().get("kafka", [old]) != [old]), "the supervisor did not restart tansu"
    assert _poll(lambda: tcp_open(stack.settings.host, stack.settings.ports.kafka))


@pytest.fixture
def durable_stack(tmp_path: Path) -> Iterator[tuple[Stack, list[str]]]:
    events: list[str] = []
    settings = dataclasses.replace(make_settings(tmp_path / "data"), service_restart_backoff_seconds=0.5)
    with Stack(settings, services=("s3", "kafka", "publisher"), on_event=events.append) as stack:
        yield stack, events


def test_messages_survive_a_broker_sigkill_with_their_offsets(durable_stack: tuple[Stack, list[str]]) -> None:
    stack, events = durable_stack
    settings = stack.settings
    topic = "durability"
    ensure_topics(settings.bootstrap, [topic])
    producer = make_producer(settings.bootstrap)
    sent = [producer.send(topic, value=f"message {i}".encode()).get(timeout=30).offset for i in range(10)]
    producer.close()
    assert sent == list(range(10))
    epoch = current_epoch(settings)
    objects_before = {
        o.key
        for o in S3Store(settings.s3_url, settings.access_key, settings.secret_key).list(
            settings.broker_bucket, "clusters/"
        )
    }
    assert any(key.endswith(".batch") for key in objects_before)  # the log is in the broker bucket

    _kill_broker_and_wait_for_its_restart(stack)

    assert any("kafka" in e and "restarting it on the same ports" in e for e in events)
    kept = read_from(settings.bootstrap, topic, None, 100, 10.0).messages
    assert [(m.offset, m.value) for m in kept] == [(i, f"message {i}".encode()) for i in range(10)]
    producer = make_producer(settings.bootstrap)
    more = [producer.send(topic, value=b"after the restart").get(timeout=30).offset for _ in range(5)]
    producer.close()
    assert more == list(range(10, 15))
    assert current_epoch(settings) == epoch  # same log: sensors keep their offsets


def test_a_file_landed_after_a_broker_restart_reaches_the_sensors_read_position(
    durable_stack: tuple[Stack, list[str]],
) -> None:
    stack, _ = durable_stack
    settings = stack.settings
    store = S3Store(settings.s3_url, settings.access_key, settings.secret_key)
    store.put_bytes(settings.landing_bucket, "sales/2026-11/before.csv", b"a\n")

    # Where a sensor stands: everything read so far, and the epoch beside its offsets.
    def keys_from(offsets: dict[int, int] | None) -> tuple[list[str], dict[int, int]]:
        batch = read_from(settings.bootstrap, settings.events_topic, offsets, 500, 5.0)
        return [e.key for m in batch.messages for e in decode(m.value)], batch.next_offsets or dict(offsets or {})

    assert _poll(lambda: "sales/2026-11/before.csv" in keys_from(None)[0])
    position = keys_from(None)[1]
    epoch = current_epoch(settings)

    _kill_broker_and_wait_for_its_restart(stack)
    store.put_bytes(settings.landing_bucket, "sales/2026-11/after.csv", b"b\n")

    assert current_epoch(settings) == epoch  # the sensor keeps reading from its position
    assert _poll(lambda: "sales/2026-11/after.csv" in keys_from(position)[0]), "the event never reached the position"
    assert "sales/2026-11/before.csv" not in keys_from(position)[0]
