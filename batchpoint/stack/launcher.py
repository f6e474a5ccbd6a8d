"""``Stack``: start a chosen set of embedded services in dependency order, stop them all.

::

    with Stack(settings, services=("s3", "kafka")) as stack:
        ...  # settings.s3_url and settings.bootstrap answer; buckets and topics exist

``up`` checks every port before starting anything and starts each service once what it needs is
healthy. A service that fails its first health check stops the ones already started and raises
``StackError`` with the end of its log. Once up, a supervisor thread (``supervisor.py``) restarts a
service that crashes; one that keeps crashing stops the stack, and ``wait_failed`` returns why.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType

from batchpoint.config import Settings
from batchpoint.errors import ServiceCrashLoopError, StackError
from batchpoint.stack.locations import project_root
from batchpoint.stack.ports import check_ports
from batchpoint.stack.process import Child, pid_alive
from batchpoint.stack.ray_head import ray_temp_dir
from batchpoint.stack.readiness import wait_ready
from batchpoint.stack.services import (
    child_env,
    default_services,
    external_services,
    launches,
    order_services,
    service_url,
    startable,
    weed_sockets,
)
from batchpoint.stack.state import (
    ProcessRecord,
    ServiceRecord,
    StackState,
    read_state,
    remove_state,
    stop_leftovers,
    write_state,
)
from batchpoint.stack.supervisor import Supervisor

# Called as each service becomes healthy: (service, url, seconds it took).
HealthyCallback = Callable[[str, str, float], None]
# Called with what the supervisor did (a restart, a service given up on).
EventCallback = Callable[[str], None]

log = logging.getLogger("batchpoint.stack")


class Stack:
    """The embedded services of one data dir, as child processes of this process."""

    def __init__(
        self,
        settings: Settings,
        services: Sequence[str] | None = None,
        *,
        on_healthy: HealthyCallback | None = None,
        on_event: EventCallback | None = None,
    ) -> None:
        self.settings = settings
        self.services = order_services(list(services) if services is not None else list(default_services(settings)))
        self.on_healthy = on_healthy
        self.on_event = on_event or log.warning
        self.children: dict[str, list[Child]] = {}
        self.restarts: dict[str, int] = {}
        self.timings: dict[str, float] = {}
        self._status = "stopped"
        # Held while children are started, replaced or stopped: the supervisor and down() both do it.
        self._lock = threading.RLock()
        self._supervisor: Supervisor | None = None

    @property
    def data_dir(self) -> Path:
        """The resolved data folder."""
        return self.settings.data_dir.resolve()

    def up(self) -> Stack:
        """Start every chosen service and wait until each is healthy; on failure stop them all."""
        self._refuse_if_running()
        external = external_services(self.settings)
        check_ports(self.settings.host, self.settings.ports, [s for s in self.services if s not in external])
        (self.data_dir / "logs").mkdir(parents=True, exist_ok=True)
        self._status = "starting"
        try:
            self._start_in_order()
        except BaseException:
            # Also on Ctrl-C: never leave half a stack running.
            self.down()
            raise
        self._status = "healthy"
        self._save_state()
        self._supervisor = Supervisor(self, self.on_event)
        self._supervisor.start()
        return self

    def _start_in_order(self) -> None:
        # Start every service whose needs are healthy (MLflow and Dagster each spend ~20 s
        # importing, so they start together), wait for the first one started, repeat.
        env = child_env(self.settings)
        root = project_root()
        started_at: dict[str, float] = {}
        healthy: set[str] = set()
        while len(healthy) < len(self.services):
            for service in startable(self.services, set(started_at), healthy):
                started_at[service] = time.monotonic()
                children: list[Child] = []
                self.children[service] = children
                for launch in launches(service, self.settings):
                    log_path = self.data_dir / "logs" / f"{launch.name}.log"
                    children.append(
                        Child.start(
                            launch.name,
                            launch.command,
                            env | launch.env,
                            log_path,
                            root,
                            stop_leader_first=launch.stop_leader_first,
                        )
                    )
            self._save_state()
            service = next(s for s in self.services if s in started_at and s not in healthy)
            wait_ready(service, self.settings, self.children[service])
            healthy.add(service)
            self.timings[service] = time.monotonic() - started_at[service]
            if self.on_healthy is not None:
                self.on_healthy(service, service_url(service, self.settings), self.timings[service])

    def wait_failed(self, timeout: float | None = None) -> ServiceCrashLoopError | None:
        """Block until the supervisor gave up on a service and stopped the stack (its error), or
        ``timeout`` passed (None)."""
        supervisor = self._supervisor
        if supervisor is None or not supervisor.failed.wait(timeout):
            return None
        return supervisor.failure

    def replace_child(self, service: str, index: int, old: Child) -> Child | None:
        """Start ``old`` (stopped) again in its place; None when the stack is stopping."""
        with self._lock:
            if self._supervisor is None or self._supervisor.stopping.is_set() or service not in self.children:
                return None
            new = old.restart()
            self.children[service][index] = new
            self.restarts[service] = self.restarts.get(service, 0) + 1
            self._save_state()
            return new

    def stop_children(self) -> list[str]:
        """Stop every started service, last started first; return their names (``down`` without
        stopping the supervisor, which calls it when it gives up)."""
        with self._lock:
            stopped: list[str] = []
            for service in reversed(list(self.children)):
                for child in reversed(self.children[service]):
                    child.stop()
                if service == "s3":
                    self._remove_weed_sockets()
                if service == "ray":
                    self._remove_short_ray_temp_dir()
                stopped.append(service)
            self.children.clear()
            if self._status != "stopped":
                remove_state(self.data_dir)
            self._status = "stopped"
            return stopped

    def down(self) -> list[str]:
        """Stop supervising, then every started service, last started first; return their names."""
        supervisor = self._supervisor
        if supervisor is not None:
            supervisor.stopping.set()  # under the lock below, nothing is restarted any more
        stopped = self.stop_children()
        if supervisor is not None:
            supervisor.stop()
        return stopped

    def stop_supervising(self) -> None:
        """Stop the supervisor and leave the children as they are (what a killed launcher leaves)."""
        supervisor = self._supervisor
        if supervisor is not None:
            supervisor.stop()

    def pids(self) -> dict[str, list[int]]:
        """Pid (= process group id) of every child, by service."""
        return {service: [c.pid for c in children] for service, children in self.children.items()}

    def __enter__(self) -> Stack:
        return self.up()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.down()

    # ---- internals -----------------------------------------------------------------------
    def _refuse_if_running(self) -> None:
        state = read_state(self.data_dir)
        if state is None:
            return
        if state.launcher_pid != os.getpid() and pid_alive(state.launcher_pid):
            raise StackError(
                f"a stack is already running from {self.data_dir} (launcher pid {state.launcher_pid}); "
                f"stop it with `batchpoint down --data-dir {self.settings.data_dir}`"
            )
        # Left by a launcher that was killed: its children may still run and hold the ports.
        leftovers = stop_leftovers(state)
        if leftovers:
            self.on_event(f"stopped what a killed launcher left running: {', '.join(leftovers)}")
        remove_state(self.data_dir)

    def _save_state(self) -> None:
        services = {
            service: ServiceRecord(
                service_url(service, self.settings),
                [ProcessRecord(c.name, c.pid, c.pid, str(c.log_path)) for c in children],
                self.restarts.get(service, 0),
            )
            for service, children in self.children.items()
        }
        write_state(self.data_dir, StackState(os.getpid(), self._status, services))

    def _remove_short_ray_temp_dir(self) -> None:
        # A data dir whose path is too long for Ray's sockets gets its Ray folder in /tmp instead;
        # remove it with the head so /tmp does not fill up (its ray.log stays under logs/).
        temp = ray_temp_dir(self.settings)
        if not temp.is_relative_to(self.data_dir):
            shutil.rmtree(temp, ignore_errors=True)

    def _remove_weed_sockets(self) -> None:
        # weed hard-codes these socket paths under /tmp and leaves some behind; they carry our
        # ports, so no other running server owns them once ours has stopped.
        sockets = [Path(p) for p in weed_sockets(self.settings)]
        sockets += (self.data_dir / "tmp" / "s3").glob("*.sock")
        for socket_path in sockets:
            socket_path.unlink(missing_ok=True)
