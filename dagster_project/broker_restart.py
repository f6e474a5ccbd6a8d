"""The offsets a sensor may read from, given the embedded broker's epoch (``batchpoint/triggers/broker_epoch.py``)."""

from __future__ import annotations

import dagster as dg

from batchpoint.config import Settings
from batchpoint.triggers.broker_epoch import current_epoch


def offsets_for_this_broker(
    context: dg.SensorEvaluationContext, settings: Settings, topic: str, offsets: dict[int, int], epoch: str
) -> tuple[dict[int, int], str]:
    """``(offsets, epoch)`` to keep in the cursor: the stored offsets while the broker is the same one,
    none (read ``topic`` from the start) once it restarted empty."""
    current = current_epoch(settings)
    if epoch == current:
        return offsets, epoch
    if offsets:
        context.log.info(f"the broker restarted empty (epoch {current}): reading {topic} from the start")
    return {}, current
