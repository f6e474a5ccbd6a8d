"""The parent's side of ``zygote.py``: start the zygote, ask it for drivers, follow their exits.

``Zygote.spawn`` returns a ``ForkedProcess``, which answers like the ``subprocess.Popen`` that
``ScriptProcess`` otherwise holds (``pid``, ``stdin``, ``stdout``, ``poll``, ``wait``), so timeouts,
kills (``killpg``: the child leads its own session) and crash detection work unchanged. The exit
status comes from the zygote, the child's real parent. If the zygote dies, its children are
reported as ended (``returncode`` ``-9``) and ``spawn`` raises ``ScoringError``, so the pool's usual
crash handling replaces the workers.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import socket
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from batchpoint.errors import ScoringError

ZYGOTE = Path(__file__).with_name("zygote.py")
READY_TIMEOUT_SECONDS = 120.0
MAX_MESSAGE = 1 << 20
# What a driver whose zygote vanished is reported as: killed.
LOST = -9


class ForkedProcess:
    """A driver forked by the zygote, seen through pipes and the zygote's exit reports."""

    def __init__(self, pid: int, stdin: IO[str], stdout: IO[str]) -> None:
        self.pid = pid
        self.stdin: IO[str] | None = stdin
        self.stdout: IO[str] | None = stdout
        self.returncode: int | None = None
        self._ended = threading.Event()

    def ended(self, returncode: int) -> None:
        """Called by the zygote client when the exit is reported."""
        self.returncode = returncode
        self._ended.set()

    def poll(self) -> int | None:
        """The exit code once ended, negative for a signal."""
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        """Wait for the exit report; ``subprocess.TimeoutExpired`` after ``timeout``."""
        if not self._ended.wait(timeout):
            raise subprocess.TimeoutExpired(f"driver {self.pid}", timeout or 0.0)
        assert self.returncode is not None
        return self.returncode


class Zygote:
    """A running zygote and the drivers it forked for this job."""

    def __init__(self, process: subprocess.Popen[bytes], sock: socket.socket) -> None:
        self._process = process
        self._sock = sock
        self._lock = threading.Lock()
        self._ids = itertools.count()
        self._started: dict[int, tuple[threading.Event, list[int]]] = {}
        self._children: dict[int, ForkedProcess] = {}
        self._early_exits: dict[int, int] = {}
        self._alive = True
        self._reader = threading.Thread(target=self._read, name="zygote-reader", daemon=True)

    @classmethod
    def start(cls, python: Path, env: Mapping[str, str], log: Path) -> Zygote:
        """Start a zygote (``python zygote.py``; ``python`` need not have batchpoint) and wait until it has imported."""
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("ab") as err:
            process = subprocess.Popen(
                [str(python), str(ZYGOTE), str(child.fileno())],
                stdin=subprocess.DEVNULL,
                stdout=err,
                stderr=err,
                env=dict(env),
                pass_fds=(child.fileno(),),
                start_new_session=True,
            )
        child.close()
        parent.settimeout(READY_TIMEOUT_SECONDS)
        try:
            ready = json.loads(parent.recv(MAX_MESSAGE) or b"{}")
        except (TimeoutError, OSError, ValueError) as exc:
            process.kill()
            raise ScoringError(f"the driver zygote did not start: {exc} (log: {log})") from exc
        if not ready.get("ready"):
            process.kill()
            raise ScoringError(f"the driver zygote did not start (see {log})")
        parent.settimeout(None)
        zygote = cls(process, parent)
        zygote._reader.start()
        return zygote

    def spawn(self, argv: Sequence[str], cwd: Path, env: Mapping[str, str], stderr: IO[bytes]) -> ForkedProcess:
        """Fork a driver running ``script_driver.main(argv)`` in ``cwd`` with exactly ``env``."""
        stdin_read, stdin_write = os.pipe()
        stdout_read, stdout_write = os.pipe()
        request_id = next(self._ids)
        started = threading.Event()
        slot: list[int] = []
        with self._lock:
            if not self._alive:
                for fd in (stdin_read, stdin_write, stdout_read, stdout_write):
                    os.close(fd)
                raise ScoringError("the driver zygote has exited; no driver can be started from it")
            self._started[request_id] = (started, slot)
            message = json.dumps({"id": request_id, "argv": list(argv), "cwd": str(cwd), "env": dict(env)})
            try:
                socket.send_fds(self._sock, [message.encode()], [stdin_read, stdout_write, stderr.fileno()])
            finally:
                os.close(stdin_read)
                os.close(stdout_write)
        if not started.wait(READY_TIMEOUT_SECONDS) or not slot:
            os.close(stdin_write)
            os.close(stdout_read)
            raise ScoringError("the driver zygote did not fork a driver")
        handle = ForkedProcess(
            slot[0], os.fdopen(stdin_write, "w", encoding="utf-8"), os.fdopen(stdout_read, encoding="utf-8")
        )
        with self._lock:
            self._children[handle.pid] = handle
            early = self._early_exits.pop(handle.pid, None)
        if early is not None:
            handle.ended(early)
        return handle

    def _read(self) -> None:
        while True:
            try:
                data = self._sock.recv(MAX_MESSAGE)
            except OSError:
                data = b""
            if not data:
                break
            self._dispatch(json.loads(data))
        with self._lock:
            self._alive = False
            orphans = [h for h in self._children.values() if h.returncode is None]
            waiting = list(self._started.values())
        for handle in orphans:
            handle.ended(LOST)
        for event, _ in waiting:
            event.set()

    def _dispatch(self, message: dict[str, Any]) -> None:
        with self._lock:
            if "exited" in message:
                pid, code = int(message["exited"]), int(message["returncode"])
                handle = self._children.get(pid)
                if handle is None:
                    self._early_exits[pid] = code
            else:
                event, slot = self._started.pop(int(message["id"]))
                slot.append(int(message["pid"]))
                event.set()
                return
        if handle is not None:
            handle.ended(code)

    def close(self, grace: float = 5.0) -> None:
        """Stop the zygote (its drivers are closed by their own ``ScriptProcess``)."""
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        deadline = time.monotonic() + grace
        while self._process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        if self._process.poll() is None:
            self._process.kill()
        self._process.wait()
        self._reader.join(timeout=grace)
        self._sock.close()
