"""The embedded broker's epoch: which life of an in-memory Kafka the stored offsets belong to.

``tansu`` keeps messages in memory, so every start of the embedded stack brings empty topics whose
offsets begin at 0 again. A sensor whose cursor still holds the previous life's offsets would wait
until the new topic grew past them (events lost until reconciliation finds the files). The stack
writes a new epoch each time it starts the broker; sensors keep the epoch beside their offsets and
read a topic from the start when it changed. A persistent Kafka (compose, production) has no epoch
file, so nothing ever resets there.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from batchpoint.config import Settings


def epoch_file(settings: Settings) -> Path:
    """Where the stack writes the epoch of the broker it started."""
    return settings.data_dir.resolve() / "kafka" / "epoch"


def new_epoch(settings: Settings) -> str:
    """Record that a new, empty broker is starting; returns its epoch."""
    path = epoch_file(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    epoch = uuid.uuid4().hex
    partial = path.with_name(path.name + ".partial")
    partial.write_text(epoch)
    partial.replace(path)
    return epoch


def current_epoch(settings: Settings) -> str:
    """The running broker's epoch; empty when the broker is not one the stack started in memory."""
    try:
        return epoch_file(settings).read_text().strip()
    except OSError:
        return ""
