"""One child process of the stack: started in its own session and process group, logged to a file, stopped whole."""

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
LEADERLESS_STOP_TIMEOUT_S = 2.0


def _reset_signals() -> None:
    # A launcher started in the background with `&` ignores SIGINT, and ignored signals survive
    # exec; Dagster then maps SIGTERM onto SIGINT and could only be killed. Restore both defaults.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _live_processes() -> list[tuple[int, int, int, str]]:
    """(pid, process group, session, command name) of every live, non-zombie process, from /proc."""
    found: list[tuple[int, int, int, str]] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid pgrp session ...": comm may itself hold spaces or parentheses.
        head, rest = stat.rsplit(")", 1)
        fields = rest.split()
        if fields[0] != "Z":
            found.append((int(entry.name), int(fields[2]), int(fields[3]), head.split("(", 1)[1]))
    return found


def group_members(pgid: int) -> list[int]:
    """Pids of live (non-zombie) processes in process group ``pgid`` or in the session it leads.

    Each child of the stack leads both its group and its session; the session also holds what
    moved to a group of its own (Ray's workers do), so stopping it leaves nothing behind.
    """
    return [pid for pid, group, session, _ in _live_processes() if pgid in (group, session)]


def group_commands(pgid: int) -> set[str]:
    """Command names (``/proc/<pid>/comm``) of the live processes ``group_members(pgid)`` lists."""
    return {comm for _, group, session, comm in _live_processes() if pgid in (group, session)}


def pid_alive(pid: int) -> bool:
    """Whether ``pid`` is a live, non-zombie process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _signal_all(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, sig)
    for pid in group_members(pgid):  # the session's members in groups of their own
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


def stop_group(pgid: int, timeout: float = STOP_TIMEOUT_S) -> bool:
    """SIGTERM every process of group (and session) ``pgid``, SIGKILL what is left after ``timeout``.

    Returns whether anything was running. Works for groups we did not start (``batchpoint down``).
    """
    if not group_members(pgid):
        return False
    _signal_all(pgid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while group_members(pgid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if group_members(pgid):
        _signal_all(pgid, signal.SIGKILL)
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
    stop_leader_first: bool = False
    """Stop by a SIGTERM to the main process alone, which stops the rest itself (the Ray head)."""

    @classmethod
    def start(
        cls,
        name: str,
        command: Sequence[str],
        env: Mapping[str, str],
        log_path: Path,
        cwd: Path,
        *,
        stop_leader_first: bool = False,
    ) -> Child:
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
        return cls(name, tuple(command), log_path, process, dict(env), cwd, stop_leader_first=stop_leader_first)

    def restart(self) -> Child:
        """The same command, environment and log, started again (stop this one first)."""
        return Child.start(
            self.name, self.command, self.env, self.log_path, self.cwd, stop_leader_first=self.stop_leader_first
        )

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
        """Stop the whole process group (and session), then reap the main process."""
        if self.stop_leader_first:
            if self.alive():
                self.process.terminate()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.process.wait(timeout)
            # What outlived its leader ignores SIGTERM (Ray's raylet and GCS): do not wait long for it.
            timeout = min(timeout, LEADERLESS_STOP_TIMEOUT_S)
        stop_group(self.pid, timeout)
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def log_since_start(self) -> str:
        """What this start of the process wrote to its log so far (after its own "starting" line)."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        marker = f" starting: {' '.join(self.command)}\n"
        at = text.rfind(marker)  # a restart appends the same line again: the last one is ours
        return text[at + len(marker) :] if at >= 0 else ""

    def log_tail(self, lines: int = 20) -> str:
        """The last ``lines`` lines of the log."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])
