"""The launcher supervises: a killed service comes back on its port; one that keeps crashing stops the stack."""

from __future__ import annotations

import dataclasses
import os
import signal
import socket
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from batchpoint.config import Settings
from batchpoint.errors import ServiceCrashLoopError
from batchpoint.stack import Stack
from batchpoint.stack.health import probe
from batchpoint.stack.ports import port_in_use
from batchpoint.stack.process import group_members, pid_alive
from batchpoint.stack.readiness import http_status
from batchpoint.stack.state import ServiceRecord, read_state
from batchpoint.storage.s3 import S3Store
from kafka_edge.kafka_io import read_from
from kafka_edge.s3_event_json import decode
from tests.integration.conftest import make_settings

# Kills and hangs services of a stack of its own: a fault case, run with the fault suite.
pytestmark = [pytest.mark.integration, pytest.mark.faults, pytest.mark.timeout(600)]


def _poll(condition: Callable[[], bool], timeout_s: float = 180.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def test_a_killed_mlflow_server_comes_back_on_its_port_and_the_stack_keeps_working(tmp_path: Path) -> None:
    events: list[str] = []
    settings = make_settings(tmp_path / "data")
    with Stack(settings, services=("s3", "mlflow"), on_event=events.append) as stack:
        [old] = stack.pids()["mlflow"]
        os.kill(old, signal.SIGKILL)
        assert _poll(lambda: stack.pids()["mlflow"] != [old])
        assert _poll(lambda: http_status(settings.host, settings.ports.mlflow, "/health") == 200)
        assert any("mlflow" in e and "exited with signal SIGKILL" in e for e in events), events
        assert _poll(lambda: any("healthy again" in e for e in events))
        state = read_state(settings.data_dir)
        assert state is not None and state.services["mlflow"].restarts == 1
        assert state.services["mlflow"].processes[0].pid == stack.pids()["mlflow"][0]
        store = S3Store(settings.s3_url, settings.access_key, settings.secret_key)
        store.put_bytes(settings.output_bucket, "still/working.txt", b"yes")  # the rest never stopped
        assert store.get_bytes(settings.output_bucket, "still/working.txt") == b"yes"
        pids = [old, *(p for group in stack.pids().values() for p in group)]
    for pid in pids:
        assert not pid_alive(pid), f"process {pid} still running"
        assert group_members(pid) == []
    assert not port_in_use(settings.host, settings.ports.mlflow)


def test_a_service_that_keeps_crashing_stops_the_stack_naming_it_and_its_log(tmp_path: Path) -> None:
    settings = dataclasses.replace(
        make_settings(tmp_path / "data"),
        service_crash_limit=3,
        service_crash_window_seconds=120.0,
        service_restart_backoff_seconds=1.0,
    )
    stack = Stack(settings, services=("s3", "kafka"), on_event=lambda _: None)
    with stack, socket.socket() as squatter:
        [broker] = stack.pids()["kafka"]
        pids = [p for group in stack.pids().values() for p in group]
        os.kill(broker, signal.SIGKILL)
        # Take the broker's port as soon as it is free: every restart then fails to listen.
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        assert _poll(lambda: _bind(squatter, settings.host, settings.ports.kafka), 10.0)
        squatter.listen()
        failure = stack.wait_failed(timeout=300)
        assert isinstance(failure, ServiceCrashLoopError)
        assert failure.service == "kafka"
        assert "kafka (kafka) crashed 3 times within 120 s; stopping the stack" in str(failure)
        assert "Address in use" in failure.log_tail  # tansu's own last words
        assert stack.children == {}
        assert read_state(settings.data_dir) is None
        pids += [p for group in stack.pids().values() for p in group]
    for pid in pids:
        assert not pid_alive(pid), f"process {pid} still running"
    assert not port_in_use(settings.host, settings.ports.s3)


def _bind(sock: socket.socket, host: str, port: int) -> bool:
    try:
        sock.bind((host, port))
    except OSError:
        return False
    return True


def test_a_hung_publisher_is_seen_by_its_heartbeat_and_restarted(tmp_path: Path) -> None:
    events: list[str] = []
    settings = dataclasses.replace(make_settings(tmp_path / "data"), service_heartbeat_timeout_seconds=5.0)
    with Stack(settings, services=("s3", "kafka", "publisher"), on_event=events.append) as stack:
        [old] = stack.pids()["publisher"]
        assert _poll(lambda: probe("publisher", settings, _record(settings)) is None, 30.0)
        os.kill(old, signal.SIGSTOP)  # alive, holding its pid, doing nothing: what a hang looks like
        assert _poll(lambda: (probe("publisher", settings, _record(settings)) or "").startswith("hung"), 60.0)
        assert _poll(lambda: stack.pids()["publisher"] != [old])
        assert any("publisher (publisher) gave no heartbeat" in e for e in events), events
        assert _poll(lambda: probe("publisher", settings, _record(settings)) is None, 60.0)
        store = S3Store(settings.s3_url, settings.access_key, settings.secret_key)
        store.put_bytes(settings.landing_bucket, "sales/2026-11/after-hang.csv", b"a\n")
        assert _poll(lambda: "after-hang.csv" in str(_event_keys(settings)), 60.0)
    assert not pid_alive(old)


def _record(settings: Settings) -> ServiceRecord:
    state = read_state(settings.data_dir)
    assert state is not None
    return state.services["publisher"]


def _event_keys(settings: Settings) -> list[str]:
    batch = read_from(settings.bootstrap, settings.events_topic, None, 500, 2.0)
    return [e.key for m in batch.messages for e in decode(m.value)]
