"""The port between a job's coordinator (``script_pool.ScriptPool``) and where its worker processes run.

The coordinator keeps the work queue, the retry counts, ``error_threshold`` and the ordered merge
(``attempt_policy``, ``pool_run``). A ``WorkerHost`` gives it ``Worker``s: one ``script_driver.py``
process each, ``init()`` already run, wherever the host keeps them. Two hosts implement it:

- ``local_host.LocalHost``: child processes of the coordinator, on its machine, for one job;
- ``batchpoint.ray_compute.ray_host.RayHost``: processes supervised by Ray actors (node agents) on
  the cluster's nodes, kept warm between jobs. Each agent runs a ``LocalHost`` of its own, so the
  same class starts, kills and replaces the processes in both.

A ``Worker`` stages its mini-batch's inputs itself (a remote node has no disk shared with the
coordinator) and writes ``run()``'s result at the path the coordinator names on its own disk.
Timeouts, crashes and failed ``init()`` surface as today's exceptions (``ScriptWorkerError``,
``ScriptInitError``), whichever host raised them, so the attempt policy is the same for both.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from batchpoint.models.resolved import ResolvedModel
from batchpoint.scoring.input_staging import StagedMiniBatch
from batchpoint.scoring.planning import MiniBatch
from batchpoint.scoring.runtime import WorkerRuntime
from batchpoint.scoring.script_answers import ScriptAnswer
from batchpoint.scoring.script_process import OutputAction
from batchpoint.specs.deployment import BatchDeployment
from batchpoint.storage.port import ObjectStore

Say = Callable[[int, str], None]
"""How a host tells the job's log something: ``say(logging.WARNING, "...")``, from any thread."""
Starting = Callable[["Worker"], None]
"""Told of a worker whose ``init()`` is under way (``WorkerHost.start_worker``)."""
LOCAL_NODE = "local"
"""The node name of workers running on the coordinator's machine, outside any cluster."""


@dataclass(frozen=True)
class RunRequest:
    """One attempt at a mini-batch, as the driver is asked for it."""

    output_action: OutputAction
    result_path: Path
    """Where the rows go, on the coordinator's disk (a remote worker's are copied there)."""
    timeout: float
    result_format: str = "rows"


class Worker(Protocol):
    """One driver process that has run ``init()``, lent to the job's coordinator."""

    @property
    def name(self) -> str:
        """The job's name for it (``worker-3``): its log is ``<name>.txt``."""
        ...

    @property
    def node(self) -> str:
        """Where it runs: ``local``, or the Ray node's id."""
        ...

    @property
    def pid(self) -> int:
        """The driver's process id on its node."""
        ...

    @property
    def init_seconds(self) -> float:
        """How long its ``init()`` took (in the job that started it, for a warm worker)."""
        ...

    @property
    def warm(self) -> bool:
        """True when ``init()`` ran in an earlier job: this job paid no start-up for it."""
        ...

    def stage(self, mini_batch: MiniBatch) -> StagedMiniBatch:
        """The mini-batch's inputs on the worker's disk (paths there), or why they could not be fetched."""
        ...

    def run(self, staged: StagedMiniBatch, request: RunRequest) -> ScriptAnswer:
        """One ``run(mini_batch)``; raises ``ScriptWorkerError`` on timeout (killed), crash or protocol error."""
        ...

    def run_group(self, staged: Sequence[StagedMiniBatch], requests: Sequence[RunRequest]) -> list[ScriptAnswer]:
        """Several mini-batches in one message (the built-in scorer's grouped request); one answer each.

        The group's timeout is the sum of its requests'. Raises as ``run`` does; when the script
        failed the group as a whole, every answer is that failure.
        """
        ...

    def kill(self) -> None:
        """Kill the process now (the job is stopping); any thread may call it."""
        ...

    def discard(self) -> None:
        """The process was lost (timeout, crash): close it without grace; it is never lent again."""
        ...

    def release(self) -> None:
        """The job is done with it: a job-local host closes it, a warm pool keeps it for the next job."""
        ...


class WorkerHost(Protocol):
    """Where a job's workers run; ``start_worker`` lends one per slot, ``close`` ends the job's use."""

    @property
    def log_dir(self) -> Path:
        """The job's worker logs (``<name>.txt`` each) on the coordinator's disk, complete after ``close``."""
        ...

    @property
    def placement(self) -> dict[str, object]:
        """For the manifest: the host's kind, and for a pool its id, whether it was reused, its nodes."""
        ...

    @property
    def workers_outlive_job(self) -> bool:
        """Whether a worker started for the job stays ready for the next one (a warm pool's do).

        A job then does not wait, once its mini-batches are done, for a worker still starting.
        """
        ...

    def start_worker(self, slot: int, name: str, init_timeout: float, say: Say, starting: Starting) -> Worker:
        """A ready worker for ``slot`` (``0 .. slots-1``): warm, or started now.

        ``starting`` is called with the worker before its ``init()`` is waited for, so that a stop can
        kill it meanwhile. Raises ``ScriptInitError`` when ``init()`` fails or hangs.
        """
        ...

    def prefetch(self, mini_batch: MiniBatch) -> None:
        """A hint: this mini-batch comes soon (a host that stages on the coordinator downloads it now)."""
        ...

    def release_inputs(self, mini_batch: MiniBatch) -> None:
        """The mini-batch is final: its staged inputs may go."""
        ...

    def close(self, output_dir: Path) -> None:
        """End the job's use: gather worker logs into ``log_dir`` and Azure's output folder into ``output_dir``."""
        ...


@dataclass(frozen=True)
class HostRequest:
    """What a job asks of a host: who its workers are, and where the job keeps its files."""

    runtime: WorkerRuntime
    endpoint: str
    deployment: BatchDeployment
    model: ResolvedModel
    job_id: str
    work_dir: Path
    variables: Mapping[str, str]
    """What every driver sees beyond Azure's paths: thread limits and the deployment's variables."""
    output_dir: Path
    """Azure's output folder (``AZUREML_BI_OUTPUT_PATH``) on the coordinator's disk."""
    store: ObjectStore
    log: logging.Logger


HostFactory = Callable[[HostRequest], WorkerHost]
"""Chooses and opens the host for a job (``local_host.local_host``, or a Ray one)."""
