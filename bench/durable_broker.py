"""Cost of the durable embedded broker: tansu's S3 engine against its memory engine, same run.

    uv run python bench/durable_broker.py [--messages 500 --size 900]

Starts the embedded S3 (``weed mini``) in a temporary data dir, then for each engine a tansu
broker on a free port, and measures with acks=all:
- one send at a time (each awaited: the latency of one event, as the publisher's first record);
- a burst of the same sends, flushed once (as a burst of landed files);
- for the S3 engine, the objects the broker bucket gained per message, and a SIGKILL + restart:
  offsets kept, time until every message is readable again.
Progress goes to stderr; stdout gets a table and one JSON line (``{"bench": "durable_broker", ...}``).
See docs/decisions/durable-broker.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import signal
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

from batchpoint.config import Settings
from batchpoint.stack import Stack, free_ports
from batchpoint.stack.locations import tansu_binary
from batchpoint.stack.process import Child
from batchpoint.stack.readiness import tcp_open
from batchpoint.stack.services import child_env, kafka_launch
from batchpoint.storage.datastore import open_datastore
from batchpoint.storage.s3 import S3Store

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from kafka import KafkaProducer

from kafka_edge.kafka_io import ensure_topics, read_from


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _start_broker(settings: Settings, engine: str, log: Path) -> Child:
    launch = kafka_launch(settings, tansu_binary())
    command = launch.command
    if engine == "memory":
        kept = [a for a in command if not a.startswith("--storage-engine")]
        command = (*kept, "--storage-engine=memory://tansu/")
    child = Child.start(f"tansu-{engine}", command, child_env(settings) | launch.env, log, Path.cwd())
    deadline = time.monotonic() + 30
    while not tcp_open(settings.host, settings.ports.kafka):
        if time.monotonic() > deadline or not child.alive():
            raise SystemExit(f"tansu ({engine}) did not start; see {log}")
        time.sleep(0.05)
    return child


def _producer(settings: Settings) -> KafkaProducer:
    # linger_ms=0: measure the broker, not the client's batching wait (the publisher uses 5 ms).
    return KafkaProducer(
        bootstrap_servers=settings.bootstrap, acks="all", enable_idempotence=False, linger_ms=0, retries=5
    )


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _objects(store: S3Store, bucket: str) -> tuple[int, int]:
    found = list(store.list(bucket, "clusters/"))
    return len(found), sum(o.size for o in found)


def _measure(settings: Settings, engine: str, messages: int, size: int, store: S3Store) -> dict[str, Any]:
    data = settings.data_dir.resolve()
    broker = _start_broker(settings, engine, data / "logs" / f"tansu-{engine}.log")
    try:
        topic = f"bench-{engine}"
        ensure_topics(settings.bootstrap, [topic])
        producer = _producer(settings)
        payload = b"x" * size
        producer.send(topic, value=payload).get(timeout=30)  # connection and metadata, not timed
        objects_0 = _objects(store, settings.broker_bucket)
        latencies = []
        for _ in range(messages):
            started = time.perf_counter()
            producer.send(topic, value=payload).get(timeout=30)
            latencies.append((time.perf_counter() - started) * 1000)
        objects_1 = _objects(store, settings.broker_bucket)
        started = time.perf_counter()
        futures = [producer.send(topic, value=payload) for _ in range(messages)]
        producer.flush(timeout=60)
        last = [f.get(timeout=0).offset for f in futures][-1]
        burst_s = time.perf_counter() - started
        objects_2 = _objects(store, settings.broker_bucket)
        producer.close()
        result: dict[str, Any] = {
            "engine": engine,
            "send_p50_ms": round(statistics.median(latencies), 2),
            "send_p95_ms": round(_percentile(latencies, 0.95), 2),
            "send_max_ms": round(max(latencies), 2),
            "burst_s": round(burst_s, 3),
            "last_offset": last,
        }
        if engine == "s3":
            result["objects_per_message_sequential"] = round((objects_1[0] - objects_0[0]) / messages, 3)
            result["objects_per_message_burst"] = round((objects_2[0] - objects_1[0]) / messages, 3)
            result["bytes_per_message_sequential"] = round((objects_1[1] - objects_0[1]) / messages)
            result |= _restart(settings, engine, broker, topic, last)
        return result
    finally:
        broker.stop()


def _restart(settings: Settings, engine: str, broker: Child, topic: str, last: int) -> dict[str, Any]:
    os.kill(broker.pid, signal.SIGKILL)
    broker.stop()
    started = time.perf_counter()
    again = _start_broker(settings, engine, broker.log_path)
    try:
        offsets: dict[int, int] | None = None
        seen = 0
        while seen <= last:
            batch = read_from(settings.bootstrap, topic, offsets, 5000, 5.0)
            seen += len(batch.messages)
            offsets = batch.next_offsets or offsets
        readable_s = time.perf_counter() - started
        producer = _producer(settings)
        next_offset = producer.send(topic, value=b"after restart").get(timeout=30).offset
        producer.close()
    finally:
        again.stop()
    return {"restart_all_readable_s": round(readable_s, 2), "offset_after_restart": next_offset}


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--size", type=int, default=900)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-broker-") as tmp:
        settings = dataclasses.replace(Settings(), data_dir=Path(tmp), ports=free_ports())
        _say(f"starting the embedded S3 in {tmp}")
        with Stack(settings, services=("s3",)):
            store = open_datastore(settings)
            store.ensure_bucket(settings.broker_bucket)
            results = []
            for engine in ("memory", "s3"):
                _say(f"measuring tansu with the {engine} engine")
                results.append(_measure(settings, engine, args.messages, args.size, store))
    print(f"{args.messages} sends of {args.size} B, acks=all, linger 0")
    for r in results:
        print(
            f"  {r['engine']:<7} one at a time p50 {r['send_p50_ms']:6.2f} ms  p95 {r['send_p95_ms']:6.2f} ms  "
            f"max {r['send_max_ms']:7.2f} ms   burst {r['burst_s']:.3f} s"
        )
    s3 = results[-1]
    print(
        f"  s3 objects per message: {s3['objects_per_message_sequential']} one at a time, "
        f"{s3['objects_per_message_burst']} in a burst; after SIGKILL + restart all readable in "
        f"{s3['restart_all_readable_s']} s, next offset {s3['offset_after_restart']}"
    )
    print(json.dumps({"bench": "durable_broker", "messages": args.messages, "size": args.size, "results": results}))


if __name__ == "__main__":
    main()
