"""The worker runtime of a run: the deployment's environment resolved through the workspace, then built."""

from __future__ import annotations

from batchpoint.models.resolved import ResolvedModel
from batchpoint.scoring.environment_log import EnvironmentLog
from batchpoint.scoring.runtime import WorkerRuntime
from batchpoint.scoring.runtime_setup import prepare_runtime
from batchpoint.specs.deployment import BatchDeployment
from dagster_project.platform_resource import Platform


def worker_runtime(
    platform: Platform, deployment: BatchDeployment, model: ResolvedModel, log: EnvironmentLog
) -> WorkerRuntime:
    """Build (or reuse) the deployment's environment (a no-code one's: its model's, unless it names one)
    and fetch its code, saying each step in ``log`` (which passes each on to the run's log).

    The lines are kept on the runtime for the job's user log; when the build fails, ``log`` still
    holds them for the failed version's.
    """
    environment = None
    if deployment.environment is not None:
        environment = platform.workspace.environments.resolve(deployment.environment, "environment")
    return prepare_runtime(
        deployment, model, settings=platform.settings, store=platform.store, environment=environment, log=log
    )
