"""``RayHost``: the ``WorkerHost`` whose workers are driver processes under Ray node agents, warm between jobs.

The job's coordinator (``scoring.script_pool.ScriptPool``) is unchanged: it keeps the queue, the
retries, ``error_threshold`` and the ordered merge. This host leases a set of node agents from the
pool's keeper (``pool_keeper.py``), lends the coordinator one ``RayWorker`` per slot (slot ``s`` is
process ``s % per_instance`` of agent ``s // per_instance``), and at the job's end gathers the
drivers' log lines and Azure's output folder from the nodes and hands the set back.

An agent that goes away (its node died, it was killed) fails the attempt as ``WorkerLost``: the
attempt counts like a crashed worker's, the mini-batch goes back to the queue (any slot may take
it), and the slot's next worker comes from a replacement agent the keeper starts elsewhere.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import ray
from ray.exceptions import GetTimeoutError, RayActorError, RayError

from batchpoint.errors import (
    MiniBatchTimeout,
    ScoringError,
    ScriptInitError,
    ScriptProtocolError,
    WorkerCrashed,
    WorkerLost,
)
from batchpoint.ray_compute.node_agent import AgentBundle, RunAnswer
from batchpoint.ray_compute.pool_keeper import LeaseAnswer, PoolKeeper, PoolRules
from batchpoint.ray_compute.pool_keys import NAMESPACE, PoolIdentity, slot_of
from batchpoint.scoring.input_staging import StagedMiniBatch
from batchpoint.scoring.planning import MiniBatch
from batchpoint.scoring.script_answers import ScriptAnswer
from batchpoint.scoring.worker_host import RunRequest, Say, Starting

# Beyond the mini-batch's own timeout (which the agent enforces), how long the coordinator waits
# for an agent's answer before it counts the agent as unresponsive.
ANSWER_GRACE_SECONDS = 60.0
LEASE_TIMEOUT_SECONDS = 1800.0
START_POLL_SECONDS = 0.05
"""How often a slot waiting for its driver's ``init()`` looks whether the job has ended meanwhile."""
HEAD_RESOURCE = "node:__internal_head__"
"""A resource only Ray's head node has."""  # a first lease may build the environment on every node
JOB_ENDED = "the job ended before this worker was ready: it stays in the pool, warm for the next job"


class RayWorker:
    """One driver process of an agent, as the coordinator sees it."""

    def __init__(self, host: RayHost, position: int, local_slot: int, name: str) -> None:
        self._host = host
        self.position = position
        self.local_slot = local_slot
        self._name = name
        self._pid = 0
        self._init_seconds = 0.0
        self._warm = False

    def acquired(self, pid: int, init_seconds: float, warm: bool) -> None:
        """What the agent answered: the process is ready."""
        self._pid, self._init_seconds, self._warm = pid, init_seconds, warm

    @property
    def name(self) -> str:
        """The job's name for it."""
        return self._name

    @property
    def node(self) -> str:
        """The Ray node id of its agent."""
        return self._host.node_of(self.position)

    @property
    def pid(self) -> int:
        """The driver's pid on its node."""
        return self._pid

    @property
    def init_seconds(self) -> float:
        """``init()``'s duration when it was started."""
        return self._init_seconds

    @property
    def warm(self) -> bool:
        """True when an earlier job started it."""
        return self._warm

    def _agent(self) -> Any:
        return self._host.agent(self.position)

    def stage(self, mini_batch: MiniBatch) -> StagedMiniBatch:
        """The agent downloads the inputs to its node."""
        staged: StagedMiniBatch = self._get(self._agent().stage.remote(mini_batch), mini_batch.index)
        self._host.staged_on(mini_batch, self.position)
        return staged

    def run(self, staged: StagedMiniBatch, request: RunRequest) -> ScriptAnswer:
        """One attempt on the node; the result's bytes are written at ``request.result_path`` here."""
        index = staged.mini_batch.index
        ref = self._agent().run.remote(
            self.local_slot, staged, request.output_action, request.timeout, request.result_format
        )
        try:
            answer: RunAnswer = self._get(ref, index, timeout=request.timeout + ANSWER_GRACE_SECONDS)
        except GetTimeoutError:
            self.kill()
            raise MiniBatchTimeout(index, request.timeout, "(the node agent did not answer either)") from None
        if answer.failure is not None:
            self._raise(index, request.timeout, answer)
        return self._written(answer, request)

    def run_group(self, staged: Sequence[StagedMiniBatch], requests: Sequence[RunRequest]) -> list[ScriptAnswer]:
        """Several mini-batches in one message to the node's process; each result written here."""
        index = staged[0].mini_batch.index
        timeout = sum(r.timeout for r in requests)
        ref = self._agent().run_group.remote(self.local_slot, list(staged), requests[0].output_action, timeout)
        try:
            answers: list[RunAnswer] = self._get(ref, index, timeout=timeout + ANSWER_GRACE_SECONDS)
        except GetTimeoutError:
            self.kill()
            raise MiniBatchTimeout(index, timeout, "(the node agent did not answer either)") from None
        if len(answers) == 1 and answers[0].failure is not None:
            self._raise(index, timeout, answers[0])
        return [self._written(a, r) for a, r in zip(answers, requests, strict=True)]

    @staticmethod
    def _raise(index: int, timeout: float, answer: RunAnswer) -> None:
        assert answer.failure is not None
        kind, message, tail = answer.failure
        if kind == "timeout":
            raise MiniBatchTimeout(index, timeout, tail)
        if kind == "crash":
            raise WorkerCrashed(index, answer.returncode, tail)
        raise ScriptProtocolError(message, tail)

    @staticmethod
    def _written(answer: RunAnswer, request: RunRequest) -> ScriptAnswer:
        result = answer.answer
        assert result is not None  # an answer without a failure carries the driver's answer
        if answer.result is not None:
            request.result_path.parent.mkdir(parents=True, exist_ok=True)
            request.result_path.write_bytes(answer.result)
            result = dataclasses.replace(result, result_path=str(request.result_path))
        return result

    def _get(self, ref: Any, index: int, timeout: float | None = None) -> Any:
        try:
            return ray.get(ref, timeout=timeout)
        except GetTimeoutError:
            raise
        except RayActorError as exc:
            self._host.lost(self.position)
            raise WorkerLost(index, f"agent {self.position} on node {self.node[:12]}: {type(exc).__name__}") from exc
        except RayError as exc:
            self._host.lost(self.position)
            raise WorkerLost(index, f"agent {self.position}: {exc}".split("\n")[0]) from exc

    def kill(self) -> None:
        """Ask the agent to kill the process (the job is stopping)."""
        if not self._host.is_lost(self.position):
            self._agent().kill.remote(self.local_slot)

    def discard(self) -> None:
        """The process was lost: the agent closes it (a lost agent took it along)."""
        if not self._host.is_lost(self.position):
            self._agent().discard.remote(self.local_slot)

    def release(self) -> None:
        """Nothing: the process stays warm under its agent for the next job."""


class RayHost:
    """A set of node agents leased from the pool's keeper for one job."""

    def __init__(
        self,
        *,
        identity: PoolIdentity,
        rules: PoolRules,
        bundle: Callable[[], AgentBundle],
        job_id: str,
        work_dir: Path,
        log: logging.Logger,
    ) -> None:
        """Lease the set now; ``bundle`` is called only when the pool is new (it packs the model and code)."""
        self._identity = identity
        self._rules = rules
        self._job_id = job_id
        self._log_dir = work_dir / "worker-logs"
        self._lost: set[int] = set()
        self._replacing = threading.Lock()
        self._staged: dict[int, int] = {}
        # Slots still starting when the job ends are not waited for (their drivers stay warm in the
        # pool), but no thread may be inside Ray once ``close`` returned: the process may shut Ray
        # down then, and Ray ends a process whose thread calls it after that (a test's driver).
        self._starts = threading.Condition()
        self._in_start = 0
        self._closing = False
        self._lease = self._take_lease(bundle)
        errors = self._lease.errors
        if errors:
            self._release()
            raise ScoringError(f"node agents could not prepare: {errors[0]}")
        nodes = sorted({i.node_id[:12] for i in self._lease.infos})
        log.info(
            f"workers: Ray pool {self.pool_id} set {self._lease.set_index}, "
            f"{'warm' if self._lease.warm else 'started'}, {self._lease.placement}; nodes {', '.join(nodes)}"
        )

    @property
    def pool_id(self) -> str:
        """The pool's key."""
        return self._identity.key()

    def _keeper(self) -> Any:
        keeper = ray.remote(PoolKeeper).options(
            name=self._identity.keeper_name,
            namespace=NAMESPACE,
            lifetime="detached",
            get_if_exists=True,
            num_cpus=0,
            # On the head node: a worker node may go away, and the pool's bookkeeping with it.
            resources={HEAD_RESOURCE: 0.001},
            max_concurrency=16,
        )
        return keeper.remote(self._identity.keeper_name, self.pool_id, self._rules, self._identity.deployment_prefix)

    def _take_lease(self, bundle: Callable[[], AgentBundle]) -> LeaseAnswer:
        for attempt in range(2):
            keeper = self._keeper()
            try:
                answer: LeaseAnswer = ray.get(keeper.lease.remote(self._job_id), timeout=LEASE_TIMEOUT_SECONDS)
                if answer.needs_bundle:
                    answer = ray.get(keeper.lease.remote(self._job_id, bundle()), timeout=LEASE_TIMEOUT_SECONDS)
                self._keeper_handle = keeper
                return answer
            except RayActorError:
                if attempt:  # the keeper ended as we found it (idle): the second one is new
                    raise
        raise AssertionError("unreachable")

    # ---- the port --------------------------------------------------------------------------
    @property
    def log_dir(self) -> Path:
        """The drivers' log lines of this job, copied from the nodes by ``close``."""
        return self._log_dir

    @property
    def placement(self) -> dict[str, object]:
        """The pool, whether it was warm, how its agents were placed, and on which nodes."""
        return {
            "host": "ray",
            "pool_id": self.pool_id,
            "set": self._lease.set_index,
            "reused": self._lease.warm,
            "placement": self._lease.placement,
            "nodes": [i.node_id for i in self._lease.infos],
        }

    @property
    def workers_outlive_job(self) -> bool:
        """True: a driver stays under its node agent, warm for the pool's next job."""
        return True

    def start_worker(self, slot: int, name: str, init_timeout: float, say: Say, starting: Starting) -> RayWorker:
        """The slot's process on its agent: warm, or started there now."""
        with self._start_call():
            position, local = slot_of(slot, self._rules.per_instance)
            if position in self._lost:
                try:
                    self._replace(position, say)
                except RayError as exc:
                    # Counted like a failed init(): the slot tries again, up to max_retries.
                    raise ScriptInitError(f"the lost node agent {position} could not be replaced: {exc}", "") from exc
            worker = RayWorker(self, position, local, name)
            starting(worker)
            try:
                answer = self._acquired(self.agent(position).acquire.remote(local, name, init_timeout, self._job_id))
            except RayError as exc:
                self.lost(position)
                raise ScriptInitError(f"the node agent was lost: {type(exc).__name__}", "") from exc
        for level, text in answer.messages:
            say(level, f"node {self.node_of(position)[:12]}: {text}")
        if answer.init_error is not None:
            raise ScriptInitError(*answer.init_error)
        worker.acquired(answer.pid, answer.init_seconds, answer.warm)
        return worker

    @contextlib.contextmanager
    def _start_call(self) -> Iterator[None]:
        """Counts a slot's start while it is in Ray, for ``close`` to wait on; none begins once closing."""
        with self._starts:
            if self._closing:
                raise ScriptInitError(JOB_ENDED, "")
            self._in_start += 1
        try:
            yield
        finally:
            with self._starts:
                self._in_start -= 1
                self._starts.notify_all()

    def _acquired(self, ref: Any) -> Any:
        """The agent's answer to ``acquire``; ``ScriptInitError`` once the job ends before it came
        (the agent goes on: the driver is warm for the pool's next job)."""
        while True:
            ready, _ = ray.wait([ref], timeout=START_POLL_SECONDS)
            if ready:
                return ray.get(ready[0])
            if self._closing:
                raise ScriptInitError(JOB_ENDED, "")

    def prefetch(self, mini_batch: MiniBatch) -> None:
        """Nothing: each agent downloads a mini-batch's inputs when its worker takes it."""

    def release_inputs(self, mini_batch: MiniBatch) -> None:
        """Tell the agent that staged it to delete the mini-batch's inputs."""
        position = self._staged.pop(mini_batch.index, None)
        if position is not None and position not in self._lost:
            self.agent(position).release_inputs.remote(mini_batch)

    def close(self, output_dir: Path) -> None:
        """Copy the job's log lines and output files from every agent, and hand the set back.

        Slots still waiting for a driver's ``init()`` stop waiting first (within ``START_POLL_SECONDS``).
        """
        with self._starts:
            self._closing = True
            self._starts.wait_for(lambda: self._in_start == 0, timeout=ANSWER_GRACE_SECONDS)
        self._log_dir.mkdir(parents=True, exist_ok=True)
        refs = [(p, a.end_job.remote(self._job_id)) for p, a in enumerate(self._lease.agents) if p not in self._lost]
        for position, ref in refs:
            try:
                leftovers = ray.get(ref, timeout=ANSWER_GRACE_SECONDS)
            except RayError:
                continue  # the agent went away: its lines went with it
            for name, data in leftovers.logs.items():
                target = self._log_dir / name
                if target.exists():  # every agent has its zygote.txt: the first keeps the name
                    target = self._log_dir / f"{Path(name).stem}-agent{position}.txt"
                target.write_bytes(data)
            for relative, data in leftovers.outputs.items():
                target = output_dir / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
        self._release()

    def _release(self) -> None:
        with contextlib.suppress(RayError):  # a keeper gone has nothing left to hand back
            ray.get(self._keeper_handle.release.remote(self._job_id), timeout=ANSWER_GRACE_SECONDS)

    # ---- agents ----------------------------------------------------------------------------
    def agent(self, position: int) -> Any:
        """The Ray handle of agent ``position`` of the set."""
        return self._lease.agents[position]

    def node_of(self, position: int) -> str:
        """The node id agent ``position`` runs on."""
        return self._lease.infos[position].node_id

    def staged_on(self, mini_batch: MiniBatch, position: int) -> None:
        """Agent ``position`` holds the mini-batch's inputs."""
        self._staged[mini_batch.index] = position

    def lost(self, position: int) -> None:
        """Agent ``position`` did not answer as an agent does: it is replaced before its next use."""
        self._lost.add(position)

    def is_lost(self, position: int) -> bool:
        """True until the lost agent is replaced."""
        return position in self._lost

    def _replace(self, position: int, say: Say) -> None:
        with self._replacing:
            if position not in self._lost:
                return  # another slot of the same agent replaced it meanwhile
            old = self.node_of(position)
            self._lease = ray.get(
                self._keeper_handle.replace.remote(self._job_id, self._lease.set_index, position, old),
                timeout=LEASE_TIMEOUT_SECONDS,
            )
            self._lost.discard(position)
        say(
            logging.WARNING,
            f"node agent {position} (node {old[:12]}) was lost: replaced on node {self.node_of(position)[:12]}",
        )
