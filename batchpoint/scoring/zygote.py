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

Standalone, like ``script_driver.py``: the built-in scorer may run in a model's own environment
(another Python, 3.8 on; no batchpoint), so this file imports only the standard library and is started
as ``<python> zygote.py <socket fd>``. It imports ``script_driver.py`` from its own folder by path, and
preloads only those ``PRELOAD`` modules that the environment has (one that is installed but fails to
import is named in its log and left to the driver; one the environment lacks is left out quietly, as
most environments lack some of them). When the zygote cannot start at all, the pool
starts each driver on its own.
"""

from __future__ import annotations

import array
import contextlib
import importlib
import importlib.util
import json
import os
import selectors
import socket
import sys
import traceback
from pathlib import Path
from types import ModuleType
from typing import Any

PRELOAD = (
    "pandas",
    "pyarrow",
    "pyarrow.csv",
    "pyarrow.parquet",
    "mlflow.pyfunc",
    "mlflow.sklearn",
    "skops.io",
)
MAX_MESSAGE = 1 << 20
DRIVER = Path(__file__).with_name("script_driver.py")


def _send(sock: socket.socket, message: dict[str, Any]) -> None:
    sock.send(json.dumps(message).encode())


def load_driver() -> ModuleType:
    """``script_driver.py`` beside this file, imported by path: the environment may have no batchpoint."""
    spec = importlib.util.spec_from_file_location("script_driver", DRIVER)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {DRIVER}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def preload(modules: tuple[str, ...]) -> list[str]:
    """Import each of ``modules`` the environment has; the installed ones that failed to import, each
    with why. A module the environment lacks (it, or a package above it, is not found) is not listed."""
    skipped = []
    for name in modules:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            # Not installed is the environment's choice, not worth a line in the user's logs; a
            # dependency missing under an installed module is.
            if not _is_module_or_parent(exc.name, name):
                skipped.append(f"{name} ({type(exc).__name__}: {exc})")
        except Exception as exc:  # a broken install fails the driver too, with its own traceback
            skipped.append(f"{name} ({type(exc).__name__}: {exc})")
    return skipped


def _is_module_or_parent(missing: str | None, name: str) -> bool:
    return missing is not None and (name == missing or name.startswith(missing + "."))


def recv_fds(sock: socket.socket, bufsize: int, maxfds: int) -> tuple[bytes, list[int]]:
    """One message and the descriptors sent with it (``socket.recv_fds``, which Python 3.8 lacks)."""
    fds = array.array("i")
    data, ancdata, _flags, _addr = sock.recvmsg(bufsize, socket.CMSG_LEN(maxfds * fds.itemsize))
    for level, kind, payload in ancdata:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(payload[: len(payload) - (len(payload) % fds.itemsize)])
    return data, list(fds)


def exit_code(status: int) -> int:
    """A ``waitpid`` status as ``subprocess`` reports it (``os.waitstatus_to_exitcode``, 3.9 on)."""
    return -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)


def _run_child(driver: ModuleType, request: dict[str, Any], fds: list[int]) -> None:
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
        code = driver.main(list(request["argv"]))
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
        _send(sock, {"exited": pid, "returncode": exit_code(status)})


def serve(sock: socket.socket) -> int:
    """Import the driver and ``PRELOAD``, say ready, then fork a driver per request until the socket closes."""
    driver = load_driver()
    # Python put this file's folder first on sys.path; batchpoint's modules there must not shadow packages.
    driver.forget_own_folder()
    skipped = preload(PRELOAD)
    if skipped:
        print(f"zygote: not preloaded, the drivers import them themselves: {'; '.join(skipped)}", file=sys.stderr)
    _send(sock, {"ready": True, "pid": os.getpid()})
    selector = selectors.DefaultSelector()
    selector.register(sock, selectors.EVENT_READ)
    while True:
        events = selector.select(timeout=0.2)
        _reap(sock)
        if not events:
            continue
        # A SOCK_SEQPACKET pair: one request per message, its descriptors attached to it.
        data, fds = recv_fds(sock, MAX_MESSAGE, 3)
        if not data:
            return 0
        request = json.loads(data)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            sock.close()
            _run_child(driver, request, fds)
        for fd in fds:
            os.close(fd)
        _send(sock, {"id": request["id"], "pid": pid})


def main(argv: list[str]) -> int:
    """``python zygote.py <socket fd>``."""
    sock = socket.socket(fileno=int(argv[0]))
    try:
        return serve(sock)
    finally:
        sock.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
