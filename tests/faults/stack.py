"""A real embedded stack that a fault test may kill and bring up again, and polling for outcomes.

- ``FaultStack``: the stack of one data dir; ``kill_everything()`` SIGKILLs every process that
  carries its data dir (services, run workers, scoring drivers), ``up_again()`` starts it on the
  same data dir and ports, as ``batchpoint up`` after a crash would.
- ``poll``: wait for a condition with a generous deadline (never assert how long it took).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from batchpoint.config import Settings
from batchpoint.errors import StackError, StorageError
from batchpoint.stack import Stack
from tests.integration.conftest import make_settings

T = TypeVar("T")
SERVICES = ("s3", "kafka", "mlflow", "dagster", "publisher", "api")
ENDED_RUN = {"SUCCESS", "FAILURE", "CANCELED"}
DEADLINE_S = 300.0


def poll(condition: Callable[[], T | None], what: str, timeout: float = DEADLINE_S, every: float = 0.5) -> T:
    """``condition()``'s first truthy value; ``AssertionError`` naming ``what`` if none within ``timeout``.

    A Dagster webserver that is briefly busy (``StackError``) or a store being restarted by a
    fault (``StorageError``) counts as not yet.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            found = condition()
        except (StackError, StorageError):
            found = None
        if found:
            return found
        assert time.monotonic() < deadline, f"{what}: not within {timeout:.0f} s"
        time.sleep(every)


def fault_settings(data_dir: Path) -> Settings:
    """Settings for a stack under faults: short waits, so a lost month is found again soon.

    Reconciliation every 3 s and a short arrival wait (its grace period is ~14 s); run monitoring
    every 2 s. Its runs' workers are in-process: the faults here are the trigger path's services'
    (Ray's own are tested on a Ray cluster, ``tests/integration/test_ray_pools.py``). Nothing else
    differs from the defaults.
    """
    return dataclasses.replace(
        make_settings(data_dir),
        workers="in-process",
        reconcile_interval_seconds=3,
        arrival_max_wait_seconds=8.0,
        run_monitoring_interval_seconds=2,
    )


class FaultStack:
    """The embedded stack of one data dir, which a test may kill and bring up again."""

    def __init__(self, settings: Settings, services: Sequence[str] = SERVICES) -> None:
        self.settings = settings
        self.services = tuple(services)
        self.stack = Stack(settings, services=self.services)

    def up(self) -> FaultStack:
        """Start every service and wait until each is healthy."""
        self.stack.up()
        return self

    def down(self) -> None:
        """Stop what runs, then anything left with this data dir (the harness's own cleanup)."""
        self.stack.down()
        for pid in stack_processes(self.settings):
            _kill(pid)

    def service_pgids(self) -> set[int]:
        """Process groups of the running services (each service child leads one)."""
        return {pid for pids in self.stack.pids().values() for pid in pids}

    def kill_everything(self) -> list[int]:
        """SIGKILL every process carrying this stack's data dir, as a power cut would; their pids.

        The stack's children are reaped, their state and sockets left as a crash leaves them.
        """
        self.stack.stop_supervising()  # the launcher dies with the rest: nothing restarts them
        killed = stack_processes(self.settings)
        for pid in killed:
            _kill(pid)
        for children in self.stack.children.values():
            for child in children:
                child.process.wait(timeout=30)
        poll(lambda: not stack_processes(self.settings), "every process of the stack gone", timeout=30)
        return killed

    def up_again(self) -> FaultStack:
        """``batchpoint up`` on the same data dir and ports after ``kill_everything``."""
        self.stack = Stack(self.settings, services=self.services)
        return self.up()


def stack_processes(settings: Settings) -> list[int]:
    """Live processes (not this one) whose environment names ``settings``' data dir."""
    marker = f"BATCHPOINT_DATA_DIR={settings.data_dir.resolve()}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z" and marker in environ.split(b"\0"):
            found.append(int(entry.name))
    return sorted(found)


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
