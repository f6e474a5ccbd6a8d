"""``BatchDeployment`` / ``ModelBatchDeployment``: Azure's older flat keywords and ``settings=`` both work.

The settings object is the one place values live; the flat attributes (``mini_batch_size``,
``instance_count``, ``code_path`` ...) read and write through to it, so a sample may use either.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from batchpoint.errors import SpecError
from batchpoint.sdk.entities.deployment_settings import (
    SETTING_NAMES,
    BatchRetrySettings,
    CodeConfiguration,
    ModelBatchDeploymentSettings,
    ResourceConfiguration,
)
from batchpoint.sdk.entities.entity import Entity, as_entity, without_none
from batchpoint.sdk.entities.environment import Environment
from batchpoint.sdk.entities.model import Model

MODEL_FORMS = (
    "a registered Model (name and version), `azureml:<name>:<version>`, `azureml:<name>@latest` or `models:/...`"
)


def model_reference(model: Model | str | None) -> str:
    """The spec's ``model`` string for a ``Model`` object or a reference string."""
    if isinstance(model, str) and model.strip():
        return model.strip()
    if isinstance(model, Model):
        if model.name and model.version:
            return f"azureml:{model.name}:{model.version}"
        raise SpecError("BatchDeployment.model", f"model {model.name!r} has no version: register it first", MODEL_FORMS)
    raise SpecError("BatchDeployment.model", f"got {model!r}", MODEL_FORMS)


def environment_reference(environment: Environment | str | None) -> str | None:
    """The spec's ``environment`` string; an ``Environment`` must be registered (have a version)."""
    if environment is None or isinstance(environment, str):
        return environment
    if environment.name and environment.version:
        return f"azureml:{environment.name}:{environment.version}"
    raise SpecError("BatchDeployment.environment", "an Environment without name and version", "a registered one")


class BatchDeployment(Entity):
    """One way of scoring an endpoint's inputs: a model, optional script and environment, settings."""

    def __init__(
        self,
        *,
        name: str | None = None,
        endpoint_name: str | None = None,
        model: Model | str | None = None,
        description: str | None = None,
        tags: dict[str, str] | None = None,
        properties: dict[str, str] | None = None,
        code_configuration: CodeConfiguration | dict[str, Any] | None = None,
        code_path: str | Path | None = None,
        scoring_script: str | None = None,
        environment: Environment | str | None = None,
        compute: str | None = None,
        resources: ResourceConfiguration | dict[str, Any] | None = None,
        settings: ModelBatchDeploymentSettings | dict[str, Any] | None = None,
        instance_count: int | None = None,
        max_concurrency_per_instance: int | None = None,
        mini_batch_size: int | None = None,
        output_action: str | None = None,
        output_file_name: str | None = None,
        retry_settings: BatchRetrySettings | dict[str, Any] | None = None,
        error_threshold: int | None = None,
        logging_level: str | None = None,
        environment_variables: dict[str, str] | None = None,
    ) -> None:
        self.name = name
        self.endpoint_name = endpoint_name
        self.model = model
        self.description = description
        self.tags = dict(tags or {})
        self.properties = dict(properties or {})
        self.environment = environment
        self.compute = compute
        self.settings = (
            ModelBatchDeploymentSettings()
            if settings is None
            else as_entity(settings, ModelBatchDeploymentSettings, "BatchDeployment.settings")
        )
        flat: dict[str, Any] = {
            "max_concurrency_per_instance": max_concurrency_per_instance,
            "mini_batch_size": mini_batch_size,
            "output_action": output_action,
            "output_file_name": output_file_name,
            "retry_settings": retry_settings,
            "error_threshold": error_threshold,
            "logging_level": logging_level,
            "environment_variables": environment_variables,
            "instance_count": instance_count,
        }
        if resources is not None:
            resources = as_entity(resources, ResourceConfiguration, "BatchDeployment.resources")
        if resources is not None and resources.instance_count is not None:
            flat["instance_count"] = self._one_of("instance_count", instance_count, resources.instance_count)
        for key, value in flat.items():
            if value is not None:
                setattr(self.settings, key, self._one_of(key, getattr(self.settings, key), value))
        if code_configuration is not None and (code_path is not None or scoring_script is not None):
            raise SpecError("BatchDeployment.code_path", "given with code_configuration", "one of the two forms")
        self.code_configuration = (
            None
            if code_configuration is None
            else as_entity(code_configuration, CodeConfiguration, "BatchDeployment.code_configuration")
        )
        if code_path is not None or scoring_script is not None:
            self.code_configuration = CodeConfiguration(code=code_path, scoring_script=scoring_script)

    @staticmethod
    def _one_of(key: str, current: Any, given: Any) -> Any:
        if current is not None and current != given:
            raise SpecError(f"BatchDeployment.{key}", "given both flat and in settings", "one place")
        return given

    # Flat Azure attributes, read and written through to settings / code_configuration.
    @property
    def instance_count(self) -> int | None:
        """``resources.instance_count``."""
        return self.settings.instance_count

    @instance_count.setter
    def instance_count(self, value: int | None) -> None:
        self.settings.instance_count = value

    @property
    def resources(self) -> ResourceConfiguration:
        """Azure: ``resources`` (a copy; set ``instance_count`` to change it)."""
        return ResourceConfiguration(instance_count=self.settings.instance_count)

    @resources.setter
    def resources(self, value: ResourceConfiguration | dict[str, Any]) -> None:
        self.settings.instance_count = as_entity(
            value, ResourceConfiguration, "BatchDeployment.resources"
        ).instance_count

    @property
    def code_path(self) -> str | Path | None:
        """``code_configuration.code``."""
        return self.code_configuration.code if self.code_configuration else None

    @code_path.setter
    def code_path(self, value: str | Path | None) -> None:
        self.code_configuration = self.code_configuration or CodeConfiguration()
        self.code_configuration.code = value

    @property
    def scoring_script(self) -> str | None:
        """``code_configuration.scoring_script``."""
        return self.code_configuration.scoring_script if self.code_configuration else None

    @scoring_script.setter
    def scoring_script(self, value: str | None) -> None:
        self.code_configuration = self.code_configuration or CodeConfiguration()
        self.code_configuration.scoring_script = value

    def __getattr__(self, key: str) -> Any:
        # Only reached for names not set on the instance: the flat settings (mini_batch_size ...).
        if key in SETTING_NAMES:
            return getattr(self.__dict__["settings"], key)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {key!r}")

    def __setattr__(self, key: str, value: Any) -> None:
        # Plain dicts become the entity they stand for as they are assigned, as azure.ai.ml takes them:
        # the flat attributes read through these objects.
        if key == "settings" and value is not None:
            value = as_entity(value, ModelBatchDeploymentSettings, "BatchDeployment.settings")
        elif key == "code_configuration" and value is not None:
            value = as_entity(value, CodeConfiguration, "BatchDeployment.code_configuration")
        if key in SETTING_NAMES:
            setattr(self.settings, key, value)
        else:
            super().__setattr__(key, value)

    def _to_dict(self) -> dict[str, Any]:
        """The spec JSON; ``model`` and ``environment`` as references, ``code`` as given."""
        return self._spec(self.environment, self.code_path)

    def _spec(self, environment: Environment | str | None, code: str | Path | None) -> dict[str, Any]:
        """The spec JSON with ``environment`` and ``code`` replaced (registered, uploaded)."""
        code_configuration = None
        if self.code_configuration is not None:
            code_configuration = without_none(
                {"code": None if code is None else str(code), "scoring_script": self.scoring_script}
            )
        resources = without_none({"instance_count": self.settings.instance_count})
        return without_none(
            {
                "name": self.name,
                "endpoint_name": self.endpoint_name,
                "model": model_reference(self.model),
                "description": self.description,
                "code_configuration": code_configuration,
                "environment": environment_reference(environment),
                "compute": self.compute,
                "resources": resources or None,
                "settings": self.settings._to_dict() or None,
                "tags": self.tags,
                # Only when given: batchpoint reads env_manager and keep_azure_packages from it.
                "properties": self.properties or None,
            }
        )

    @classmethod
    def _from_dict(cls, data: dict[str, Any]) -> BatchDeployment:
        code = data.get("code_configuration")
        instance_count = (data.get("resources") or {}).get("instance_count")
        return cls(
            name=data["name"],
            endpoint_name=data.get("endpoint_name"),
            model=data.get("model"),
            description=data.get("description"),
            tags=data.get("tags"),
            properties=data.get("properties"),
            code_configuration=CodeConfiguration(**code) if code else None,
            environment=data.get("environment"),
            compute=data.get("compute"),
            settings=ModelBatchDeploymentSettings._from_dict(data.get("settings") or {}, instance_count),
        )


class ModelBatchDeployment(BatchDeployment):
    """Azure's newer name for a model deployment (``settings=ModelBatchDeploymentSettings(...)``)."""
