"""Settings of one batchpoint installation, read in one place.

``Settings.from_env()`` is called once per process (by the CLI, the Dagster definitions or a
consumer), never at import time. Every value can be set with an environment variable
``BATCHPOINT_<NAME>``; ``Settings.to_env()`` gives the same variables back so child processes
(Dagster code server, run workers, publisher, relay) see exactly what their parent saw.

``BATCHPOINT_MODE`` picks the environment: ``embedded`` (the default: every service a child
process on loopback, data under ``BATCHPOINT_DATA_DIR``), ``compose`` or ``production`` (services
reached at the URLs given, nothing started).
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from batchpoint.errors import SpecError

Mode = Literal["embedded", "compose", "production"]
MODES: tuple[Mode, ...] = ("embedded", "compose", "production")
ENV_PREFIX = "BATCHPOINT_"
RAY_MIN_OBJECT_STORE_MB = 75
WORKER_HOSTS = ("ray", "in-process")
"""Where a run's workers run: ``BATCHPOINT_WORKERS``."""
_RAY_ADDRESS = re.compile(r"(?:ray://)?(?:[A-Za-z0-9_.-]+|\[[0-9A-Fa-f:.]+\]):[0-9]{1,5}")
RAY_CLIENT_SCHEME = "ray://"
"""An address through Ray Client: for a process that is not itself a node of the cluster."""


@dataclass(frozen=True)
class Ports:
    """Loopback ports of the embedded stack; each is settable as ``BATCHPOINT_<FIELD>_PORT``."""

    s3: int = 18333
    s3_grpc: int = 18334
    filer: int = 18888
    filer_grpc: int = 18889
    master: int = 19333
    master_grpc: int = 19334
    volume: int = 18080
    volume_grpc: int = 18081
    admin: int = 18646
    admin_grpc: int = 18647
    kafka: int = 19092
    mlflow: int = 15000
    dagster: int = 13000
    dagster_code: int = 13001
    api: int = 18000
    # The embedded Ray head: its GCS (what drivers and other nodes connect to), and its Ray Client
    # server (Ray starts one whenever its client dependencies are installed; 0 is refused).
    ray: int = 16379
    ray_client: int = 16380

    @staticmethod
    def setting_name(field_name: str) -> str:
        """The environment variable that sets the port ``field_name``."""
        return f"{ENV_PREFIX}{field_name.upper()}_PORT"


@dataclass(frozen=True)
class Settings:
    """Everything a batchpoint process needs to find the others."""

    mode: Mode = "embedded"
    data_dir: Path = Path(".batchpoint")
    host: str = "127.0.0.1"
    ports: Ports = field(default_factory=Ports)
    access_key: str = "batchpoint"
    secret_key: str = "batchpoint-secret"  # noqa: S105 -- loopback-only default of the embedded stack
    region: str = "us-east-1"
    landing_bucket: str = "landing"
    output_bucket: str = "batchpoint"
    mlflow_bucket: str = "mlflow"
    events_topic: str = "datastore-events"
    dead_letter_topic: str = "datastore-events-dlq"
    invocations_topic: str = "invocations"
    # Overrides for compose/production; derived from host + ports when empty.
    s3_endpoint_url: str = ""
    kafka_bootstrap: str = ""
    mlflow_tracking_uri: str = ""
    registry_url: str = ""
    dagster_postgres_url: str = ""
    # Data arrival (docs/decisions/arrival-latency.md): a month with no run in flight is requested
    # once no file of it arrived for settle seconds (0: at once); files of a month whose run is
    # waiting join that run; files of a month whose run is running wait for it to end, but no file
    # waits more than max_wait seconds for its request.
    arrival_settle_seconds: float = 0.0
    arrival_max_wait_seconds: float = 60.0
    # How long a data-arrival sensor tick waits for the first event when none is pending: Dagster
    # starts sensor ticks every 5 s at best, so a tick that waits reads an event when it is
    # published rather than up to 5 s later. Keep it under 5 s: the other sensors run in the same
    # loop, after it.
    arrival_poll_seconds: float = 4.0
    # A tick then reads every pending event, up to this many in this long (the rest next tick).
    arrival_read_max_records: int = 50_000
    arrival_read_seconds: float = 20.0
    # Objects whose newest requested version the arrival sensor's cursor remembers (the least
    # recently requested are forgotten first: a forgotten object's next event costs a run, never content).
    arrival_remembered_objects: int = 10_000
    sensor_interval_seconds: int = 2
    # Reconciliation: how often every landing folder is compared with its months' `latest` outputs.
    reconcile_interval_seconds: int = 30
    # Object store outages: a failing store call is retried, waiting store_retry_backoff_seconds
    # first and twice as long each time after (at most 10 s), for store_retry_seconds in all; a job
    # whose store stays unreachable longer fails (it never counts the outage against its files).
    store_retry_seconds: float = 60.0
    store_retry_backoff_seconds: float = 0.5
    # How often reconciliation asks again for a month whose run for the same state failed.
    reconcile_max_retries: int = 3
    # Dagster run monitoring (dagster.yaml): a run still STARTING, or CANCELING, after its timeout
    # is failed; every interval the daemon also fails STARTED runs whose worker process is gone.
    run_start_timeout_seconds: int = 180
    run_cancel_timeout_seconds: int = 60
    run_monitoring_interval_seconds: int = 10
    # HTTPS API: TLS when both are set (paths to a PEM certificate and its key).
    tls_cert: str = ""
    tls_key: str = ""
    api_bind_host: str = ""
    """Address the API listens on when it differs from ``host`` (a container: ``0.0.0.0``)."""
    # API input limits (bytes, counts): a request over one is refused with 413 naming the setting.
    api_max_body_bytes: int = 1024 * 1024
    """Largest request body of a JSON route (every route but the uploads); checked while it streams in."""
    api_max_upload_bytes: int = 5 * 1024**3
    """Largest request body of an upload route (``POST /v1/uploads``, a model version's archive)."""
    model_archive_max_unpacked_bytes: int = 4 * 1024**3
    """Largest total size of a model archive's files once unpacked, counted as they are written."""
    model_archive_max_files: int = 10_000
    """Most members (files and folders) a model archive may hold."""
    input_url_private_hosts: str = ""
    """Comma-separated hosts an invoked job's ``https://`` input may name although they resolve to a
    loopback or private address (the API fetches such inputs; by default only public addresses)."""
    # The embedded broker keeps its log in this bucket of the embedded S3 (tansu's s3 engine).
    broker_bucket: str = "batchpoint-broker"
    # How much of each partition's log the embedded broker keeps. tansu stores retention.ms and
    # retention.bytes but does not enforce them, so the stack deletes older batches itself.
    broker_retention_hours: float = 168.0
    broker_retention_bytes: int = 1_073_741_824
    broker_retention_check_seconds: float = 300.0
    # Supervision: a crashed service (or a publisher tail) restarts after a backoff doubling from
    # base to max; crash_limit crashes of one service within the window stop the stack.
    service_crash_limit: int = 5
    service_crash_window_seconds: float = 60.0
    service_restart_backoff_seconds: float = 1.0
    service_restart_backoff_max_seconds: float = 30.0
    # A service that writes a heartbeat (the publisher) counts as hung when it is older than this.
    service_heartbeat_timeout_seconds: float = 60.0
    # Environments: may uv download a Python version the machine lacks (off: our machines are
    # offline, so the newest installed patch of the same minor is used, with a warning)?
    python_downloads: bool = False
    # Keep the Azure-runtime packages (azureml-*) an environment lists instead of leaving them out.
    keep_azure_packages: bool = False
    # Compute: the GCS address (host:port) of an existing Ray cluster; empty = the embedded head
    # that `batchpoint up` starts on 127.0.0.1:<ports.ray>.
    ray_address: str = ""
    # Object store of the embedded head, in MiB (Ray refuses less than 75 MiB).
    ray_object_store_mb: int = 256
    # Where a run's workers run: "ray" (warm pools of node agents on the cluster above,
    # docs/ray-compute.md) or "in-process" (children of the run's process, for one job only).
    workers: str = "ray"

    def __post_init__(self) -> None:
        if self.ray_address and not _RAY_ADDRESS.fullmatch(self.ray_address):
            raise SpecError(
                ENV_PREFIX + "RAY_ADDRESS",
                f"got {self.ray_address!r}",
                "<host>:<port> of the cluster's GCS on one of its nodes, e.g. ray-head:6379, or "
                "ray://<host>:<port> of its Ray Client server from elsewhere, e.g. ray://ray-head:10001 "
                "(empty: the embedded head)",
            )
        if self.workers not in WORKER_HOSTS:
            raise SpecError(ENV_PREFIX + "WORKERS", f"got {self.workers!r}", " | ".join(WORKER_HOSTS))
        if self.ray_object_store_mb < RAY_MIN_OBJECT_STORE_MB:
            raise SpecError(
                ENV_PREFIX + "RAY_OBJECT_STORE_MB",
                f"got {self.ray_object_store_mb}",
                f"at least {RAY_MIN_OBJECT_STORE_MB} (MiB; Ray's minimum)",
            )

    # ---- derived -------------------------------------------------------------------------
    @property
    def s3_url(self) -> str:
        """S3 endpoint URL."""
        return self.s3_endpoint_url or f"http://{self.host}:{self.ports.s3}"

    @property
    def bootstrap(self) -> str:
        """Kafka bootstrap servers."""
        return self.kafka_bootstrap or f"{self.host}:{self.ports.kafka}"

    @property
    def mlflow_uri(self) -> str:
        """MLflow tracking URI."""
        return self.mlflow_tracking_uri or f"http://{self.host}:{self.ports.mlflow}"

    @property
    def registry(self) -> str:
        """SQLAlchemy URL of the registry (sqlite file under data_dir unless set)."""
        return self.registry_url or f"sqlite:///{self.data_dir.resolve() / 'registry.db'}"

    @property
    def dagster_url(self) -> str:
        """Dagster webserver URL."""
        return f"http://{self.host}:{self.ports.dagster}"

    @property
    def ray_connect_address(self) -> str:
        """The Ray cluster a run connects to (``ray.init(address=...)``): ``ray_address`` when set,
        else the embedded head, which listens on loopback only."""
        return self.ray_address or f"127.0.0.1:{self.ports.ray}"

    @property
    def dagster_home(self) -> Path:
        """DAGSTER_HOME of the embedded stack."""
        return self.data_dir.resolve() / "dagster"

    @property
    def cache_dir(self) -> Path:
        """Local cache (downloaded model versions, staging of outputs)."""
        return self.data_dir.resolve() / "cache"

    # ---- (de)serialisation ---------------------------------------------------------------
    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read settings from ``BATCHPOINT_*`` variables (``os.environ`` by default)."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for f in dataclasses.fields(cls):
            if f.name == "ports":
                continue
            raw = env.get(ENV_PREFIX + f.name.upper())
            if raw is None:
                continue
            if f.name == "data_dir":
                values[f.name] = Path(raw)
            elif f.name == "mode":
                if raw not in MODES:
                    raise SpecError(ENV_PREFIX + "MODE", f"got {raw!r}", " | ".join(MODES))
                values[f.name] = raw
            elif f.type == "bool":
                values[f.name] = _flag(ENV_PREFIX + f.name.upper(), raw)
            elif f.type in ("float", "int"):
                values[f.name] = _number(ENV_PREFIX + f.name.upper(), raw, float if f.type == "float" else int)
            else:
                values[f.name] = raw
        port_values: dict[str, int] = {}
        for f in dataclasses.fields(Ports):
            name = Ports.setting_name(f.name)
            raw = env.get(name)
            if raw is None:
                continue
            if not raw.isdigit() or not 0 < int(raw) < 65536:
                raise SpecError(name, f"got {raw!r}", "a port number from 1 to 65535")
            port_values[f.name] = int(raw)
        return cls(ports=Ports(**port_values), **values)  # type: ignore[arg-type]

    def to_env(self) -> dict[str, str]:
        """The ``BATCHPOINT_*`` variables that make ``from_env`` return these settings."""
        env: dict[str, str] = {}
        for f in dataclasses.fields(self):
            if f.name == "ports":
                continue
            value = getattr(self, f.name)
            if isinstance(value, bool):
                value = str(value).lower()
            env[ENV_PREFIX + f.name.upper()] = str(value.resolve() if isinstance(value, Path) else value)
        for f in dataclasses.fields(Ports):
            env[Ports.setting_name(f.name)] = str(getattr(self.ports, f.name))
        return env

    def s3_env(self) -> dict[str, str]:
        """AWS-style variables for S3 clients and for MLflow's artifact access."""
        return {
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_DEFAULT_REGION": self.region,
            "MLFLOW_S3_ENDPOINT_URL": self.s3_url,
        }


def _number(name: str, raw: str, kind: type[float] | type[int]) -> float | int:
    try:
        value = kind(raw)
    except ValueError as exc:
        raise SpecError(name, f"got {raw!r}", f"a non-negative {kind.__name__}") from exc
    if value < 0:
        raise SpecError(name, f"got {raw!r}", f"a non-negative {kind.__name__}")
    return value


def _flag(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise SpecError(name, f"got {raw!r}", "true or false")
