"""The embedded Ray head: its command line, temp folder and health, and the check of an existing cluster.

``ray start --head --block`` runs in the foreground, so it is supervised like every other
service: when its raylet or GCS dies it stops the rest itself and exits, and the supervisor
restarts it. On SIGTERM it drains the node and stops its own processes (under 2 s when idle),
while the raylet and GCS ignore a SIGTERM of their own: the launch is stopped through its leader
(``Launch.stop_leader_first``). Every port is set, the worker ports OS-chosen, so two heads on one
machine (tests, other users) never meet; Ray's default worker range 10002-19999 would also cover
the stack's own default ports.
"""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
from pathlib import Path

from batchpoint.config import RAY_CLIENT_SCHEME, Settings
from batchpoint.ray_environment import ray_environment
from batchpoint.stack.locations import find_binary
from batchpoint.stack.process import group_commands

# Ray puts unix sockets at <temp>/session_<date>_<time>_<usec>_<pid>/sockets/plasma_store: 64
# bytes after the folder with a 7-digit pid, and Linux allows 107 in all.
_MAX_TEMP_DIR = 43
# The processes without which the head does not serve (the leader itself is checked by pid).
HEAD_PROCESSES = ("gcs_server", "raylet")
# What `ray start` prints once its node is registered and running (then --block blocks).
STARTED_LINE = "Ray runtime started."
# `ray health-check` needs ~1.6 s when the cluster answers but waits 40 s for one that does not.
HEALTH_CHECK_TIMEOUT_S = 15.0


def ray_temp_dir(settings: Settings) -> Path:
    """Ray's ``--temp-dir`` (sessions, logs, sockets, spilled objects): ``<data_dir>/ray``, or
    ``/tmp/batchpoint-ray-<hash of data_dir>`` when that path is too long for Ray's sockets."""
    data = settings.data_dir.resolve()
    preferred = data / "ray"
    if len(str(preferred)) <= _MAX_TEMP_DIR:
        return preferred
    digest = hashlib.sha256(str(data).encode()).hexdigest()[:12]
    return Path("/tmp") / f"batchpoint-ray-{digest}"  # noqa: S108 -- short on purpose, named for this data dir


def head_cpus() -> int:
    """CPUs the head offers: those this process may run on (agents ask for fractions of one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def ray_launch_command(settings: Settings, ray: str, cpus: int) -> tuple[str, ...]:
    """``ray start --head --block`` on the configured ports, dashboard off, object store bounded."""
    p = settings.ports
    return (
        ray,
        "start",
        "--head",
        "--block",
        f"--port={p.ray}",
        f"--ray-client-server-port={p.ray_client}",
        # 0: ports the OS picks, outside the fixed ports of the other services.
        "--min-worker-port=0",
        "--max-worker-port=0",
        f"--num-cpus={cpus}",
        f"--object-store-memory={settings.ray_object_store_mb * 1024 * 1024}",
        "--include-dashboard=false",
        # The log monitor pushes every worker's output to the drivers; our node agents keep their
        # scoring drivers' logs themselves, and it costs ~90 MiB and a steady poll.
        "--include-log-monitor=false",
        "--disable-usage-stats",
        f"--temp-dir={ray_temp_dir(settings)}",
    )


def ray_binary() -> str:
    """The ``ray`` CLI of this environment."""
    return find_binary("ray")


def missing_head_processes(leader_pid: int) -> list[str]:
    """Which of the head's GCS and raylet are not running in the session of ``ray start`` (its leader)."""
    running = group_commands(leader_pid)
    return [name for name in HEAD_PROCESSES if name not in running]


def cluster_problem(settings: Settings) -> str | None:
    """What is wrong with the cluster at ``settings.ray_connect_address`` (None: it answers).

    ``ray health-check`` connects to the GCS and compares its Ray version with ours (~1.6 s): a
    cluster on another Ray version is refused here rather than by the first run.
    """
    address = settings.ray_connect_address
    if address.startswith(RAY_CLIENT_SCHEME):
        return _client_problem(address.removeprefix(RAY_CLIENT_SCHEME))
    env = os.environ | ray_environment(settings)
    try:
        out = subprocess.run(
            [ray_binary(), "health-check", f"--address={address}"],
            env=env,
            capture_output=True,
            text=True,
            timeout=HEALTH_CHECK_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return f"no answer from the Ray GCS at {address} within {HEALTH_CHECK_TIMEOUT_S:.0f} s"
    if out.returncode == 0:
        return None
    lines = [line for line in (out.stderr + out.stdout).splitlines() if line.strip()]
    return f"`ray health-check --address={address}` failed: {lines[-1] if lines else f'exit {out.returncode}'}"


def _client_problem(address: str) -> str | None:
    """A Ray Client server answers TCP on its port; ``ray health-check`` speaks only to a GCS."""
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=HEALTH_CHECK_TIMEOUT_S):
            return None
    except OSError as exc:
        return f"no Ray Client server at ray://{address}: {exc}"
