"""The stack's supervisor: restarts a crashed (or hung) service instead of stopping the stack.

A thread of the launcher. Every second it looks at each child process: one that exited, or a
heartbeat service whose heartbeat is older than ``service_heartbeat_timeout_seconds``, is stopped
(its whole process group, so nothing it started lingers unowned), started again with the same
command line (so the same ports) after a backoff, and waited for until healthy. A process that
crashes ``service_crash_limit`` times within ``service_crash_window_seconds`` stops the stack with
a ``ServiceCrashLoopError`` naming it and carrying its last log lines. The supervisor also runs
the broker log's retention sweep (``batchpoint.broker_retention``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from batchpoint.broker_retention import sweep
from batchpoint.crash_history import CrashHistory
from batchpoint.errors import BatchpointError, ServiceCrashLoopError, StorageError
from batchpoint.heartbeat import HEARTBEAT_SERVICES, heartbeat_age, heartbeat_path
from batchpoint.stack.process import Child
from batchpoint.stack.readiness import wait_ready
from batchpoint.storage.datastore import open_datastore

if TYPE_CHECKING:
    from batchpoint.stack.launcher import Stack

POLL_S = 1.0


class Supervisor(threading.Thread):
    """Watches the children of one running ``Stack``."""

    def __init__(self, stack: Stack, emit: Callable[[str], None]) -> None:
        super().__init__(name="batchpoint-stack-supervisor", daemon=True)
        self.stack = stack
        self.settings = stack.settings
        self.emit = emit
        self.stopping = threading.Event()
        self.failed = threading.Event()
        self.failure: ServiceCrashLoopError | None = None
        self._crashes: dict[str, CrashHistory] = {}
        self._next_sweep = time.monotonic() + self.settings.broker_retention_check_seconds

    def stop(self, timeout: float = 30.0) -> None:
        """Stop watching (before the stack stops its children); returns once the thread has ended."""
        self.stopping.set()
        if self.is_alive() and threading.current_thread() is not self:
            self.join(timeout)

    def run(self) -> None:
        while not self.stopping.wait(POLL_S):
            try:
                self.check()
            except ServiceCrashLoopError as exc:
                self.failure = exc
                self.emit(str(exc))
                self.stack.stop_children()
                self.failed.set()
                return
            except Exception as exc:
                # A supervisor thread that dies silently supervises nothing: say so and go on.
                self.emit(f"stack supervisor: unexpected error, still watching: {exc!r}")

    def check(self) -> None:
        """One pass: restart what crashed or hung; sweep the broker log when due."""
        for service, children in list(self.stack.children.items()):
            for index, child in enumerate(list(children)):
                problem = self._problem(service, child)
                if problem is not None and not self.stopping.is_set():
                    self._restart(service, index, child, problem)
        if time.monotonic() >= self._next_sweep:
            self._next_sweep = time.monotonic() + self.settings.broker_retention_check_seconds
            self._sweep_broker_log()

    def _problem(self, service: str, child: Child) -> str | None:
        if not child.alive():
            return f"exited with {child.exit_description()}"
        timeout = self.settings.service_heartbeat_timeout_seconds
        if service in HEARTBEAT_SERVICES and time.monotonic() - child.started > timeout:
            age = heartbeat_age(heartbeat_path(self.settings, service), pid=child.pid)
            if age is None or age > timeout:
                return f"gave no heartbeat for over {timeout:.0f} s (hung)"
        return None

    def _restart(self, service: str, index: int, child: Child, problem: str) -> None:
        history = self._crashes.setdefault(child.name, CrashHistory.from_settings(self.settings))
        while True:
            if self.stopping.is_set():  # the stack is stopping its children: not a crash
                return
            crashes = history.record(time.monotonic())
            if history.exhausted:
                child.stop()
                raise ServiceCrashLoopError(
                    service,
                    child.name,
                    crashes,
                    history.window_s,
                    str(child.log_path),
                    child.log_tail(),
                )
            delay = history.delay()
            self.emit(
                f"{child.name} ({service}) {problem}; restarting it on the same ports in {delay:.0f} s "
                f"(crash {crashes} of {history.limit} allowed within {history.window_s:.0f} s)"
            )
            child.stop()
            if self.stopping.wait(delay):
                return
            replacement = self.stack.replace_child(service, index, child)
            if replacement is None:  # the stack is stopping
                return
            child = replacement
            try:
                wait_ready(service, self.settings, self.stack.children[service])
            except BatchpointError as exc:
                problem = f"was not healthy after its restart: {str(exc).splitlines()[0]}"
                if self.stopping.is_set():
                    return
                continue
            self.emit(f"{child.name} ({service}) is healthy again (pid {child.pid})")
            return

    def _sweep_broker_log(self) -> None:
        if not {"s3", "kafka"} <= set(self.stack.children):
            return
        s = self.settings
        try:
            deleted = sweep(open_datastore(s), s)
        except StorageError as exc:
            self.emit(f"broker log retention sweep failed (will retry): {exc}")
            return
        if deleted:
            self.emit(f"broker log retention: deleted {len(deleted)} record batch(es) past retention")
