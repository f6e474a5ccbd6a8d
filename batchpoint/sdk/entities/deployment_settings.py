"""The parts of a deployment: retry settings, code, resources and the settings block.

Unset values are ``None`` and left out of the spec, so the server's (Azure's) defaults apply.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from batchpoint.errors import SpecError
from batchpoint.sdk.entities.entity import Entity, as_entity, without_none
from batchpoint.specs.deployment import BatchDeploymentOutputAction

SETTING_NAMES = (
    "max_concurrency_per_instance",
    "mini_batch_size",
    "output_action",
    "output_file_name",
    "retry_settings",
    "error_threshold",
    "logging_level",
    "environment_variables",
)


class BatchRetrySettings(Entity):
    """Azure: ``retry_settings`` (``max_retries`` default 3, ``timeout`` seconds per mini-batch, default 30)."""

    def __init__(self, *, max_retries: int | None = None, timeout: int | None = None) -> None:
        self.max_retries = max_retries
        self.timeout = timeout

    def _to_dict(self) -> dict[str, Any]:
        return without_none({"max_retries": self.max_retries, "timeout": self.timeout})


class CodeConfiguration(Entity):
    """Azure: ``code_configuration``: a folder of code and the scoring script inside it."""

    def __init__(self, *, code: str | Path | None = None, scoring_script: str | None = None) -> None:
        self.code = code
        self.scoring_script = scoring_script

    def _to_dict(self) -> dict[str, Any]:
        return without_none(
            {"code": None if self.code is None else str(self.code), "scoring_script": self.scoring_script}
        )


class ResourceConfiguration(Entity):
    """Azure: ``resources`` (``instance_count``; ``instance_type`` accepted, no meaning here)."""

    def __init__(self, *, instance_count: int | None = None, instance_type: str | None = None) -> None:
        self.instance_count = instance_count
        self.instance_type = instance_type

    def _to_dict(self) -> dict[str, Any]:
        return without_none({"instance_count": self.instance_count})


class ModelBatchDeploymentSettings(Entity):
    """Azure: ``ModelBatchDeployment.settings`` (``instance_count`` here becomes ``resources.instance_count``)."""

    def __init__(
        self,
        *,
        mini_batch_size: int | None = None,
        instance_count: int | None = None,
        max_concurrency_per_instance: int | None = None,
        output_action: BatchDeploymentOutputAction | str | None = None,
        output_file_name: str | None = None,
        retry_settings: BatchRetrySettings | dict[str, Any] | None = None,
        environment_variables: dict[str, str] | None = None,
        error_threshold: int | None = None,
        logging_level: str | None = None,
    ) -> None:
        self.mini_batch_size = mini_batch_size
        self.instance_count = instance_count
        self.max_concurrency_per_instance = max_concurrency_per_instance
        self.output_action = output_action
        self.output_file_name = output_file_name
        self.retry_settings = retry_settings
        self.environment_variables = environment_variables
        self.error_threshold = error_threshold
        self.logging_level = logging_level

    def __setattr__(self, key: str, value: Any) -> None:
        # ``settings.retry_settings = {"max_retries": 5}``, as azure.ai.ml takes it.
        if key == "retry_settings" and value is not None:
            value = as_entity(value, BatchRetrySettings, "settings.retry_settings")
        super().__setattr__(key, value)

    def _to_dict(self) -> dict[str, Any]:
        """The spec's ``settings`` block (without ``instance_count``, which lives in ``resources``)."""
        values: dict[str, Any] = {name: getattr(self, name) for name in SETTING_NAMES}
        if values["retry_settings"] is not None:
            values["retry_settings"] = values["retry_settings"]._to_dict()
        if values["output_action"] is not None:
            values["output_action"] = output_action_value(values["output_action"])
        return without_none(values)

    @classmethod
    def _from_dict(cls, settings: dict[str, Any], instance_count: int | None) -> ModelBatchDeploymentSettings:
        values = dict(settings)
        if isinstance(values.get("output_action"), str):
            values["output_action"] = BatchDeploymentOutputAction(values["output_action"])
        return cls(instance_count=instance_count, **values)


BatchDeploymentSettings = ModelBatchDeploymentSettings


def output_action_value(value: BatchDeploymentOutputAction | str) -> str:
    """``append_row`` / ``summary_only`` from the enum or any casing of its name or value."""
    raw = str(value).strip().lower()
    try:
        return str(BatchDeploymentOutputAction(raw))
    except ValueError as exc:
        valid = " | ".join(str(a) for a in BatchDeploymentOutputAction)
        raise SpecError("settings.output_action", f"got {value!r}", valid) from exc
