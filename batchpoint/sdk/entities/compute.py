"""``AmlCompute``: a named pool bounding worker processes (``min_instances`` .. ``max_instances``)."""

from __future__ import annotations

from typing import Any

from batchpoint.sdk.entities.entity import Entity, without_none

_FIELDS = ("name", "size", "min_instances", "max_instances", "idle_time_before_scale_down", "description", "tags")


class AmlCompute(Entity):
    """Azure: ``AmlCompute(name=, min_instances=0, max_instances=5)``; ``size`` has no meaning here."""

    def __init__(
        self,
        *,
        name: str | None = None,
        type: str = "amlcompute",
        size: str | None = None,
        min_instances: int | None = None,
        max_instances: int | None = None,
        idle_time_before_scale_down: int | None = None,
        description: str | None = None,
        tags: dict[str, str] | None = None,
        location: str | None = None,
        tier: str | None = None,
    ) -> None:
        self.name = name
        self.type = type
        self.size = size
        self.min_instances = min_instances
        self.max_instances = max_instances
        self.idle_time_before_scale_down = idle_time_before_scale_down
        self.description = description
        self.tags = dict(tags or {})
        self.location = location
        self.tier = tier
        self.provisioning_state = "Succeeded"

    def _to_dict(self) -> dict[str, Any]:
        values = {name: getattr(self, name) for name in _FIELDS}
        return without_none({**values, "type": str(self.type).lower()})  # Azure writes AmlCompute too

    @classmethod
    def _from_dict(cls, data: dict[str, Any]) -> AmlCompute:
        return cls(type=data.get("type", "amlcompute"), **{k: data[k] for k in _FIELDS if k in data})
