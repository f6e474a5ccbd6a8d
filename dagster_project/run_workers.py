"""Whether the process running a STARTED Dagster run (its run worker) still exists.

Dagster's default run launcher cannot tell (``supports_check_run_worker_health`` is false), so a
run whose worker was killed together with the code server stays STARTED forever: its month looks
busy to the sensors and its job row stays Running. The worker writes ``Started process for run
(pid: N)`` to the run's event log before the run becomes STARTED; when the code server that
launched it listens on a loopback address, the worker runs on this machine, and that pid can be
checked here; a run handed to the warm run worker (``WARM_WORKER_TAG``, a unix socket, so this
machine) runs here too. A pid that is gone, a zombie, or now names a process started after that event
(the pid was reused) means the worker is gone. Anything else (a remote code server, no such
event) cannot be told from here and counts as alive.
"""

from __future__ import annotations

import ipaddress
import json
import os
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import dagster as dg
from dagster._core.events import DagsterEventType
from dagster._core.storage.tags import GRPC_INFO_TAG

STARTED_PROCESS = "Started process for run (pid: "
# Set by WarmRunLauncher on a run the warm run worker forked: {"pid", "launched_at", "socket"}.
WARM_WORKER_TAG = "batchpoint/warm_run_worker"
# /proc start times are in clock ticks since boot, boot time in whole seconds: allow for both.
_START_TOLERANCE_S = 1.5


class Worker(Enum):
    """What can be told about a run's worker process from here."""

    ALIVE = "alive"
    GONE = "gone"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class WorkerCheck:
    """The answer for one run, with the reason (for logs and the run's failure message)."""

    state: Worker
    reason: str

    @property
    def gone(self) -> bool:
        """Whether the worker is known to be gone."""
        return self.state is Worker.GONE


def check_worker(instance: dg.DagsterInstance, run: dg.DagsterRun) -> WorkerCheck:
    """Whether ``run``'s worker process is alive, gone, or cannot be checked from this machine."""
    host = _code_server_host(run)
    if host is None or not _is_loopback(host):
        return WorkerCheck(Worker.UNKNOWN, f"its code server ({host or 'unknown'}) is not on this machine")
    started = _worker_start(instance, run.run_id)
    if started is None:
        return WorkerCheck(Worker.UNKNOWN, "it has not logged its worker's pid")
    pid, logged_at = started
    began = process_start_time(pid)
    if began is None:
        return WorkerCheck(Worker.GONE, f"its run worker (pid {pid}) is no longer running")
    if not started_by(began, logged_at):
        return WorkerCheck(Worker.GONE, f"its run worker (pid {pid}) is gone; that pid now names a newer process")
    return WorkerCheck(Worker.ALIVE, f"its run worker (pid {pid}) is running")


def started_by(began: float, at: float) -> bool:
    """Whether a process that started at ``began`` can be the one seen at ``at`` (not a reused pid)."""
    return began <= at + _START_TOLERANCE_S


def process_start_time(pid: int) -> float | None:
    """When process ``pid`` started (epoch seconds); ``None`` if it does not exist or is a zombie.

    Linux only (``/proc``); elsewhere a live process gives 0.0, which never looks reused.
    """
    proc = Path("/proc")
    if not proc.is_dir():
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass
        return 0.0
    try:
        stat = (proc / str(pid) / "stat").read_text()
    except OSError:
        return None
    # Fields after the parenthesised command name (which may hold spaces): state is field 3,
    # starttime field 22 of proc(5).
    fields = stat.rsplit(")", 1)[1].split()
    if fields[0] in ("Z", "X"):
        return None
    return _boot_time() + int(fields[19]) / os.sysconf("SC_CLK_TCK")


def _boot_time() -> float:
    for line in Path("/proc/stat").read_text().splitlines():
        if line.startswith("btime "):
            return float(line.split()[1])
    return 0.0


def _worker_start(instance: dg.DagsterInstance, run_id: str) -> tuple[int, float] | None:
    """The pid the run's latest worker logged and when it logged it."""
    found = None
    for entry in instance.all_logs(run_id, of_type=DagsterEventType.ENGINE_EVENT):
        message = entry.dagster_event.message if entry.dagster_event else None
        if message and message.startswith(STARTED_PROCESS):
            pid = message[len(STARTED_PROCESS) :].split(")", 1)[0]
            if pid.isdigit():
                found = (int(pid), entry.timestamp)
    return found


def _code_server_host(run: dg.DagsterRun) -> str | None:
    if WARM_WORKER_TAG in run.tags:
        return "localhost"
    raw = run.tags.get(GRPC_INFO_TAG)
    if not raw:
        return None
    try:
        host = json.loads(raw).get("host")
    except (ValueError, AttributeError):
        return None
    return str(host) if host else None


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
