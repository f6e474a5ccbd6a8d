"""Jobs: what an invocation asks for (``InvokeRequest``) and what a job is (``JobInfo``)."""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, field_validator

from batchpoint.specs.asset_naming import REFERENCE_FORMS
from batchpoint.specs.base import Spec
from batchpoint.specs.datastore_uri import OutputFolder
from batchpoint.specs.deployment import BatchDeployment
from batchpoint.specs.s3_uri import S3_FORM, S3Folder, split_s3_uri

INPUT_PATH_FORMS = f"{S3_FORM}, a public `https://` URL, `azureml:<data>:<version>` or `azureml:<data>@latest`"
_DATA_REF = re.compile(r"^azureml:[A-Za-z0-9][A-Za-z0-9_.-]*(:[A-Za-z0-9][A-Za-z0-9_.-]*|@latest)$")


class JobStatus(StrEnum):
    """Azure's job statuses, as far as batch jobs go."""

    PREPARING = "Preparing"
    RUNNING = "Running"
    COMPLETED = "Completed"
    FAILED = "Failed"
    CANCELED = "Canceled"
    FAILED_CHECK = "Failed-check"
    """batchpoint's own: scored and written, but a blocking check failed, so ``latest`` stayed."""

    @property
    def ended(self) -> bool:
        """Whether the job will not change any more."""
        return self in {JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELED, JobStatus.FAILED_CHECK}


class JobTrigger(StrEnum):
    """What started a job."""

    INVOKE = "invoke"
    DATA_ARRIVAL = "data-arrival"
    BACKFILL = "backfill"


class InputType(StrEnum):
    """Azure's ``AssetTypes`` a job input may have; batch jobs score ``uri_folder`` and ``uri_file``."""

    URI_FOLDER = "uri_folder"
    URI_FILE = "uri_file"
    MLFLOW_MODEL = "mlflow_model"
    CUSTOM_MODEL = "custom_model"


class JobInput(Spec):
    """One input (Azure ``Input``): an S3 path or a registered data asset."""

    type: InputType = InputType.URI_FOLDER
    path: str

    @field_validator("path")
    @classmethod
    def _path_form(cls, path: str) -> str:
        if path.startswith("azureml:"):
            if not _DATA_REF.match(path):
                raise ValueError(f"must be {INPUT_PATH_FORMS}")
            return path
        if path.startswith(("https://", "http://")):  # fetched into the datastore at invoke
            if not urlsplit(path).hostname:
                raise ValueError(f"must be {INPUT_PATH_FORMS}")
            return path
        try:
            split_s3_uri(path)
        except ValueError:
            raise ValueError(f"must be {INPUT_PATH_FORMS}") from None
        return path

    @property
    def is_url(self) -> bool:
        """Whether ``path`` is an ``http(s)://`` URL (copied into the datastore at invoke)."""
        return self.path.startswith(("https://", "http://"))

    @property
    def is_data_asset(self) -> bool:
        """Whether ``path`` names a registered data asset (resolved at invoke)."""
        return self.path.startswith("azureml:")


class JobProgress(Spec):
    """How far a job is: mini-batches and files done out of planned, failed items, rows written.

    The scoring job reports one after every mini-batch; the job row stores the latest. ``str()``
    is the line written to ``job_progress_overview.txt``. ``failed_items`` counts what Azure's
    ``error_threshold`` counts: a failed file, or an item missing from what ``run()`` returned. Rows
    stored before it was named so carry it as ``failed_files``, which is read as ``failed_items``.
    """

    mini_batches_done: int = 0
    mini_batches: int = 0
    files_done: int = 0
    files: int = 0
    failed_items: int = Field(default=0, validation_alias=AliasChoices("failed_items", "failed_files"))
    rows: int = 0
    failed_mini_batches: int = 0
    elapsed_seconds: float = 0.0

    @property
    def fraction(self) -> float:
        """Share of mini-batches processed, 0..1."""
        return self.mini_batches_done / self.mini_batches if self.mini_batches else 1.0

    def __str__(self) -> str:
        return (
            f"mini-batches {self.mini_batches_done}/{self.mini_batches} ({self.fraction:.0%}, "
            f"{self.failed_mini_batches} failed), files {self.files_done}/{self.files} "
            f"({self.failed_items} failed items), rows {self.rows}, {self.elapsed_seconds:.1f} s"
        )


class InvokeRequest(Spec):
    """``batch_endpoints.invoke(...)``: inputs, an optional deployment, output location and overrides.

    Azure's single ``input=`` arrives as ``{"input": ...}``.
    """

    inputs: dict[str, JobInput] = Field(min_length=1)
    deployment_name: str | None = None
    output_path: OutputFolder | None = None  # the workspace resolves a datastore URI to its bucket
    instance_count: int | None = Field(default=None, ge=1)
    mini_batch_size: int | None = Field(default=None, ge=1)
    error_threshold: int | None = Field(default=None, ge=-1)
    max_retries: int | None = Field(default=None, ge=0)
    timeout: int | None = Field(default=None, gt=0)
    output_file_name: str | None = Field(default=None, pattern=r"^[^/\\]+$")
    logging_level: str | None = Field(default=None, pattern=r"^(debug|info|warning|error|critical)$")

    @field_validator("inputs")
    @classmethod
    def _input_names(cls, inputs: dict[str, JobInput]) -> dict[str, JobInput]:
        for name in inputs:
            if not re.match(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$", name):
                raise ValueError(f"input name {name!r} must be a letter or _, then letters, digits or _")
        return inputs

    def overrides(self) -> SettingOverrides:
        """The setting overrides given."""
        return SettingOverrides.parse(self.model_dump(include=set(SettingOverrides.model_fields), exclude_none=True))


class SettingOverrides(Spec):
    """Per-job overrides of the deployment's settings (names as in ``InvokeRequest``)."""

    instance_count: int | None = Field(default=None, ge=1)
    mini_batch_size: int | None = Field(default=None, ge=1)
    error_threshold: int | None = Field(default=None, ge=-1)
    max_retries: int | None = Field(default=None, ge=0)
    timeout: int | None = Field(default=None, gt=0)
    output_file_name: str | None = Field(default=None, pattern=r"^[^/\\]+$")
    logging_level: str | None = Field(default=None, pattern=r"^(debug|info|warning|error|critical)$")

    def apply(self, deployment: BatchDeployment) -> BatchDeployment:
        """``deployment`` with these overrides in its ``settings`` (``instance_count`` in its ``resources``)."""
        given = self.model_dump(exclude_none=True)
        retry: dict[str, Any] = {k: given.pop(k) for k in ("max_retries", "timeout") if k in given}
        resources = deployment.resources
        if "instance_count" in given:
            resources = resources.model_copy(update={"instance_count": given.pop("instance_count")})
        settings = deployment.settings.model_copy(
            update={**given, "retry_settings": deployment.settings.retry_settings.model_copy(update=retry)}
        )
        return deployment.model_copy(update={"settings": settings, "resources": resources})


class InvocationMessage(Spec):
    """The payload of an ``invocations`` topic message (key = ``job_name``), written by ``jobs.invoke``.

    ``inputs`` paths are resolved: always ``s3://``, never ``azureml:``; ``output_path`` is the folder
    the job writes to.
    """

    job_name: str
    endpoint_name: str
    deployment_name: str
    inputs: dict[str, JobInput]
    output_path: S3Folder
    overrides: SettingOverrides = Field(default_factory=SettingOverrides)


class JobInfo(Spec):
    """One job as every interface shows it."""

    name: str
    endpoint_name: str
    deployment_name: str
    trigger: JobTrigger
    status: JobStatus
    inputs: dict[str, JobInput] = Field(default_factory=dict)
    output_uri: str | None = None
    progress: JobProgress = Field(default_factory=JobProgress)
    error: str | None = None
    created_at: datetime
    started_at: datetime | None = None
    ended_at: datetime | None = None
    dagster_run_id: str | None = None
    studio_url: str | None = None


__all__ = [
    "REFERENCE_FORMS",
    "InputType",
    "InvocationMessage",
    "InvokeRequest",
    "JobInfo",
    "JobInput",
    "JobProgress",
    "JobStatus",
    "JobTrigger",
    "SettingOverrides",
]
