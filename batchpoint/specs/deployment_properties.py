"""The deployment ``properties`` batchpoint reads: how a deployment's Python environment is chosen.

``properties`` is a free string map in Azure's deployment YAML, so a file using these keys still
validates against Azure's schema (Azure ignores them):

- ``env_manager``: ``local`` scores in batchpoint's own interpreter, building nothing (MLflow's
  ``env_manager="local"``); ``virtualenv`` (the default; ``uv`` means the same) builds the model's
  or the deployment's environment unless batchpoint's interpreter already satisfies it.
- ``keep_azure_packages``: ``"true"`` installs the Azure-runtime packages (``azureml-*``) an
  environment lists, which are otherwise left out (``environments/azure_packages.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

EnvManager = Literal["local", "virtualenv"]
ENV_MANAGER = "env_manager"
KEEP_AZURE_PACKAGES = "keep_azure_packages"
ENV_MANAGERS: dict[str, EnvManager] = {"local": "local", "virtualenv": "virtualenv", "uv": "virtualenv"}
_TRUE, _FALSE = {"true", "1", "yes"}, {"false", "0", "no", ""}


def env_manager(properties: Mapping[str, str]) -> EnvManager:
    """The deployment's ``env_manager``; ``ValueError`` naming the valid values otherwise."""
    raw = properties.get(ENV_MANAGER, "virtualenv").strip().lower()
    if raw not in ENV_MANAGERS:
        raise ValueError(
            f"properties.{ENV_MANAGER} must be local or virtualenv (uv), got {raw!r}; conda environments "
            "are built from their pip section with uv, so `virtualenv` covers them"
        )
    return ENV_MANAGERS[raw]


def keep_azure_packages(properties: Mapping[str, str]) -> bool | None:
    """``properties.keep_azure_packages`` as a bool; ``None`` when not given (the setting decides)."""
    if KEEP_AZURE_PACKAGES not in properties:
        return None
    raw = properties[KEEP_AZURE_PACKAGES].strip().lower()
    if raw not in _TRUE | _FALSE:
        raise ValueError(f"properties.{KEEP_AZURE_PACKAGES} must be true or false, got {raw!r}")
    return raw in _TRUE


def check_properties(properties: Mapping[str, str]) -> None:
    """``ValueError`` for a batchpoint property with a value it cannot use."""
    env_manager(properties)
    keep_azure_packages(properties)
