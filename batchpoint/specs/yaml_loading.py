"""Load specs from Azure ML CLI v2 YAML, unchanged: endpoint, deployment, model, environment, compute, data.

``$schema`` is ignored; fields that mean nothing here (``auth_mode``, a deployment's ``type``,
an environment's ``image``, a compute's ``size`` ...) are accepted with a warning; the older flat
form of deployment settings (``mini_batch_size`` beside ``name``) is folded into ``settings``. Any
other unknown field is an error naming it. Local paths are relative to the YAML file.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from batchpoint.errors import SpecError
from batchpoint.specs.base import all_problems
from batchpoint.specs.compute import ComputeSpec
from batchpoint.specs.data_asset import DataAssetSpec
from batchpoint.specs.deployment import BatchDeployment
from batchpoint.specs.endpoint import BatchEndpoint
from batchpoint.specs.environment import EnvironmentSpec
from batchpoint.specs.model_asset import ModelSpec

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


def _clean(
    data: dict[str, Any], where: str, dropped: set[str] = _ACCEPTED_WITHOUT_MEANING, kept: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """Drop ``$schema``; warn about Azure-only fields, dropping ``dropped`` and keeping ``kept``."""
    cleaned = {k: v for k, v in data.items() if k not in _IGNORED}
    for key in sorted((dropped | kept) & cleaned.keys()):
        warnings.warn(f"{where}.{key} has no meaning in batchpoint and is ignored", AzureFieldWarning, stacklevel=3)
        if key in dropped:
            del cleaned[key]
    return cleaned


def _local(value: Any, base_dir: Path | None) -> Path | None:
    """``value`` as a local path relative to ``base_dir``; ``None`` when it is a URI."""
    if not isinstance(value, str) or "://" in value or value.startswith(("azureml:", "runs:/")):
        return None
    path = Path(value).expanduser()
    return path if path.is_absolute() or base_dir is None else (base_dir / path).resolve()


def endpoint_from_dict(data: dict[str, Any], *, name: str | None = None) -> BatchEndpoint:
    """A ``BatchEndpoint`` from Azure-shaped data; ``name`` overrides the file's (``-n`` on the CLI)."""
    cleaned = _clean(data, "BatchEndpoint")
    if name:
        cleaned["name"] = name
    return BatchEndpoint.parse(cleaned)


def deployment_from_dict(
    data: dict[str, Any], *, endpoint_name: str | None = None, base_dir: Path | None = None
) -> BatchDeployment:
    """A ``BatchDeployment`` from Azure-shaped data, flat or nested settings; local code relative to ``base_dir``."""
    cleaned = _clean(data, "BatchDeployment")
    early: list[SpecError] = []  # said together with the schema's problems, so one run shows them all
    flat = {k: cleaned.pop(k) for k in sorted(_FLAT_SETTINGS & cleaned.keys())}
    if flat:
        settings = dict(cleaned.get("settings") or {})
        both = sorted(flat.keys() & settings.keys())
        early += [
            SpecError(f"BatchDeployment.{k}", "given both at the top level and under settings", "one place")
            for k in both
        ]
        cleaned["settings"] = {**settings, **flat}
    if endpoint_name:
        cleaned["endpoint_name"] = endpoint_name
    code = cleaned.get("code_configuration")
    if isinstance(code, dict) and (local := _local(code.get("code"), base_dir)) is not None:
        cleaned["code_configuration"] = {**code, "code": str(local)}
    if isinstance(cleaned.get("model"), dict):
        del cleaned["model"]
        early.append(
            SpecError(
                "BatchDeployment.model",
                "an inline model is not registered yet",
                "a registered model: `models:/<name>/<version>` or `azureml:<name>@latest`",
            )
        )
    try:
        deployment = BatchDeployment.parse(cleaned, also_accepted=_FLAT_SETTINGS)
    except SpecError as exc:
        raise all_problems(*early, exc) from exc
    if early:
        raise all_problems(*early)
    return deployment


def load_endpoint(path: Path, *, name: str | None = None) -> BatchEndpoint:
    """Load ``endpoint.yml``."""
    return endpoint_from_dict(read_yaml(path), name=name)


def load_deployment(path: Path, *, endpoint_name: str | None = None) -> BatchDeployment:
    """Load ``deployment.yml``."""
    return deployment_from_dict(read_yaml(path), endpoint_name=endpoint_name, base_dir=path.parent)


# ---- assets --------------------------------------------------------------------------------
_MODEL_AZURE_ONLY = {"stage", "flavors", "job_name", "intellectual_property", "datastore"}
_ENVIRONMENT_AZURE_ONLY = {"os_type", "inference_config", "intellectual_property", "datastore"}
_COMPUTE_AZURE_ONLY = {
    "location",
    "tier",
    "identity",
    "ssh_public_access_enabled",
    "ssh_settings",
    "network_settings",
    "admin_username",
    "enable_node_public_ip",
}
_DATA_AZURE_ONLY = {"datastore", "stage"}

Uploader = Callable[[Path], str]
"""Stores a local file or folder and returns its ``s3://`` URI (the CLI's upload through the API)."""


def model_from_dict(data: dict[str, Any], *, base_dir: Path | None = None) -> ModelSpec:
    """A ``ModelSpec`` from Azure model YAML; a local ``path`` becomes absolute (relative to ``base_dir``)."""
    cleaned = _clean(data, "Model", dropped=_MODEL_AZURE_ONLY)
    if (local := _local(cleaned.get("path"), base_dir)) is not None:
        cleaned["path"] = str(local)
    return ModelSpec.parse(cleaned, where="Model")


def environment_from_dict(data: dict[str, Any], *, base_dir: Path | None = None) -> EnvironmentSpec:
    """An ``EnvironmentSpec`` from Azure environment YAML; ``conda_file`` (a path) is read and parsed."""
    cleaned = _clean(data, "Environment", dropped=_ENVIRONMENT_AZURE_ONLY, kept=frozenset({"image"}))
    if "build" in cleaned:
        raise SpecError(
            "Environment.build", "Docker build contexts are not supported", "`conda_file` or `pip_requirements`"
        )
    conda = cleaned.get("conda_file")
    if isinstance(conda, str):
        local = _local(conda, base_dir)
        if local is None:
            raise SpecError("Environment.conda_file", f"got {conda!r}", "a local conda YAML file or a mapping")
        cleaned["conda_file"] = read_yaml(local)
    return EnvironmentSpec.parse(cleaned, where="Environment")


def compute_from_dict(data: dict[str, Any]) -> ComputeSpec:
    """A ``ComputeSpec`` from Azure ``type: amlcompute`` YAML; ``size`` is kept and warned about."""
    cleaned = _clean(data, "Compute", dropped=_COMPUTE_AZURE_ONLY, kept=frozenset({"size"}))
    if isinstance(cleaned.get("type"), str):  # Azure writes AmlCompute as often as amlcompute
        cleaned["type"] = cleaned["type"].strip().lower()
    return ComputeSpec.parse(cleaned, where="Compute")


def data_from_dict(
    data: dict[str, Any], *, base_dir: Path | None = None, upload: Uploader | None = None
) -> DataAssetSpec:
    """A ``DataAssetSpec`` from Azure data YAML; a local ``path`` is stored with ``upload`` first."""
    cleaned = _clean(data, "Data", dropped=_DATA_AZURE_ONLY)
    path = cleaned.get("path")
    local = _local(path, base_dir)
    if local is not None:
        if upload is None:
            raise SpecError("Data.path", f"{path} is a local path", "`s3://<bucket>/<prefix>` (upload the data first)")
        if not local.exists():
            raise SpecError("Data.path", f"{local} does not exist", "a local file or folder, or `s3://...`")
        cleaned["path"] = upload(local)
    return DataAssetSpec.parse(cleaned, where="Data")


def load_model(path: Path) -> ModelSpec:
    """Load ``model.yml``."""
    return model_from_dict(read_yaml(path), base_dir=path.parent)


def load_environment(path: Path) -> EnvironmentSpec:
    """Load ``environment.yml`` (Azure's environment YAML, not a conda file)."""
    return environment_from_dict(read_yaml(path), base_dir=path.parent)


def load_compute(path: Path) -> ComputeSpec:
    """Load ``compute.yml``."""
    return compute_from_dict(read_yaml(path))


def load_data(path: Path, *, upload: Uploader | None = None) -> DataAssetSpec:
    """Load ``data.yml``."""
    return data_from_dict(read_yaml(path), base_dir=path.parent, upload=upload)
