"""The worker runtime of a run: the deployment's environment resolved through the workspace, then built."""

from __future__ import annotations

from batchpoint.models.resolved import ResolvedModel
from batchpoint.scoring.runtime import WorkerRuntime
from batchpoint.scoring.runtime_setup import prepare_runtime
from batchpoint.specs.deployment import BatchDeployment
from dagster_project.platform_resource import Platform


def worker_runtime(platform: Platform, deployment: BatchDeployment, model: ResolvedModel) -> WorkerRuntime:
    """Build (or reuse) the deployment's environment and fetch its code; MLflow no-code needs neither."""
    environment = None
    if deployment.code_configuration is not None and deployment.environment is not None:
        environment = platform.workspace.environments.resolve(deployment.environment, "environment")
    return prepare_runtime(deployment, model, settings=platform.settings, store=platform.store, environment=environment)
