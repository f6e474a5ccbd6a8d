"""Is a running service healthy right now: one probe of what its readiness check waits for.

``batchpoint status`` asks this for every service of ``stack.json``, so it reports what answers,
not only which pids exist (a hung publisher keeps its pid but stops beating its heartbeat).
"""

from __future__ import annotations

from batchpoint.config import Settings
from batchpoint.heartbeat import HEARTBEAT_SERVICES, heartbeat_age, heartbeat_path
from batchpoint.stack.process import pid_alive
from batchpoint.stack.ray_head import cluster_problem, missing_head_processes
from batchpoint.stack.readiness import http_status, tcp_open
from batchpoint.stack.state import ServiceRecord


def probe(service: str, settings: Settings, record: ServiceRecord) -> str | None:
    """What is wrong with ``service`` (None: healthy)."""
    dead = [p.name for p in record.processes if not pid_alive(p.pid)]
    if dead:
        return f"not running: {', '.join(dead)}"
    host, ports = settings.host, settings.ports
    tls = bool(settings.tls_cert and settings.tls_key)
    answers = {
        "s3": lambda: http_status(host, ports.s3, "/") is not None,
        "kafka": lambda: tcp_open(host, ports.kafka),
        "mlflow": lambda: http_status(host, ports.mlflow, "/health") == 200,
        "dagster": lambda: http_status(host, ports.dagster, "/server_info") == 200,
        "api": lambda: http_status(host, ports.api, "/v1/health", tls=tls) == 200,
    }
    if service in answers and not answers[service]():
        return f"does not answer at {record.url}"
    if service == "ray":
        return _ray_problem(settings, record)
    if service in HEARTBEAT_SERVICES:
        timeout = settings.service_heartbeat_timeout_seconds
        pid = record.processes[0].pid if record.processes else None
        age = heartbeat_age(heartbeat_path(settings, service), pid=pid)
        if age is None:
            return "no heartbeat yet"
        if age > timeout:
            return f"hung: no heartbeat for {age:.0f} s"
    return None


def _ray_problem(settings: Settings, record: ServiceRecord) -> str | None:
    if settings.ray_address:  # an existing cluster: ask its GCS (~1.6 s)
        return cluster_problem(settings)
    if not tcp_open("127.0.0.1", settings.ports.ray):
        return f"does not answer at {record.url}"
    missing = [name for p in record.processes for name in missing_head_processes(p.pid)]
    return f"not running: {', '.join(missing)}" if missing else None
