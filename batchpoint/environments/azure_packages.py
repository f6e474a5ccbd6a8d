"""Packages that exist only for Azure ML's own runtime, left out of environments built here.

Azure's samples and MLflow models logged on Azure list them (``azureml-core``, ``azureml-defaults``,
``azureml-mlflow``, ``azureml-inference-server-http``, ``azureml-ai-monitoring``, ...); together
they cost about a gigabyte and serve nothing outside Azure's containers. Every ``azureml-*``
project is one of them. Libraries a scoring script imports itself stay: ``inference-schema``
(its decorators), ``azure-ai-ml``, ``azure-identity``, ``azure-storage-blob``.
``Settings.keep_azure_packages`` (``BATCHPOINT_KEEP_AZURE_PACKAGES``) or a deployment's
``properties.keep_azure_packages: "true"`` keeps them, for a script that imports them.
"""

from __future__ import annotations

from batchpoint.environments.keys import requirement_name

AZURE_RUNTIME_PREFIX = "azureml-"
# Besides every ``azureml-*``: the bare ``azureml`` namespace package.
AZURE_RUNTIME_NAMES = frozenset({"azureml"})


def is_azure_runtime_package(requirement: str) -> bool:
    """True for a requirement line naming a package only Azure's runtime uses."""
    name = requirement_name(requirement)
    return name is not None and (name.startswith(AZURE_RUNTIME_PREFIX) or name in AZURE_RUNTIME_NAMES)


def without_azure_runtime(requirements: list[str]) -> tuple[list[str], list[str]]:
    """``requirements`` split into those kept and the Azure-runtime ones left out, order kept."""
    kept = [r for r in requirements if not is_azure_runtime_package(r)]
    dropped = [r.strip() for r in requirements if is_azure_runtime_package(r)]
    return kept, dropped
