"""The ``dagster.yaml`` and ``workspace.yaml`` the embedded Dagster webserver and daemon load."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import yaml

from batchpoint.config import Settings
from batchpoint.errors import SpecError

DEFINITIONS_MODULE = "dagster_project.definitions"
LOCATION_NAME = "batchpoint"
# Named, not imported: batchpoint/ imports no Dagster code (the daemon loads it from dagster.yaml).
# Without a socket it launches every run the default way (compose: the daemon has no warm worker).
RUN_LAUNCHER = {"module": "dagster_project.run_launcher", "class": "WarmRunLauncher"}
RUN_WORKER_MODULE = "dagster_project.warm_run_worker"
RUN_WORKER_SOCKET = "run-worker.sock"
# Named, not imported, as the launcher: a queue that launches a run of an idle month at once.
RUN_COORDINATOR = {"module": "dagster_project.run_coordinator", "class": "LaunchIdleRunCoordinator"}
LAUNCH_LOCK = "launch.lock"
# Linux limits a unix socket path to 108 bytes.
_MAX_SOCKET_PATH = 100
# Dagster puts this tag on every run of a partition (batchpoint.orchestration.run_tags.PARTITION_TAG).
MONTH_TAG = "dagster/partition"
# At most one run of a month at a time: a later run of the month waits in the queue, then reuses
# what the earlier one published and scores only the files it did not (docs/decisions/every-file-once.md).
ONE_RUN_PER_MONTH = {"key": MONTH_TAG, "value": {"applyLimitPerUniqueValue": True}, "limit": 1}


@dataclass(frozen=True)
class RunMonitoring:
    """Dagster's run monitoring: timeouts for runs stuck starting or canceling, how often it looks."""

    start_timeout_seconds: int = Settings.run_start_timeout_seconds
    cancel_timeout_seconds: int = Settings.run_cancel_timeout_seconds
    poll_interval_seconds: int = Settings.run_monitoring_interval_seconds

    @classmethod
    def of(cls, settings: Settings) -> RunMonitoring:
        """The values ``settings`` gives."""
        return cls(
            settings.run_start_timeout_seconds,
            settings.run_cancel_timeout_seconds,
            settings.run_monitoring_interval_seconds,
        )

    def config(self) -> dict[str, Any]:
        """The ``run_monitoring`` section of ``dagster.yaml``."""
        return {
            "enabled": True,
            "start_timeout_seconds": self.start_timeout_seconds,
            "cancel_timeout_seconds": self.cancel_timeout_seconds,
            "poll_interval_seconds": self.poll_interval_seconds,
            # A crashed run is not resumed in place: the sensors ask for its month again.
            "max_resume_run_attempts": 0,
        }


def postgres_storage(url: str) -> dict[str, Any]:
    """Dagster ``postgres_db`` storage settings for a ``postgresql://user:pass@host:port/db`` URL."""
    parts = urlsplit(url)
    if not parts.scheme.startswith("postgres") or not parts.hostname or not parts.path.strip("/"):
        raise SpecError(
            "BATCHPOINT_DAGSTER_POSTGRES_URL",
            f"got {url!r}",
            "postgresql://<user>:<password>@<host>:<port>/<database>",
        )
    db: dict[str, Any] = {
        "username": unquote(parts.username or ""),
        "password": unquote(parts.password or ""),
        "hostname": parts.hostname,
        "db_name": unquote(parts.path.strip("/")),
        "port": parts.port or 5432,
        # dagster-postgres with SQLAlchemy 2.1 otherwise picks psycopg 3, which is not installed.
        "scheme": "postgresql+psycopg2",
    }
    params = dict(parse_qsl(parts.query))
    if params:
        db["params"] = params
    return {"postgres": {"postgres_db": db}}


def run_worker_socket(dagster_home: Path) -> Path | None:
    """Where the warm run worker listens; ``None`` when that path is too long for a unix socket."""
    path = dagster_home.resolve() / RUN_WORKER_SOCKET
    return path if len(str(path)) <= _MAX_SOCKET_PATH else None


def run_launcher(socket: Path | None) -> dict[str, Any]:
    """The ``run_launcher`` section: runs go to the warm run worker on ``socket`` when it is there."""
    return RUN_LAUNCHER | ({"config": {"socket": str(socket)}} if socket else {})


def run_coordinator(launch_lock: Path | None) -> dict[str, Any]:
    """The ``run_coordinator`` section: one run of a month at a time, queued in Dagster's way unless
    ``launch_lock`` is given: then a run with room under the limits is launched at once
    (``dagster_project/run_coordinator.py``; every submitter must reach that file)."""
    config: dict[str, Any] = {
        # The default 5 s poll adds up to 5 s to every queued run's latency.
        "dequeue_interval_seconds": 1,
        "tag_concurrency_limits": [ONE_RUN_PER_MONTH],
    }
    if launch_lock is not None:
        config["launch_lock"] = str(launch_lock)
    return RUN_COORDINATOR | {"config": config}


def instance_config(
    dagster_home: Path,
    postgres_url: str = "",
    monitoring: RunMonitoring | None = None,
    run_worker: Path | None = None,
    launch_lock: Path | None = None,
) -> dict[str, Any]:
    """The content of ``dagster.yaml``: sqlite (or Postgres) storage, one run at a time per month
    (launched at once when its month is idle, if every submitter shares ``launch_lock``), run
    monitoring with a launcher that tells when a run's worker is gone and hands runs to the warm
    run worker listening on ``run_worker`` (when given), no telemetry."""
    storage = (
        postgres_storage(postgres_url)
        if postgres_url
        else {"sqlite": {"base_dir": str(dagster_home.resolve() / "storage")}}
    )
    return {
        "storage": storage,
        "run_coordinator": run_coordinator(launch_lock),
        "run_launcher": run_launcher(run_worker),
        "run_monitoring": (monitoring or RunMonitoring()).config(),
        "telemetry": {"enabled": False},
        # Two shared cores: the code server can take well over the default 60 s to load under load.
        "code_servers": {"local_startup_timeout": 180},
    }


def workspace_config(host: str, code_port: int) -> dict[str, Any]:
    """The content of ``workspace.yaml``: the one code server both webserver and daemon use.

    A shared ``dagster code-server`` (as ``dagster dev`` runs) means a reload after an endpoint
    is created reaches the daemon's sensors too, not only the webserver's copy of the code.
    """
    return {"load_from": [{"grpc_server": {"host": host, "port": code_port, "location_name": LOCATION_NAME}}]}


def code_server_command(dagster: str, host: str, code_port: int, project_root: Path) -> tuple[str, ...]:
    """``dagster code-server start`` serving ``dagster_project.definitions``."""
    return (
        dagster,
        "code-server",
        "start",
        "-h",
        host,
        "-p",
        str(code_port),
        "-m",
        DEFINITIONS_MODULE,
        "-d",
        str(project_root.resolve()),
        "--location-name",
        LOCATION_NAME,
        "--startup-timeout",
        "180",
    )


def run_worker_command(python: str, socket: Path, project_root: Path, preload: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The warm run worker on ``socket``, loading the code server's module from ``project_root``,
    and the modules in ``preload`` that a run's step imports later."""
    return (
        python,
        "-m",
        RUN_WORKER_MODULE,
        "--socket",
        str(socket),
        "-d",
        str(project_root.resolve()),
        "-m",
        DEFINITIONS_MODULE,
        *(arg for module in preload for arg in ("--preload", module)),
    )


def write_dagster_home(
    dagster_home: Path,
    host: str,
    code_port: int,
    postgres_url: str = "",
    monitoring: RunMonitoring | None = None,
    run_worker: Path | None = None,
    launch_lock: Path | None = None,
) -> Path:
    """Write both files into ``dagster_home`` (rewritten on every start); return the workspace path."""
    dagster_home.mkdir(parents=True, exist_ok=True)
    (dagster_home / "dagster.yaml").write_text(
        yaml.safe_dump(
            instance_config(dagster_home, postgres_url, monitoring, run_worker, launch_lock), sort_keys=False
        )
    )
    workspace = dagster_home / "workspace.yaml"
    workspace.write_text(yaml.safe_dump(workspace_config(host, code_port), sort_keys=False))
    return workspace
