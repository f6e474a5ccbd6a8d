"""A warm parent for the built-in scorer's drivers: import MLflow once, fork a driver per worker.

Each driver would otherwise spend ≈5 s of CPU importing MLflow and skops before loading the model,
and on two cores several drivers starting together queue behind each other (bench/README.md). The
zygote is started once per job by ``Zygote.start`` with the thread limits already in its
environment (native libraries read them at import), imports ``PRELOAD``, then serves fork requests
on a Unix socket. A request carries the driver's argv, working directory and environment, and
three file descriptors (stdin, stdout, stderr) passed with ``SCM_RIGHTS``; the child becomes a
session leader (so a ``killpg`` reaches it), takes those descriptors as 0/1/2 and runs
``script_driver.main`` exactly as a fresh interpreter would. ``init()`` still runs in every driver.

The zygote reports each child's pid, and later its exit status (it is the children's parent, so it
reaps them): ``{"id": n, "pid": p}`` and ``{"exited": p, "returncode": c}``, one JSON message each
on a ``SOCK_SEQPACKET`` pair (message boundaries kept, descriptors travel with their request).
Only the built-in scorer uses it: a custom script runs in its own environment's interpreter.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import selectors
import socket
import sys
import traceback
from typing import Any

PRELOAD = ("pandas", "pyarrow", "mlflow.pyfunc", "mlflow.sklearn", "skops.io", "batchpoint.scoring.mini_batch")
MAX_MESSAGE = 1 << 20


def _send(sock: socket.socket, message: dict[str, Any]) -> None:
    sock.send(json.dumps(message).encode())


def _run_child(request: dict[str, Any], fds: list[int]) -> None:
    """In the forked child: become the driver. Never returns."""
    code = 70
    try:
        os.setsid()
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
        for fd in fds:
            if fd > 2:
                os.close(fd)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        sys.stdin = open(0, encoding="utf-8", closefd=False)  # noqa: SIM115 -- the process's own stdin
        sys.stdout = open(1, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
        sys.stderr = open(2, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
        from batchpoint.scoring import script_driver

        code = script_driver.main(list(request["argv"]))
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def _reap(sock: socket.socket) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        _send(sock, {"exited": pid, "returncode": os.waitstatus_to_exitcode(status)})


def serve(sock: socket.socket) -> int:
    """Import ``PRELOAD``, say ready, then fork a driver per request until the socket closes."""
    for module in PRELOAD:
        importlib.import_module(module)
    _send(sock, {"ready": True, "pid": os.getpid()})
    selector = selectors.DefaultSelector()
    selector.register(sock, selectors.EVENT_READ)
    while True:
        events = selector.select(timeout=0.2)
        _reap(sock)
        if not events:
            continue
        # A SOCK_SEQPACKET pair: one request per message, its descriptors attached to it.
        data, fds, _flags, _addr = socket.recv_fds(sock, MAX_MESSAGE, 3)
        if not data:
            return 0
        request = json.loads(data)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            sock.close()
            _run_child(request, fds)
        for fd in fds:
            os.close(fd)
        _send(sock, {"id": request["id"], "pid": pid})


def main(argv: list[str]) -> int:
    """``python -m batchpoint.scoring.zygote <socket fd>``."""
    sock = socket.socket(fileno=int(argv[0]))
    try:
        return serve(sock)
    finally:
        sock.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
