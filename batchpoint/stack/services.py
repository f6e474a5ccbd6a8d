"""What each embedded service runs: its command lines, environment and URL, built from Settings.

Pure functions of ``Settings`` (plus where the binaries are), so they are unit-tested without
starting anything. ``launcher.py`` runs them; ``readiness.py`` decides when they are healthy.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from batchpoint.config import Settings
from batchpoint.errors import StackError
from batchpoint.ray_environment import ray_environment
from batchpoint.stack.dagster_config import (
    LAUNCH_LOCK,
    RunMonitoring,
    code_server_command,
    run_worker_command,
    run_worker_socket,
    write_dagster_home,
)
from batchpoint.stack.locations import find_binary, project_root, tansu_binary
from batchpoint.stack.ray_head import head_cpus, ray_binary, ray_launch_command, ray_temp_dir
from batchpoint.storage.datastore import open_datastore
from batchpoint.triggers.broker_epoch import log_epoch

# Dependency order: each service only needs those before it.
SERVICE_ORDER: tuple[str, ...] = ("s3", "ray", "kafka", "mlflow", "dagster", "publisher", "relay", "api")
# What must be healthy before a service starts: MLflow's artifacts and the broker's log live in
# S3; Dagster's code and the publisher read buckets and topics; the outbox relay produces to Kafka. The API reaches
# MLflow only when a request needs it, so it starts beside MLflow rather than after it. The Ray head
# needs nothing and only runs use it: it starts beside S3 and stops after Dagster.
NEEDS: dict[str, tuple[str, ...]] = {
    "s3": (),
    "ray": (),
    "kafka": ("s3",),
    "mlflow": ("s3",),
    "dagster": ("s3", "kafka"),
    "publisher": ("s3", "kafka"),
    "relay": ("kafka",),
    "api": ("s3",),
}
# Services run as ``python -m <module>`` of this project.
MODULE_SERVICES: dict[str, str] = {
    "publisher": "kafka_edge.publisher",
    "relay": "kafka_edge.outbox_relay",
    "api": "batchpoint.api",
}
# Imported by a run that scores on Ray, when its step starts (named: the stack imports no Ray).
RAY_HOSTS_MODULE = "batchpoint.ray_compute.hosts"
# What a run's step imports lazily beyond the definitions (profiled in a warm run, 40 x 5,000;
# docs/decisions/run-timeline.md): the warm run worker imports them once instead.
# Internal module names of other packages: one that moved in a new version is skipped with a line.
STEP_MODULES = (
    "pyarrow.dataset",  # pq.read_table: the checks, the reuse lookup
    "pyarrow.acero",  # Table.group_by: the completeness check
    "mlflow.tracking.request_header.registry",  # the first MLflow REST call: model resolution
)
RAY_STEP_MODULES = (
    RAY_HOSTS_MODULE,
    # What a driver's first remote call imports to set up its serialisation: that call took
    # 0.15 s, 0.04 s with these imported (a driver timed apart, session 11).
    "ray._common.pydantic_compat",
    # Its serialisers for pydantic's v1 fields import pydantic.v1 inside a function (0.2 s, with
    # the GIL, beside the step's set-up: py-spy of a warm run, session 12).
    "pydantic.v1.fields",
    "ray._private.arrow_serialization",
    "pyarrow.json",
    "starlette.datastructures",
    "ray._common.usage.usage_lib",  # ray.init
)
# Linux limits a unix socket path to 108 bytes; longer data dirs keep weed's default socket paths.
_MAX_SOCKET_PATH = 100


@dataclass(frozen=True)
class Launch:
    """One process to start for a service; ``name`` is also its log file's stem."""

    name: str
    command: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)
    stop_leader_first: bool = False
    """SIGTERM the main process alone and let it stop the rest (see ``Child.stop_leader_first``)."""


def default_services(settings: Settings | None = None) -> tuple[str, ...]:
    """Every service, in dependency order."""
    del settings  # same answer for every installation today; kept for a stable signature
    return SERVICE_ORDER


def external_services(settings: Settings) -> frozenset[str]:
    """Services reached where the settings point instead of started: the Ray head when
    ``ray_address`` names an existing cluster (its health is then that cluster's)."""
    return frozenset({"ray"}) if settings.ray_address else frozenset()


def order_services(services: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """``services`` in dependency order; unknown names fail with the valid ones listed."""
    unknown = [s for s in services if s not in SERVICE_ORDER]
    if unknown:
        raise StackError(f"unknown service(s) {', '.join(unknown)}; choose from {', '.join(SERVICE_ORDER)}")
    return tuple(s for s in SERVICE_ORDER if s in services)


def startable(services: tuple[str, ...], started: set[str], healthy: set[str]) -> tuple[str, ...]:
    """Those of ``services`` not started yet whose needs are all healthy, in dependency order.

    A need that is not among ``services`` is assumed to be provided elsewhere.
    """
    chosen = set(services)
    return tuple(s for s in services if s not in started and all(n in healthy for n in NEEDS[s] if n in chosen))


def child_env(settings: Settings, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment of every child: ours + BATCHPOINT_* + S3 credentials + MLflow and Dagster homes."""
    env = dict(os.environ if base is None else base)
    env.update(settings.to_env())
    env.update(settings.s3_env())
    env["MLFLOW_TRACKING_URI"] = settings.mlflow_uri
    env["DAGSTER_HOME"] = str(settings.dagster_home)
    # Ray reads these at import: the run processes that call ray.init must have them from the start.
    env.update(ray_environment(settings))
    # Logs reach the files as they are written, not when a buffer fills.
    env["PYTHONUNBUFFERED"] = "1"
    return env


def weed_sockets(settings: Settings) -> list[str]:
    """Unix sockets ``weed mini`` always creates in /tmp (no flag moves them); removed after a stop."""
    p = settings.ports
    return [
        f"/tmp/seaweedfs-{kind}-grpc-{port}.sock"  # noqa: S108 -- the path weed hard-codes
        for kind, port in (
            ("master", p.master_grpc),
            ("volume", p.volume_grpc),
            ("filer", p.filer_grpc),
            ("s3", p.s3_grpc),
            ("admin", p.admin_grpc),
        )
    ] + [
        f"/tmp/seaweedfs-s3-{p.s3}.sock",  # noqa: S108
        f"/tmp/seaweedfs-filer-{p.filer}.sock",  # noqa: S108
    ]


def s3_launch(settings: Settings, weed: str) -> Launch:
    """``weed mini`` with every port set, extras off, data and temp files under data_dir."""
    data = settings.data_dir.resolve()
    p = settings.ports
    command = [
        weed,
        "-logtostderr",  # one log, ours, instead of glog files in the temp folder
        "mini",
        f"-dir={data / 's3'}",
        f"-ip={settings.host}",
        f"-ip.bind={settings.host}",
        f"-master.port={p.master}",
        f"-master.port.grpc={p.master_grpc}",
        f"-volume.port={p.volume}",
        f"-volume.port.grpc={p.volume_grpc}",
        f"-filer.port={p.filer}",
        f"-filer.port.grpc={p.filer_grpc}",
        f"-s3.port={p.s3}",
        f"-s3.port.grpc={p.s3_grpc}",
        f"-admin.port={p.admin}",
        f"-admin.port.grpc={p.admin_grpc}",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        "-webdav=false",
        "-admin.ui=false",
        "-master.telemetry=false",
    ]
    sockets = data / "tmp" / "s3"
    if len(str(sockets / "seaweedfs-filer.sock")) <= _MAX_SOCKET_PATH:
        command += [
            f"-filer.localSocket={sockets / 'seaweedfs-filer.sock'}",
            f"-s3.localSocket={sockets / 'seaweedfs-s3.sock'}",
        ]
    env = {
        "TMPDIR": str(sockets),
        "AWS_ACCESS_KEY_ID": settings.access_key,
        "AWS_SECRET_ACCESS_KEY": settings.secret_key,
    }
    return Launch("s3", tuple(command), env)


def kafka_launch(settings: Settings, tansu: str) -> Launch:
    """``tansu broker`` on host:kafka port, its log in ``broker_bucket`` of the embedded S3 (durable)."""
    url = f"tcp://{settings.host}:{settings.ports.kafka}"
    command = (
        tansu,
        "broker",
        f"--listener-url={url}",
        f"--advertised-listener-url={url}",
        f"--storage-engine=s3://{settings.broker_bucket}/",
    )
    env = {
        "AWS_ACCESS_KEY_ID": settings.access_key,
        "AWS_SECRET_ACCESS_KEY": settings.secret_key,
        "AWS_DEFAULT_REGION": settings.region,
        "AWS_ENDPOINT": settings.s3_url,
        "AWS_ALLOW_HTTP": "true",
    }
    return Launch("kafka", command, env)


def mlflow_launch(settings: Settings, mlflow: str) -> Launch:
    """``mlflow server``: sqlite under data_dir, artifacts proxied to the MLflow bucket."""
    db = settings.data_dir.resolve() / "mlflow" / "mlflow.db"
    h, port = settings.host, settings.ports.mlflow
    command = (
        mlflow,
        "server",
        f"--backend-store-uri=sqlite:///{db}",
        f"--artifacts-destination=s3://{settings.mlflow_bucket}/",
        "--serve-artifacts",
        f"--host={h}",
        f"--port={port}",
        # One worker: two shared cores, and each worker costs ~150 MiB.
        "--workers=1",
        f"--allowed-hosts={h},{h}:{port},localhost,localhost:{port}",
    )
    # Job execution starts a huey consumer: 10 s instead of 4 s and ~1.4 GiB more, unused here.
    return Launch("mlflow", command, {"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"})


def dagster_launches(settings: Settings, webserver: str, daemon: str, workspace: Path) -> list[Launch]:
    """Dagster's code server, the warm run worker (when its socket path fits), then webserver and
    daemon on a workspace pointing at the code server."""
    code_server = code_server_command(
        find_binary("dagster"), settings.host, settings.ports.dagster_code, project_root()
    )
    socket = run_worker_socket(settings.dagster_home)
    # Runs on the Ray pool import Ray in their step (seconds): the warm worker has it imported
    # already (its environment, child_env's, holds the Ray variables Ray reads at import).
    preload = STEP_MODULES + (RAY_STEP_MODULES if settings.workers == "ray" else ())
    # Not waited for: until it listens, the launcher launches runs on the code server.
    run_worker = [] if socket is None else [run_worker_command(sys.executable, socket, project_root(), preload)]
    return [
        Launch("dagster-code", code_server),
        *(Launch("dagster-run-worker", command) for command in run_worker),
        Launch(
            "dagster",
            (webserver, "-h", settings.host, "-p", str(settings.ports.dagster), "-w", str(workspace)),
        ),
        Launch("dagster-daemon", (daemon, "run", "-w", str(workspace))),
    ]


def module_launch(service: str) -> Launch:
    """A service that is a Python module of this project: the publisher (store → Kafka), the
    outbox relay (``bp_outbox`` → Kafka) or the HTTPS API (uvicorn on ``Settings.host:ports.api``)."""
    return Launch(service, (sys.executable, "-m", MODULE_SERVICES[service]))


def migrate_dagster_storage(settings: Settings) -> None:
    """Create or upgrade Dagster's instance storage once, before its three processes start.

    Started together on a fresh data dir, code server, webserver and daemon each initialise the
    storage and can stamp its schema version twice ("more than one head"), failing the load.
    """
    command = (find_binary("dagster"), "instance", "migrate")
    try:
        subprocess.run(command, env=child_env(settings), capture_output=True, text=True, check=True, timeout=300)
    except subprocess.CalledProcessError as exc:
        tail = "\n".join((exc.stdout + exc.stderr).strip().splitlines()[-15:])
        raise StackError(f"preparing Dagster's storage in {settings.dagster_home} failed:\n{tail}") from exc
    except subprocess.TimeoutExpired as exc:
        raise StackError(f"preparing Dagster's storage in {settings.dagster_home} took over 300 s") from exc


def ray_launches(settings: Settings) -> list[Launch]:
    """The Ray head (``ray start --head --block``); nothing when ``ray_address`` names a cluster."""
    if "ray" in external_services(settings):
        return []
    ray_temp_dir(settings).mkdir(parents=True, exist_ok=True)
    return [Launch("ray", ray_launch_command(settings, ray_binary(), head_cpus()), stop_leader_first=True)]


def launches(service: str, settings: Settings) -> list[Launch]:
    """The processes to start for ``service`` (writes Dagster's config files for ``dagster``)."""
    if service == "ray":
        return ray_launches(settings)
    if service in MODULE_SERVICES:
        return [module_launch(service)]
    return _server_launches(service, settings)


def _server_launches(service: str, settings: Settings) -> list[Launch]:
    if service == "s3":
        launch = s3_launch(settings, find_binary("weed"))
        Path(launch.env["TMPDIR"]).mkdir(parents=True, exist_ok=True)
        return [launch]
    if service == "kafka":
        # S3 is up (kafka needs it) and holds the broker bucket: the sensors learn which log this is.
        log_epoch(settings, open_datastore(settings))
        return [kafka_launch(settings, tansu_binary())]
    if service == "mlflow":
        (settings.data_dir.resolve() / "mlflow").mkdir(parents=True, exist_ok=True)
        return [mlflow_launch(settings, find_binary("mlflow"))]
    if service == "dagster":
        workspace = write_dagster_home(
            settings.dagster_home,
            settings.host,
            settings.ports.dagster_code,
            settings.dagster_postgres_url,
            RunMonitoring.of(settings),
            run_worker_socket(settings.dagster_home),
            # Every submitter (daemon, webserver, API) runs on this machine and can share it.
            settings.dagster_home.resolve() / LAUNCH_LOCK,
        )
        migrate_dagster_storage(settings)
        return dagster_launches(settings, find_binary("dagster-webserver"), find_binary("dagster-daemon"), workspace)
    raise StackError(f"unknown service {service!r}; choose from {', '.join(SERVICE_ORDER)}")


def api_url(settings: Settings) -> str:
    """Where the API answers: HTTPS when a certificate is configured."""
    scheme = "https" if settings.tls_cert and settings.tls_key else "http"
    return f"{scheme}://{settings.host}:{settings.ports.api}"


def service_url(service: str, settings: Settings) -> str:
    """Where a user reaches ``service`` (printed by ``batchpoint up``)."""
    urls = {
        "s3": settings.s3_url,
        "ray": settings.ray_connect_address + (" (existing cluster)" if settings.ray_address else " (Ray head)"),
        "kafka": settings.bootstrap,
        "mlflow": settings.mlflow_uri,
        "dagster": settings.dagster_url,
        "publisher": f"publishing {settings.landing_bucket} events to {settings.events_topic}",
        "relay": f"relaying the registry's outbox to {settings.invocations_topic} (and any other topic it names)",
        "api": api_url(settings),
    }
    return urls[service]
