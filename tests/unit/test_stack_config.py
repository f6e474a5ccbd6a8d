"""Command lines, environments and Dagster config files the launcher generates."""

from __future__ import annotations

import dataclasses
import importlib.util
import sys
from pathlib import Path

import pytest
import yaml

from batchpoint.config import Settings
from batchpoint.errors import SpecError, StackError
from batchpoint.stack.dagster_config import (
    RunMonitoring,
    code_server_command,
    instance_config,
    postgres_storage,
    run_worker_command,
    run_worker_socket,
    write_dagster_home,
)
from batchpoint.stack.locations import project_root
from batchpoint.stack.ports import free_ports
from batchpoint.stack.services import (
    MODULE_SERVICES,
    RAY_HOSTS_MODULE,
    RAY_STEP_MODULES,
    SERVICE_ORDER,
    STEP_MODULES,
    child_env,
    dagster_launches,
    default_services,
    kafka_launch,
    launches,
    mlflow_launch,
    order_services,
    s3_launch,
    startable,
)
from batchpoint.stack.state import ProcessRecord, ServiceRecord, StackState


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return dataclasses.replace(Settings(), data_dir=tmp_path / "d", ports=free_ports())


def test_weed_gets_every_port_and_no_extras(settings: Settings) -> None:
    launch = s3_launch(settings, "weed")
    flags = dict(arg.lstrip("-").split("=", 1) for arg in launch.command if "=" in arg)
    p = settings.ports
    expected = {
        "master.port": p.master,
        "master.port.grpc": p.master_grpc,
        "volume.port": p.volume,
        "volume.port.grpc": p.volume_grpc,
        "filer.port": p.filer,
        "filer.port.grpc": p.filer_grpc,
        "s3.port": p.s3,
        "s3.port.grpc": p.s3_grpc,
        "admin.port": p.admin,
        "admin.port.grpc": p.admin_grpc,
        "s3.port.iceberg": 0,
        "s3.port.lance": 0,
    }
    assert {k: flags[k] for k in expected} == {k: str(v) for k, v in expected.items()}
    assert flags["webdav"] == flags["admin.ui"] == flags["master.telemetry"] == "false"
    assert launch.env["TMPDIR"].startswith(str(settings.data_dir.resolve()))
    assert launch.env["AWS_ACCESS_KEY_ID"] == settings.access_key


def test_kafka_listens_and_advertises_the_configured_port(settings: Settings) -> None:
    cmd = kafka_launch(settings, "tansu").command
    url = f"tcp://127.0.0.1:{settings.ports.kafka}"
    assert f"--listener-url={url}" in cmd
    assert f"--advertised-listener-url={url}" in cmd


def test_kafka_keeps_its_log_in_the_broker_bucket_of_the_embedded_s3(settings: Settings) -> None:
    launch = kafka_launch(settings, "tansu")
    assert f"--storage-engine=s3://{settings.broker_bucket}/" in launch.command
    assert launch.env["AWS_ENDPOINT"] == settings.s3_url
    assert launch.env["AWS_ALLOW_HTTP"] == "true"
    assert (launch.env["AWS_ACCESS_KEY_ID"], launch.env["AWS_SECRET_ACCESS_KEY"]) == (
        settings.access_key,
        settings.secret_key,
    )


def test_mlflow_stores_under_data_dir_and_artifacts_in_its_bucket(settings: Settings) -> None:
    launch = mlflow_launch(settings, "mlflow")
    assert f"--backend-store-uri=sqlite:///{settings.data_dir.resolve()}/mlflow/mlflow.db" in launch.command
    assert f"--artifacts-destination=s3://{settings.mlflow_bucket}/" in launch.command
    assert launch.env["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] == "false"


def test_child_env_carries_settings_credentials_and_homes(settings: Settings) -> None:
    env = child_env(settings, base={"KEEP": "1"})
    assert env["KEEP"] == "1"
    assert Settings.from_env(env) == dataclasses.replace(settings, data_dir=settings.data_dir.resolve())
    assert env["AWS_SECRET_ACCESS_KEY"] == settings.secret_key
    assert env["MLFLOW_TRACKING_URI"] == settings.mlflow_uri
    assert env["DAGSTER_HOME"] == str(settings.dagster_home)


def test_services_are_ordered_by_dependency_and_unknown_ones_named() -> None:
    assert order_services(["dagster", "s3", "kafka"]) == ("s3", "kafka", "dagster")
    with pytest.raises(StackError, match=r"unknown service.*minio.*choose from s3"):
        order_services(["minio"])


def test_every_service_is_a_default_and_every_module_service_exists() -> None:
    assert default_services() == SERVICE_ORDER
    for module in MODULE_SERVICES.values():
        assert importlib.util.find_spec(module) is not None, module


@pytest.mark.parametrize(
    ("service", "module"),
    [("relay", "kafka_edge.outbox_relay"), ("api", "batchpoint.api"), ("publisher", "kafka_edge.publisher")],
)
def test_module_services_run_as_python_modules(settings: Settings, service: str, module: str) -> None:
    (launch,) = launches(service, settings)
    assert (launch.name, launch.command[1:]) == (service, ("-m", module))


def test_dagster_home_sqlite_by_default(tmp_path: Path) -> None:
    workspace = write_dagster_home(tmp_path / "dh", "127.0.0.1", 13001)
    instance = yaml.safe_load((tmp_path / "dh" / "dagster.yaml").read_text())
    assert instance["storage"] == {"sqlite": {"base_dir": str((tmp_path / "dh" / "storage").resolve())}}
    assert instance["run_coordinator"]["module"] == "dagster_project.run_coordinator"
    assert instance["run_coordinator"]["class"] == "LaunchIdleRunCoordinator"
    assert instance["run_coordinator"]["config"]["dequeue_interval_seconds"] == 1
    # No lock file named (compose's submitters are in several containers): every run is queued.
    assert "launch_lock" not in instance["run_coordinator"]["config"]
    # Two runs of one month never score at once: the later one reuses what the earlier published.
    assert instance["run_coordinator"]["config"]["tag_concurrency_limits"] == [
        {"key": "dagster/partition", "value": {"applyLimitPerUniqueValue": True}, "limit": 1}
    ]
    assert instance["telemetry"] == {"enabled": False}
    # Run monitoring with a launcher that can tell a crashed run's worker is gone; no warm run
    # worker named (compose's daemon has none), so every run is launched on the code server.
    assert instance["run_launcher"] == {"module": "dagster_project.run_launcher", "class": "WarmRunLauncher"}
    assert instance["run_monitoring"] == {
        "enabled": True,
        "start_timeout_seconds": 180,
        "cancel_timeout_seconds": 60,
        "poll_interval_seconds": 10,
        "max_resume_run_attempts": 0,
    }
    location = yaml.safe_load(workspace.read_text())["load_from"][0]["grpc_server"]
    assert location == {"host": "127.0.0.1", "port": 13001, "location_name": "batchpoint"}


def test_code_server_serves_the_definitions_module() -> None:
    command = code_server_command("dagster", "127.0.0.1", 13001, Path("/project"))
    assert command[:3] == ("dagster", "code-server", "start")
    assert command[command.index("-m") : command.index("-m") + 2] == ("-m", "dagster_project.definitions")
    assert "/project" in command


def test_the_embedded_stack_hands_runs_to_its_warm_run_worker(settings: Settings) -> None:
    socket = run_worker_socket(settings.dagster_home)
    assert socket == settings.dagster_home.resolve() / "run-worker.sock"
    launcher = instance_config(settings.dagster_home, run_worker=socket)["run_launcher"]
    assert launcher["class"] == "WarmRunLauncher" and launcher["config"] == {"socket": str(socket)}
    found = dagster_launches(settings, "dagster-webserver", "dagster-daemon", Path("/w.yaml"))
    assert [launch.name for launch in found] == ["dagster-code", "dagster-run-worker", "dagster", "dagster-daemon"]
    preload = (*STEP_MODULES, *RAY_STEP_MODULES)  # workers=ray, the default
    assert found[1].command == run_worker_command(sys.executable, socket, project_root(), preload)
    assert RAY_HOSTS_MODULE in preload
    # Every module named is there to import (a moved one would only be skipped, and its cost come back).
    assert all(importlib.util.find_spec(name) is not None for name in preload)


def test_a_socket_path_too_long_for_linux_means_no_warm_run_worker(tmp_path: Path) -> None:
    deep = tmp_path / ("d" * 120)
    assert run_worker_socket(deep) is None
    settings = dataclasses.replace(Settings(), data_dir=deep, ports=free_ports())
    found = dagster_launches(settings, "dagster-webserver", "dagster-daemon", Path("/w.yaml"))
    assert "dagster-run-worker" not in [launch.name for launch in found]


def test_the_warm_run_worker_loads_the_code_servers_module() -> None:
    command = run_worker_command("/venv/bin/python", Path("/h/run-worker.sock"), Path("/project"))
    assert command[:3] == ("/venv/bin/python", "-m", "dagster_project.warm_run_worker")
    assert command[command.index("--socket") + 1] == "/h/run-worker.sock"
    assert command[command.index("-d") + 1] == "/project"
    assert command[-2:] == ("-m", "dagster_project.definitions")


def test_dagster_postgres_storage_uses_psycopg2() -> None:
    config = instance_config(Path("/h"), "postgresql://bp:p%40ss@db.local:5433/dagster?sslmode=disable")
    assert config["storage"] == {
        "postgres": {
            "postgres_db": {
                "username": "bp",
                "password": "p@ss",
                "hostname": "db.local",
                "db_name": "dagster",
                "port": 5433,
                "scheme": "postgresql+psycopg2",
                "params": {"sslmode": "disable"},
            }
        }
    }


@pytest.mark.parametrize("url", ["mysql://u@h/db", "postgresql://u@h", "not a url"])
def test_bad_postgres_url_shows_the_valid_form(url: str) -> None:
    with pytest.raises(SpecError, match=r"BATCHPOINT_DAGSTER_POSTGRES_URL.*postgresql://<user>"):
        postgres_storage(url)


def test_state_round_trips_through_json() -> None:
    state = StackState(42, "healthy", {"s3": ServiceRecord("http://x", [ProcessRecord("s3", 7, 7, "/l")])})
    assert StackState.from_json(state.to_json()) == state


ALL = ("s3", "kafka", "mlflow", "dagster", "publisher", "relay", "api")


@pytest.mark.parametrize(
    ("services", "started", "healthy", "next_up"),
    [
        (ALL, set(), set(), ("s3",)),
        # The broker's log lives in S3: kafka starts with MLflow and the API once S3 is healthy.
        (ALL, {"s3"}, {"s3"}, ("kafka", "mlflow", "api")),
        # Dagster and the consumers need only S3 and Kafka: they do not wait for MLflow.
        (ALL, {"s3", "kafka", "mlflow", "api"}, {"s3", "kafka"}, ("dagster", "publisher", "relay")),
        (("kafka", "relay"), set(), set(), ("kafka",)),  # S3 not chosen: provided elsewhere
        (("kafka", "relay"), {"kafka"}, {"kafka"}, ("relay",)),
        (("mlflow", "dagster"), set(), set(), ("mlflow", "dagster")),
    ],
)
def test_a_service_starts_once_what_it_needs_is_healthy(
    services: tuple[str, ...], started: set[str], healthy: set[str], next_up: tuple[str, ...]
) -> None:
    assert startable(services, started, healthy) == next_up


def test_run_monitoring_follows_the_settings(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {"BATCHPOINT_RUN_START_TIMEOUT_SECONDS": "30", "BATCHPOINT_RUN_MONITORING_INTERVAL_SECONDS": "2"}
    )
    config = instance_config(tmp_path, monitoring=RunMonitoring.of(settings))["run_monitoring"]
    assert (config["start_timeout_seconds"], config["poll_interval_seconds"]) == (30, 2)
