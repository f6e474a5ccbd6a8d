"""``Stack``: start a chosen set of embedded services in dependency order, stop them all.

::

    with Stack(settings, services=("s3", "kafka")) as stack:
        ...  # settings.s3_url and settings.bootstrap answer; buckets and topics exist

``up`` checks every port before starting anything. A service that fails its health check stops
the ones already started and raises ``StackError`` with the end of its log.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType

from batchpoint.config import Settings
from batchpoint.errors import StackError
from batchpoint.stack.locations import project_root
from batchpoint.stack.ports import check_ports
from batchpoint.stack.process import Child, pid_alive
from batchpoint.stack.readiness import wait_ready
from batchpoint.stack.services import (
    child_env,
    default_services,
    launch_batches,
    launches,
    order_services,
    service_url,
    weed_sockets,
)
from batchpoint.stack.state import (
    ProcessRecord,
    ServiceRecord,
    StackState,
    read_state,
    remove_state,
    write_state,
)

# Called as each service becomes healthy: (service, url, seconds it took).
HealthyCallback = Callable[[str, str, float], None]


class Stack:
    """The embedded services of one data dir, as child processes of this process."""

    def __init__(
        self,
        settings: Settings,
        services: Sequence[str] | None = None,
        *,
        on_healthy: HealthyCallback | None = None,
    ) -> None:
        self.settings = settings
        self.services = order_services(list(services) if services is not None else list(default_services(settings)))
        self.on_healthy = on_healthy
        self.children: dict[str, list[Child]] = {}
        self.timings: dict[str, float] = {}
        self._status = "stopped"

    @property
    def data_dir(self) -> Path:
        """The resolved data folder."""
        return self.settings.data_dir.resolve()

    def up(self) -> Stack:
        """Start every chosen service and wait until each is healthy; on failure stop them all."""
        self._refuse_if_running()
        check_ports(self.settings.host, self.settings.ports, self.services)
        (self.data_dir / "logs").mkdir(parents=True, exist_ok=True)
        env = child_env(self.settings)
        root = project_root()
        self._status = "starting"
        try:
            for batch in launch_batches(self.services):
                # Services of one batch need nothing from each other: start them together (MLflow
                # and Dagster each spend ~20 s importing), then wait for each in order.
                started = time.monotonic()
                for service in batch:
                    children: list[Child] = []
                    self.children[service] = children
                    for launch in launches(service, self.settings):
                        log = self.data_dir / "logs" / f"{launch.name}.log"
                        children.append(Child.start(launch.name, launch.command, env | launch.env, log, root))
                self._save_state()
                for service in batch:
                    wait_ready(service, self.settings, self.children[service])
                    self.timings[service] = time.monotonic() - started
                    if self.on_healthy is not None:
                        self.on_healthy(service, service_url(service, self.settings), self.timings[service])
        except BaseException:
            # Also on Ctrl-C: never leave half a stack running.
            self.down()
            raise
        self._status = "healthy"
        self._save_state()
        return self

    def down(self) -> list[str]:
        """Stop every started service, last started first; return their names."""
        stopped: list[str] = []
        for service in reversed(list(self.children)):
            for child in reversed(self.children[service]):
                child.stop()
            if service == "s3":
                self._remove_weed_sockets()
            stopped.append(service)
        self.children.clear()
        if self._status != "stopped":
            remove_state(self.data_dir)
        self._status = "stopped"
        return stopped

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
        # Left by a launcher that was killed: its children were stopped or are gone; start afresh.
        remove_state(self.data_dir)

    def _save_state(self) -> None:
        services = {
            service: ServiceRecord(
                service_url(service, self.settings),
                [ProcessRecord(c.name, c.pid, c.pid, str(c.log_path)) for c in children],
            )
            for service, children in self.children.items()
        }
        write_state(self.data_dir, StackState(os.getpid(), self._status, services))

    def _remove_weed_sockets(self) -> None:
        # weed hard-codes these socket paths under /tmp and leaves some behind; they carry our
        # ports, so no other running server owns them once ours has stopped.
        sockets = [Path(p) for p in weed_sockets(self.settings)]
        sockets += (self.data_dir / "tmp" / "s3").glob("*.sock")
        for socket_path in sockets:
            socket_path.unlink(missing_ok=True)
