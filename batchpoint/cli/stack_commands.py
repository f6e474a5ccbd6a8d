"""``batchpoint up`` / ``down`` / ``status``: run the embedded stack from the command line."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import sys
import time
from pathlib import Path

import click

from batchpoint.cli.stack_progress import StartReport
from batchpoint.cli.stop_signals import StopRequestedError, stop_on_sigterm
from batchpoint.config import Settings
from batchpoint.errors import BatchpointError
from batchpoint.stack import SERVICE_ORDER, Stack
from batchpoint.stack.health import probe
from batchpoint.stack.process import pid_alive
from batchpoint.stack.state import StackState, read_state, remove_state, state_path, stop_leftovers

DETACH_TIMEOUT_S = 600.0
LAUNCHER_STOP_TIMEOUT_S = 60.0

_services_help = f"Comma-separated subset of {','.join(SERVICE_ORDER)}, started in that order (default: all)."
_data_dir_help = "Folder for the stack's data, logs and state (default: $BATCHPOINT_DATA_DIR or .batchpoint)."


def _settings(data_dir: Path | None) -> Settings:
    settings = Settings.from_env()
    return dataclasses.replace(settings, data_dir=data_dir) if data_dir is not None else settings


def _services(raw: str | None) -> list[str] | None:
    return [s.strip() for s in raw.split(",") if s.strip()] if raw else None


def _run_foreground(settings: Settings, services: list[str] | None) -> None:
    stop_on_sigterm()
    report = StartReport.for_stdout()
    stack = Stack(settings, services, on_healthy=report.healthy, on_event=report.event)
    click.echo(f"starting {', '.join(stack.services)} (data in {stack.data_dir})")
    try:
        with contextlib.ExitStack() as running:
            with report.starting(stack.services):
                running.enter_context(stack)
            click.echo("stack is up; a crashed service is restarted; press Ctrl-C to stop it")
            failure = None
            while failure is None:
                # Short waits: SIGTERM and Ctrl-C are handled between them.
                failure = stack.wait_failed(timeout=1.0)
            raise click.ClickException(str(failure))
    except (KeyboardInterrupt, StopRequestedError):
        click.echo("stopped")


def _spawn_detached(settings: Settings, services: list[str] | None) -> int:
    """Run ``batchpoint up`` (foreground) in a new session, output to logs/launcher.log; its pid."""
    data_dir = settings.data_dir.resolve()
    log = data_dir / "logs" / "launcher.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "batchpoint.cli.main", "up", "--data-dir", str(data_dir)]
    if services:
        argv += ["--services", ",".join(services)]
    # posix_spawn rather than Popen: this process exits while the launcher lives on.
    return os.posix_spawn(
        sys.executable,
        argv,
        dict(os.environ),
        file_actions=[
            (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
            (os.POSIX_SPAWN_OPEN, 1, str(log), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644),
            (os.POSIX_SPAWN_DUP2, 1, 2),
        ],
        setsid=True,
        setsigdef=(signal.SIGINT, signal.SIGTERM),
    )


def _wait_detached(settings: Settings, pid: int) -> StackState:
    data_dir = settings.data_dir.resolve()
    log = data_dir / "logs" / "launcher.log"
    deadline = time.monotonic() + DETACH_TIMEOUT_S
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-25:])
            raise click.ClickException(f"the stack did not start (exit status {status}):\n{tail}")
        state = read_state(data_dir)
        if state is not None and state.launcher_pid == pid and state.status == "healthy":
            return state
        time.sleep(0.5)
    raise click.ClickException(f"the stack is not healthy after {DETACH_TIMEOUT_S:.0f} s; see {log}")


@click.command()
@click.option("--services", help=_services_help)
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), help=_data_dir_help)
@click.option("--detach", is_flag=True, help="Start in the background and return once healthy; stop with `down`.")
def up(services: str | None, data_dir: Path | None, detach: bool) -> None:
    """Start the embedded stack: S3, a Ray head, Kafka, MLflow, Dagster and the publisher on loopback.

    Each service runs as a child process, logs to <data-dir>/logs/<service>.log and keeps its data
    under <data-dir>, so a second `up` finds what the first stored. Ports come from the
    BATCHPOINT_<NAME>_PORT variables; a taken port is reported before anything starts.
    """
    settings = _settings(data_dir)
    chosen = _services(services)
    try:
        if not detach:
            _run_foreground(settings, chosen)
            return
        pid = _spawn_detached(settings, chosen)
        click.echo(f"starting in the background (launcher pid {pid}, log {settings.data_dir}/logs/launcher.log)")
        state = _wait_detached(settings, pid)
    except BatchpointError as exc:
        raise click.ClickException(str(exc)) from exc
    for service, record in state.services.items():
        click.echo(f"  {service:<10} {record.url}")
    click.echo(f"stack is up; stop it with `batchpoint down --data-dir {settings.data_dir}`")


@click.command()
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), help=_data_dir_help)
def down(data_dir: Path | None) -> None:
    """Stop the stack started from this data dir (by `up --detach` or another terminal)."""
    settings = _settings(data_dir)
    data = settings.data_dir.resolve()
    try:
        state = read_state(data)
    except BatchpointError as exc:
        raise click.ClickException(str(exc)) from exc
    if state is None:
        click.echo(f"no stack is running from {data} (no {state_path(data).name})")
        return
    if pid_alive(state.launcher_pid):
        # The launcher stops its children in order and removes the state file.
        os.kill(state.launcher_pid, signal.SIGTERM)
        deadline = time.monotonic() + LAUNCHER_STOP_TIMEOUT_S
        while pid_alive(state.launcher_pid) and time.monotonic() < deadline:
            time.sleep(0.2)
    leftovers = stop_leftovers(state)
    remove_state(data)
    click.echo(f"stopped {', '.join(reversed(state.services))} (launcher pid {state.launcher_pid})")
    if leftovers:
        click.echo(f"also killed processes the launcher left behind: {', '.join(leftovers)}")


@click.command()
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), help=_data_dir_help)
def status(data_dir: Path | None) -> None:
    """Show whether each service of the stack in this data dir answers, and where.

    Each service is probed (its port, health endpoint or heartbeat), not only its pid; the exit
    status is 1 when any service is unhealthy.
    """
    settings = _settings(data_dir)
    data = settings.data_dir.resolve()
    try:
        state = read_state(data)
    except BatchpointError as exc:
        raise click.ClickException(str(exc)) from exc
    if state is None or not pid_alive(state.launcher_pid):
        click.echo(f"no stack is running from {data}")
        return
    click.echo(f"stack {state.status} (launcher pid {state.launcher_pid}, data in {data})")
    unhealthy = False
    for service, record in state.services.items():
        problem = probe(service, settings, record)
        unhealthy = unhealthy or problem is not None
        restarts = f"  (restarted {record.restarts}x)" if record.restarts else ""
        health = "running" if problem is None else f"UNHEALTHY: {problem}"
        click.echo(f"  {service:<10} {health}  {record.url}{restarts}")
    if unhealthy:
        raise SystemExit(1)
