"""A run queue that launches a run at once when the queue would launch it at once anyway.

Dagster's ``QueuedRunCoordinator`` enqueues every run; its daemon launches queued runs once per
``dequeue_interval_seconds`` (1 s at the least), within the tag concurrency limits (ours: one run
of a month at a time). For a run of an idle month the queue buys nothing and costs half a second
on average (docs/decisions/warm-run-process.md, "The queue").

``LaunchIdleRunCoordinator`` takes the same configuration plus ``launch_lock`` (a file path). On
submit it takes that file's lock and counts, for every tag limit the run falls under, the runs
queued or in progress under it; when each count leaves room for this run (so the queue, which only
launches what is queued, could not launch a run of the limit's tag while this one starts), and the
``max_concurrent_runs`` too, it launches the run there and then, as ``DefaultRunCoordinator`` does.
Otherwise it enqueues the run, as its parent does. Every run is submitted through this class (the
daemon's sensors and backfills, the webserver, the API), so the lock serialises the decisions of
all submitters that share the file; the run is STARTING before the lock is released, so the next
submitter counts it. Without ``launch_lock`` (compose: the submitters are in several containers)
every run is queued, as before.
"""

from __future__ import annotations

import fcntl
import logging
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Self, cast

import dagster as dg
from dagster._config import Field, StringSource
from dagster._config.config_schema import UserConfigSchema
from dagster._core.run_coordinator.base import SubmitRunContext
from dagster._core.storage.dagster_run import ACTIVE_RUN_STATUSES
from dagster._serdes import ConfigurableClassData

log = logging.getLogger("batchpoint.run_coordinator")

# The runs a tag limit counts: those in progress, and those queued ahead of this one.
COUNTED_STATUSES = [dg.DagsterRunStatus.QUEUED, *ACTIVE_RUN_STATUSES]
UNLIMITED = -1


def limits_room(
    tags: Mapping[str, str],
    limits: Sequence[Mapping[str, Any]],
    count: Callable[[Mapping[str, str]], int],
) -> bool | None:
    """Whether every tag limit ``tags`` falls under leaves room for one more run.

    ``count(filter_tags)`` counts the runs queued or in progress with those tags. ``None`` when a
    limit cannot be counted by tags (one over every value of a key): then the queue decides.
    """
    for limit in limits:
        key = str(limit["key"])
        if key not in tags:
            continue
        value = limit.get("value")
        if isinstance(value, Mapping) and value.get("applyLimitPerUniqueValue"):
            wanted = tags[key]
        elif isinstance(value, str):
            if tags[key] != value:
                continue
            wanted = value
        else:
            return None
        if count({key: wanted}) + 1 > int(limit["limit"]):
            return False
    return True


class LaunchIdleRunCoordinator(dg.QueuedRunCoordinator):
    """``QueuedRunCoordinator`` that launches at once what its queue would launch at once (module docstring)."""

    def __init__(self, launch_lock: str | None = None, **config: Any) -> None:
        super().__init__(**config)
        self._launch_lock = Path(launch_lock) if launch_lock else None

    @classmethod
    def config_type(cls) -> UserConfigSchema:
        schema = dict(cast(Mapping[str, Any], super().config_type()))
        schema["launch_lock"] = Field(
            StringSource,
            is_required=False,
            description="A lock file every submitter can open; without it every run is queued.",
        )
        return schema

    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData, config_value: Mapping[str, Any]) -> Self:
        return cls(inst_data=inst_data, **dict(config_value))

    def submit_run(self, context: SubmitRunContext) -> dg.DagsterRun:
        run = context.dagster_run
        if self._launch_lock is None or run.status != dg.DagsterRunStatus.NOT_STARTED:
            return super().submit_run(context)
        try:
            handle = self._launch_lock.open("a")
        except OSError as exc:
            log.warning("queueing run %s: cannot open the launch lock %s: %s", run.run_id, self._launch_lock, exc)
            return super().submit_run(context)
        with handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            if not self._has_room(run):
                return super().submit_run(context)
            # As DefaultRunCoordinator: the run is STARTING once this returns, and a launch that
            # fails marks the run failed and raises.
            self._instance.launch_run(run.run_id, context.workspace)
        launched = self._instance.get_run_by_id(run.run_id)
        return launched if launched is not None else run

    def _has_room(self, run: dg.DagsterRun) -> bool:
        instance = self._instance

        def count(tags: Mapping[str, str]) -> int:
            return instance.get_runs_count(dg.RunsFilter(statuses=COUNTED_STATUSES, tags=dict(tags)))

        if self._max_concurrent_runs != UNLIMITED and count({}) + 1 > self._max_concurrent_runs:
            return False
        return limits_room(run.tags, self._tag_concurrency_limits, count) is True
