"""One scoring-script worker: ``script_driver.py`` run by the deployment's Python, spoken to over pipes.

The driver runs in its own process group with stderr (and the script's prints) in a per-process log
file. A mini-batch with no answer within its timeout has the whole group killed (``MiniBatchTimeout``);
a driver that dies mid-batch raises ``WorkerCrashed`` with its exit code or signal and the log's tail.
Both are retriable on a fresh ``ScriptProcess``, whose ``init()`` runs again. Answers are
``ScriptAnswer`` (``script_answers.py``, re-exported here).
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import json
import os
import queue
import signal
import subprocess
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Literal

from batchpoint.errors import (
    MiniBatchTimeout,
    ScriptInitError,
    ScriptProtocolError,
    ScriptWorkerError,
    WorkerCrashed,
    describe_exit,
)
from batchpoint.scoring.script_answers import FileOutcome, ScriptAnswer, failed_items
from batchpoint.scoring.zygote_client import ForkedProcess, Zygote

__all__ = [
    "FileOutcome",
    "GroupMember",
    "MiniBatchTimeout",
    "ScriptAnswer",
    "ScriptInitError",
    "ScriptProcess",
    "ScriptProtocolError",
    "ScriptWorkerError",
    "WorkerCrashed",
    "describe_exit",
    "failed_items",
    "process_log",
]

DRIVER = Path(__file__).with_name("script_driver.py")
OutputAction = Literal["append_row", "summary_only"]
RESULT_FORMATS = ("rows", "parquet")
STDERR_TAIL_BYTES = 4000
# Inherited variables that would make the deployment's Python see batchpoint's own packages.
LEAKY_VARIABLES = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP")
_names = itertools.count()


@dataclasses.dataclass(frozen=True)
class GroupMember:
    """One mini-batch of a grouped request: its index, its local files, where its rows go."""

    index: int
    files: Sequence[str | Path]
    result_path: Path | None


def process_log(log_dir: Path, name: str) -> Path:
    """The log file of the pool process ``name`` (a worker slot, the zygote): ``<log_dir>/<name>.txt``.

    The one naming rule: the job uploads each of these as ``logs/user/stdout/<file name>``.
    """
    return log_dir / f"{name}.txt"


def script_environment(model_dir: Path, output_dir: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The variables a scoring script sees: Azure's names and batchpoint's, plus the deployment's own."""
    env = dict(extra or {})
    env.update(
        AZUREML_MODEL_DIR=str(model_dir),
        BATCHPOINT_MODEL_DIR=str(model_dir),
        AZUREML_BI_OUTPUT_PATH=str(output_dir),
        BATCHPOINT_OUTPUT_DIR=str(output_dir),
    )
    return env


class ScriptProcess:
    """One driver process; ``start()`` runs ``init()``, then ``run_mini_batch`` as often as needed."""

    def __init__(
        self,
        python: Path,
        code_dir: Path,
        entry: str,
        env: Mapping[str, str],
        logging_level: str,
        log_dir: Path,
        *,
        name: str | None = None,
        zygote: Zygote | None = None,
        cwd: Path | None = None,
    ) -> None:
        """``cwd`` is the driver's working folder: ``code_dir`` (Azure's) unless given."""
        self.name = name or f"worker-{os.getpid()}-{next(_names)}"
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = process_log(log_dir, self.name)
        base = {k: v for k, v in os.environ.items() if k not in LEAKY_VARIABLES}
        self._log = self.log_path.open("ab")
        args = ["--code", str(code_dir), "--entry", entry, "--logging_level", logging_level]
        full_env = {**base, **env, "PYTHONUNBUFFERED": "1"}
        cwd = cwd or code_dir
        self._process: subprocess.Popen[str] | ForkedProcess
        if zygote is not None:
            # Forked from a zygote that has imported MLflow already (the built-in scorer).
            self._process = zygote.spawn(args, cwd, full_env, self._log)
        else:
            self._process = subprocess.Popen(
                [str(python), str(DRIVER), *args],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self._log,
                cwd=cwd,
                env=full_env,
                start_new_session=True,  # its own process group: a kill reaches the script's children too
                text=True,
                encoding="utf-8",
            )
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, name=f"{self.name}-stdout", daemon=True)
        self._reader.start()
        self.init_seconds: float | None = None

    @property
    def pid(self) -> int:
        """The driver's process id (and process group id)."""
        return self._process.pid

    @property
    def returncode(self) -> int | None:
        """The exit code once the process ended, negative for a signal."""
        return self._process.poll()

    def _read(self) -> None:
        stdout = self._process.stdout
        assert stdout is not None
        for line in stdout:
            self._lines.put(line)
        self._lines.put(None)

    def _next_message(self, timeout: float) -> dict[str, Any] | None:
        """The next protocol line, ``None`` at end of stream; ``queue.Empty`` after ``timeout``."""
        line = self._lines.get(timeout=timeout)
        if line is None:
            self._lines.put(None)  # later calls see the end too
            return None
        try:
            message: dict[str, Any] = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ScriptProtocolError(f"driver wrote a non-JSON line: {line[:200]!r}", self.stderr_tail()) from exc
        return message

    def stderr_tail(self, limit: int = STDERR_TAIL_BYTES) -> str:
        """The end of this process's log (stderr and the script's prints)."""
        if not self._log.closed:
            self._log.flush()
        with self.log_path.open("rb") as log:
            log.seek(max(log.seek(0, os.SEEK_END) - limit, 0))
            return log.read().decode("utf-8", errors="replace")

    def _stdin(self) -> IO[str]:
        stdin = self._process.stdin
        assert stdin is not None
        return stdin

    def start(self, timeout: float) -> None:
        """Wait for ``init()``; ``ScriptInitError`` (with the script's traceback) if it failed or hung."""
        try:
            message = self._next_message(timeout)
        except queue.Empty:
            self.kill()
            raise ScriptInitError(f"init() did not finish within {timeout:g}s", "", self.stderr_tail()) from None
        if message is None:
            returncode = self._process.wait()
            raise ScriptInitError(f"worker {describe_exit(returncode)} before init() finished", "", self.stderr_tail())
        if "init_error" in message:
            self._process.wait()
            raise ScriptInitError(str(message["init_error"]), str(message.get("traceback", "")), self.stderr_tail())
        if not message.get("ready"):
            raise ScriptProtocolError(f"expected a ready line, got {message!r}", self.stderr_tail())
        self.init_seconds = float(message.get("init_seconds", 0.0))

    def run_mini_batch(
        self,
        index: int,
        files: Sequence[str | Path],
        output: OutputAction,
        result_path: Path | None,
        timeout: float,
        *,
        result_format: str = "rows",
    ) -> ScriptAnswer:
        """Send one mini-batch and wait for its answer; a timeout or crash kills and raises (retriable).

        ``result_format`` is how the driver writes what ``run()`` returns: Azure's text rows or Parquet
        (a script defining ``batchpoint_run`` writes its own result and ignores it).
        """
        if result_format not in RESULT_FORMATS:
            raise ValueError(f"result_format must be one of {', '.join(RESULT_FORMATS)}, got {result_format!r}")
        request = {
            "mini_batch": index,
            "files": [str(f) for f in files],
            "output": output,
            "result_path": None if result_path is None else str(result_path),
            "result_format": result_format,
        }
        return ScriptAnswer.from_json(self._exchange(index, request, timeout))

    def run_group(self, members: Sequence[GroupMember], output: OutputAction, timeout: float) -> list[ScriptAnswer]:
        """Send several mini-batches as one grouped request (the built-in scorer's); one answer per member.

        ``timeout`` is the whole group's. When the script failed the group as a whole, every member
        gets that one failed answer; a timeout or crash kills and raises, as for one mini-batch.
        """
        index = members[0].index
        request = {
            "mini_batch": index,
            "group": [
                {
                    "mini_batch": m.index,
                    "files": [str(f) for f in m.files],
                    "result_path": None if m.result_path is None else str(m.result_path),
                }
                for m in members
            ],
            "output": output,
        }
        message = self._exchange(index, request, timeout)
        if not message["ok"]:
            failed = ScriptAnswer.from_json(message)
            return [dataclasses.replace(failed, mini_batch=m.index) for m in members]
        answers = message.get("answers")
        wanted = [m.index for m in members]
        if not isinstance(answers, list) or [a.get("mini_batch") for a in answers] != wanted:
            raise ScriptProtocolError(f"group {wanted}: unexpected answer {message!r:.500}", self.stderr_tail())
        return [ScriptAnswer.from_json(a) for a in answers]

    def _exchange(self, index: int, request: Mapping[str, Any], timeout: float) -> dict[str, Any]:
        """One request line out, its answer line back; a timeout or crash kills and raises (retriable)."""
        try:
            stdin = self._stdin()
            stdin.write(json.dumps(request) + "\n")
            stdin.flush()
        except (BrokenPipeError, ValueError):
            raise WorkerCrashed(index, self._process.wait(), self.stderr_tail()) from None
        try:
            message = self._next_message(timeout)
        except queue.Empty:
            self.kill()
            raise MiniBatchTimeout(index, timeout, self.stderr_tail()) from None
        if message is None:
            raise WorkerCrashed(index, self._process.wait(), self.stderr_tail())
        if message.get("mini_batch") != index or "ok" not in message:
            raise ScriptProtocolError(f"mini-batch {index}: unexpected answer {message!r}", self.stderr_tail())
        return message

    def kill(self) -> None:
        """Kill the whole process group at once and reap the driver."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._process.pid, signal.SIGKILL)
        self._process.wait()

    def close(self, grace: float = 10.0) -> int:
        """Close stdin so the driver runs ``shutdown()`` and exits; kill it after ``grace`` seconds."""
        with contextlib.suppress(BrokenPipeError, ValueError):
            self._stdin().close()
        try:
            returncode = self._process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self.kill()
            returncode = self._process.wait()
        # The group may still hold children the script started.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._process.pid, signal.SIGKILL)
        self._reader.join(timeout=grace)
        if self._process.stdout is not None:
            self._process.stdout.close()
        self._log.close()
        return returncode

    def __enter__(self) -> ScriptProcess:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
