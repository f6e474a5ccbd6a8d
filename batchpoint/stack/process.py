"""One child process of the stack: started in its own process group, logged to a file, stopped whole."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

STOP_TIMEOUT_S = 10.0


def _reset_signals() -> None:
    # A launcher started in the background with `&` ignores SIGINT, and ignored signals survive
    # exec; Dagster then maps SIGTERM onto SIGINT and could only be killed. Restore both defaults.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def group_members(pgid: int) -> list[int]:
    """Pids of live (non-zombie) processes in process group ``pgid``, read from /proc."""
    members: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # Fields after the parenthesised command name: state, ppid, pgrp, ...
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] != "Z" and int(fields[2]) == pgid:
            members.append(int(entry.name))
    return members


def pid_alive(pid: int) -> bool:
    """Whether ``pid`` is a live, non-zombie process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def stop_group(pgid: int, timeout: float = STOP_TIMEOUT_S) -> bool:
    """SIGTERM every process of group ``pgid``, SIGKILL what is left after ``timeout``.

    Returns whether anything was running. Works for groups we did not start (``batchpoint down``).
    """
    if not group_members(pgid):
        return False
    try:
        os.killpg(pgid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + timeout
    while group_members(pgid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if group_members(pgid):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while group_members(pgid) and time.monotonic() < deadline:
            time.sleep(0.05)
    return True


@dataclass
class Child:
    """A running child process and where its output goes."""

    name: str
    command: tuple[str, ...]
    log_path: Path
    process: subprocess.Popen[bytes]
    env: dict[str, str] = field(default_factory=dict, repr=False)
    cwd: Path = Path()
    started: float = field(default_factory=time.monotonic)
    """When it was started (monotonic seconds)."""

    @classmethod
    def start(cls, name: str, command: Sequence[str], env: Mapping[str, str], log_path: Path, cwd: Path) -> Child:
        """Start ``command`` in a new session (so its own process group), output appended to ``log_path``."""
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("ab") as log:
            log.write(f"\n==== {time.strftime('%Y-%m-%d %H:%M:%S')} starting: {' '.join(command)}\n".encode())
            log.flush()
            process = subprocess.Popen(
                list(command),
                env=dict(env),
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_reset_signals,  # noqa: PLW1509 -- only resets signal dispositions, no locks
            )
        return cls(name, tuple(command), log_path, process, dict(env), cwd)

    def restart(self) -> Child:
        """The same command, environment and log, started again (stop this one first)."""
        return Child.start(self.name, self.command, self.env, self.log_path, self.cwd)

    def exit_description(self) -> str:
        """How the main process ended: ``code 3`` or ``signal SIGKILL``."""
        code = self.process.returncode
        if code is not None and code < 0:
            return f"signal {signal.Signals(-code).name}"
        return f"code {code}"

    @property
    def pid(self) -> int:
        """Process id (also the process group id: each child leads its own group)."""
        return self.process.pid

    def alive(self) -> bool:
        """Whether the main process has not exited."""
        return self.process.poll() is None

    def stop(self, timeout: float = STOP_TIMEOUT_S) -> None:
        """Stop the whole process group, then reap the main process."""
        stop_group(self.pid, timeout)
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def log_tail(self, lines: int = 20) -> str:
        """The last ``lines`` lines of the log."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])
