"""The launcher against the real services: healthy, stoppable without leftovers, restartable."""

from __future__ import annotations

import dataclasses
import http.client
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from batchpoint.config import Ports, Settings
from batchpoint.errors import PortInUseError
from batchpoint.stack import Stack, default_services
from batchpoint.stack.dagster_config import run_worker_socket
from batchpoint.stack.ports import port_in_use
from batchpoint.stack.process import group_members, pid_alive, stop_group
from batchpoint.stack.readiness import topics
from batchpoint.stack.state import read_state
from batchpoint.storage.datastore import open_datastore
from batchpoint.storage.s3 import S3Store
from tests.integration.conftest import make_settings

pytestmark = pytest.mark.integration


def _store(settings: Settings) -> S3Store:
    return open_datastore(settings)


def _get(settings: Settings, port: int, path: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(settings.host, port, timeout=10)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def _all_ports(settings: Settings) -> list[int]:
    return [getattr(settings.ports, f.name) for f in dataclasses.fields(Ports)]


def test_full_stack_is_healthy_then_stops_without_leftovers(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data")
    services = default_services(settings)
    stack = Stack(settings, services=services)
    with stack:
        store = _store(settings)
        store.put_bytes(settings.landing_bucket, "hello/world.txt", b"hi")
        assert store.get_bytes(settings.landing_bucket, "hello/world.txt") == b"hi"
        for bucket in (settings.output_bucket, settings.mlflow_bucket):
            store.put_bytes(bucket, "probe", b"x")
        assert {settings.events_topic, settings.dead_letter_topic, settings.invocations_topic} <= topics(settings)
        assert _get(settings, settings.ports.mlflow, "/health")[0] == 200
        status, body = _get(settings, settings.ports.dagster, "/server_info")
        assert status == 200
        assert b"dagster" in body.lower()
        if "api" in services:
            assert _get(settings, settings.ports.api, "/v1/health")[0] == 200
        pids = [pid for group in stack.pids().values() for pid in group]
        # weed, the Ray head, tansu, mlflow, dagster code server + webserver + daemon, the warm
        # run worker when its socket path fits a unix socket, and one process for each of
        # publisher, outbox relay and API whose module exists.
        modules = [s for s in ("publisher", "relay", "api") if s in services]
        assert {"s3", "ray", "kafka", "mlflow", "dagster", "relay"} <= set(services)
        run_worker = run_worker_socket(settings.dagster_home) is not None
        assert len(pids) == 7 + int(run_worker) + len(modules)
        assert read_state(settings.data_dir) is not None
    for pid in pids:
        assert not pid_alive(pid), f"process {pid} still running"
        assert group_members(pid) == [], f"process group {pid} still has {group_members(pid)}"
    for port in _all_ports(settings):
        assert not port_in_use(settings.host, port), f"port {port} still taken"
    assert read_state(settings.data_dir) is None
    assert not list(Path("/tmp").glob(f"seaweedfs-*-{settings.ports.master_grpc}.sock"))


def test_taken_port_names_the_setting_and_starts_nothing(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data")
    with socket.socket() as blocker:
        blocker.bind((settings.host, settings.ports.kafka))
        blocker.listen()
        stack = Stack(settings, services=("s3", "kafka"))
        with pytest.raises(PortInUseError) as info:
            stack.up()
    assert info.value.port == settings.ports.kafka
    assert info.value.setting == "BATCHPOINT_KAFKA_PORT"
    assert "BATCHPOINT_KAFKA_PORT" in str(info.value)
    assert stack.pids() == {}
    assert not port_in_use(settings.host, settings.ports.s3)


def test_second_up_on_same_data_dir_keeps_objects(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data")
    with Stack(settings, services=("s3",)):
        _store(settings).put_bytes(settings.output_bucket, "kept/across/restarts.txt", b"still here")
    with Stack(settings, services=("s3",)):
        assert _store(settings).get_bytes(settings.output_bucket, "kept/across/restarts.txt") == b"still here"


def test_up_after_a_killed_launcher_stops_what_it_left_running(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data")
    launcher = (
        "import os, signal\n"
        "from batchpoint.config import Settings\n"
        "from batchpoint.stack import Stack\n"
        "Stack(Settings.from_env(), services=('s3',)).up()\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    env = os.environ | settings.to_env()
    killed = subprocess.run([sys.executable, "-c", launcher], check=False, env=env, timeout=120)
    assert killed.returncode == -signal.SIGKILL
    state = read_state(settings.data_dir.resolve())
    assert state is not None
    orphan = state.services["s3"].processes[0].pgid
    try:
        assert group_members(orphan), "the killed launcher's store should still run (and hold its port)"
        with Stack(settings, services=("s3",)):
            assert not group_members(orphan)
            _store(settings).put_bytes(settings.output_bucket, "after/the/crash.txt", b"up again")
    finally:
        stop_group(orphan)


def test_store_and_broker_fixture_serves_buckets_and_topics(store_and_broker: Settings) -> None:
    assert settings_topics_exist(store_and_broker)
    _store(store_and_broker).put_bytes(store_and_broker.landing_bucket, "fixture/probe.txt", b"ok")


def settings_topics_exist(settings: Settings) -> bool:
    return {settings.events_topic, settings.dead_letter_topic, settings.invocations_topic} <= topics(settings)
