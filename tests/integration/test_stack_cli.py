"""`batchpoint up --detach`, `status`, `down` as a user runs them, and a taken port's message."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from batchpoint.stack.process import group_members, pid_alive
from batchpoint.stack.state import read_state
from tests.integration.conftest import make_settings

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]


def _cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "batchpoint.cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


def _env(data_dir: Path) -> dict[str, str]:
    return {**os.environ, **make_settings(data_dir).to_env()}


def test_detached_up_status_down(tmp_path: Path) -> None:
    env = _env(tmp_path / "data")
    started = _cli(["up", "--detach", "--services", "s3,kafka"], env)
    assert started.returncode == 0, started.stderr + started.stdout
    assert "stack is up" in started.stdout
    status = _cli(["status"], env)
    assert "s3" in status.stdout
    assert "running" in status.stdout
    assert "kafka" in status.stdout
    assert status.returncode == 0, status.stdout
    launcher_pid = int(status.stdout.split("launcher pid ")[1].split(",")[0])
    # A stopped S3 server keeps its pid but answers nothing: status says so, not "running".
    state = read_state(Path(env["BATCHPOINT_DATA_DIR"]))
    assert state is not None
    weed = state.services["s3"].processes[0].pid
    os.kill(weed, signal.SIGSTOP)
    try:
        frozen = _cli(["status"], env)
    finally:
        os.kill(weed, signal.SIGCONT)
    assert frozen.returncode == 1
    assert "s3         UNHEALTHY: does not answer" in frozen.stdout
    assert "kafka      running" in frozen.stdout
    stopped = _cli(["down"], env)
    assert stopped.returncode == 0, stopped.stderr
    assert "stopped" in stopped.stdout
    assert not pid_alive(launcher_pid)
    for record in state.services.values():  # `down` leaves no process behind
        for process in record.processes:
            assert group_members(process.pgid) == [], f"{process.name} left {group_members(process.pgid)}"
    assert "no stack is running" in _cli(["status"], env).stdout


def test_taken_port_names_the_setting(tmp_path: Path) -> None:
    env = _env(tmp_path / "data")
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", int(env["BATCHPOINT_KAFKA_PORT"])))
        holder.listen()
        result = _cli(["up", "--services", "s3,kafka"], env)
    assert result.returncode != 0
    assert f"port {env['BATCHPOINT_KAFKA_PORT']}" in result.stderr
    assert "BATCHPOINT_KAFKA_PORT" in result.stderr
    assert "Traceback" not in result.stderr
