"""``ComputeSpec`` (Azure ``AmlCompute``): a named pool bounding how many workers a job may use."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, ValidationInfo, field_validator

from batchpoint.specs.base import Spec
from batchpoint.specs.free_text import Description, Tags


class ComputeSpec(Spec):
    """A compute pool; locally it bounds worker processes. ``size`` is accepted but means nothing here."""

    name: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9-]{1,31}$")
    type: Literal["amlcompute"] = "amlcompute"
    min_instances: int = Field(default=0, ge=0)
    max_instances: int = Field(default=1, ge=1)
    idle_time_before_scale_down: int = Field(default=120, ge=0, description="seconds")
    size: str | None = None
    description: Description = ""
    tags: Tags = Field(default_factory=dict)

    @field_validator("max_instances")
    @classmethod
    def _min_within_max(cls, max_instances: int, info: ValidationInfo) -> int:
        low = info.data.get("min_instances", 0)
        if low > max_instances:
            raise ValueError(f"must be at least min_instances ({low})")
        return max_instances
