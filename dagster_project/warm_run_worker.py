"""The warm run worker: a process that has imported Dagster and the definitions' modules once and
forks one child per run, which executes the run as ``dagster api execute_run`` would.

A run launched the default way starts a fresh interpreter (the code server spawns it) that imports
Dagster, MLflow, pandas and the definitions before the run's first event: seconds on two shared
cores. Here that import is paid once, when the service starts; a child per run keeps runs isolated
from each other and from this process, as the spawned process did.

    python -m dagster_project.warm_run_worker --socket PATH [-d WORKING_DIR] [-m MODULE] [--preload MODULE ...]

It listens on a unix socket (bound only once the imports are done, so a socket that accepts is a
worker that is ready). A request is one JSON line ``{"execute_run_args": <serialized ExecuteRunArgs>}``
(what ``dagster api execute_run`` takes); the answer is one JSON line, ``{"pid": N}`` once the child
is forked, or ``{"declined": reason}`` when the run's code is not the code loaded here (the launcher
then launches it the default way). The children stay in this process's group: stopping the stack
stops them with it, as the code server's run workers go with the code server.

Nothing here may start a thread or open a connection before forking: a child inherits only the
forking thread, and a connection shared by two processes corrupts both.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import os
import random
import signal
import socket
import sys
import traceback
from pathlib import Path
from types import FrameType

from dagster._grpc.types import ExecuteRunArgs
from dagster._serdes import deserialize_value

from batchpoint.scoring.zygote import preload as preload_modules

DEFINITIONS_MODULE = "dagster_project.definitions"
REQUEST_LIMIT = 16 * 1024 * 1024
# What every run's process imports after the definitions: the command it runs, the instance's
# factory (opening the instance from its ref imports upath for the artifact path) and the SQL
# storage's migration machinery (alembic, mako). Unloaded, a child imported ~560 modules: 1.3 s of
# a run's launch on two shared cores (docs/decisions/warm-run-process.md).
RUN_MACHINERY = (
    "dagster._cli.api",
    "dagster._core.instance.factory",
    "dagster._core.storage.migration.utils",
    "dagster._core.storage.sql",
    "upath.implementations.local",
)


def declined_reason(args: ExecuteRunArgs, module: str, working_directory: Path) -> str | None:
    """Why a run with ``args`` cannot run here (its code is not the code this worker imported)."""
    origin = args.job_origin.repository_origin
    pointer = origin.code_pointer
    wanted_module = getattr(pointer, "module", None)
    if wanted_module != module:
        return f"the run's code is {pointer.describe()}, this worker loaded module {module}"
    wanted_dir = getattr(pointer, "working_directory", None)
    if wanted_dir and Path(wanted_dir).resolve() != working_directory.resolve():
        return f"the run's working directory is {wanted_dir}, this worker's {working_directory}"
    if Path(origin.executable_path).resolve() != Path(sys.executable).resolve():
        return f"the run's Python is {origin.executable_path}, this worker's {sys.executable}"
    return None


def instance_modules(home: str | None = None) -> list[str]:
    """The modules of the classes ``$DAGSTER_HOME/dagster.yaml`` configures (read, not instantiated:
    an instance would open its storage, and nothing may be open when a child is forked)."""
    from dagster._core.instance.ref import InstanceRef
    from dagster._serdes import ConfigurableClassData

    home = home or os.environ.get("DAGSTER_HOME")
    if not home:
        return []
    ref = InstanceRef.from_dir(home)
    classes = (getattr(ref, field) for field in ref._fields)
    return sorted({data.module_name for data in classes if isinstance(data, ConfigurableClassData)})


def execute_run(serialized_args: str) -> int:
    """Execute the run in this process, as ``dagster api execute_run`` does; its exit code."""
    from dagster._cli.api import execute_run_command

    try:
        execute_run_command.main(args=[serialized_args], prog_name="dagster api execute_run", standalone_mode=False)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else int(exc.code is not None)
    return 0


class WarmRunWorker:
    """The listening process: imports once, then forks a child per accepted run."""

    def __init__(
        self,
        socket_path: Path,
        working_directory: Path,
        module: str = DEFINITIONS_MODULE,
        preload: tuple[str, ...] = (),
    ) -> None:
        self.socket_path = socket_path
        self.working_directory = working_directory
        self.module = module
        self.preload_modules = preload
        self._listener: socket.socket | None = None

    def preload(self) -> None:
        """Import what a run's process imports: the definitions' module, the run command, the
        instance's configured classes (its storage, launcher, coordinator) and the modules a run's
        step imports later."""
        sys.path.insert(0, str(self.working_directory))
        for name in (self.module, *RUN_MACHINERY, *instance_modules()):
            importlib.import_module(name)
        # Other packages' internal names among them: one not there is left out, one that fails is
        # named; either way the runs import what they need themselves (the zygote's rule).
        for skipped in preload_modules(self.preload_modules):
            print(f"not preloaded: {skipped}", flush=True)
        # Objects made so far stay out of the collector's reach, in the children too: collecting
        # them would write to their pages in every child and undo the sharing a fork gives.
        gc.freeze()

    def serve(self) -> None:
        """Bind the socket and fork a child per request until SIGTERM or SIGINT."""
        self.socket_path.unlink(missing_ok=True)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(str(self.socket_path))
        listener.listen(16)
        self._listener = listener
        signal.signal(signal.SIGCHLD, _reap_children)
        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
        print(f"warm run worker (pid {os.getpid()}) listening on {self.socket_path}", flush=True)
        try:
            while True:
                connection, _ = listener.accept()
                with connection:
                    self._answer(connection)
        except _Stopped:
            pass
        finally:
            listener.close()
            self.socket_path.unlink(missing_ok=True)

    def _answer(self, connection: socket.socket) -> None:
        connection.settimeout(30)
        try:
            request = json.loads(_read_line(connection))
            serialized = str(request["execute_run_args"])
            args = deserialize_value(serialized, ExecuteRunArgs)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            _reply(connection, {"declined": f"unreadable request: {exc}"})
            return
        reason = declined_reason(args, self.module, self.working_directory)
        if reason is not None:
            _reply(connection, {"declined": reason})
            return
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            self._child(connection, serialized)
        print(f"run {args.run_id}: forked run worker {pid}", flush=True)
        _reply(connection, {"pid": pid})

    def _child(self, connection: socket.socket, serialized: str) -> None:
        code = 1
        try:
            connection.close()
            if self._listener is not None:
                self._listener.close()
            # A fresh interpreter's handlers: Dagster's own take over SIGINT and SIGTERM in the run.
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.default_int_handler)
            _reseed()
            code = execute_run(serialized)
        except BaseException:
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)


class _Stopped(Exception):  # noqa: N818 -- not an error: the way out of accept() on SIGTERM
    """Raised by the SIGTERM/SIGINT handler to leave the accept loop."""


def _stop(_signo: int, _frame: FrameType | None) -> None:
    raise _Stopped


def _reap_children(_signo: int, _frame: FrameType | None) -> None:
    # A finished child is reaped at once: left a zombie, run monitoring would still see its pid.
    while True:
        try:
            pid, _status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _reseed() -> None:
    # A child would otherwise draw the same "random" numbers as its siblings.
    random.seed()
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        numpy.random.seed()


def _read_line(connection: socket.socket) -> bytes:
    data = b""
    while not data.endswith(b"\n"):
        chunk = connection.recv(65536)
        if not chunk:
            break
        data += chunk
        if len(data) > REQUEST_LIMIT:
            raise ValueError(f"request over {REQUEST_LIMIT} bytes")
    return data


def _reply(connection: socket.socket, answer: dict[str, object]) -> None:
    try:
        connection.sendall(json.dumps(answer).encode() + b"\n")
    except OSError as exc:
        print(f"could not answer the launcher: {exc}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> None:
    """Parse the command line, import, serve."""
    parser = argparse.ArgumentParser(prog="python -m dagster_project.warm_run_worker", description=__doc__)
    parser.add_argument("--socket", required=True, type=Path, help="the unix socket to listen on")
    parser.add_argument("-d", "--working-directory", type=Path, default=Path.cwd())
    parser.add_argument("-m", "--module-name", default=DEFINITIONS_MODULE)
    parser.add_argument("--preload", action="append", default=[], help="a module a run imports in its step")
    options = parser.parse_args(argv)
    worker = WarmRunWorker(
        options.socket, options.working_directory.resolve(), options.module_name, tuple(options.preload)
    )
    worker.preload()
    worker.serve()


if __name__ == "__main__":
    main()
