"""``LocalHost``: worker processes on this machine — the drivers, the zygote they fork from, their inputs.

The in-process implementation of ``worker_host.WorkerHost``: a job without a cluster runs its
workers here, as children of the coordinator, and each Ray node agent
(``batchpoint.ray_compute.node_agent``) runs one to supervise the processes on its node. It owns:

- the zygote that forks the built-in scorer's drivers with MLflow already imported (started by the
  first worker to need it; a zygote that cannot start means each driver starts on its own);
- the drivers, each a ``ScriptProcess`` in its own process group, with its log in ``log_dir``;
- the inputs, downloaded from the store into ``work_dir/inputs`` a few mini-batches ahead.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

from batchpoint.errors import ScoringError
from batchpoint.scoring.input_staging import InputStager, StagedMiniBatch
from batchpoint.scoring.planning import MiniBatch
from batchpoint.scoring.script_answers import ScriptAnswer
from batchpoint.scoring.script_process import (
    LEAKY_VARIABLES,
    GroupMember,
    ScriptProcess,
    process_log,
    script_environment,
)
from batchpoint.scoring.worker_host import LOCAL_NODE, HostRequest, RunRequest, Say, Starting
from batchpoint.scoring.zygote_client import Zygote
from batchpoint.storage.port import ObjectStore


class LocalWorker:
    """A ``ScriptProcess`` lent to a job; ``release`` closes it (its ``shutdown()`` runs)."""

    def __init__(self, process: ScriptProcess, stager: InputStager, node: str = LOCAL_NODE) -> None:
        self.process = process
        self._stager = stager
        self._node = node

    @property
    def name(self) -> str:
        """The process's name, which names its log."""
        return self.process.name

    @property
    def node(self) -> str:
        """``local``, or the node of the agent running it."""
        return self._node

    @property
    def pid(self) -> int:
        """The driver's process id."""
        return self.process.pid

    @property
    def init_seconds(self) -> float:
        """``init()``'s duration, as the driver measured it."""
        return self.process.init_seconds or 0.0

    @property
    def warm(self) -> bool:
        """Never: a local worker lives for one job."""
        return False

    def stage(self, mini_batch: MiniBatch) -> StagedMiniBatch:
        """The mini-batch's inputs, downloaded (or prefetched earlier) under the host's work folder."""
        return self._stager.get(mini_batch)

    def run(self, staged: StagedMiniBatch, request: RunRequest) -> ScriptAnswer:
        """One ``run()`` of the staged files."""
        return self.process.run_mini_batch(
            staged.mini_batch.index,
            staged.paths,
            request.output_action,
            request.result_path,
            request.timeout,
            result_format=request.result_format,
        )

    def run_group(self, staged: Sequence[StagedMiniBatch], requests: Sequence[RunRequest]) -> list[ScriptAnswer]:
        """One grouped ``run`` of several staged mini-batches."""
        members = [
            GroupMember(s.mini_batch.index, s.paths, r.result_path) for s, r in zip(staged, requests, strict=True)
        ]
        return self.process.run_group(members, requests[0].output_action, sum(r.timeout for r in requests))

    def kill(self) -> None:
        """Kill the driver's process group."""
        self.process.kill()

    def discard(self) -> None:
        """Close at once: the process is lost."""
        self.process.close(grace=0)

    def release(self) -> None:
        """Close: stdin ends, the script's ``shutdown()`` runs, the process exits."""
        self.process.close()


class LocalHost:
    """Drivers of one script on this machine: ``python script_driver.py --code code_dir --entry entry``."""

    def __init__(
        self,
        *,
        python: Path,
        code_dir: Path,
        entry: str,
        builtin: bool,
        env: Mapping[str, str],
        logging_level: str,
        work_dir: Path,
        store: ObjectStore,
        node: str = LOCAL_NODE,
    ) -> None:
        """``env`` is what every driver sees on top of this process's environment (``script_environment``)."""
        self.python = python
        self.code_dir = code_dir
        self.entry = entry
        self.builtin = builtin
        self.node = node
        self._env = dict(env)
        self._logging_level = logging_level
        self._log_dir = work_dir / "worker-logs"
        # The built-in scorer's code folder is batchpoint's own package: what MLflow writes to the
        # working folder (MLflow 2.x creates ./mlruns when it loads a model) goes to the job's instead.
        self._cwd: Path | None = None
        if builtin:
            self._cwd = work_dir / "scorer-cwd"
            self._cwd.mkdir(parents=True, exist_ok=True)
        self._stager = InputStager(store, work_dir / "inputs")
        self._zygote: Zygote | None = None
        self._zygote_tried = False
        self._zygote_lock = threading.Lock()

    @property
    def log_dir(self) -> Path:
        """Each driver's log, ``<name>.txt``, and the zygote's."""
        return self._log_dir

    @property
    def placement(self) -> dict[str, object]:
        """Workers are this job's children, on this machine."""
        return {"host": "in-process", "pool_id": None, "reused": False, "nodes": [self.node]}

    @property
    def workers_outlive_job(self) -> bool:
        """False: the drivers are the job's children and end with it."""
        return False

    def start_worker(self, slot: int, name: str, init_timeout: float, say: Say, starting: Starting) -> LocalWorker:
        """Start a driver and wait for its ``init()`` (``ScriptInitError`` when it fails or hangs)."""
        worker = LocalWorker(self.new_process(name, say), self._stager, self.node)
        starting(worker)
        try:
            worker.process.start(init_timeout)
        except BaseException:
            worker.process.close()
            raise
        return worker

    def new_process(self, name: str, say: Say) -> ScriptProcess:
        """A driver process, forked by the zygote for the built-in scorer, started on its own otherwise."""
        args = (self.python, self.code_dir, self.entry, self._env, self._logging_level, self._log_dir)
        try:
            return ScriptProcess(*args, name=name, zygote=self._zygote_for_builtin(say), cwd=self._cwd)
        except ScoringError as exc:
            # The zygote is gone: a driver of its own is slower to start but just as good.
            say(logging.WARNING, f"{name}: {exc}; starting it on its own")
            return ScriptProcess(*args, name=name, cwd=self._cwd)

    def prefetch(self, mini_batch: MiniBatch) -> None:
        """Start downloading the mini-batch's inputs."""
        self._stager.prefetch(mini_batch)

    def stage(self, mini_batch: MiniBatch) -> StagedMiniBatch:
        """The mini-batch's inputs on this machine's disk."""
        return self._stager.get(mini_batch)

    def release_inputs(self, mini_batch: MiniBatch) -> None:
        """Delete the mini-batch's staged inputs."""
        self._stager.release(mini_batch)

    def close(self, output_dir: Path | None = None) -> None:
        """Stop staging and end the zygote; the drivers write Azure's output folder themselves."""
        self._stager.close()
        if self._zygote is not None:
            self._zygote.close()
            self._zygote = None

    def _zygote_for_builtin(self, say: Say) -> Zygote | None:
        """The zygote forking the built-in scorer's drivers, started by the first worker to need it."""
        if not self.builtin:
            return None
        with self._zygote_lock:
            if not self._zygote_tried:
                self._zygote_tried = True
                env = {k: v for k, v in os.environ.items() if k not in LEAKY_VARIABLES}
                try:
                    self._zygote = Zygote.start(self.python, {**env, **self._env}, process_log(self._log_dir, "zygote"))
                except ScoringError as exc:
                    say(logging.WARNING, f"starting each driver on its own: {exc}")
            return self._zygote


def local_host(request: HostRequest) -> LocalHost:
    """The job's workers as children of this process: the host when no cluster is configured."""
    runtime = request.runtime
    request.output_dir.mkdir(parents=True, exist_ok=True)
    return LocalHost(
        python=runtime.python,
        code_dir=runtime.code_dir,
        entry=runtime.entry,
        builtin=runtime.builtin,
        env=script_environment(runtime.model_dir, request.output_dir, request.variables),
        logging_level=request.deployment.settings.logging_level,
        work_dir=request.work_dir,
        store=request.store,
    )
