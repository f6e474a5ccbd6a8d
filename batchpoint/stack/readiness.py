"""When is a service healthy: polls its endpoint, then creates what it must hold (buckets, topics)."""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import ssl
import subprocess
import time
from collections.abc import Callable, Sequence

from batchpoint.config import Settings
from batchpoint.errors import BatchpointError, StackError
from batchpoint.orchestration.dagster_graphql import DagsterClient
from batchpoint.stack.locations import tansu_binary
from batchpoint.stack.process import Child
from batchpoint.stack.ray_head import STARTED_LINE, cluster_problem, missing_head_processes
from batchpoint.storage.datastore import open_datastore

# Seconds each service gets to become healthy; generous because two cores are shared.
TIMEOUTS: dict[str, float] = {
    "s3": 60,
    "ray": 60,
    "kafka": 30,
    "mlflow": 120,
    "dagster": 240,
    "publisher": 30,
    "relay": 30,
    "api": 90,
}
PUBLISHER_GRACE_S = 2.0
# The relay has no endpoint: healthy when still alive after this long (it connects at once).
RELAY_GRACE_S = 1.0
TOPIC_PARTITIONS = 1


def failure(service: str, problem: str, children: Sequence[Child]) -> StackError:
    """A StackError naming the service, the problem and the end of its logs."""
    tails = "\n".join(f"--- last lines of {c.log_path} ---\n{c.log_tail()}" for c in children)
    return StackError(f"{service} is not healthy: {problem}\n{tails}")


def wait_until(service: str, check: Callable[[], bool], children: Sequence[Child], timeout: float) -> None:
    """Poll ``check`` until it is true; fail early when a child exits, or after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        for child in children:
            if not child.alive():
                raise failure(service, f"{child.name} exited with code {child.process.returncode}", children)
        if check():
            return
        if time.monotonic() > deadline:
            raise failure(service, f"no answer within {timeout:.0f} s", children)
        time.sleep(0.2)


def http_status(host: str, port: int, path: str, timeout: float = 2.0, *, tls: bool = False) -> int | None:
    """The HTTP status of ``GET path``, or None when nothing answers.

    ``tls``: over HTTPS without verifying the certificate (a loopback health probe of our own
    child, which may well use a self-signed certificate).
    """
    conn = (
        http.client.HTTPSConnection(host, port, timeout=timeout, context=ssl._create_unverified_context())  # noqa: S323
        if tls
        else http.client.HTTPConnection(host, port, timeout=timeout)
    )
    try:
        conn.request("GET", path)
        return conn.getresponse().status
    except (OSError, http.client.HTTPException):
        return None
    finally:
        conn.close()


def tcp_open(host: str, port: int) -> bool:
    """Whether a TCP connection to ``host:port`` succeeds."""
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


def ray_head_answers(settings: Settings, children: Sequence[Child]) -> bool:
    """The embedded head said it started, its GCS accepts connections and its GCS and raylet run
    (no Ray import: cheap). The GCS port opens seconds before the node is registered."""
    if not all(STARTED_LINE in child.log_since_start() for child in children):
        return False
    if not tcp_open("127.0.0.1", settings.ports.ray):
        return False
    return all(not missing_head_processes(child.pid) for child in children)


def _wait_ray(settings: Settings, children: Sequence[Child]) -> None:
    """The embedded head answers (cheap checks), or the existing cluster's GCS answers Ray's own
    health check."""
    timeout = TIMEOUTS["ray"]
    if children:
        wait_until("ray", lambda: ray_head_answers(settings, children), children, timeout)
        return
    problem = cluster_problem(settings)
    deadline = time.monotonic() + timeout
    while problem is not None and time.monotonic() < deadline:
        time.sleep(1.0)
        problem = cluster_problem(settings)
    if problem is not None:
        raise StackError(f"ray is not healthy: {problem} (BATCHPOINT_RAY_ADDRESS names it; empty it to start a head)")


def topics(settings: Settings) -> set[str]:
    """Names of the topics the embedded broker holds (via ``tansu topic list``)."""
    out = subprocess.run(
        [tansu_binary(), "topic", "list", f"--broker=tcp://{settings.bootstrap}"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    if out.returncode != 0:
        raise StackError(f"listing topics at {settings.bootstrap} failed: {out.stderr.strip()}")
    return {str(t["name"]) for t in json.loads(out.stdout or "[]")}


def create_topics(settings: Settings, names: Sequence[str]) -> None:
    """Create the topics that do not exist yet (``tansu topic create``)."""
    missing = [n for n in names if n not in topics(settings)]
    for name in missing:
        out = subprocess.run(
            [
                tansu_binary(),
                "topic",
                "create",
                name,
                f"--broker=tcp://{settings.bootstrap}",
                f"--partitions={TOPIC_PARTITIONS}",
                # Stored for any tool that reads topic configs; batchpoint.broker_retention enforces them.
                f"--config=retention.ms={int(settings.broker_retention_hours * 3_600_000)}",
                f"--config=retention.bytes={settings.broker_retention_bytes}",
            ],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        if out.returncode != 0 and "already exists" not in out.stderr:
            raise StackError(f"creating topic {name!r} at {settings.bootstrap} failed: {out.stderr.strip()}")


def _buckets_created(settings: Settings) -> bool:
    store = open_datastore(settings)
    try:
        for bucket in (settings.landing_bucket, settings.output_bucket, settings.mlflow_bucket, settings.broker_bucket):
            store.ensure_bucket(bucket)
        # Buckets live in the filer; objects in volumes, which a restarted volume server may not have
        # loaded yet (reads then fail with InternalError): a write and read-back proves both.
        probe = ".batchpoint/ready"
        store.put_bytes(settings.output_bucket, probe, b"ok")
        if store.get_bytes(settings.output_bucket, probe) != b"ok":
            return False
    except BatchpointError:
        # The S3 gateway answers before its filer is connected; try again on the next poll.
        return False
    return True


def _location_ready(client: DagsterClient) -> bool:
    """Loaded, or failed for a reason other than the code server still starting.

    The webserver may ask the shared code server before it listens (a busy machine, many endpoints
    to load) and then shows the location as unreachable until something reloads it: reload and
    keep waiting instead of failing the stack.
    """
    if not client.location_loaded():
        return False
    error = client.location_error() or ""
    if "UserCodeUnreachable" not in error and "UNAVAILABLE" not in error:
        return True
    with contextlib.suppress(StackError):
        client.reload_location()
    time.sleep(1.0)  # a reload is not free: give the code server a moment before asking again
    return False


def wait_ready(service: str, settings: Settings, children: Sequence[Child]) -> None:
    """Block until ``service`` is healthy and set up, or raise StackError with its log tail."""
    host, ports, timeout = settings.host, settings.ports, TIMEOUTS[service]
    if service == "s3":
        wait_until(service, lambda: http_status(host, ports.s3, "/") is not None, children, timeout)
        wait_until(service, lambda: _buckets_created(settings), children, timeout)
    elif service == "ray":
        _wait_ray(settings, children)
    elif service == "kafka":
        wait_until(service, lambda: tcp_open(host, ports.kafka), children, timeout)
        names = (settings.events_topic, settings.dead_letter_topic, settings.invocations_topic)
        try:
            create_topics(settings, names)
        except (StackError, subprocess.SubprocessError, ValueError) as exc:
            raise failure(service, str(exc), children) from exc
    elif service == "mlflow":
        wait_until(service, lambda: http_status(host, ports.mlflow, "/health") == 200, children, timeout)
    elif service == "dagster":
        # The daemon has no endpoint: it counts as healthy when still alive once the webserver,
        # loading the same workspace, answers.
        wait_until(service, lambda: http_status(host, ports.dagster, "/server_info") == 200, children, timeout)
        client = DagsterClient(settings.dagster_url)
        wait_until(service, lambda: _location_ready(client), children, timeout)
        error = client.location_error()
        if error:
            raise failure(service, f"code location {client.location!r} failed to load: {error}", children)
    elif service == "publisher":
        time.sleep(PUBLISHER_GRACE_S)
        wait_until(service, lambda: True, children, timeout)
    elif service == "relay":
        time.sleep(RELAY_GRACE_S)
        wait_until(service, lambda: True, children, timeout)
    elif service == "api":
        tls = bool(settings.tls_cert and settings.tls_key)
        wait_until(service, lambda: http_status(host, ports.api, "/v1/health", tls=tls) == 200, children, timeout)
    else:
        raise StackError(f"no health check for service {service!r}")
