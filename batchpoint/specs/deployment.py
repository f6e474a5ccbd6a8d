"""``BatchDeployment`` and its settings, with Azure ML's field names and defaults."""

from __future__ import annotations

from enum import StrEnum
from typing import Self

from pydantic import Field, model_validator

from batchpoint.specs.base import Spec
from batchpoint.specs.deployment_properties import check_properties
from batchpoint.specs.free_text import Description, Tags
from batchpoint.specs.model_ref import ModelRef


class BatchDeploymentOutputAction(StrEnum):
    """What happens to the values ``run()`` returns (Azure: ``output_action``)."""

    APPEND_ROW = "append_row"
    SUMMARY_ONLY = "summary_only"


class BatchRetrySettings(Spec):
    """Per-mini-batch retries and timeout (Azure: ``retry_settings``)."""

    max_retries: int = Field(default=3, ge=0)
    timeout: int = Field(default=30, gt=0, description="seconds per mini-batch")


CODE_FORMS = "a local folder holding the scoring script, or `s3://<bucket>/<prefix>/`"
"""What ``code_configuration.code`` may be."""


class CodeConfiguration(Spec):
    """A scoring script (Azure: ``code_configuration``); absent for MLflow no-code deployments."""

    code: str
    scoring_script: str


class ResourceConfiguration(Spec):
    """Azure: ``resources``."""

    instance_count: int = Field(default=1, ge=1)


class BatchDeploymentSettings(Spec):
    """Azure: the deployment's ``settings`` block."""

    max_concurrency_per_instance: int = Field(default=1, ge=1)
    mini_batch_size: int = Field(default=10, ge=1, description="files per mini-batch")
    output_action: BatchDeploymentOutputAction = BatchDeploymentOutputAction.APPEND_ROW
    output_file_name: str = Field(default="predictions.csv", pattern=r"^[^/\\]+$")
    retry_settings: BatchRetrySettings = Field(default_factory=BatchRetrySettings)
    error_threshold: int = Field(default=-1, ge=-1, description="failed files tolerated; -1 = all")
    logging_level: str = Field(default="info", pattern=r"^(debug|info|warning|error|critical)$")
    environment_variables: dict[str, str] = Field(default_factory=dict)


class BatchDeployment(Spec):
    """One way of scoring an endpoint's inputs: a model, optional script, resources, settings."""

    name: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9-]{2,31}$")
    endpoint_name: str
    model: ModelRef
    description: Description = ""
    code_configuration: CodeConfiguration | None = None
    environment: str | None = None
    compute: str | None = None
    resources: ResourceConfiguration = Field(default_factory=ResourceConfiguration)
    settings: BatchDeploymentSettings = Field(default_factory=BatchDeploymentSettings)
    tags: Tags = Field(default_factory=dict)
    properties: Tags = Field(
        default_factory=dict, description="free strings; batchpoint reads env_manager and keep_azure_packages"
    )

    @model_validator(mode="after")
    def _properties_are_usable(self) -> Self:
        check_properties(self.properties)
        return self

    @model_validator(mode="after")
    def _summary_only_needs_script(self) -> Self:
        if self.settings.output_action is BatchDeploymentOutputAction.SUMMARY_ONLY and self.code_configuration is None:
            raise ValueError(
                "settings.output_action summary_only needs code_configuration: an MLflow "
                "no-code deployment can only append_row"
            )
        return self

    @property
    def workers(self) -> int:
        """Worker processes of one job: instance_count x max_concurrency_per_instance."""
        return self.resources.instance_count * self.settings.max_concurrency_per_instance
