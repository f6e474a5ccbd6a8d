"""``ray_hosts``: the ``HostFactory`` that runs a job's workers in a warm Ray pool.

It connects this process to the cluster (once), names the pool from the job's facts
(``pool_keys.PoolIdentity``), takes the compute's idling rules (AmlCompute's ``min_instances`` and
``idle_time_before_scale_down``), and opens a ``RayHost``. The model and code are packed only if the
pool is new.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import ray

from batchpoint.config import Settings
from batchpoint.ray_compute.folder_archive import pack
from batchpoint.ray_compute.node_agent import AgentBundle
from batchpoint.ray_compute.pool_keeper import PoolRules
from batchpoint.ray_compute.pool_keys import NAMESPACE, PoolIdentity
from batchpoint.ray_compute.ray_host import RayHost
from batchpoint.scoring.worker_host import HostFactory, HostRequest
from batchpoint.specs.compute import ComputeSpec

DEFAULT_IDLE_SECONDS = 120.0
"""AmlCompute's default ``idle_time_before_scale_down``, for a deployment that names no compute."""


def connect(address: str | None) -> None:
    """Join the cluster at ``address`` (``host:port``) as a driver, unless this process already has."""
    if ray.is_initialized():
        return
    # ray.init off the main thread says so, and leaves the process's SIGTERM handler alone (in a
    # run, Dagster's): that is what is wanted, the line is not.
    with _quiet(logging.getLogger("ray._private.worker"), "SIGTERM handler is not set"):
        ray.init(address=address, namespace=NAMESPACE, log_to_driver=False, logging_level=logging.WARNING)


def connect_soon(address: str | None) -> Callable[[], None]:
    """Start joining the cluster in a thread; the callable returned waits until it has (raising
    what joining raised). A run joins while it lists its inputs and resolves its model (~0.1 s of
    ``ray.init`` on two cores, docs/decisions/run-timeline.md)."""
    failure: list[BaseException] = []

    def join() -> None:
        try:
            connect(address)
            if ray.is_initialized():
                # A driver's first object sets up its serialisation (~0.04 s): done here, not in the lease.
                ray.put(None)
        except BaseException as exc:  # handed to whoever waits: the job's error as before
            failure.append(exc)

    thread = threading.Thread(target=join, name="ray-connect", daemon=True)
    thread.start()

    def joined() -> None:
        thread.join()
        if failure:
            raise failure[0]
        connect(address)  # already joined: returns at once

    return joined


@contextlib.contextmanager
def _quiet(logger: logging.Logger, starting: str) -> Iterator[None]:
    """Drop ``logger``'s records whose message starts with ``starting``, for the block."""

    def keep(record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(starting)

    logger.addFilter(keep)
    try:
        yield
    finally:
        logger.removeFilter(keep)


def code_digest(code_dir: Path, builtin: bool) -> str:
    """What the pool's scoring code is: ``builtin``, or a digest of the folder's file names, sizes and times."""
    if builtin:
        return "builtin"
    facts = hashlib.sha256()
    for path in sorted(code_dir.rglob("*")):
        if path.is_file():
            stat = path.stat()
            facts.update(f"{path.relative_to(code_dir).as_posix()}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return facts.hexdigest()[:16]


def identity_of(request: HostRequest) -> PoolIdentity:
    """The pool the job's workers belong to."""
    runtime, deployment, model = request.runtime, request.deployment, request.model
    return PoolIdentity(
        endpoint=request.endpoint,
        deployment=deployment.name,
        model=f"{model.name}:{model.version}" if model.name else model.uri,
        environment_key=runtime.environment_key or str(runtime.python),
        entry=runtime.entry,
        code_digest=code_digest(runtime.code_dir, runtime.builtin),
        variables=dict(request.variables),
        logging_level=deployment.settings.logging_level,
        instance_count=deployment.resources.instance_count,
        per_instance=deployment.settings.max_concurrency_per_instance,
    )


def rules_of(request: HostRequest, compute: ComputeSpec | None) -> PoolRules:
    """The pool's shape from the deployment, its idling from the compute."""
    deployment = request.deployment
    return PoolRules(
        instance_count=deployment.resources.instance_count,
        per_instance=deployment.settings.max_concurrency_per_instance,
        min_instances=compute.min_instances if compute else 0,
        idle_seconds=float(compute.idle_time_before_scale_down) if compute else DEFAULT_IDLE_SECONDS,
    )


def ray_hosts(settings: Settings, address: str | None, compute: ComputeSpec | None = None) -> HostFactory:
    """Open each job's host in the Ray cluster at ``address`` (``None``: this process's own Ray, in tests).

    Joining the cluster starts now, in a thread; the first host opened waits for it.
    """
    joined = connect_soon(address)

    def open_host(request: HostRequest) -> RayHost:
        joined()
        runtime = request.runtime
        decision = runtime.environment

        def bundle() -> AgentBundle:
            return AgentBundle(
                pool_id=identity_of(request).key(),
                entry=runtime.entry,
                builtin=runtime.builtin,
                environment=decision.built_from if decision is not None else None,
                model=pack(runtime.model_dir),
                code=None if runtime.builtin else pack(runtime.code_dir),
                variables=dict(request.variables),
                logging_level=request.deployment.settings.logging_level,
                settings=settings,
            )

        return RayHost(
            identity=identity_of(request),
            rules=rules_of(request, compute),
            bundle=bundle,
            job_id=request.job_id,
            work_dir=request.work_dir,
            log=request.log,
        )

    return open_host
