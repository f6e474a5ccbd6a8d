"""What makes two jobs' workers interchangeable (the pool id) and the Ray names their pool goes by."""

from __future__ import annotations

import dataclasses
import re

import pytest

from batchpoint.ray_compute.pool_keys import (
    PREFIX,
    PoolIdentity,
    agent_name,
    deployment_prefix,
    slot_of,
)

IDENTITY = PoolIdentity(
    endpoint="sales-forecast",
    deployment="blue",
    model="forecaster:3",
    environment_key="env-5f2a",
    entry="score.py",
    code_digest="0123456789abcdef",
    variables={"REGION": "west", "THRESHOLD": "0.5"},
    logging_level="info",
    instance_count=2,
    per_instance=3,
)


def test_the_key_is_sixteen_hex_digits_and_stable() -> None:
    key = IDENTITY.key()

    assert re.fullmatch(r"[0-9a-f]{16}", key)
    assert dataclasses.replace(IDENTITY).key() == key


def test_the_key_does_not_depend_on_the_order_of_the_variables() -> None:
    reordered = dataclasses.replace(IDENTITY, variables={"THRESHOLD": "0.5", "REGION": "west"})

    assert list(reordered.variables) != list(IDENTITY.variables)
    assert reordered.key() == IDENTITY.key()


@pytest.mark.parametrize(
    "change",
    [
        {"endpoint": "sales-forecast-2"},
        {"deployment": "green"},
        {"model": "forecaster:4"},  # a new model version
        {"environment_key": "env-9c1d"},
        {"environment_key": None},
        {"entry": "batch_score.py"},
        {"code_digest": "fedcba9876543210"},
        {"variables": {"REGION": "east", "THRESHOLD": "0.5"}},
        {"variables": {"REGION": "west"}},
        {"variables": {"REGION": "west", "THRESHOLD": "0.5", "EXTRA": ""}},
        {"variables": {}},
        {"logging_level": "debug"},
        {"instance_count": 3},
        {"per_instance": 1},
    ],
    ids=lambda change: ",".join(f"{k}={v}" for k, v in change.items()),
)
def test_every_field_changes_the_key(change: dict[str, object]) -> None:
    assert dataclasses.replace(IDENTITY, **change).key() != IDENTITY.key()  # type: ignore[arg-type]


def test_a_variable_name_and_value_do_not_run_together() -> None:
    joined = dataclasses.replace(IDENTITY, variables={"AB": "C"})
    split = dataclasses.replace(IDENTITY, variables={"A": "BC"})

    assert joined.key() != split.key()


def test_the_keeper_name_is_the_deployment_prefix_and_the_key() -> None:
    assert IDENTITY.deployment_prefix == "bp-pool.sales-forecast.blue."
    assert IDENTITY.keeper_name == f"bp-pool.sales-forecast.blue.{IDENTITY.key()}"
    assert IDENTITY.keeper_name.startswith(PREFIX + ".")


def test_agent_names_extend_the_keeper_name_with_set_and_position() -> None:
    name = agent_name(IDENTITY.keeper_name, 0, 1)

    assert name == f"{IDENTITY.keeper_name}-s0-a1"
    assert agent_name("k", 12, 3) == "k-s12-a3"
    # The keeper tells its deployment's other keepers from their agents by this (pool_keeper._drain_others).
    assert "-s" not in IDENTITY.keeper_name[len(IDENTITY.deployment_prefix) :]
    assert "-s" in name[len(IDENTITY.deployment_prefix) :]


@pytest.mark.parametrize(
    ("endpoint", "deployment", "prefix"),
    [
        ("sales-forecast", "blue_2", "bp-pool.sales-forecast.blue_2."),
        ("sales forecast", "blue/green", "bp-pool.sales_forecast.blue_green."),
        ("a.b", "c", "bp-pool.a_b.c."),  # a dot would shift the separators
        ("é", "x*y?", "bp-pool._.x_y_."),
    ],
)
def test_the_deployment_prefix_makes_unsafe_characters_underscores(endpoint: str, deployment: str, prefix: str) -> None:
    assert deployment_prefix(endpoint, deployment) == prefix


def test_one_deployments_prefix_is_not_the_start_of_anothers() -> None:
    assert not deployment_prefix("sales", "blue-2").startswith(deployment_prefix("sales", "blue"))
    assert not deployment_prefix("sales-2", "blue").startswith(deployment_prefix("sales", "blue"))


@pytest.mark.parametrize(
    ("worker_slot", "per_instance", "slot"),
    [(0, 1, (0, 0)), (3, 1, (3, 0)), (0, 3, (0, 0)), (2, 3, (0, 2)), (3, 3, (1, 0)), (7, 3, (2, 1))],
)
def test_a_worker_slot_is_an_agent_and_one_of_its_processes(
    worker_slot: int, per_instance: int, slot: tuple[int, int]
) -> None:
    assert slot_of(worker_slot, per_instance) == slot


@pytest.mark.parametrize("per_instance", [0, -2])
def test_fewer_than_one_process_per_instance_is_refused(per_instance: int) -> None:
    with pytest.raises(ValueError, match="per_instance must be >= 1"):
        slot_of(0, per_instance)
