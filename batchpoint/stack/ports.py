"""Which service needs which loopback port, checking them before a start, and picking free ones."""

from __future__ import annotations

import dataclasses
import socket
from collections.abc import Iterable

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


def free_ports(host: str = "127.0.0.1") -> Ports:
    """A ``Ports`` whose every field is a distinct port the OS says is free right now."""
    sockets: list[socket.socket] = []
    values: dict[str, int] = {}
    try:
        for f in dataclasses.fields(Ports):
            # Keep every socket open until all are chosen so the OS never hands out one port twice.
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sockets.append(sock)
            sock.bind((host, 0))
            values[f.name] = sock.getsockname()[1]
    finally:
        for sock in sockets:
            sock.close()
    return Ports(**values)
