"""Which service needs which loopback port, checking them before a start, and picking free ones."""

from __future__ import annotations

import dataclasses
import fcntl
import os
import socket
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

from batchpoint.config import Ports
from batchpoint.errors import PortInUseError

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
    """A ``Ports`` whose every field is a distinct port the OS says is free right now.

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


def _pick_free(host: str, reserved: set[int]) -> Ports:
    sockets: list[socket.socket] = []
    values: dict[str, int] = {}
    try:
        for f in dataclasses.fields(Ports):
            # Keep every socket open until all are chosen so the OS never hands out one port twice.
            while True:
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                sockets.append(sock)
                sock.bind((host, 0))
                port: int = sock.getsockname()[1]
                if port not in reserved:
                    break
            values[f.name] = port
    finally:
        for sock in sockets:
            sock.close()
    return Ports(**values)
