"""``PoolKeeper``: a detached Ray actor owning one warm pool — its placement groups, its node agents, its idling.

There is one keeper per pool id (``pool_keys.PoolIdentity``), found by name, created by the first
job that needs it. A job leases a set of ``instance_count`` agents from it (``pool_state.py`` does
the bookkeeping), uses them, and releases them; they stay, warm, for the next job.

- A new set gets a placement group of one bundle per agent: SPREAD over distinct nodes when the
  cluster has enough alive nodes, PACK otherwise (``placement.py``). An agent that died is replaced
  outside the group, wherever Ray finds room, so a dead node's bundle is never waited for.
- A watchdog ends what idled past ``idle_time_before_scale_down`` (keeping ``min_instances``
  agents), removes the groups left empty, and ends the keeper once it holds nothing.
- A keeper created for a deployment drains the deployment's other pools (an older model version or
  setting): they end as soon as their jobs release them.

The keeper holds the pool's ``AgentBundle`` (model and code bytes) in Ray's object store, so a
warm job ships nothing.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

import ray
from ray.exceptions import GetTimeoutError, RayActorError
from ray.util.placement_group import PlacementGroup, placement_group, remove_placement_group
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy, PlacementGroupSchedulingStrategy

from batchpoint.ray_compute.node_agent import AgentBundle, AgentInfo, NodeAgent
from batchpoint.ray_compute.placement import AGENT_CPUS, Placement, placement_for
from batchpoint.ray_compute.pool_keys import agent_name
from batchpoint.ray_compute.pool_state import PoolState

WATCH_SECONDS = 0.5
PLACEMENT_TIMEOUT_SECONDS = 60.0
SHUTDOWN_TIMEOUT_SECONDS = 30.0
REPLACE_ATTEMPTS = 3
REPLACE_PAUSE_SECONDS = 2.0
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PoolRules:
    """What the pool's compute (AmlCompute) and deployment say about its shape and idling."""

    instance_count: int
    per_instance: int
    min_instances: int = 0
    idle_seconds: float = 120.0


@dataclass(frozen=True)
class LeaseAnswer:
    """A set lent to a job: its agents (Ray handles, by position), where they run, and what was started."""

    pool_id: str
    set_index: int
    agents: tuple[Any, ...]
    infos: tuple[AgentInfo, ...]
    warm: bool
    placement: str
    needs_bundle: bool = False
    """The pool has no bundle yet: lease again with it (the first job of a pool ships it)."""

    @property
    def errors(self) -> list[str]:
        """Agents that could not prepare (the environment failed to build on their node, ...)."""
        return [i.error for i in self.infos if i.error]


def alive_node_ids() -> list[str]:
    """Alive nodes with CPUs (where agents can go), by id."""
    nodes: list[dict[str, Any]] = ray.nodes()  # type: ignore[no-untyped-call]
    return [str(n["NodeID"]) for n in nodes if n.get("Alive") and float(n.get("Resources", {}).get("CPU", 0)) > 0]


def alive_nodes() -> int:
    """Alive nodes with CPUs: what SPREAD can spread over."""
    return len(alive_node_ids())


class PoolKeeper:
    """One pool's sets of node agents (a threaded, detached actor: leases and the watchdog run side by side)."""

    def __init__(self, name: str, pool_id: str, rules: PoolRules, drain_prefix: str) -> None:
        self.name = name
        self.pool_id = pool_id
        self._rules = rules
        self._state = PoolState(rules.instance_count, rules.min_instances, rules.idle_seconds)
        self._lock = threading.RLock()
        self._bundle: Any = None  # an ObjectRef of the AgentBundle
        self._agents: dict[tuple[int, int], Any] = {}
        self._infos: dict[tuple[int, int], AgentInfo] = {}
        self._groups: dict[int, tuple[PlacementGroup, Placement]] = {}
        self._served = False
        self._ended = False
        self._drain_others(drain_prefix)
        threading.Thread(target=self._watch, name="pool-watchdog", daemon=True).start()

    # ---- leases ----------------------------------------------------------------------------
    def lease(self, job_id: str, bundle: AgentBundle | None = None) -> LeaseAnswer:
        """A set for ``job_id``, its missing agents started and prepared first."""
        with self._lock:
            if bundle is not None and self._bundle is None:
                self._bundle = ray.put(bundle)
            if self._bundle is None:
                return LeaseAnswer(self.pool_id, -1, (), (), False, "", needs_bundle=True)
            lease = self._state.lease(job_id)
            self._served = True
            group = self._groups.get(lease.set_index)
            if group is None:
                group = self._placement_group(lease.set_index)
            started = [self._start_agent(lease.set_index, position, group[0]) for position in lease.to_start]
            for position, handle in started:
                self._agents[(lease.set_index, position)] = handle
            # Prepared side by side: each builds its node's environment.
            infos = ray.get([handle.prepare.remote() for _, handle in started])
            for (position, _), info in zip(started, infos, strict=True):
                self._infos[(lease.set_index, position)] = info
                self._state.started(lease.set_index, position)
            return self._answer(lease.set_index, warm=lease.warm, placement=group[1].reason)

    def replace(self, job_id: str, set_index: int, position: int, lost_node: str) -> LeaseAnswer:
        """Agent ``position`` of the job's set was lost on ``lost_node``: start another elsewhere; answer the set.

        The lost node may not be known dead yet (an agent is unavailable before its node is declared
        dead), so the replacement goes to another alive node when there is one, and a replacement
        that dies while preparing is tried again.
        """
        with self._lock:
            self._state.lost(set_index, position)
            old = self._agents.pop((set_index, position), None)
            if old is not None:
                with contextlib.suppress(Exception):
                    ray.kill(old)
            avoid = {lost_node}
            for attempt in range(REPLACE_ATTEMPTS):
                _, handle = self._start_agent(set_index, position, None, avoid=avoid)
                try:
                    info: AgentInfo = ray.get(handle.prepare.remote(), timeout=PLACEMENT_TIMEOUT_SECONDS)
                except (RayActorError, GetTimeoutError) as exc:
                    _log.warning("pool %s: replacement agent %s failed (%s)", self.pool_id, position, exc)
                    with contextlib.suppress(Exception):
                        ray.kill(handle)
                    if attempt == REPLACE_ATTEMPTS - 1:
                        raise
                    time.sleep(REPLACE_PAUSE_SECONDS)
                    continue
                self._agents[(set_index, position)] = handle
                self._infos[(set_index, position)] = info
                self._state.started(set_index, position)
                break
            group = self._groups.get(set_index)
            return self._answer(set_index, warm=False, placement=group[1].reason if group else "")

    def release(self, job_id: str) -> None:
        """The job is done with its set: it idles from now."""
        with self._lock:
            self._state.release(job_id, time.monotonic())

    def drain(self) -> None:
        """A newer pool of the deployment exists: end each set once released."""
        with self._lock:
            self._state.drain()

    def describe(self) -> dict[str, Any]:
        """The pool as it stands: sets, agents alive, who holds them (for tests and ``ray list``)."""
        with self._lock:
            return {
                "pool_id": self.pool_id,
                "drained": self._state.drained,
                "sets": {
                    index: {"alive": list(s.alive), "leased_by": s.leased_by} for index, s in self._state.sets.items()
                },
            }

    # ---- agents and groups -----------------------------------------------------------------
    def _answer(self, set_index: int, *, warm: bool, placement: str) -> LeaseAnswer:
        positions = range(self._rules.instance_count)
        agents = tuple(self._agents[(set_index, p)] for p in positions)
        infos = tuple(self._infos[(set_index, p)] for p in positions)
        return LeaseAnswer(self.pool_id, set_index, agents, infos, warm, placement)

    def _placement_group(self, set_index: int) -> tuple[PlacementGroup, Placement]:
        placement = placement_for(self._rules.instance_count, alive_nodes())
        group = placement_group(
            placement.bundles, strategy=placement.strategy, name=f"{self.name}-s{set_index}", lifetime="detached"
        )
        ray.get(group.ready(), timeout=PLACEMENT_TIMEOUT_SECONDS)
        self._groups[set_index] = (group, placement)
        return group, placement

    def _start_agent(
        self, set_index: int, position: int, group: PlacementGroup | None, avoid: set[str] | None = None
    ) -> tuple[int, Any]:
        name = agent_name(self.name, set_index, position)
        options: dict[str, Any] = {
            "name": name,
            "num_cpus": AGENT_CPUS,
            # Its methods block on its processes; kills and stages must get through meanwhile.
            "max_concurrency": 2 * self._rules.per_instance + 4,
            "max_restarts": 0,
        }
        if group is not None:
            options["scheduling_strategy"] = PlacementGroupSchedulingStrategy(
                group, placement_group_bundle_index=position
            )
        elif avoid:
            elsewhere = [node for node in alive_node_ids() if node not in avoid]
            if elsewhere:
                target = elsewhere[position % len(elsewhere)]
                options["scheduling_strategy"] = NodeAffinitySchedulingStrategy(target, soft=True)
        handle = ray.remote(NodeAgent).options(**options).remote(self._bundle, name)
        return position, handle

    def _end_agent(self, key: tuple[int, int]) -> None:
        handle = self._agents.pop(key, None)
        self._infos.pop(key, None)
        if handle is None:
            return
        with contextlib.suppress(Exception):
            ray.get(handle.shutdown.remote(), timeout=SHUTDOWN_TIMEOUT_SECONDS)
        with contextlib.suppress(Exception):
            ray.kill(handle)

    # ---- idling ----------------------------------------------------------------------------
    def _watch(self) -> None:
        while not self._ended:
            time.sleep(WATCH_SECONDS)
            try:
                self._scale_down()
            except Exception:  # the watchdog must outlive one bad round
                _log.exception("pool %s: scaling down failed", self.pool_id)

    def _scale_down(self) -> None:
        with self._lock:
            ending = self._state.scale_down(time.monotonic())
            for key in ending.agents:
                self._end_agent(key)
            for index in ending.sets_removed:
                group = self._groups.pop(index, None)
                if group is not None:
                    with contextlib.suppress(Exception):
                        remove_placement_group(group[0])
            done = self._served and self._state.empty
            if done:
                self._ended = True
        if done:
            ray.kill(ray.get_runtime_context().current_actor, no_restart=True)

    def _drain_others(self, prefix: str) -> None:
        for name in ray.util.list_named_actors():
            if (
                isinstance(name, str)
                and name.startswith(prefix)
                and name != self.name
                and "-s" not in name[len(prefix) :]
            ):
                with contextlib.suppress(Exception):
                    ray.get_actor(name).drain.remote()
