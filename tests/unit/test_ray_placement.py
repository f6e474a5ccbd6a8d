"""Where a set's node agents go: SPREAD over distinct nodes when the cluster has enough, else PACK."""

from __future__ import annotations

import pytest

from batchpoint.ray_compute.placement import AGENT_CPUS, Placement, placement_for


@pytest.mark.parametrize(
    ("instance_count", "alive_nodes", "strategy"),
    [
        (1, 1, "PACK"),
        (1, 5, "PACK"),  # one agent: nothing to spread
        (1, 0, "PACK"),
        (2, 1, "PACK"),  # the embedded stack: one machine
        (3, 2, "PACK"),
        (2, 0, "PACK"),
        (2, 2, "SPREAD"),
        (3, 3, "SPREAD"),
        (2, 7, "SPREAD"),
    ],
)
def test_spread_when_the_cluster_has_a_node_per_instance_else_pack(
    instance_count: int, alive_nodes: int, strategy: str
) -> None:
    placement = placement_for(instance_count, alive_nodes)

    assert placement.strategy == strategy
    assert placement.instance_count == instance_count
    assert placement.nodes == alive_nodes


@pytest.mark.parametrize(("instance_count", "alive_nodes"), [(1, 1), (2, 1), (4, 4), (3, 8)])
def test_one_bundle_of_a_cpu_sliver_per_instance(instance_count: int, alive_nodes: int) -> None:
    bundles = placement_for(instance_count, alive_nodes).bundles

    assert bundles == [{"CPU": AGENT_CPUS}] * instance_count
    assert 0 < AGENT_CPUS < 1  # a sliver: agents must not take whole CPUs from the scoring processes


def test_bundles_are_fresh_lists_each_time() -> None:
    placement = placement_for(2, 2)

    placement.bundles[0]["CPU"] = 1.0

    assert placement.bundles[0] == {"CPU": AGENT_CPUS}


def test_the_spread_reason_names_the_instances_and_the_nodes() -> None:
    assert placement_for(3, 5).reason == "3 instances spread over distinct nodes (5 in the cluster)"


@pytest.mark.parametrize(
    ("alive_nodes", "reason"),
    [
        (1, "2 instances packed: the cluster has 1 node, fewer than instance_count"),
        (0, "2 instances packed: the cluster has 0 nodes, fewer than instance_count"),
    ],
)
def test_the_pack_reason_names_the_instances_and_the_nodes(alive_nodes: int, reason: str) -> None:
    assert placement_for(2, alive_nodes).reason == reason


def test_a_single_instance_says_so() -> None:
    assert placement_for(1, 4) == Placement("PACK", 1, 4, "one instance: one node agent")


@pytest.mark.parametrize("instance_count", [0, -1])
def test_fewer_than_one_instance_is_refused(instance_count: int) -> None:
    with pytest.raises(ValueError, match=f"instance_count must be >= 1, got {instance_count}"):
        placement_for(instance_count, 3)
