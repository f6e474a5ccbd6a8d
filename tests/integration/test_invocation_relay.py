"""The outbox relay as its own process against the real broker: what waited while it was down is delivered."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from batchpoint.config import Settings
from batchpoint.registry.outbox import add_message
from batchpoint.registry.tables import metadata, outbox
from kafka_edge.kafka_io import ensure_topics, read_from

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


def _start_relay(settings: Settings, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, **settings.to_env(), "PYTHONUNBUFFERED": "1"}
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "kafka_edge.outbox_relay"], env=env, stdout=out, stderr=subprocess.STDOUT
        )


def _stop(relay: subprocess.Popen[bytes]) -> int:
    relay.send_signal(signal.SIGTERM)
    try:
        return relay.wait(timeout=20)
    except subprocess.TimeoutExpired:
        relay.kill()
        relay.wait()
        raise AssertionError("the relay did not stop within 20 s of SIGTERM") from None


def test_rows_written_while_the_relay_is_stopped_are_delivered_once_it_starts(
    store_and_broker: Settings, unique_name: str, tmp_path: Path
) -> None:
    # Its own registry database and topic: the stack's relay (if running) serves another database.
    settings = dataclasses.replace(store_and_broker, registry_url=f"sqlite:///{tmp_path / 'registry.db'}")
    topic = f"{unique_name}-invocations"
    ensure_topics(settings.bootstrap, [topic])
    engine = sa.create_engine(settings.registry)
    metadata.create_all(engine)
    with engine.begin() as conn:
        for index in range(3):
            add_message(conn, topic, f"batchjob-{index}", f'{{"job_name": "batchjob-{index}"}}')
    time.sleep(1.0)
    assert read_from(settings.bootstrap, topic, None, timeout_s=1.0).messages == [], "nothing relays it yet"

    log = tmp_path / "relay.log"
    relay = _start_relay(settings, log)
    try:
        deadline = time.monotonic() + 30
        messages = []
        while len(messages) < 3:
            assert relay.poll() is None, log.read_text()
            assert time.monotonic() < deadline, f"not delivered within 30 s:\n{log.read_text()}"
            time.sleep(0.2)
            messages = read_from(settings.bootstrap, topic, None, timeout_s=1.0).messages
        assert [(m.key, m.value) for m in messages] == [
            (f"batchjob-{i}".encode(), f'{{"job_name": "batchjob-{i}"}}'.encode()) for i in range(3)
        ]
        deadline = time.monotonic() + 10
        while True:
            with engine.connect() as conn:
                unsent = conn.execute(sa.select(sa.func.count()).where(outbox.c.sent_at.is_(None))).scalar()
            if unsent == 0:
                break
            assert time.monotonic() < deadline, "rows delivered but not marked sent"
            time.sleep(0.2)

        # A row written while it runs goes out within a poll or two, and nothing is sent twice.
        written = time.monotonic()
        with engine.begin() as conn:
            add_message(conn, topic, "batchjob-late", "{}")
        while len(messages) < 4:
            assert time.monotonic() - written < 10, log.read_text()
            time.sleep(0.05)
            messages = read_from(settings.bootstrap, topic, None, timeout_s=1.0).messages
        print(f"\nrelay: outbox row → on the topic in {time.monotonic() - written:.2f} s")
        time.sleep(1.0)
        assert len(read_from(settings.bootstrap, topic, None, timeout_s=1.0).messages) == 4
    finally:
        code = _stop(relay)
        engine.dispose()
    assert code == 0, log.read_text()
    assert "relayed outbox row" in log.read_text()


def test_the_relay_keeps_running_while_the_broker_is_unreachable(store_and_broker: Settings, tmp_path: Path) -> None:
    closed = "127.0.0.1:9"  # discard port: nothing listens
    settings = dataclasses.replace(
        store_and_broker, registry_url=f"sqlite:///{tmp_path / 'registry.db'}", kafka_bootstrap=closed
    )
    engine = sa.create_engine(settings.registry)
    metadata.create_all(engine)
    with engine.begin() as conn:
        add_message(conn, "invocations", "batchjob-x", "{}")
    log = tmp_path / "relay.log"
    relay = _start_relay(settings, log)
    try:
        # kafka-python gives up bootstrapping after ~30 s; the relay logs it and tries again.
        deadline = time.monotonic() + 60
        while "Kafka unavailable" not in log.read_text():
            assert relay.poll() is None, f"the relay died without a broker:\n{log.read_text()}"
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.5)
        time.sleep(1.0)
        assert relay.poll() is None, f"the relay died without a broker:\n{log.read_text()}"
        with engine.connect() as conn:
            assert conn.execute(sa.select(outbox.c.sent_at)).scalar() is None
        stopping = time.monotonic()
        # Stopping does not wait for the blocked Kafka client.
        assert _stop(relay) == 0, log.read_text()
        assert time.monotonic() - stopping < 10
    finally:
        if relay.poll() is None:
            relay.kill()
            relay.wait()
        engine.dispose()
    assert "retrying in" in log.read_text()
