"""Which service needs which loopback port, checking them before a start, and picking free ones."""

from __future__ import annotations

import dataclasses
import fcntl
import os
import random
import socket
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

from batchpoint.config import Ports
from batchpoint.errors import PortInUseError, StackError

# The Ports fields each service listens on; `publisher` and `relay` listen on none.
SERVICE_PORTS: dict[str, tuple[str, ...]] = {
    "s3": (
        "s3",
        "s3_grpc",
        "filer",
        "filer_grpc",
        "master",
        "master_grpc",
        "volume",
        "volume_grpc",
        "admin",
        "admin_grpc",
    ),
    "ray": ("ray", "ray_client"),
    "kafka": ("kafka",),
    "mlflow": ("mlflow",),
    "dagster": ("dagster", "dagster_code"),
    "publisher": (),
    "relay": (),
    "api": ("api",),
}


def port_in_use(host: str, port: int) -> bool:
    """Whether something already listens on ``host:port`` (a bind attempt fails)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # SO_REUSEADDR so a port in TIME_WAIT from our own last run counts as free, as it is for
        # the services (they set it too); only a live listener makes the bind fail.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


def check_ports(host: str, ports: Ports, services: Iterable[str]) -> None:
    """Raise ``PortInUseError`` for the first port of ``services`` that is taken or used twice."""
    seen: dict[int, str] = {}
    for service in services:
        for field_name in SERVICE_PORTS[service]:
            port: int = getattr(ports, field_name)
            if port in seen or port_in_use(host, port):
                raise PortInUseError(service, port, Ports.setting_name(field_name))
            seen[port] = field_name


# How long a port free_ports handed out stays off limits to every other free_ports call on this
# machine: long enough for a stack to start every service and bind what it was given.
RESERVATION_SECONDS = 15 * 60


def reservations_file() -> Path:
    """The machine-wide record of ports ``free_ports`` handed out recently (one ``port time`` a line)."""
    return Path(tempfile.gettempdir()) / f"batchpoint-port-reservations-{os.getuid()}"


def free_ports(host: str = "127.0.0.1") -> Ports:
    """A ``Ports`` whose every field is a distinct port free right now, below the ephemeral range.

    No port is handed out twice within ``RESERVATION_SECONDS`` on one machine, even to two
    processes: a port is only free until its service binds it, and two test workers (or a test
    and a bench) that each asked the OS for a free port could otherwise be given the same one.
    """
    path = reservations_file()
    with path.open("a+") as record:
        fcntl.flock(record, fcntl.LOCK_EX)  # released when the file closes
        record.seek(0)
        now = time.time()
        held = _live_reservations(record.read(), now)
        ports = _pick_free(host, set(held))
        held.update(dict.fromkeys(dataclasses.astuple(ports), now))
        record.seek(0)
        record.truncate()
        record.write("".join(f"{port} {at:.0f}\n" for port, at in held.items()))
    return ports


def _live_reservations(text: str, now: float) -> dict[int, float]:
    held: dict[int, float] = {}
    for line in text.splitlines():
        fields = line.split()
        # A line another version wrote in another form is dropped, not a reason to fail.
        if len(fields) == 2 and fields[0].isdigit():
            try:
                at = float(fields[1])
            except ValueError:
                continue
            if now - at < RESERVATION_SECONDS:
                held[int(fields[0])] = at
    return held


def ephemeral_range() -> tuple[int, int]:
    """The ports the OS hands out for ``bind(0)`` and outgoing connections (Linux; 32768-60999 elsewhere)."""
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[:2]
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999


def _candidates() -> list[int]:
    # Below the ephemeral range: a port chosen here is never taken by another process's bind(0) or
    # outgoing connection in the seconds a service is down (a test restarting S3 on its ports lost
    # the master port that way while the other test worker's processes bound theirs).
    low = ephemeral_range()[0]
    start = max(1024, min(20000, low - 2048))
    ports = list(range(start, low))
    random.shuffle(ports)
    return ports


def _pick_free(host: str, reserved: set[int]) -> Ports:
    sockets: list[socket.socket] = []
    values: dict[str, int] = {}
    candidates = iter(_candidates())
    try:
        for f in dataclasses.fields(Ports):
            # Keep every socket open until all are chosen so no port is chosen twice.
            for port in candidates:
                if port in reserved:
                    continue
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                try:
                    sock.bind((host, port))
                except OSError:
                    sock.close()
                    continue
                sockets.append(sock)
                values[f.name] = port
                break
            else:
                raise StackError(
                    f"no free port left on {host} below the ephemeral range for {Ports.setting_name(f.name)}; "
                    "set the BATCHPOINT_*_PORT variables yourself"
                )
    finally:
        for sock in sockets:
            sock.close()
    return Ports(**values)
