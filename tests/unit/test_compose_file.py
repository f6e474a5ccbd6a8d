"""docker-compose.yml: valid for Compose, and read as YAML (no Docker engine here): the Ray cluster, who uses it."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from batchpoint.config import Settings

COMPOSE = Path(__file__).resolve().parents[2] / "docker-compose.yml"


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    parsed: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return parsed["services"]


def _batchpoint_settings(environment: dict[str, Any]) -> Settings:
    # `${NAME:-default}` as compose would fill it in with nothing set.
    values = {k: re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", str(v)) for k, v in environment.items()}
    return Settings.from_env(values)


def _compose_command() -> list[str]:
    """``docker compose`` (v2) when the client has it, else Debian's ``docker-compose`` (1.29)."""
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "compose", "version"], capture_output=True, check=False).returncode == 0:
        return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    assert legacy, "docker-compose validates docker-compose.yml here: ./scripts/test installs it (Debian's)"
    return [legacy]


def test_compose_accepts_the_file(tmp_path: Path) -> None:
    command = _compose_command()
    text = COMPOSE.read_text()
    if command[-1] != "compose":
        # Compose 1.29 predates the top-level `name:` (the project name); everything else it checks.
        text = re.sub(r"(?m)^name: .*\n", "", text)
    checked = tmp_path / "docker-compose.yml"
    checked.write_text(text)
    result = subprocess.run(
        [*command, "-f", str(checked), "--project-directory", str(COMPOSE.parent), "config", "-q"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_the_minio_listener_is_there_for_a_minio_without_a_kafka_target(services: dict[str, Any]) -> None:
    listener = services["minio-listener"]
    assert listener["command"] == ["python", "-m", "kafka_edge.minio_listener"]
    assert listener["profiles"] == ["listen"]  # off unless asked: the minio service has a Kafka target
    settings = _batchpoint_settings(listener["environment"])
    assert settings.s3_url == "http://minio:9000"


def test_every_dependency_names_a_service(services: dict[str, Any]) -> None:
    for name, service in services.items():
        assert set(service.get("depends_on", {})) <= set(services), name


def test_runs_reach_the_ray_head_that_compose_starts(services: dict[str, Any]) -> None:
    head = services["ray-head"]
    assert head["command"][:4] == ["ray", "start", "--head", "--block"]
    assert "--port=6379" in head["command"]
    settings = _batchpoint_settings(services["dagster-code"]["environment"])
    assert settings.ray_connect_address == "ray://ray-head:10001"
    assert services["dagster-code"]["depends_on"]["ray-head"] == {"condition": "service_healthy"}


def test_ray_workers_join_the_head_with_the_drivers_image_and_settings(services: dict[str, Any]) -> None:
    head, worker, code = services["ray-head"], services["ray-worker"], services["dagster-code"]
    assert "--address=ray-head:6379" in worker["command"]
    assert worker["depends_on"]["ray-head"] == {"condition": "service_healthy"}
    # Same Python and Ray as the drivers, batchpoint importable by the node agents, S3 reachable.
    for node in (head, worker):
        assert node["image"] == code["image"]
        assert _batchpoint_settings(node["environment"]).s3_url == "http://minio:9000"
        assert node["environment"]["RAY_ENABLE_UV_RUN_RUNTIME_ENV"] == "0"
        assert node["shm_size"]  # the object store lives in /dev/shm (64 MB by default)
