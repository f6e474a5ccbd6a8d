"""Load endpoint and deployment specs from Azure ML CLI v2 YAML, unchanged.

``$schema`` is ignored; fields that mean nothing here (``auth_mode``, ``type``) are accepted
with a warning; the older flat form of deployment settings (``mini_batch_size`` beside
``name``) is folded into ``settings``. Any other unknown field is an error naming it.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import yaml

from batchpoint.errors import SpecError
from batchpoint.specs.deployment import BatchDeployment
from batchpoint.specs.endpoint import BatchEndpoint

_IGNORED = {"$schema"}
_ACCEPTED_WITHOUT_MEANING = {"auth_mode", "type"}
_FLAT_SETTINGS = {
    "max_concurrency_per_instance",
    "mini_batch_size",
    "output_action",
    "output_file_name",
    "retry_settings",
    "error_threshold",
    "logging_level",
    "environment_variables",
}


class AzureFieldWarning(UserWarning):
    """An Azure field was accepted but has no effect in batchpoint."""


def read_yaml(path: Path) -> dict[str, Any]:
    """A YAML mapping from ``path``; ``SpecError`` naming the file otherwise."""
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise SpecError(str(path), f"cannot be read as YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise SpecError(str(path), f"got a {type(data).__name__}", "a YAML mapping of fields")
    return data


def _clean(data: dict[str, Any], where: str) -> dict[str, Any]:
    cleaned = {k: v for k, v in data.items() if k not in _IGNORED}
    for key in sorted(_ACCEPTED_WITHOUT_MEANING & cleaned.keys()):
        warnings.warn(f"{where}.{key} has no meaning in batchpoint and is ignored", AzureFieldWarning, stacklevel=3)
        del cleaned[key]
    return cleaned


def endpoint_from_dict(data: dict[str, Any], *, name: str | None = None) -> BatchEndpoint:
    """A ``BatchEndpoint`` from Azure-shaped data; ``name`` overrides the file's (``-n`` on the CLI)."""
    cleaned = _clean(data, "BatchEndpoint")
    if name:
        cleaned["name"] = name
    return BatchEndpoint.parse(cleaned)


def deployment_from_dict(data: dict[str, Any], *, endpoint_name: str | None = None) -> BatchDeployment:
    """A ``BatchDeployment`` from Azure-shaped data, flat or nested settings."""
    cleaned = _clean(data, "BatchDeployment")
    flat = {k: cleaned.pop(k) for k in sorted(_FLAT_SETTINGS & cleaned.keys())}
    if flat:
        settings = dict(cleaned.get("settings") or {})
        both = sorted(flat.keys() & settings.keys())
        if both:
            raise SpecError(f"BatchDeployment.{both[0]}", "given both at the top level and under settings", "one place")
        cleaned["settings"] = {**settings, **flat}
    if endpoint_name:
        cleaned["endpoint_name"] = endpoint_name
    if isinstance(cleaned.get("model"), dict):
        raise SpecError(
            "BatchDeployment.model",
            "an inline model is not registered yet",
            "a registered model: `models:/<name>/<version>` or `azureml:<name>@latest`",
        )
    return BatchDeployment.parse(cleaned)


def load_endpoint(path: Path, *, name: str | None = None) -> BatchEndpoint:
    """Load ``endpoint.yml``."""
    return endpoint_from_dict(read_yaml(path), name=name)


def load_deployment(path: Path, *, endpoint_name: str | None = None) -> BatchDeployment:
    """Load ``deployment.yml``."""
    return deployment_from_dict(read_yaml(path), endpoint_name=endpoint_name)
