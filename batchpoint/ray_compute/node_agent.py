"""``NodeAgent``: a Ray actor that supervises ``max_concurrency_per_instance`` driver processes on its node.

One agent per instance of a pool's set (``pool_keeper.py`` places them). It builds the deployment's
environment on its own node (``EnvironmentBuilder``: once per content key, then reused), unpacks
the model and code it was shipped, and runs a ``LocalHost``: the same class that runs a job's
workers without Ray, so kill-on-timeout, crash replacement and ``init()`` are ours, not Ray's (Ray
can neither interrupt a running task nor be told where to retry one). It fetches inputs from S3
itself and hands results back as bytes, through Ray's object store.

Its processes outlive the job: the next job of the same pool gets them warm, with no ``init()``.
Every method answers plain records (``AcquireAnswer``, ``RunAnswer``); failures of the script or
its process are answers, not exceptions, so that the coordinator can tell them from a lost agent.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tarfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

from batchpoint.config import Settings
from batchpoint.environments.builder import EnvironmentBuilder
from batchpoint.errors import BatchpointError, MiniBatchTimeout, ScriptInitError, ScriptWorkerError, WorkerCrashed
from batchpoint.ray_compute.folder_archive import unpack_once
from batchpoint.scoring.input_staging import StagedMiniBatch
from batchpoint.scoring.local_host import LocalHost, LocalWorker
from batchpoint.scoring.planning import MiniBatch
from batchpoint.scoring.pool_records import result_file
from batchpoint.scoring.runtime import BUILTIN_DIR
from batchpoint.scoring.script_answers import ScriptAnswer
from batchpoint.scoring.script_process import OutputAction, script_environment
from batchpoint.scoring.worker_host import RunRequest
from batchpoint.specs.environment import EnvironmentSpec
from batchpoint.storage.datastore import open_datastore
from batchpoint.storage.retrying import with_retries


@dataclass(frozen=True)
class AgentBundle:
    """Everything an agent needs to start its drivers on a node that shares no disk with the coordinator."""

    pool_id: str
    entry: str
    builtin: bool
    environment: EnvironmentSpec | None
    """Built on the node; ``None``: the node's own interpreter (batchpoint's)."""
    model: bytes
    """``AZUREML_MODEL_DIR``'s files, as tar bytes (``folder_archive.pack``)."""
    code: bytes | None
    """The scoring code folder as tar bytes; ``None`` for the built-in scorer."""
    variables: dict[str, str]
    """What every driver sees beyond Azure's paths: thread limits, the deployment's variables."""
    logging_level: str
    settings: Settings
    """The coordinator's settings: how to reach S3, where the node's cache is."""


@dataclass(frozen=True)
class AgentInfo:
    """Where an agent runs and what it prepared."""

    node_id: str
    pid: int
    python: str
    environment_seconds: float
    error: str | None = None
    """Why preparing failed (the environment did not build, the model did not unpack)."""


@dataclass(frozen=True)
class AcquireAnswer:
    """A process for a slot: warm (``init()`` ran before) or started now, or why ``init()`` failed."""

    warm: bool
    pid: int = 0
    init_seconds: float = 0.0
    init_error: tuple[str, str, str] | None = None
    """``(error, traceback, stderr tail)`` of a failed ``init()``."""
    messages: tuple[tuple[int, str], ...] = ()
    """What starting the process had to say for the job's log (``(level, text)``: a zygote that failed)."""


@dataclass(frozen=True)
class RunAnswer:
    """One attempt's answer and its result bytes, or how the attempt failed (``kind``: timeout, crash, protocol)."""

    answer: ScriptAnswer | None
    result: bytes | None = None
    failure: tuple[str, str, str] | None = None
    """``(kind, message, stderr tail)``."""
    returncode: int | None = None


@dataclass(frozen=True)
class JobLeftovers:
    """What a job leaves on the agent's node: its drivers' log lines, and Azure's output folder's files."""

    logs: dict[str, bytes] = field(default_factory=dict)
    outputs: dict[str, bytes] = field(default_factory=dict)


def _node_id() -> str:
    import ray  # only inside an actor: the module is imported by the coordinator too

    return str(ray.get_runtime_context().get_node_id())


class NodeAgent:
    """Supervises one instance's driver processes; Ray runs its methods on a thread pool (a threaded actor)."""

    def __init__(self, bundle: AgentBundle, name: str) -> None:
        self._bundle = bundle
        self.name = name
        self._node = _node_id()
        root = bundle.settings.cache_dir / "ray-agents"
        self._work = root / "work" / name
        shutil.rmtree(self._work, ignore_errors=True)  # an earlier agent of this name left it
        self._work.mkdir(parents=True, exist_ok=True)
        self._root = root
        self._host: LocalHost | None = None
        self._info: AgentInfo | None = None
        self._lock = threading.Lock()
        self._workers: dict[int, LocalWorker] = {}
        # One start per slot at a time: a job that ended while its slot was starting (it did not
        # wait) may hand the set to the next job, whose acquire of that slot then waits for it.
        self._slot_locks: dict[int, threading.Lock] = {}
        self._offsets: dict[str, int] = {}
        self._job: str | None = None

    # ---- setting up ------------------------------------------------------------------------
    def prepare(self) -> AgentInfo:
        """Build the environment and unpack the model and code, once; what was done, or why it failed."""
        with self._lock:
            if self._info is None:
                self._info = self._prepare()
            return self._info

    def _prepare(self) -> AgentInfo:
        bundle = self._bundle
        settings = bundle.settings
        python, seconds = Path(sys.executable), 0.0
        try:
            if bundle.environment is not None:
                builder = EnvironmentBuilder(settings.cache_dir, python_downloads=settings.python_downloads)
                built = builder.ensure(bundle.environment)
                python, seconds = built.python, built.seconds
            model_dir = unpack_once(bundle.model, self._root / "models")
            code_dir = BUILTIN_DIR if bundle.code is None else unpack_once(bundle.code, self._root / "code")
        except (BatchpointError, OSError, tarfile.TarError) as exc:
            return AgentInfo(self._node, os.getpid(), str(python), seconds, error=str(exc))
        output = self._work / "bi_output"
        output.mkdir(parents=True, exist_ok=True)
        store = with_retries(open_datastore(settings), settings)
        self._host = LocalHost(
            python=python,
            code_dir=code_dir,
            entry=bundle.entry,
            builtin=bundle.builtin,
            env=script_environment(model_dir, output, bundle.variables),
            logging_level=bundle.logging_level,
            work_dir=self._work,
            store=store,
            node=self._node,
        )
        return AgentInfo(self._node, os.getpid(), str(python), seconds)

    def _ready_host(self) -> LocalHost:
        host = self._host
        if host is None:
            raise RuntimeError("the agent was not prepared")  # the keeper prepares every agent first
        return host

    # ---- lending processes -----------------------------------------------------------------
    def acquire(self, slot: int, name: str, init_timeout: float, job_id: str) -> AcquireAnswer:
        """The slot's process for ``job_id``: the warm one if it is alive, else a new one after its ``init()``."""
        host = self._ready_host()
        self._begin(job_id)
        with self._lock:
            starting = self._slot_locks.setdefault(slot, threading.Lock())
        with starting:
            with self._lock:
                worker = self._workers.get(slot)
            if worker is not None and worker.process.returncode is None:
                return AcquireAnswer(True, worker.pid, worker.init_seconds)
            messages: list[tuple[int, str]] = []
            try:
                worker = host.start_worker(slot, name, init_timeout, lambda *m: messages.append(m), lambda _: None)
            except ScriptInitError as exc:
                return AcquireAnswer(
                    False, init_error=(exc.error, exc.traceback, exc.stderr_tail), messages=tuple(messages)
                )
            with self._lock:
                self._workers[slot] = worker
        return AcquireAnswer(False, worker.pid, worker.init_seconds, messages=tuple(messages))

    def stage(self, mini_batch: MiniBatch) -> StagedMiniBatch:
        """Download the mini-batch's inputs to this node."""
        return self._ready_host().stage(mini_batch)

    def release_inputs(self, mini_batch: MiniBatch) -> None:
        """Delete the mini-batch's inputs from this node."""
        self._ready_host().release_inputs(mini_batch)

    def run(
        self, slot: int, staged: StagedMiniBatch, output_action: OutputAction, timeout: float, result_format: str
    ) -> RunAnswer:
        """One attempt on the slot's process; the result file comes back as bytes and is deleted here."""
        with self._lock:
            worker = self._workers.get(slot)
        if worker is None:
            return RunAnswer(None, failure=("crash", "no process for this slot", ""))
        result_path = self._result_path(slot, staged.mini_batch.index, result_format)
        request = RunRequest(output_action, result_path, timeout, result_format)
        try:
            answer = worker.run(staged, request)
        except ScriptWorkerError as exc:
            return self._failed_run(slot, exc)
        return self._with_result(answer)

    def run_group(
        self, slot: int, staged: list[StagedMiniBatch], output_action: OutputAction, timeout: float
    ) -> list[RunAnswer]:
        """Several mini-batches in one message to the slot's process (the built-in scorer); one answer each.

        ``timeout`` is the group's (the sum of its members'). A failure of the whole attempt
        (timeout, crash, protocol) is the one answer of the list.
        """
        with self._lock:
            worker = self._workers.get(slot)
        if worker is None:
            return [RunAnswer(None, failure=("crash", "no process for this slot", ""))]
        share = timeout / max(len(staged), 1)  # the worker sums its members' timeouts into the group's again
        requests = [
            RunRequest(output_action, self._result_path(slot, s.mini_batch.index, "rows"), share, "rows")
            for s in staged
        ]
        try:
            answers = worker.run_group(staged, requests)
        except ScriptWorkerError as exc:
            return [self._failed_run(slot, exc)]
        return [self._with_result(answer) for answer in answers]

    def _result_path(self, slot: int, index: int, result_format: str) -> Path:
        stem = f"s{slot}-mb-{index:06d}"
        path = result_file(self._work / "results", stem, builtin=self._bundle.builtin, result_format=result_format)
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def _failed_run(self, slot: int, exc: ScriptWorkerError) -> RunAnswer:
        self._drop(slot)
        kind_name = "timeout" if isinstance(exc, MiniBatchTimeout) else "crash"
        kind_name = kind_name if isinstance(exc, (MiniBatchTimeout, WorkerCrashed)) else "protocol"
        returncode = exc.returncode if isinstance(exc, WorkerCrashed) else None
        headline = str(exc).split("\n--- worker log", 1)[0]
        return RunAnswer(None, failure=(kind_name, headline, exc.stderr_tail), returncode=returncode)

    @staticmethod
    def _with_result(answer: ScriptAnswer) -> RunAnswer:
        data: bytes | None = None
        if answer.ok and answer.result_path:
            path = Path(answer.result_path)
            with contextlib.suppress(FileNotFoundError):
                data = path.read_bytes()
                path.unlink()
        return RunAnswer(answer, data)

    def kill(self, slot: int) -> None:
        """Kill the slot's process now (the job is stopping); the next acquire starts another."""
        with self._lock:
            worker = self._workers.get(slot)
        if worker is not None:
            worker.kill()

    def discard(self, slot: int) -> None:
        """Close the slot's process without grace: the coordinator counted it lost."""
        self._drop(slot)

    def _drop(self, slot: int) -> None:
        with self._lock:
            worker = self._workers.pop(slot, None)
        if worker is not None:
            worker.discard()

    # ---- a job's end -----------------------------------------------------------------------
    def _begin(self, job_id: str) -> None:
        with self._lock:
            if self._job == job_id:
                return
            self._job = job_id
            logs = self._ready_host().log_dir
            self._offsets = {p.name: p.stat().st_size for p in logs.glob("*.txt")} if logs.is_dir() else {}

    def end_job(self, job_id: str) -> JobLeftovers:
        """What the job's drivers logged on this node, and what they wrote to Azure's output folder (then removed)."""
        host = self._host
        if host is None or self._job != job_id:
            return JobLeftovers()
        logs: dict[str, bytes] = {}
        if host.log_dir.is_dir():
            for path in sorted(host.log_dir.glob("*.txt")):
                with path.open("rb") as log:
                    log.seek(self._offsets.get(path.name, 0))
                    logs[path.name] = log.read()
        outputs: dict[str, bytes] = {}
        folder = self._work / "bi_output"
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                outputs[path.relative_to(folder).as_posix()] = path.read_bytes()
                path.unlink()
        with self._lock:
            self._job = None
        return JobLeftovers(logs, outputs)

    def info(self) -> AgentInfo | None:
        """What ``prepare`` did, or ``None`` before it ran."""
        return self._info

    def processes(self) -> dict[int, int]:
        """Slot → pid of the processes alive now."""
        with self._lock:
            return {slot: w.pid for slot, w in self._workers.items() if w.process.returncode is None}

    def shutdown(self) -> None:
        """Close every process (their ``shutdown()`` runs) and the zygote; the keeper ends the actor after."""
        with self._lock:
            workers = list(self._workers.values())
            self._workers.clear()
        for worker in workers:
            worker.release()
        if self._host is not None:
            self._host.close()
        shutil.rmtree(self._work, ignore_errors=True)
