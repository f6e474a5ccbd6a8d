"""Where a set's node agents go: spread over distinct nodes when the cluster has enough, else packed.

Pure: the number of alive nodes in, a Ray placement-group strategy and the line saying why out.
Agents reserve a sliver of CPU each (``AGENT_CPUS``): they supervise processes Ray does not count,
and whole CPUs per agent starved other tasks on a 2-core machine (docs/ray-compute.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

AGENT_CPUS = 0.01
"""What one node agent reserves: enough for a placement-group bundle (which must ask for something)."""

Strategy = Literal["SPREAD", "PACK"]


@dataclass(frozen=True)
class Placement:
    """A placement group's strategy and bundles for ``instance_count`` agents, and why."""

    strategy: Strategy
    instance_count: int
    nodes: int
    reason: str

    @property
    def bundles(self) -> list[dict[str, float]]:
        """One bundle per agent."""
        return [{"CPU": AGENT_CPUS} for _ in range(self.instance_count)]


def placement_for(instance_count: int, alive_nodes: int) -> Placement:
    """SPREAD when there are at least ``instance_count`` nodes, PACK otherwise (one machine: the embedded case)."""
    if instance_count < 1:
        raise ValueError(f"instance_count must be >= 1, got {instance_count}")
    if instance_count == 1:
        return Placement("PACK", 1, alive_nodes, "one instance: one node agent")
    if alive_nodes >= instance_count:
        reason = f"{instance_count} instances spread over distinct nodes ({alive_nodes} in the cluster)"
        return Placement("SPREAD", instance_count, alive_nodes, reason)
    reason = (
        f"{instance_count} instances packed: the cluster has {alive_nodes} node{'s' if alive_nodes != 1 else ''}, "
        f"fewer than instance_count"
    )
    return Placement("PACK", instance_count, alive_nodes, reason)
