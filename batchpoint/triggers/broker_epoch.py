"""The embedded broker's epoch: which life of its log the offsets stored by sensors belong to.

The embedded ``tansu`` keeps its log in the ``broker_bucket`` of the embedded S3, so a broker
restart keeps every topic and offset (docs/decisions/durable-broker.md). The log itself can still
begin again at offset 0: a new data dir, a data dir written by the former in-memory broker, or a
broker bucket someone emptied. A sensor whose cursor holds the old log's offsets would then wait
until the new topic grew past them. So the log carries an epoch: a marker object written beside
it when the stack finds none (an empty log), copied to ``<data_dir>/kafka/epoch`` on every broker
start. Sensors keep the epoch beside their offsets and read a topic from the start when it changed.
A Kafka the stack did not start (compose, production) has no epoch file; nothing resets there.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from batchpoint.config import Settings
from batchpoint.errors import NotFoundError
from batchpoint.storage.port import ObjectStore

# Beside tansu's own ``clusters/`` prefix in the broker bucket.
MARKER_KEY = "batchpoint/epoch"


def epoch_file(settings: Settings) -> Path:
    """Where the stack writes the epoch of the broker it started."""
    return settings.data_dir.resolve() / "kafka" / "epoch"


def log_epoch(settings: Settings, store: ObjectStore) -> str:
    """The epoch of the broker log in ``broker_bucket`` (a new one for an empty log), also written to
    the epoch file for the sensors."""
    try:
        epoch = store.get_bytes(settings.broker_bucket, MARKER_KEY).decode().strip()
    except NotFoundError:
        epoch = ""
    if not epoch:
        epoch = uuid.uuid4().hex
        store.put_bytes(settings.broker_bucket, MARKER_KEY, epoch.encode())
    path = epoch_file(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(epoch)
    partial.replace(path)
    return epoch


def current_epoch(settings: Settings) -> str:
    """The running broker log's epoch; empty when the broker is not one the stack started."""
    try:
        return epoch_file(settings).read_text().strip()
    except OSError:
        return ""
