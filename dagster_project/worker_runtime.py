"""The worker runtime of a run (its environment resolved and built) and where its workers run."""

from __future__ import annotations

from batchpoint.models.resolved import ResolvedModel
from batchpoint.ray_environment import apply_ray_environment
from batchpoint.scoring.environment_log import EnvironmentLog
from batchpoint.scoring.runtime import WorkerRuntime
from batchpoint.scoring.runtime_setup import prepare_runtime
from batchpoint.scoring.worker_host import HostFactory
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


def worker_hosts(platform: Platform, deployment: BatchDeployment) -> HostFactory | None:
    """Where the run's workers run: a warm Ray pool (``BATCHPOINT_WORKERS=ray``, the default), else in-process.

    The pool keeps AmlCompute's idling rules of the deployment's compute (``min_instances``,
    ``idle_time_before_scale_down``); ``None`` means the run's own child processes.
    """
    settings = platform.settings
    if settings.workers != "ray":
        return None
    compute = platform.workspace.compute.resolve(deployment.compute, "compute") if deployment.compute else None
    apply_ray_environment(settings)  # Ray reads its address choice when it is first imported
    from batchpoint.ray_compute.hosts import ray_hosts  # imports Ray: only runs that use it pay for it

    return ray_hosts(settings, settings.ray_connect_address, compute)
