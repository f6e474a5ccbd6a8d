"""The SeaweedFS publisher on real ``weed mini`` + ``tansu``: PUTs become MinIO-shaped events."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from batchpoint.config import Settings
from batchpoint.storage.s3 import S3Store
from kafka_edge.events import ObjectCreated
from kafka_edge.kafka_io import Message, read_from
from kafka_edge.s3_event_json import decode

pytestmark = pytest.mark.integration


class Publisher:
    """``python -m kafka_edge.publisher`` as a child process with its own topic and data dir."""

    def __init__(self, settings: Settings, topic: str, data_dir: Path) -> None:
        self.env = {**os.environ, **settings.to_env(), "BATCHPOINT_EVENTS_TOPIC": topic}
        self.env["BATCHPOINT_DATA_DIR"] = str(data_dir)
        self.log = data_dir / "publisher.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "kafka_edge.publisher"], env=self.env, stdout=out, stderr=subprocess.STDOUT
            )

    def stop(self) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=20)


@pytest.fixture
def publisher(store_and_broker: Settings, unique_name: str, tmp_path: Path) -> Iterator[Publisher]:
    running = Publisher(store_and_broker, f"{unique_name}-events", tmp_path)
    running.start()
    yield running
    if running.process is not None and running.process.poll() is None:
        running.stop()


def _events(
    settings: Settings, topic: str, prefix: str, until: Callable[[list[ObjectCreated]], bool], timeout_s: float = 20.0
) -> list[ObjectCreated]:
    """Events under ``prefix`` on ``topic`` once ``until`` holds for them (or the timeout passes)."""
    deadline = time.monotonic() + timeout_s
    messages: list[Message] = []
    offsets: dict[int, int] | None = None
    while True:
        batch = read_from(settings.bootstrap, topic, offsets, 500, 1.0)
        messages += batch.messages
        offsets = batch.next_offsets or offsets
        found = [e for m in messages for e in decode(m.value) if e.key.startswith(prefix + "/")]
        if until(found) or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def test_put_then_overwrite_gives_one_event_each_with_the_s3_etag(
    store_and_broker: Settings, publisher: Publisher, unique_name: str
) -> None:
    store = S3Store(store_and_broker.s3_url, store_and_broker.access_key, store_and_broker.secret_key)
    bucket, topic, key = (
        store_and_broker.landing_bucket,
        f"{unique_name}-events",
        f"{unique_name}/sales/2026-11/part 007.csv",
    )
    started = time.monotonic()
    store.put_bytes(bucket, key, b"id,amount\n1,2.5\n")
    first_etag = store.head(bucket, key).etag

    [event] = _events(store_and_broker, topic, unique_name, lambda found: len(found) >= 1)
    latency = time.monotonic() - started
    assert (event.bucket, event.key, event.etag, event.size) == (bucket, key, first_etag, 16)
    assert event.event_name == "s3:ObjectCreated:Put"
    assert latency < 10, f"PUT -> event took {latency:.1f} s"

    store.put_bytes(bucket, key, b"id,amount\n1,3.5\n2,1.0\n")
    second_etag = store.head(bucket, key).etag
    assert second_etag != first_etag
    found = _events(store_and_broker, topic, unique_name, lambda found: len(found) >= 2)
    assert [(e.key, e.etag) for e in found] == [(key, first_etag), (key, second_etag)]
    listed = {o.key: o.etag for o in store.list(bucket, unique_name + "/")}
    assert listed == {key: second_etag}
    time.sleep(1.0)  # nothing else trickles in for this prefix (no parts, folders, duplicates)
    assert len(_events(store_and_broker, topic, unique_name, lambda found: False, timeout_s=0)) == 2


def test_restart_neither_loses_nor_floods(store_and_broker: Settings, publisher: Publisher, unique_name: str) -> None:
    store = S3Store(store_and_broker.s3_url, store_and_broker.access_key, store_and_broker.secret_key)
    bucket, topic = store_and_broker.landing_bucket, f"{unique_name}-events"
    store.put_bytes(bucket, f"{unique_name}/before.csv", b"a\n")
    _events(store_and_broker, topic, unique_name, lambda found: len(found) >= 1)

    assert publisher.stop() == 0
    store.put_bytes(bucket, f"{unique_name}/while-down-1.csv", b"b\n")
    store.put_bytes(bucket, f"{unique_name}/while-down-2.csv", b"c\n")
    publisher.start()
    found = _events(store_and_broker, topic, unique_name, lambda found: len(found) >= 3)
    time.sleep(1.0)
    found = _events(store_and_broker, topic, unique_name, lambda found: False, timeout_s=0)
    assert sorted(e.key.rsplit("/", 1)[1] for e in found) == ["before.csv", "while-down-1.csv", "while-down-2.csv"]


def _children(pid: int) -> list[int]:
    """Pids whose parent is ``pid`` (read from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid and fields[0] != "Z":
                found.append(int(entry.name))
    return found


def _wait_for(condition: Callable[[], bool], timeout_s: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def test_a_killed_tail_is_restarted_from_the_checkpoint_and_sigterm_still_stops(
    store_and_broker: Settings, publisher: Publisher, unique_name: str
) -> None:
    store = S3Store(store_and_broker.s3_url, store_and_broker.access_key, store_and_broker.secret_key)
    bucket, topic = store_and_broker.landing_bucket, f"{unique_name}-events"
    assert publisher.process is not None
    store.put_bytes(bucket, f"{unique_name}/before.csv", b"a\n")
    assert len(_events(store_and_broker, topic, unique_name, lambda found: len(found) >= 1, 60)) == 1

    [tail] = _children(publisher.process.pid)
    os.kill(tail, signal.SIGKILL)
    assert _wait_for(lambda: bool(set(_children(publisher.process.pid)) - {tail}))  # type: ignore[union-attr]
    store.put_bytes(bucket, f"{unique_name}/after-tail-died.csv", b"b\n")
    found = _events(store_and_broker, topic, unique_name, lambda found: len(found) >= 2, 60)
    assert sorted(e.key.rsplit("/", 1)[1] for e in found) == ["after-tail-died.csv", "before.csv"]
    assert "restarting it from the checkpoint" in publisher.log.read_text()

    # SIGTERM ends it (it used to hang in a wait that ignored the stop signal).
    assert publisher.stop() == 0
    assert "stopped after publishing" in publisher.log.read_text()
