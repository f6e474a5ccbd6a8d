"""The embedded Ray head as a service of the stack: runs tasks on loopback, shows in `status`,
comes back after a crash, leaves nothing behind; an existing cluster is checked, not started."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from batchpoint.config import Settings
from batchpoint.stack import Stack
from batchpoint.stack.health import probe
from batchpoint.stack.process import group_members, pid_alive
from batchpoint.stack.ray_head import missing_head_processes, ray_temp_dir
from batchpoint.stack.services import child_env
from batchpoint.stack.state import read_state
from tests.integration.conftest import make_settings

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

# A process that was not started by the stack: it sets Ray's variables itself, then connects.
DRIVER = """
import sys
from batchpoint.config import Settings
from batchpoint.ray_environment import apply_ray_environment

settings = Settings.from_env()
apply_ray_environment(settings)
import ray

ray.init(address=settings.ray_connect_address, namespace="batchpoint-test", log_to_driver=False)

@ray.remote(num_cpus=0.5)
def where():
    return ray.util.get_node_ip_address()

print("task ran on", ray.get(where.remote()))
print("nodes at", ",".join(sorted({n["NodeManagerAddress"] for n in ray.nodes() if n["Alive"]})))
if sys.argv[1:] == ["and-hang"]:
    @ray.remote(num_cpus=0)
    class Agent:
        def ping(self):
            return "pong"

    agent = Agent.remote()
    print("actor", ray.get(agent.ping.remote()), flush=True)
    sys.stdin.read()  # until killed
"""


def _env(settings: Settings) -> dict[str, str]:
    # Nothing of Ray's from the test process: the driver must get what it needs from the settings.
    base = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
    return base | settings.to_env()


def _driver(settings: Settings) -> str:
    done = subprocess.run(
        [sys.executable, "-c", DRIVER],
        env=_env(settings),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def _cli(args: list[str], settings: Settings) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "batchpoint.cli.main", *args],
        env=_env(settings),
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


def _ray_processes_of(temp_dir: Path) -> list[str]:
    """Command lines of live processes that name this head's temp folder (raylet, GCS, agents)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or not pid_alive(int(entry.name)):
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if str(temp_dir) in cmdline and "pytest" not in cmdline:
            found.append(f"{entry.name}: {cmdline[:120]}")
    return found


def _poll(condition: Callable[[], bool], timeout_s: float = 120.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def test_up_starts_a_loopback_head_that_runs_tasks_and_down_leaves_no_ray_process(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data")
    started = _cli(["up", "--detach", "--services", "ray"], settings)
    assert started.returncode == 0, started.stderr + started.stdout
    state = read_state(settings.data_dir.resolve())
    assert state is not None
    leader = state.services["ray"].processes[0].pid
    temp_dir = ray_temp_dir(settings)
    try:
        status = _cli(["status"], settings)
        assert status.returncode == 0, status.stdout
        assert f"ray        running  127.0.0.1:{settings.ports.ray} (Ray head)" in status.stdout
        out = _driver(settings)
        assert "task ran on 127.0.0.1" in out
        assert "nodes at 127.0.0.1\n" in out
        # A process the stack starts (a Dagster run) has Ray's variables already: a bare ray.init works.
        address = settings.ray_connect_address
        bare = f"import ray; ray.init(address={address!r}); print(ray.get(ray.remote(lambda: 7).remote()))"
        ran = subprocess.run(
            [sys.executable, "-c", bare],
            env=child_env(settings),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert ran.stdout.strip() == "7", ran.stderr[-3000:]
        # A driver killed while its actor lives is what left Ray processes behind in our probe.
        with subprocess.Popen(
            [sys.executable, "-c", DRIVER, "and-hang"],
            env=_env(settings),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        ) as hung:
            assert hung.stdout is not None
            lines = iter(hung.stdout.readline, "")
            assert any(line.startswith("actor pong") for line in lines)
            hung.kill()
        assert missing_head_processes(leader) == []
        assert len(group_members(leader)) > 2
    finally:
        stopped = _cli(["down"], settings)
    assert stopped.returncode == 0, stopped.stderr
    assert group_members(leader) == []
    assert _ray_processes_of(temp_dir) == []
    assert "no stack is running" in _cli(["status"], settings).stdout


@pytest.mark.faults
@pytest.mark.parametrize("victim", ["raylet", "ray start"])
def test_a_head_that_loses_its_raylet_or_leader_is_restarted_and_runs_tasks_again(tmp_path: Path, victim: str) -> None:
    events: list[str] = []
    settings = make_settings(tmp_path / "data")
    with Stack(settings, services=("ray",), on_event=events.append) as stack:
        [old] = stack.pids()["ray"]
        raylets = [pid for pid in group_members(old) if Path(f"/proc/{pid}/comm").read_text().strip() == "raylet"]
        assert len(raylets) == 1
        # Without its raylet, `ray start --block` stops the rest of the node and exits; without the
        # leader, the raylet and GCS (which ignore SIGTERM) are killed before the restart.
        os.kill(raylets[0] if victim == "raylet" else old, signal.SIGKILL)
        assert _poll(lambda: any("healthy again" in e for e in events), 180.0), events
        assert any(e.startswith("ray (ray) exited") for e in events), events
        [new] = stack.pids()["ray"]
        assert new != old
        assert group_members(old) == []
        assert "task ran on 127.0.0.1" in _driver(settings)
    assert group_members(new) == []


def test_an_existing_cluster_is_health_checked_and_nothing_is_started_for_it(tmp_path: Path) -> None:
    cluster = make_settings(tmp_path / "cluster")
    with Stack(cluster, services=("ray",)) as head:
        [head_pid] = head.pids()["ray"]
        user = dataclasses.replace(make_settings(tmp_path / "user"), ray_address=f"127.0.0.1:{cluster.ports.ray}")
        with Stack(user, services=("ray",)) as external:
            assert external.pids() == {"ray": []}
            state = read_state(user.data_dir.resolve())
            assert state is not None
            assert state.services["ray"].url == f"127.0.0.1:{cluster.ports.ray} (existing cluster)"
            assert probe("ray", user, state.services["ray"]) is None
        assert pid_alive(head_pid)  # stopping a stack never stops a cluster it did not start
