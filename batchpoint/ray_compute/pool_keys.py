"""What makes two jobs' workers interchangeable, and the Ray names their pool goes by. Pure.

A warm pool is keyed by everything a driver process is started with: the deployment, the model
version, the environment, the scoring code, the variables the script sees, and the compute shape.
A new model version or deployment setting gives a new key, hence a new pool; the old one drains.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

NAMESPACE = "batchpoint"
"""The Ray namespace of every pool keeper and node agent."""
PREFIX = "bp-pool"
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


@dataclass(frozen=True)
class PoolIdentity:
    """The facts a pool's drivers were started with; equal identities may share warm workers."""

    endpoint: str
    deployment: str
    model: str
    """``name:version`` (or the URI of an unregistered model)."""
    environment_key: str | None
    entry: str
    code_digest: str
    """Digest of the scoring code (or ``builtin``)."""
    variables: Mapping[str, str] = field(default_factory=dict)
    logging_level: str = "info"
    instance_count: int = 1
    per_instance: int = 1

    def key(self) -> str:
        """16 hex digits over every field: the pool's id."""
        facts = {
            "endpoint": self.endpoint,
            "deployment": self.deployment,
            "model": self.model,
            "environment": self.environment_key,
            "entry": self.entry,
            "code": self.code_digest,
            "variables": dict(sorted(self.variables.items())),
            "logging_level": self.logging_level,
            "instance_count": self.instance_count,
            "per_instance": self.per_instance,
        }
        return hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()[:16]

    @property
    def deployment_prefix(self) -> str:
        """The names of every pool of this deployment start with this."""
        return deployment_prefix(self.endpoint, self.deployment)

    @property
    def keeper_name(self) -> str:
        """The pool keeper actor's name: ``bp-pool.<endpoint>.<deployment>.<key>``."""
        return f"{self.deployment_prefix}{self.key()}"


def deployment_prefix(endpoint: str, deployment: str) -> str:
    """``bp-pool.<endpoint>.<deployment>.``, with anything but letters, digits, ``-`` and ``_`` made ``_``."""
    return f"{PREFIX}.{_UNSAFE.sub('_', endpoint)}.{_UNSAFE.sub('_', deployment)}."


def agent_name(keeper_name: str, set_index: int, position: int) -> str:
    """A node agent's name: the keeper's, its set and its position (``...-s0-a1``)."""
    return f"{keeper_name}-s{set_index}-a{position}"


def slot_of(worker_slot: int, per_instance: int) -> tuple[int, int]:
    """Which agent (instance) and which of its processes a job's worker slot is: ``divmod``."""
    if per_instance < 1:
        raise ValueError(f"per_instance must be >= 1, got {per_instance}")
    return divmod(worker_slot, per_instance)
